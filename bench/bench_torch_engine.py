"""Torch engine vs AutoDock Vina 1.2: score parity, local-optimisation parity, redocking,
screening agreement and speed, on the same prepared inputs.

    .venv/bin/python bench/bench_torch_engine.py prep            # receptors + ligands (cached)
    .venv/bin/python bench/bench_torch_engine.py vina            # Vina runs (cached; slow)
    .venv/bin/python bench/bench_torch_engine.py torch --device auto
    .venv/bin/python bench/bench_torch_engine.py report          # Markdown tables from the JSON

Everything is cached under ``--workdir`` (default ``.dockdb/bench_torch``, git-ignored), so
each phase can be rerun or resumed; ``--quick`` shrinks every set for a smoke run.  Each table
comes only from what the phases wrote into that directory: the score-parity table of
docs/validation.md is regenerated from an empty ``--workdir`` by ``prep``, ``vina --parts
parity``, ``torch --parts parity`` and ``report``.
Data come from the mirror (``DOCKDB_MIRROR``, default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docking.poses import split_pdbqt_models

ROOT = Path(__file__).resolve().parents[1]
# score parity: the first 4 drugs (by name) into the 3CLpro and PLpro focused boxes, 2 into each other target
PARITY_DRUGS = {"protease": 4, "papainlike": 4}
PARITY_DRUGS_OTHER = 2
SCREEN_TARGETS = ("protease", "papainlike", "TMPRSS2")
SCREEN_DRUGS = 20
# ``prep --set macrocycles``: approved drugs whose 7+ membered ring Meeko opens (closure atoms), in a
# workdir of their own; the same ``vina`` and ``bench_torch_search.py variants`` phases dock them
MACROCYCLE_DRUGS = 12


def _mirror() -> Path:
    return Path(os.environ.get("DOCKDB_MIRROR", ROOT.parent / "shared" / "data"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else {}


def _save(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    tmp.replace(path)


def _boxes() -> dict[str, tuple[list[float], list[float]]]:
    import csv

    out = {}
    with open(_mirror() / "targets" / "pockets.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            c = [float(v) for v in row["box_center_xyz"].split(",")]
            s = [float(v) for v in row["box_size_xyz"].split(",")]
            out[row["target_key"]] = (c, s)
    return out


# ------------------------------------------------------------------------------ prep
def select_drugs(n: int, macrocycles: bool = False) -> list[tuple[str, str]]:
    """First ``n`` FDA-approved DrugCentral drugs (by struct id) with 20-35 heavy atoms and
    4-8 rotatable bonds, neutral organic, no metals: drug-sized ligands of the speed goal.
    ``macrocycles``: instead those with 15-40 heavy atoms and a non-aromatic ring of 7 or more
    atoms, which Meeko breaks into a flexible ring with closure atoms (the caller keeps the ones
    it did break)."""
    import csv

    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdMolDescriptors

    RDLogger.DisableLog("rdApp.*")
    approved = set()
    with open(_mirror() / "drugs" / "drugcentral_fda_approved.csv") as fh:
        for row in csv.reader(fh):
            if row:
                approved.add(row[0].strip())
    out = []
    with open(_mirror() / "drugs" / "drugcentral_structures.smiles.tsv") as fh:
        rows = sorted(csv.DictReader(fh, delimiter="\t"), key=lambda r: int(r["ID"]))
    for row in rows:
        if row["ID"] not in approved or not row["SMILES"]:
            continue
        m = Chem.MolFromSmiles(row["SMILES"])
        if m is None or len(Chem.GetMolFrags(m)) != 1:
            continue
        if any(a.GetSymbol() not in ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P") for a in m.GetAtoms()):
            continue
        nh, nr = m.GetNumHeavyAtoms(), rdMolDescriptors.CalcNumRotatableBonds(m)
        if macrocycles:
            big = any(len(r) >= 7 and not all(m.GetAtomWithIdx(i).GetIsAromatic() for i in r)
                      for r in m.GetRingInfo().AtomRings())
            if 15 <= nh <= 40 and big:
                out.append((row["INN"] or row["ID"], row["SMILES"]))
        elif 20 <= nh <= 35 and 4 <= nr <= 8:
            out.append((row["INN"] or row["ID"], row["SMILES"]))
        if len(out) >= n:
            break
    return out


def phase_prep(work: Path, quick: bool, macrocycles: bool = False) -> None:
    import yaml

    from docking.ligand import prepare_ligand
    from docking.receptor import prepare_receptor

    rec_dir = work / "receptors"
    rec_dir.mkdir(parents=True, exist_ok=True)
    meta = _load(work / "receptors.json")
    spec = yaml.safe_load((ROOT / "data" / "targets.yaml").read_text())
    for t in spec["targets"]:
        row = t["pocket_row"]
        if (rec_dir / f"{row}.pdbqt").exists():
            continue
        fn = t["structure_source"].replace("dockcov2-pdb-", "")
        pdb = (_mirror() / "targets" / "dockcov2" / f"{fn}.pdb").read_text()
        try:
            r = prepare_receptor(pdb, keep_chains=t["keep_chains"], remove_chains=list(t["remove_chains"] or {}),
                                 keep_hetero=t["keep_hetero"])
            text, how = r.pdbqt, f"docking.receptor ({r.protocol_version})"
        except Exception as exc:
            text = (_mirror() / "targets" / "dockcov2" / f"{fn}.pdbqt").read_text()
            how = f"DockCoV2 AutoDockTools PDBQT (docking.receptor failed: {str(exc)[:120]})"
        (rec_dir / f"{row}.pdbqt").write_text(text)
        meta[row] = how
        _save(work / "receptors.json", meta)
        print(f"receptor {row}: {how}", flush=True)
    ligs = _load(work / "ligands.json")
    wanted = MACROCYCLE_DRUGS if macrocycles else SCREEN_DRUGS
    for name, smi in select_drugs(wanted + 40 if macrocycles else wanted + 10, macrocycles=macrocycles):
        if name in ligs or len(ligs) >= wanted:
            continue
        try:
            lig = prepare_ligand(smi, name=name, seed=42, max_stereoisomers=1)
        except Exception as exc:
            print(f"ligand {name}: {exc}", flush=True)
            continue
        if macrocycles and " CG0" not in lig.variants[0].pdbqt:
            print(f"ligand {name}: Meeko kept its ring rigid (no closure atoms); skipped", flush=True)
            continue
        ligs[name] = {"smiles": smi, "pdbqt": lig.variants[0].pdbqt, "n_heavy": lig.n_heavy,
                      "n_rotatable": lig.n_rotatable}
        _save(work / "ligands.json", ligs)
    print(f"{len(ligs)} ligands prepared", flush=True)


# ------------------------------------------------------------------------------ vina
def _vina(rec: Path, center: list[float], size: list[float], seed: int = 1, cpu: int = 1) -> Any:
    from vina import Vina

    v = Vina(sf_name="vina", cpu=cpu, seed=seed, verbosity=0)
    v.set_receptor(str(rec))
    v.compute_vina_maps(center=center, box_size=size)
    return v


def _perturb(pdbqt: str, rng: np.random.Generator, shift: float) -> str:
    d = rng.normal(size=3)
    d = shift * d / np.linalg.norm(d)
    out = []
    for ln in pdbqt.splitlines():
        if ln.startswith(("ATOM  ", "HETATM")):
            x = np.array([float(ln[30:38]), float(ln[38:46]), float(ln[46:54])]) + d
            ln = f"{ln[:30]}{x[0]:8.3f}{x[1]:8.3f}{x[2]:8.3f}{ln[54:]}"
        out.append(ln)
    return "\n".join(out) + "\n"


def phase_vina(work: Path, quick: bool, cpu: int, parts: list[str],
               targets: tuple[str, ...] = SCREEN_TARGETS) -> None:
    boxes = _boxes()
    ligs = _load(work / "ligands.json")
    names = sorted(ligs)
    rng = np.random.default_rng(7)
    if "parity" in parts:
        res_path = work / "vina_parity.json"
        res = _load(res_path)  # Vina poses on all targets (exh 2, up to 20 poses) + optimize() from perturbed starts
        par = res.setdefault("parity", {})
        for target, (c, s) in boxes.items():
            rec = work / "receptors" / f"{target}.pdbqt"
            if not rec.exists():
                continue
            v = _vina(rec, c, s)
            for name in names[: (1 if quick else PARITY_DRUGS.get(target, PARITY_DRUGS_OTHER))]:
                key = f"{target}|{name}"
                if key in par:
                    continue
                v.set_ligand_from_string(ligs[name]["pdbqt"])
                v.dock(exhaustiveness=2, n_poses=20, min_rmsd=1.0)
                rows = []
                for model in split_pdbqt_models(v.poses(n_poses=20, energy_range=10.0)):
                    v.set_ligand_from_string(model)
                    sc = [float(x) for x in v.score()]
                    start = _perturb(model, rng, 0.3)
                    try:
                        v.set_ligand_from_string(start)
                        start_score = float(v.score()[0])
                        opt = [float(x) for x in v.optimize()]
                    except Exception:  # the shifted start left the box: skip it
                        continue
                    rows.append({"pose": model, "score": sc, "start": start, "start_score": start_score,
                                 "optimized": opt})
                par[key] = rows
                _save(res_path, res)
                print(f"parity {key}: {len(rows)} poses", flush=True)
    if "screen" in parts:  # exhaustiveness 8, seed 42 (as `bench_torch_search.py cost`), best score and time
        res_path = work / "vina_screen.json"
        res = _load(res_path)
        scr = res.setdefault("screen", {})
        maps = res.setdefault("maps_s", {})  # timed like the torch engine's grids, which dock() builds
        for target in targets:
            c, s = boxes[target]
            rec = work / "receptors" / f"{target}.pdbqt"
            t0 = time.perf_counter()
            v = _vina(rec, c, s, seed=42, cpu=cpu)
            maps.setdefault(target, time.perf_counter() - t0)
            for name in names[: (3 if quick else SCREEN_DRUGS)]:
                key = f"{target}|{name}"
                if key in scr:
                    continue
                v.set_ligand_from_string(ligs[name]["pdbqt"])
                t0 = time.perf_counter()
                v.dock(exhaustiveness=8, n_poses=9)
                dt = time.perf_counter() - t0
                scr[key] = {"best": float(v.energies(n_poses=1)[0][0]), "time_s": dt, "cpu": cpu}
                _save(res_path, res)
                print(f"screen {key}: {scr[key]['best']:.2f} in {dt:.1f}s", flush=True)
    if "redock" in parts:
        _redock(work, quick, cpu, engine="vina")


# ------------------------------------------------------------------------------ redock
def _redock_inputs(work: Path, quick: bool) -> list[dict[str, Any]]:
    """Prepared redock complexes (cached): PoseBusters-4 and the first Mpro XChem fragments."""
    path = work / "redock_inputs.json"
    cached = _load(path)
    if cached:
        return cached["items"]
    from rdkit import Chem

    from docking.ligand import prepare_ligand
    from docking.receptor import prepare_receptor
    from docking.redock import crystal_box, load_xchem_complexes

    items = []
    root = _mirror() / "validation" / "redock" / "posebusters_4"
    cases: list[tuple[str, str, Any, str | None, list[str]]] = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        lig = Chem.MolFromMolFile(str(d / f"{d.name}_ligand.sdf"), removeHs=False)
        cases.append((d.name, (d / f"{d.name}_protein_one_lig_removed.pdb").read_text(), lig, None, []))
    tarball = _mirror() / "validation" / "redock" / "mpro_xchem_fragments_78.tar.gz"
    for c in load_xchem_complexes(tarball, limit=4 if quick else 12):
        cases.append((c.id, c.protein_pdb, c.ligand, c.smiles, ["A"]))
    for cid, pdb, lig, smi, chains in cases:
        try:
            smi = smi or Chem.MolToSmiles(Chem.RemoveHs(lig))
            rec = prepare_receptor(pdb, keep_chains=chains)
            pl = prepare_ligand(smi, name=cid, seed=42, max_stereoisomers=1 if chains == [] else 4)
            box = crystal_box(lig)
        except Exception as exc:
            print(f"redock prep {cid}: {exc}", flush=True)
            continue
        items.append({"id": cid, "receptor": rec.pdbqt, "variants": [v.pdbqt for v in pl.variants],
                      "smiles": [v.smiles for v in pl.variants], "crystal": Chem.MolToMolBlock(lig),
                      "center": list(box.center), "size": list(box.size), "n_heavy": lig.GetNumHeavyAtoms()})
        print(f"redock prep {cid}", flush=True)
    _save(path, {"items": items})
    return items


def _rmsd(pose_pdbqt: str, crystal_molblock: str) -> float:
    from rdkit import Chem

    from docking.poses import pdbqt_to_sdf_blocks, sdf_to_mol
    from docking.redock import heavy_atom_rmsd

    ref = Chem.MolFromMolBlock(crystal_molblock, removeHs=False)
    return heavy_atom_rmsd(sdf_to_mol(pdbqt_to_sdf_blocks(pose_pdbqt)[0]), ref)


def _redock(work: Path, quick: bool, cpu: int, engine: str, device: str = "auto") -> None:
    res_path = work / f"{engine}_redock.json"
    res = _load(res_path)
    out = res.setdefault("redock", {})
    for item in _redock_inputs(work, quick):
        if item["id"] in out:
            continue
        t0 = time.perf_counter()
        poses: list[tuple[float, str]] = []
        if engine == "vina":
            import tempfile

            with tempfile.NamedTemporaryFile("w", suffix=".pdbqt", delete=False) as fh:
                fh.write(item["receptor"])
            v = _vina(Path(fh.name), item["center"], item["size"], seed=42, cpu=cpu)
            os.unlink(fh.name)
            for var in item["variants"]:
                v.set_ligand_from_string(var)
                v.dock(exhaustiveness=8, n_poses=9)
                poses += list(zip([float(e[0]) for e in v.energies(n_poses=9)],
                                  split_pdbqt_models(v.poses(n_poses=9)), strict=False))
        else:
            from docking.engines.torch_engine.engine import TorchEngine
            from docking.ligand import LigandVariant, PreparedLigand
            from docking.pocket import Box

            eng = TorchEngine(device=device)
            variants = tuple(LigandVariant(smiles=s, pdbqt=p, molblock="", formal_charge=0, n_heavy=0)
                             for s, p in zip(item["smiles"], item["variants"], strict=True))
            lig = PreparedLigand(name=item["id"], input_smiles="", smiles="", variants=variants, n_heavy=0,
                                 n_rotatable=0, input_hash=item["id"])
            r = eng.dock(item["receptor"], Box(tuple(item["center"]), tuple(item["size"])), [lig], seed=42)[0]
            poses = [(p.score, p.pdbqt) for p in r.poses]
        dt = time.perf_counter() - t0
        poses.sort(key=lambda x: x[0])
        try:
            rmsds = [_rmsd(p, item["crystal"]) for _, p in poses]
            out[item["id"]] = {"top_rmsd": rmsds[0], "best_rmsd": min(rmsds), "top_score": poses[0][0],
                               "time_s": dt, "n_heavy": item["n_heavy"]}
        except Exception as exc:
            out[item["id"]] = {"error": str(exc)[:200], "time_s": dt}
        _save(res_path, res)
        print(f"redock {engine} {item['id']}: {out[item['id']]}", flush=True)


# ------------------------------------------------------------------------------ main
def phase_torch(work: Path, quick: bool, cpu: int, parts: list[str], device: str,
                targets: tuple[str, ...] = SCREEN_TARGETS) -> None:
    import torch

    from docking.engines.torch_engine.engine import TorchEngine
    from docking.engines.torch_engine.grids import ReceptorGrid
    from docking.engines.torch_engine.pdbqt import parse_receptor_pdbqt
    from docking.engines.torch_engine.rescore import optimize_pose, score_pose
    from docking.ligand import LigandVariant, PreparedLigand
    from docking.pocket import Box

    torch.set_num_threads(max(1, cpu))
    boxes = _boxes()
    if "parity" in parts:
        vres = _load(work / "vina_parity.json").get("parity", {})
        out_path = work / "torch_parity.json"
        out = _load(out_path)
        grids: dict[str, ReceptorGrid] = {}
        for key, rows in vres.items():
            if key in out:
                continue
            target = key.split("|")[0]
            if target not in grids:
                rec = parse_receptor_pdbqt((work / "receptors" / f"{target}.pdbqt").read_text())
                grids[target] = ReceptorGrid(rec, *boxes[target], device=device if device != "auto" else "cpu")
            g = grids[target]
            res = []
            for r in rows:
                sc = score_pose(g, r["pose"])
                t0 = time.perf_counter()
                opt, _ = optimize_pose(g, r["start"])
                res.append({"vina": r["score"][0], "torch": sc["total"], "vina_inter": r["score"][1],
                            "torch_inter": sc["lig_inter"], "vina_intra": r["score"][5],
                            "torch_intra": sc["lig_intra"], "start": r["start_score"],
                            "vina_opt": r["optimized"][0], "torch_opt": opt["total"],
                            "opt_s": time.perf_counter() - t0})
            out[key] = res
            _save(out_path, out)
            print(f"parity {key}: max |d| {max(abs(x['vina'] - x['torch']) for x in res):.4f}", flush=True)
    if "screen" in parts:
        ligs = _load(work / "ligands.json")
        names = sorted(ligs)[: (3 if quick else SCREEN_DRUGS)]
        out_path = work / "torch_screen.json"
        out = _load(out_path)
        prepared = [
            PreparedLigand(name=n, input_smiles=ligs[n]["smiles"], smiles=ligs[n]["smiles"],
                           variants=(LigandVariant(ligs[n]["smiles"], ligs[n]["pdbqt"], "", 0, ligs[n]["n_heavy"]),),
                           n_heavy=ligs[n]["n_heavy"], n_rotatable=ligs[n]["n_rotatable"], input_hash=n)
            for n in names
        ]
        for target in targets:
            if target in out:
                continue
            rec = (work / "receptors" / f"{target}.pdbqt").read_text()
            eng = TorchEngine(device=device)
            t0 = time.perf_counter()
            results = eng.dock(rec, Box(*boxes[target]), prepared, seed=42)
            dt = time.perf_counter() - t0
            out[target] = {"time_s": dt, "n": len(prepared), "device": str(eng.last_docker.device),
                           "threads": torch.get_num_threads(),
                           "best": {r.name: r.best_score for r in results}, "params": eng.params}
            _save(out_path, out)
            print(f"screen torch {target}: {len(prepared)} ligands in {dt:.0f}s", flush=True)
    if "redock" in parts:
        _redock(work, quick, cpu, engine="torch", device=device)


def _spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def report(work: Path) -> str:
    """Markdown summary of every comparison that has results in ``work``."""
    import torch

    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU threads visible; "
             f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}.", ""]
    par = _load(work / "torch_parity.json")
    rows = [r for v in par.values() for r in v]
    if rows:
        d = np.array([abs(r["vina"] - r["torch"]) for r in rows])
        di = np.array([abs(r["vina_inter"] - r["torch_inter"]) for r in rows])
        da = np.array([abs(r["vina_intra"] - r["torch_intra"]) for r in rows])
        do = np.array([r["torch_opt"] - r["vina_opt"] for r in rows])
        per_target = {t: sum(k.startswith(f"{t}|") for k in par) for t in sorted({k.split("|")[0] for k in par})}
        lines += [
            f"**Score parity** ({len(rows)} Vina poses, {len(per_target)} targets, {len(par)} target-drug pairs: "
            + ", ".join(f"{t} {n}" for t, n in per_target.items()) + "); receptors: "
            + "; ".join(f"{t}: {how}" for t, how in sorted(_load(work / "receptors.json").items())) + ".",
            "",
            "| quantity | MAE (kcal/mol) | max (kcal/mol) |",
            "|---|---|---|",
            f"| total score vs `Vina.score()[0]` | **{d.mean():.4f}** | **{d.max():.4f}** |",
            f"| intermolecular term | {di.mean():.4f} | {di.max():.4f} |",
            f"| ligand intramolecular term | {da.mean():.4f} | {da.max():.4f} |",
            "",
            f"**Local optimisation** from the same start (Vina pose shifted 0.3 Å): torch − Vina optimize() "
            f"mean |Δ| {np.abs(do).mean():.3f}, median Δ {np.median(do):+.3f}, "
            f"share within 0.2 kcal/mol {np.mean(np.abs(do) <= 0.2):.2f}, torch lower in {np.mean(do < 0):.2f}.",
            "",
        ]
    vr, tr = _load(work / "vina_redock.json").get("redock", {}), _load(work / "torch_redock.json").get("redock", {})
    both = sorted(k for k in tr if k in vr and "top_rmsd" in tr[k] and "top_rmsd" in vr[k])
    if both:
        lines += ["**Redocking** (top pose RMSD < 2 Å, same prepared inputs):", "",
                  "| complex | heavy | vina score | vina RMSD | torch score | torch RMSD |",
                  "|---|---|---|---|---|---|"]
        for k in both:
            lines.append(f"| {k} | {tr[k]['n_heavy']} | {vr[k]['top_score']:.2f} | {vr[k]['top_rmsd']:.2f} | "
                         f"{tr[k]['top_score']:.2f} | {tr[k]['top_rmsd']:.2f} |")
        sv = sum(vr[k]["top_rmsd"] < 2 for k in both)
        st = sum(tr[k]["top_rmsd"] < 2 for k in both)
        lines += ["", f"Success: vina exh 8 {sv}/{len(both)}, torch {st}/{len(both)}.", ""]
    vs, ts = _load(work / "vina_screen.json").get("screen", {}), _load(work / "torch_screen.json")
    if ts:
        lines += ["**Screening agreement** (best score per drug, torch vs Vina exh 8):", "",
                  "| target | pairs | Spearman | mean abs diff | mean diff (torch − vina) |", "|---|---|---|---|---|"]
        all_d = []
        for target, t in ts.items():
            pairs = [(vs[f"{target}|{n}"]["best"], b) for n, b in t["best"].items()
                     if b is not None and f"{target}|{n}" in vs]
            if len(pairs) < 3:
                continue
            a, b = [p[0] for p in pairs], [p[1] for p in pairs]
            dd = np.array(b) - np.array(a)
            all_d += list(dd)
            lines.append(f"| {target} | {len(pairs)} | {_spearman(a, b):.2f} | {np.abs(dd).mean():.2f} | "
                         f"{dd.mean():+.2f} |")
        if all_d:
            lines += ["", f"Overall mean |Δ| {np.abs(all_d).mean():.2f} kcal/mol over {len(all_d)} pairs.", ""]
        maps_s = _load(work / "vina_screen.json").get("maps_s", {})
        lines += ["**Speed** (drug-sized ligands: 20–35 heavy atoms, 4–8 rotatable bonds; both engines' maps "
                  "included, built once per target):", "",
                  "| target | torch ligands/s (device, threads) | vina exh 8 ligands/s (threads) |", "|---|---|---|"]
        for target, t in ts.items():
            vt = [vs[f"{target}|{n}"]["time_s"] for n in t["best"] if f"{target}|{n}" in vs]
            vcpu = next((vs[f"{target}|{n}"]["cpu"] for n in t["best"] if f"{target}|{n}" in vs), "?")
            if target not in maps_s:
                vrate = "— (maps not timed: rerun `vina --parts screen` in a clean --workdir)"
            else:
                vrate = f"{len(vt) / (sum(vt) + maps_s[target]):.4f} ({vcpu})" if vt else "—"
            lines.append(f"| {target} | {t['n'] / t['time_s']:.4f} ({t['device']}, {t['threads']}) | {vrate} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase", choices=["prep", "vina", "torch", "report", "all"])
    ap.add_argument("--workdir", default=str(ROOT / ".dockdb" / "bench_torch"))
    ap.add_argument("--parts", default="parity,screen,redock", help="comma list: parity,screen,redock")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--cpu", type=int, default=2, help="Vina threads (torch uses as many)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--targets", default=",".join(SCREEN_TARGETS),
                    help="vina/torch screen: comma list of pockets (default: all three)")
    ap.add_argument("--set", dest="drug_set", choices=["screen", "macrocycles"], default="screen",
                    help="prep: the 20 screening drugs, or 12 approved drugs with a flexible macrocycle "
                         "(use another --workdir)")
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    unknown = sorted(set(targets) - set(SCREEN_TARGETS))
    if unknown:
        ap.error(f"unknown --targets {', '.join(unknown)}; choose from {', '.join(SCREEN_TARGETS)}")
    if args.phase in ("prep", "all"):
        phase_prep(work, args.quick, macrocycles=args.drug_set == "macrocycles")
    if args.phase in ("vina", "all"):
        phase_vina(work, args.quick, args.cpu, parts, targets)
    if args.phase in ("torch", "all"):
        phase_torch(work, args.quick, args.cpu, parts, args.device, targets)
    if args.phase in ("report", "all"):
        print(report(work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

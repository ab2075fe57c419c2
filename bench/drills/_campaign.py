"""A small real campaign for the kill drills, and the checks a resumed campaign must pass.

The campaign: vina at exhaustiveness 1, 3 poses, two fast targets (tmprss2, spike-rbd) x three
drugs (two small approved drugs and dimethylmercury, which cannot be docked): 6 results, 4 done
and 2 failed.  tests/jobs/ builds its fixtures from the same helpers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from dockdb.config import Config
from dockdb.db import Database

# the two fastest targets to prepare and dock (small focused boxes, ~10 s preparation each)
TEST_TARGETS = ("tmprss2", "spike-rbd")
TEST_LIBRARY = "test-lib"
# name -> SMILES: two small approved drugs and one that cannot be docked (mercury)
TEST_DRUGS = {
    "acetaminophen": "CC(=O)Nc1ccc(O)cc1",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "dimethylmercury": "C[Hg]C",
}
FAST = {"exhaustiveness": 1, "n_poses": 3}
EXPECTED = {"done": 4, "failed": 2, "skipped": 0}  # TEST_TARGETS x TEST_DRUGS
RECEPTOR_COLUMNS = ("input_hash", "protocol_version", "tool_versions", "removed", "added", "pdb", "pdbqt")


def load_targets(db: Database, config: Config) -> None:
    """The target registry, loaded by the real ingest loader."""
    from ingest.common import SourceReport
    from ingest.targets import ingest_targets

    with db.session() as s:
        ingest_targets(s, config, SourceReport("targets"))


def add_library(db: Database, drugs: dict[str, str] = TEST_DRUGS, name: str = TEST_LIBRARY) -> dict[str, int]:
    """Library *name* holding *drugs* (name -> SMILES); returns name -> drug id."""
    from rdkit import Chem

    from dockdb.models import Drug, Library, LibraryMember

    ids: dict[str, int] = {}
    with db.session() as s:
        lib = Library(name=name, description="test drugs")
        s.add(lib)
        s.flush()
        for drug_name, smiles in drugs.items():
            mol = Chem.MolFromSmiles(smiles)
            d = Drug(name=drug_name, name_lower=drug_name.lower(), smiles=smiles,
                     inchikey=Chem.MolToInchiKey(mol), heavy_atoms=mol.GetNumHeavyAtoms())
            s.add(d)
            s.flush()
            s.add(LibraryMember(library_id=lib.id, drug_id=d.id, source_name=drug_name))
            ids[drug_name] = d.id
    return ids


def prepare_receptors(home: Path, mirror: Path | None,
                      keys: tuple[str, ...] = TEST_TARGETS) -> dict[str, dict[str, Any]]:
    """Receptor rows of *keys* prepared by jobs.receptors in a SQLite file under *home* (reused next time)."""
    from dockdb.migrate import upgrade
    from dockdb.models import Receptor
    from jobs.receptors import ensure_receptor

    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'receptors.sqlite'}"
    db = Database(url)
    try:
        upgrade(db.engine)
        from sqlalchemy import func, select

        from dockdb.models import Target

        with db.session() as s:
            loaded = s.scalar(select(func.count()).select_from(Target))
        if not loaded:
            load_targets(db, Config.load(environ={}, home=home, database_url=url, mirror=mirror))
        out = {}
        for key in keys:
            choice = ensure_receptor(db, key)
            with db.session() as s:
                row = s.get(Receptor, choice.receptor_id)
                out[key] = {c: getattr(row, c) for c in RECEPTOR_COLUMNS}
        return out
    finally:
        db.dispose()


def setup_campaign(db: Database, config: Config, receptors: dict[str, dict[str, Any]], name: str) -> int:
    """Fill the migrated, empty *db* (targets, prepared receptors, test library); create campaign *name*."""
    from sqlalchemy import select

    from dockdb.models import Receptor, Target
    from jobs.campaign import CampaignSpec, create_campaign

    load_targets(db, config)
    with db.session() as s:
        for key, values in receptors.items():
            tid = s.scalar(select(Target.id).where(Target.key == key))
            s.add(Receptor(target_id=tid, **values))
    add_library(db)
    return create_campaign(db, CampaignSpec(name=name, targets=",".join(receptors), library=TEST_LIBRARY,
                                            params=dict(FAST)))


def n_results(db: Database, campaign_id: int) -> int:
    from sqlalchemy import func, select

    from dockdb.models import DockingResult

    with db.session() as s:
        return int(s.scalar(select(func.count()).where(DockingResult.campaign_id == campaign_id)) or 0)


def campaign_problems(db: Database, campaign_id: int, expected: dict[str, int] = EXPECTED,
                      max_poses: int = FAST["n_poses"]) -> list[str]:
    """Everything wrong with a finished campaign: counts, duplicate keys, partial or stray pose sets."""
    from sqlalchemy import func, select

    from dockdb.models import DockingResult, Pose

    problems: list[str] = []
    with db.session() as s:
        counts = dict.fromkeys(expected, 0)
        for status, n in s.execute(select(DockingResult.status, func.count()).where(
                DockingResult.campaign_id == campaign_id).group_by(DockingResult.status)):
            counts[str(status)] = int(n)
        if counts != expected:
            errors = sorted({str(e)[:160] for e in s.scalars(select(DockingResult.error).where(
                DockingResult.campaign_id == campaign_id, DockingResult.status == "failed"))})
            problems.append(f"result counts {counts}, expected {expected} (failures: {'; '.join(errors)})")
        dups = s.execute(
            select(DockingResult.campaign_id, DockingResult.receptor_id, DockingResult.drug_id, func.count())
            .group_by(DockingResult.campaign_id, DockingResult.receptor_id, DockingResult.drug_id)
            .having(func.count() > 1)).all()
        if dups:
            problems.append(f"{len(dups)} duplicated (campaign, receptor, drug) keys")
        rows = s.scalars(select(DockingResult).where(DockingResult.campaign_id == campaign_id)).all()
        for r in rows:
            ranks = sorted(p.rank for p in r.poses)
            key = f"result {r.id} (receptor {r.receptor_id}, drug {r.drug_id}, {r.status})"
            if r.status == "done":
                if not 1 <= len(ranks) <= max_poses or ranks != list(range(1, len(ranks) + 1)):
                    problems.append(f"{key}: half-written pose set, ranks {ranks}")
                elif r.best_score is None or abs(r.best_score - min(p.score for p in r.poses)) > 1e-6:
                    problems.append(f"{key}: best_score {r.best_score} is not the best of its stored poses")
            elif ranks:
                problems.append(f"{key}: {len(ranks)} poses on a result without a docking")
        orphans = s.scalar(select(func.count()).select_from(Pose).where(
            Pose.result_id.not_in(select(DockingResult.id))))
        if orphans:
            problems.append(f"{orphans} poses without a result")
    return problems


def start_run(campaign_id: int, env: dict[str, str], workers: int = 2,
              batch_size: int | None = None) -> subprocess.Popen[bytes]:
    """`dockdb campaign run ID` in its own process group (so its Dask workers can be reaped).
    ``batch_size`` 1 stores dockings one at a time, so that a drill interrupting the run after its
    first result finds it mid-run (with the default batches, both workers' batches can finish
    together and store everything in one write)."""
    from bench.drills._common import dockdb_exe

    extra = ["--batch-size", str(batch_size)] if batch_size else []
    return subprocess.Popen([dockdb_exe(), "campaign", "run", str(campaign_id), "--local-workers", str(workers),
                             "--quiet", *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def wait_for_results(db: Database, campaign_id: int, proc: subprocess.Popen[bytes] | None, at_least: int = 1,
                     timeout_s: float = 300) -> bool:
    """Wait until *at_least* results are stored; False when *proc* ends first or on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if n_results(db, campaign_id) >= at_least:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def reap(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL what is left of *proc*'s process group (orphaned Dask workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def resume(campaign_id: int, env: dict[str, str], timeout_s: float = 600) -> tuple[int, str, str]:
    """Run `dockdb campaign run ID` to the end: (exit code, stdout, stderr)."""
    proc = start_run(campaign_id, env)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    finally:
        reap(proc)
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def open_campaign(db_url: str, workdir: Path, name: str, receptors: dict[str, dict[str, Any]] | None = None
                  ) -> tuple[Database, int, dict[str, str]]:
    """Migrate *db_url*, fill it and create campaign *name*: (database, campaign id, `dockdb` environment)."""
    from bench.drills._common import cli_env, mirror_dir
    from dockdb.migrate import upgrade

    home = workdir / "home"
    if receptors is None:
        receptors = prepare_receptors(workdir / "receptors", mirror_dir())
    db = Database(db_url)
    upgrade(db.engine)
    config = Config.load(environ={}, home=home, database_url=db_url, mirror=mirror_dir())
    cid = setup_campaign(db, config, receptors, name)
    return db, cid, cli_env(db_url, home)


def resume_problems(rc: int, out: str, err: str) -> list[str]:
    """A resume must end with exit code 4 (the 2 undockable pairs failed) and every docking stored."""
    problems = []
    if rc != 4:
        tail = (err.strip().splitlines() or ["(no stderr)"])[-1]
        problems.append(f"resume exit code {rc}, expected 4: {tail[:200]}")
    total = sum(EXPECTED.values())
    if f"stored {total}/{total}" not in out and f"all {total} dockings stored" not in out:
        problems.append(f"resume did not report {total}/{total} stored: {out.strip()[:200]!r}")
    return problems

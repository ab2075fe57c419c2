"""Small real database contents for the agreement and enrichment tests: targets, receptors,
drugs, campaigns with docking results, DockCoV2 reference scores and assay results, inserted
through the models (the analysis is under test, not the docking)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from dockdb.db import Database
from dockdb.models import (
    Assay,
    AssayResult,
    Campaign,
    CampaignDrug,
    CampaignReceptor,
    DockingResult,
    Drug,
    Pocket,
    Receptor,
    ReferenceScore,
    Target,
)

TARGETS = ("3clpro", "spike-rbd", "tmprss2")


def add_targets(db: Database) -> dict[str, int]:
    """The targets, each with a focused and a blind pocket; returns key -> target id."""
    ids = {}
    with db.session() as s:
        for key in TARGETS:
            t = Target(key=key, name=key.upper())
            s.add(t)
            s.flush()
            for kind in ("focused", "blind"):
                s.add(Pocket(target_id=t.id, kind=kind, center_x=0.0, center_y=0.0, center_z=0.0,
                             size_x=20.0, size_y=20.0, size_z=20.0))
            ids[key] = t.id
    return ids


def add_drugs(db: Database, n: int) -> list[int]:
    """Drugs d1..dn (fake but unique InChIKeys, d<i> has i heavy atoms); returns their ids in order."""
    ids = []
    with db.session() as s:
        for i in range(1, n + 1):
            d = Drug(name=f"d{i}", name_lower=f"d{i}", smiles="C" * i, inchikey=f"TEST{i:010d}-AAAAAAAAAA-N",
                     heavy_atoms=i)
            s.add(d)
            s.flush()
            ids.append(d.id)
    return ids


def add_receptor(db: Database, target_key: str, version: str = "1") -> int:
    with db.session() as s:
        tid = s.scalar(select(Target.id).where(Target.key == target_key))
        r = Receptor(target_id=tid, input_hash=f"hash-{target_key}", protocol_version=version, pdb="", pdbqt="")
        s.add(r)
        s.flush()
        return r.id


def add_campaign(
    db: Database,
    name: str,
    pocket: str,
    results: Mapping[int, Mapping[int, float | None]],
    engine: str = "vina",
) -> int:
    """A campaign with ``results[receptor_id][drug_id] = best score`` (None: a failed docking)."""
    with db.session() as s:
        c = Campaign(name=name, engine=engine, seed=42, pocket_kind=pocket, status="done")
        s.add(c)
        s.flush()
        drugs: set[int] = set()
        for rid, by_drug in results.items():
            rec = s.get(Receptor, rid)
            assert rec is not None
            pid = s.scalar(select(Pocket.id).where(Pocket.target_id == rec.target_id, Pocket.kind == pocket))
            s.add(CampaignReceptor(campaign_id=c.id, receptor_id=rid, pocket_id=pid))
            for did, score in by_drug.items():
                drugs.add(did)
                s.add(DockingResult(campaign_id=c.id, receptor_id=rid, drug_id=did,
                                    status="failed" if score is None else "done", best_score=score,
                                    error="boom" if score is None else None))
        s.add_all(CampaignDrug(campaign_id=c.id, drug_id=d) for d in sorted(drugs))
        return c.id


def add_reference(db: Database, target_ids: Mapping[str, int], scores: Mapping[str, list[tuple[int | None, float]]]
                  ) -> None:
    """DockCoV2 scores ``{target key: [(drug id or None, score), ...]}`` (one CID per entry)."""
    with db.session() as s:
        cid = 1000
        for key, entries in scores.items():
            for did, score in entries:
                cid += 1
                s.add(ReferenceScore(source="dockcov2", external_id=str(cid), target_id=target_ids[key],
                                     drug_id=did, score=score, method="test"))


def add_assay(db: Database, key: str, outcomes: Mapping[int, bool | None], measures: int = 1) -> None:
    """An assay with one result per drug (``measures`` > 1: that many, active only in the first)."""
    with db.session() as s:
        a = Assay(key=key, name=key, active_rule="test rule")
        s.add(a)
        s.flush()
        for did, active in outcomes.items():
            for m in range(measures):
                s.add(AssayResult(assay_id=a.id, drug_id=did, measure=f"m{m}", value=1.0,
                                  active=active if m == 0 else (None if active is None else False)))


def bootstrap_ci_by_hand(ours: Sequence[float], ref: Sequence[float], *, n_boot: int, seed: int) -> list[float]:
    """Percentile interval (95 %) of Spearman's rho over resampled pairs drawn like
    :func:`jobs.validation.metrics.spearman_bootstrap` draws them, one scipy call per resample
    (resamples with constant ranks have no rho and are left out)."""
    import warnings

    import numpy as np
    from scipy import stats

    x, y = np.array(ours, dtype=float), np.array(ref, dtype=float)
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_boot, x.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant resamples: scipy warns and returns nan
        rhos = np.array([stats.spearmanr(x[i], y[i]).statistic for i in idx])
    lo, hi = np.percentile(rhos[np.isfinite(rhos)], [2.5, 97.5])
    return [float(lo), float(hi)]

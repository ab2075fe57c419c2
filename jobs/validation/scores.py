"""Scores the agreement and enrichment runs analyse: a campaign's best score per (target, drug)
and DockCoV2's published scores, read from the database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockdb.errors import DockDBError
from dockdb.models import Campaign, CampaignReceptor, DockingResult, Drug, Receptor, ReferenceScore, Target

REFERENCE_SOURCE = "dockcov2"
REFERENCE_ENGINE = "dockcov2 (Vina 1.1.2, blind box)"
REFERENCE_POCKET = "blind"

# target key -> {drug id: score}
TargetScores = dict[str, dict[int, float]]

T = TypeVar("T")


class NoDataError(DockDBError):
    """A validation run has nothing to measure (no matched drugs, no actives at all)."""

    exit_code = 3


@dataclass(frozen=True)
class ScoreSource:
    """Where the scores of one run come from: a campaign, or DockCoV2's published table."""

    name: str
    engine: str
    pocket: str
    campaign_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The source as a JSON-ready dict (campaign id and name, or the reference's name)."""
        if self.campaign_id is None:
            return {"reference": REFERENCE_SOURCE, "engine": self.engine, "pocket": self.pocket}
        return {"campaign_id": self.campaign_id, "campaign": self.name, "engine": self.engine,
                "pocket": self.pocket}


def campaign_source(campaign: Campaign) -> ScoreSource:
    """The score source of campaign *campaign*: its name, engine and pocket."""
    return ScoreSource(name=campaign.name, engine=campaign.engine, pocket=campaign.pocket_kind,
                       campaign_id=campaign.id)


def reference_source() -> ScoreSource:
    """The score source of DockCoV2's published scores."""
    return ScoreSource(name=REFERENCE_SOURCE, engine=REFERENCE_ENGINE, pocket=REFERENCE_POCKET)


def campaign_targets(session: Session, campaign_id: int) -> list[str]:
    """Keys of the targets a campaign docks into, sorted."""
    keys = session.scalars(
        select(Target.key)
        .join(Receptor, Receptor.target_id == Target.id)
        .join(CampaignReceptor, CampaignReceptor.receptor_id == Receptor.id)
        .where(CampaignReceptor.campaign_id == campaign_id)
        .distinct()
    )
    return sorted(keys)


def campaign_best_scores(session: Session, campaign_id: int) -> TargetScores:
    """The best (lowest) score of each drug on each target among a campaign's finished dockings."""
    rows = session.execute(
        select(Target.key, DockingResult.drug_id, func.min(DockingResult.best_score))
        .join(Receptor, Receptor.id == DockingResult.receptor_id)
        .join(Target, Target.id == Receptor.target_id)
        .where(DockingResult.campaign_id == campaign_id, DockingResult.status == "done",
               DockingResult.best_score.is_not(None))
        .group_by(Target.key, DockingResult.drug_id)
    )
    out: TargetScores = {}
    for key, drug_id, score in rows:
        out.setdefault(key, {})[int(drug_id)] = float(cast(float, score))  # WHERE: not NULL
    return out


def reference_best_scores(session: Session, source: str = REFERENCE_SOURCE) -> TargetScores:
    """Published scores per target of the drugs they were matched to; a drug matched by two
    compound ids keeps its best (lowest) score."""
    rows = session.execute(
        select(Target.key, ReferenceScore.drug_id, func.min(ReferenceScore.score))
        .join(Target, Target.id == ReferenceScore.target_id)
        .where(ReferenceScore.source == source, ReferenceScore.drug_id.is_not(None), ReferenceScore.score.is_not(None))
        .group_by(Target.key, ReferenceScore.drug_id)
    )
    out: TargetScores = {}
    for key, drug_id, score in rows:
        out.setdefault(key, {})[int(cast(int, drug_id))] = float(cast(float, score))  # WHERE: not NULL
    return out


def drug_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Name of each drug in *ids*, read in chunks of 5,000."""
    wanted = sorted(set(ids))
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 5000):
        part = wanted[start : start + 5000]
        out.update({i: n for i, n in session.execute(select(Drug.id, Drug.name).where(Drug.id.in_(part)))})
    return out


def progress(items: list[T], desc: str, enabled: bool) -> Iterator[T]:
    """``items`` behind a tqdm bar on stderr (when enabled)."""
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, unit="target", file=sys.stderr, disable=not enabled, leave=False)


def colours(n: int) -> list[Any]:
    """``n`` distinguishable matplotlib colours (tab10, then tab20)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]

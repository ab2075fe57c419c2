"""The one registry of validation kinds: each kind's name, page title, CLI command and runner.

Everything that lists kinds (the store's check, the portal's Validation page and API, `dockdb
validate` and `validate show --kind`) reads it from here.  Light on purpose: importing it pulls
in neither the database nor the science stack; the command and runner are named as
``module:attribute`` and imported only when used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "ValidationKind", "kind_names", "load"]


@dataclass(frozen=True)
class ValidationKind:
    """One kind of validation run."""

    name: str
    title: str  # heading on the portal's Validation page
    command: str  # the `dockdb validate NAME` click command, "module:attribute"
    runner: str  # the function that measures and stores a run, "module:attribute"
    what: str  # one line for `dockdb validate --help`


KINDS: dict[str, ValidationKind] = {
    k.name: k
    for k in (
        ValidationKind("redock", "Redocking", "dockdb.cli.validate.redock:redock",
                       "jobs.validation.redock:run_redock", "top-pose RMSD < 2 Å success per engine"),
        ValidationKind("agreement", "Agreement with DockCoV2", "dockdb.cli.validate.agreement:agreement",
                       "jobs.validation.agreement:run_agreement", "per-target Spearman against DockCoV2"),
        ValidationKind("enrichment", "Enrichment of known actives", "dockdb.cli.validate.enrichment:enrichment",
                       "jobs.validation.enrichment:run_enrichment", "ROC AUC and EF of the docking score"),
        ValidationKind("plausibility", "Pose plausibility (PoseBusters)",
                       "dockdb.cli.validate.plausibility:plausibility",
                       "jobs.validation.plausibility:check_plausibility", "PoseBusters checks on stored poses"),
    )
}


def kind_names() -> tuple[str, ...]:
    """Kind names in their display order."""
    return tuple(KINDS)


def load(path: str) -> Any:
    """The object named ``module:attribute``."""
    module, attr = path.split(":")
    return getattr(importlib.import_module(module), attr)

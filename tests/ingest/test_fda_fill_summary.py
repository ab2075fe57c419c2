"""`dockdb ingest drugs` says how many FDA-approved ids without a DrugCentral structure got one, and from where."""

from __future__ import annotations

import re

from dockdb.db import Database
from tests.conftest import run_cli


def test_ingest_summary_counts_the_filled_fda_ids(db: Database, cli_env: dict[str, str]) -> None:
    res = run_cli(["ingest", "drugs", "--no-progress"], cli_env)
    assert res.exit_code == 0, res.stderr
    line = re.search(r"FDA-approved ids without a DrugCentral structure: (\d+) took the Repurposing Hub's, "
                     r"(\d+) a ChEMBL assay file's, (\d+) have none", res.stdout)
    assert line, res.stdout
    hub, chembl, none = (int(x) for x in line.groups())
    assert chembl >= 20 and hub + chembl + none == 597  # DrugCentral's structure file lacks 597 of the FDA ids

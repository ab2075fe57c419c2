"""COVID Moonshot sample library and assay, from the real mirror files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.models import Assay, AssayResult, Drug, DrugSynonym, Library, LibraryMember
from dockdb.sources import get_source
from ingest.moonshot import (
    ACTIVE_MAX_UM,
    INACTIVE_MIN_UM,
    Measurement,
    library_name,
    load_moonshot,
    parse_ic50,
    read_moonshot,
    sample,
)
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def std_cache(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Moonshot SMILES standardised once (the loader's on-disk cache), copied into each home."""
    home = tmp_path_factory.mktemp("moonshot-home")
    read_moonshot(Config.load(environ={}, home=home, mirror=mirror))
    return home / "cache"


@pytest.fixture
def warm_home(std_cache: Path, tmp_path: Path) -> Path:
    """``tmp_path/home`` (the home of the ``config`` and ``cli_env`` fixtures) with the warm cache."""
    shutil.copytree(std_cache, tmp_path / "home" / "cache")
    return tmp_path / "home"


def test_parse_and_classify_measurements() -> None:
    assert parse_ic50("0.5") == Measurement("", 0.5)
    assert parse_ic50("< 0.0500") == Measurement("<", 0.05)
    assert parse_ic50("> 99.5") == Measurement(">", 99.5)
    assert parse_ic50("2.67E-03") == Measurement("", 0.00267)
    assert parse_ic50("") is None and parse_ic50("n/a") is None
    assert Measurement("", 1.0).verdict == "active"
    assert Measurement("<", 0.05).verdict == "active"
    assert Measurement("", 1.01).verdict is None
    assert Measurement(">", 99.5).verdict == "inactive" and Measurement(">", 198.0).verdict == "inactive"
    assert Measurement(">", 99.0).verdict is None and Measurement(">", 7.46).verdict is None
    assert Measurement("<", 5.0).verdict is None


def _rows_by_id(mirror: Path) -> dict[str, list[str]]:
    """Every IC50 text of each PostEra id, read with the csv module alone."""
    out: dict[str, list[str]] = {}
    for key in ("moonshot-noncovalent", "moonshot-achiral"):
        with open(mirror / get_source(key).path, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                out.setdefault(r["Canonical_PostEra_ID"], []).append(r["IC50_(µM)"])
    return out


def test_sample_is_seeded_and_stratified(mirror: Path, warm_home: Path) -> None:
    config = Config.load(environ={}, home=warm_home, mirror=mirror)
    data = read_moonshot(config)
    assert data.rows == 2146 + 803 and data.invalid_smiles == 0
    assert len(data.actives) > 400 and len(data.inactives) > 500
    a1, i1 = sample(data, 20, 42)
    a2, i2 = sample(data, 20, 42)
    a3, _ = sample(data, 20, 7)
    assert [c.inchikey for c in a1] == [c.inchikey for c in a2] and [c.inchikey for c in i1] == [c.inchikey for c in i2]
    assert [c.inchikey for c in a1] != [c.inchikey for c in a3]
    assert len({c.inchikey for c in a1 + i1}) == 40
    assert all(c.ic50 <= ACTIVE_MAX_UM for c in a1) and all(c.ic50 >= INACTIVE_MIN_UM for c in i1)
    assert library_name(20) == "moonshot-mpro-20" and library_name(20, 7) == "moonshot-mpro-20-seed7"


def test_load_builds_library_and_assay_idempotently(db: Database, config: Config, mirror: Path,
                                                     warm_home: Path) -> None:
    from dockdb.stats import row_counts

    assert config.home == warm_home
    first = load_moonshot(db, config, n=6)
    assert first.details["library"] == "moonshot-mpro-6" and first.details["new_drugs"] == 12
    counts = row_counts(db)
    with db.session() as s:
        lib = s.scalar(select(Library).where(Library.name == "moonshot-mpro-6"))
        assert lib is not None and "seed 42" in (lib.description or "")
        members = s.scalar(select(func.count()).select_from(LibraryMember).where(LibraryMember.library_id == lib.id))
        assert members == 12
        # members in InChIKey order, classes interleaved (a campaign's --limit takes a mixed subset)
        order = list(s.scalars(select(Drug.inchikey).join(LibraryMember, LibraryMember.drug_id == Drug.id)
                               .where(LibraryMember.library_id == lib.id).order_by(LibraryMember.id)))
        assert order == sorted(order)
        assay = s.scalar(select(Assay).where(Assay.key == "moonshot-mpro"))
        assert assay is not None and assay.units == "µM"
        assert assay.active_rule is not None and "IC50 ≤ 1 µM active" in assay.active_rule
        results = s.execute(select(AssayResult.active, AssayResult.value, AssayResult.source_ref, Drug.approval_status)
                            .join(Drug, Drug.id == AssayResult.drug_id)
                            .where(AssayResult.assay_id == assay.id)).all()
        synonyms = {d: n for d, n in s.execute(select(DrugSynonym.drug_id, DrugSynonym.name)
                                                 .where(DrugSynonym.source == "moonshot"))}
    assert sorted(r.active for r in results) == [False] * 6 + [True] * 6
    assert {r.approval_status for r in results} == {"experimental (COVID Moonshot)"}
    assert len(synonyms) >= 12
    # every measurement of every sampled compound agrees with its class, read straight from the CSVs
    raw = _rows_by_id(mirror)
    for r in results:
        texts = raw[r.source_ref]
        if r.active:
            assert r.value <= 1.0
            assert all(t.startswith("<") or float(t) <= 1.0 for t in texts), texts
        else:
            assert r.value >= 99.5
            assert all(t.startswith(">") and float(t[1:]) >= 99.5 for t in texts), texts
    again = load_moonshot(db, config, n=6)
    assert (again.inserted, again.updated, again.details["new_drugs"]) == (0, 0, 0)
    assert row_counts(db) == counts


def test_cli(db: Database, cli_env: dict[str, str], warm_home: Path) -> None:
    assert cli_env["DOCKDB_HOME"] == str(warm_home)
    res = run_cli(["ingest", "moonshot", "--n", "3", "--seed", "7"], cli_env)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("library moonshot-mpro-3-seed7: 3 actives + 3 inactives sampled from")
    assert "6 new drugs" in res.stdout
    res = run_cli(["ingest", "moonshot", "--n", "100000"], cli_env)
    assert res.exit_code == 2
    assert res.stderr.startswith("error: --n 100000 is more than the Moonshot data hold (")
    assert "or less" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert run_cli(["ingest", "moonshot", "--n", "0"], cli_env).exit_code == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Library)) == 1


def test_sample_refuses_impossible_sizes() -> None:
    from dockdb.errors import InputError
    from ingest.moonshot import MoonshotSet

    with pytest.raises(InputError, match="at least 1"):
        sample(MoonshotSet(), 0)
    with pytest.raises(InputError, match="use --n 0 or less"):
        sample(MoonshotSet(), 1)

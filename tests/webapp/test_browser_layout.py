"""Pages that read right in a real headless Chromium at 1,400 px: the Validation page's summaries are
tables that fit the window, the target page says what it sorts by. Screenshots of the target, drug and
validation pages go to ``test-artifacts/browser/`` (git-ignored) or ``$DOCKDB_TEST_ARTIFACTS``."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdb.db import Database
from jobs.validation.store import save_run
from tests.conftest import REPO
from tests.webapp.dataset import Dataset
from tests.webapp.live import serve_portal
from tests.webapp.test_validation_page import store_runs

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("DOCKDB_TEST_CHROMIUM", "/usr/bin/chromium")
WIDTH = 1400
CHECKS = ["mol_pred_loaded", "sanitization", "bond_lengths", "bond_angles", "internal_steric_clash",
          "aromatic_ring_flatness", "double_bond_flatness", "internal_energy", "minimum_distance_to_protein",
          "volume_overlap_with_protein", "passes_valence_checks", "passes_kekulization"]


def _store_plausibility(db: Database) -> None:
    """A run shaped like `dockdb validate plausibility` stores: per-target shares and a long check list."""
    share = {"n": 70, "passed": 61, "pass_rate": 0.871}
    with db.session() as s:
        save_run(
            s, kind="plausibility", label="campaign 1", engine="vina", params={"campaign_id": 1},
            summary={"overall": share, "rank1": share,
                     "per_target": {k: {"all": share, "rank1": share} for k in ("3clpro", "plpro", "tmprss2")},
                     "failures": dict.fromkeys(CHECKS, 3), "failure_rate": dict.fromkeys(CHECKS, 0.043),
                     "rows_truncated": False,
                     "this_run": {"selected": 70, "checked": 70, "passed": 61, "errors": 1,
                                  "error_examples": [{"pose_id": 5, "error": "no hydrogens"}], "seconds": 12.5}},
            rows=[], command="dockdb validate plausibility --campaign 1 --max-rank 1", plots={},
            software_versions={"posebusters": "0.6"},
        )


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Dataset]]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set DOCKDB_TEST_CHROMIUM)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")

    def runs(db: Database) -> None:
        store_runs(db)
        _store_plausibility(db)

    with serve_portal(db_url, tmp_path / "home", runs) as served:
        yield served


def _artefacts() -> Path:
    path = Path(os.environ.get("DOCKDB_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


_OVERFLOW = """() => {
  const over = [];
  for (const el of document.querySelectorAll('main table, main pre, main dl')) {
    if (el.closest('details:not([open])')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 0.5) over.push((el.id || el.dataset.table || el.className) + ' ' + r.right);
  }
  return {page: document.documentElement.scrollWidth, over: over};
}"""


def test_pages_fit_and_say_how_they_read(live: tuple[str, Dataset]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, ds = live
    out = _artefacts()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})

            page.goto(base + "/validation")
            for kind in ("redock", "agreement", "enrichment", "plausibility"):
                expect(page.locator(f"#kind-{kind} table.headline")).to_be_visible()
            expect(page.locator('#kind-enrichment table[data-table="targets"] tbody tr')).to_have_count(7)
            expect(page.locator('#kind-plausibility table[data-table="per_target"] tbody tr')).to_have_count(3)
            page.screenshot(path=str(out / "validation.png"), full_page=True)
            fit = page.evaluate(_OVERFLOW)
            assert fit["page"] <= WIDTH and not fit["over"], fit
            for cell in page.locator("#kind-enrichment table.summary td").all_inner_texts():
                assert ": " not in cell and len(cell) < 80, cell  # numbers, not "key: value;" text

            page.goto(base + "/targets/3clpro")
            expect(page.locator("#sorted-by")).to_contain_text("Sorted by the best score shown for each drug")
            expect(page.locator("#ranked tbody tr").nth(3)).to_contain_text("Ibuprofen")
            page.screenshot(path=str(out / "target-layout.png"), full_page=True)
            fit = page.evaluate(_OVERFLOW)
            assert fit["page"] <= WIDTH and not fit["over"], fit

            page.goto(base + f"/drugs/{ds.drug_ids['Nafamostat']}")
            expect(page.locator("#scores")).to_contain_text("of 8 published")
            page.screenshot(path=str(out / "drug-layout.png"), full_page=True)
            fit = page.evaluate(_OVERFLOW)
            assert fit["page"] <= WIDTH and not fit["over"], fit
        finally:
            browser.close()
    for name in ("validation.png", "target-layout.png", "drug-layout.png"):
        assert (out / name).stat().st_size > 10_000

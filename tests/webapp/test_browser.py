"""A real headless Chromium (Debian's, driven by Playwright) using the portal end to end.

Searches a drug, opens it, checks the 3D viewer drew a non-uniform canvas, switches poses,
downloads the SDF and parses it with RDKit; saves screenshots of the home, target and drug
pages under ``test-artifacts/browser/`` (git-ignored) or ``$DOCKDB_TEST_ARTIFACTS``.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdkit import Chem

from tests.environment import CHROMIUM, missing, require_module
from tests.webapp.dataset import Dataset
from tests.webapp.live import serve_portal
from webapp.pages.assets import VIEWER_JS

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]


def artefacts_dir() -> Path:
    path = Path(os.environ.get("DOCKDB_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# test screenshots and logs; never committed\n*\n")
    return path


@pytest.fixture
def live_portal(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Dataset]]:
    """The portal served over HTTP from the test dataset, on each backend in turn."""
    if shutil.which(CHROMIUM) is None:
        missing(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set DOCKDB_TEST_CHROMIUM)")
    require_module("playwright.sync_api", "pip install -e '.[test]'")
    if not VIEWER_JS.is_file():
        missing("3Dmol.js not installed: run webapp/install_assets.sh")
    with serve_portal(db_url, tmp_path / "home") as served:
        yield served


def colours(png: bytes) -> int:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    return len(img.getcolors(maxcolors=1 << 24) or [])


def test_search_open_view_switch_download(live_portal: tuple[str, Dataset]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, ds = live_portal
    out = artefacts_dir()
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)

            # home: counts, target tiles, autocomplete search
            page.goto(base + "/")
            expect(page.locator('[data-count="drugs"]')).to_have_text("8")
            page.screenshot(path=str(out / "home.png"), full_page=True)
            page.fill("#home-search", "nafa")
            suggestion = page.locator("ul.suggest li a").first
            expect(suggestion).to_contain_text("Nafamostat")
            page.keyboard.press("Enter")  # a plain search: results page
            page.wait_for_url("**/search?**")
            page.locator("#results a", has_text="Nafamostat").click()
            page.wait_for_url(f"**/drugs/{ds.drug_ids['Nafamostat']}")
            expect(page.locator("#drug-name")).to_have_text("Nafamostat")

            # 3D viewer draws the receptor + pocket + best pose
            viewer = page.locator("#pose-viewer")
            first, second = ds.pose_ids["Nafamostat"][0], ds.pose_ids["Nafamostat"][1]
            expect(viewer).to_have_attribute("data-ready", "1", timeout=30_000)
            expect(viewer).to_have_attribute("data-pose-id", str(first))
            page.wait_for_timeout(500)
            shot1 = viewer.screenshot()
            assert colours(shot1) > 50, "the 3D viewer canvas is blank"
            data_url = page.evaluate("() => document.querySelector('#pose-viewer canvas').toDataURL('image/png')")
            assert data_url.startswith("data:image/png;base64,") and len(data_url) > 5000
            page.screenshot(path=str(out / "drug.png"), full_page=True)

            # switch to pose 2: viewer, table and download links follow
            page.select_option("#pose-select", str(second))
            expect(viewer).to_have_attribute("data-pose-id", str(second), timeout=30_000)
            expect(viewer).to_have_attribute("data-ready", "1")
            expect(page.locator("#pose-summary")).to_contain_text(f"Pose {second}")
            expect(page.locator("#dl-sdf")).to_have_attribute("href", f"/api/v1/poses/{second}.sdf")
            page.wait_for_timeout(500)
            assert viewer.screenshot() != shot1, "switching poses did not redraw"
            assert page.locator("#interactions tbody tr").count() >= 1

            with page.expect_download() as info:
                page.click("#dl-sdf")
            sdf_path = out / f"pose-{second}.sdf"
            info.value.save_as(sdf_path)
            mols = [m for m in Chem.SDMolSupplier(str(sdf_path), removeHs=False) if m is not None]
            assert len(mols) == 1
            assert int(mols[0].GetProp("pose_id")) == second
            assert mols[0].GetNumHeavyAtoms() == 26 and mols[0].GetConformer().Is3D()

            # target page: receptor + pocket viewer, chart, ranked table
            page.goto(base + "/targets/3clpro")
            expect(page.locator("#target-viewer")).to_have_attribute("data-ready", "1", timeout=30_000)
            page.wait_for_timeout(500)
            assert colours(page.locator("#target-viewer").screenshot()) > 50
            expect(page.locator("#ranked tbody tr").first).to_contain_text("Nafamostat")
            page.screenshot(path=str(out / "target.png"), full_page=True)
        finally:
            browser.close()
    assert not [e for e in errors if "favicon" not in e], errors
    for name in ("home.png", "drug.png", "target.png"):
        assert (out / name).stat().st_size > 10_000

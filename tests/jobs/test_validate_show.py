"""`dockdb validate show`: newest run per key, figures written as PNG files with safe names."""

from __future__ import annotations

from pathlib import Path

from dockdb.db import Database
from jobs.validation.store import png, save_run
from tests.conftest import run_cli


def _store(db: Database, label: str, engine: str, value: float) -> None:
    with db.session() as s:
        save_run(s, kind="agreement", label=label, engine=engine, params={}, summary={"rho": value},
                 rows=[{"target": "3clpro", "rho": value}], command="dockdb validate agreement --campaign 1",
                 plots={"scatter": png(lambda ax: ax.plot([0, 1], [0, value]))}, software_versions={})


def test_show_lists_newest_and_writes_plots(db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    empty = run_cli(["validate", "show"], cli_env)
    assert empty.exit_code == 3 and "no validation runs" in empty.stderr

    _store(db, "focused", "vina", 0.5)
    _store(db, "focused", "vina", 0.9)  # newer run of the same key replaces the older one
    _store(db, "blind", "dockcov2 (Vina 1.1.2, blind box)", 0.7)
    out = tmp_path / "img"
    res = run_cli(["validate", "show", "--plots-dir", str(out)], cli_env)
    assert res.exit_code == 0, res.stderr
    listed = [line for line in res.stdout.splitlines() if line.startswith("#")]
    assert len(listed) == 2 and listed[0].startswith("#3 agreement blind") and "#2 agreement focused" in listed[1]
    files = sorted(p.name for p in out.iterdir())
    assert files == ["agreement-blind-dockcov2_Vina_1.1.2_blind_box-scatter.png", "agreement-focused-vina-scatter.png"]
    assert all((out / f).read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for f in files)

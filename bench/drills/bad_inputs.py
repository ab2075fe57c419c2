"""Drill: a corpus of bad inputs against the CLI and the portal; each gets a clear error, the database is unchanged.

CLI (run in-process exactly as the console script): broken SMILES, empty / over-the-limit / binary /
non-UTF-8 files as user libraries, malformed PDB files for `target add`, unknown targets, libraries,
campaigns and options.  Each must exit with the documented code (2 bad input; 3 nothing loaded; 1 for
an unknown id, as the CLI's tests pin) and print an error line, never a traceback.

Portal (Flask test client on create_app): SQL fragments, <script> tags, path traversal in download and
pose URLs, oversized and malformed parameters.  Each must answer below 500 (4xx with a one-line JSON
message under /api), and an HTML page never echoes the script tag unescaped.

Finally the row count of every table must be what it was before.

    .venv/bin/python bench/drills/bad_inputs.py [--backend sqlite|postgres]
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._common import (
    Verdict,
    count_changes,
    drill_parser,
    mirror_dir,
    run_script,
    scratch_database,
    table_counts,
)

NAME = "bad_inputs"
SCRIPT = "<script>alert(1)</script>"
OK_PDB = (
    "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n"
    "ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C\n"
    "END\n"
)


@dataclass
class Row:
    kind: str
    case: str
    expected: str
    outcome: str
    ok: bool


# ---------------------------------------------------------------- CLI


def run_dockdb(args: list[str], env: dict[str, str | None]) -> tuple[int, str, str]:
    """`dockdb ARGS` in-process; an exception escaping the CLI becomes exit 99 with its traceback."""
    from click.testing import CliRunner

    from dockdb.cli import main

    runner = CliRunner()
    with runner.isolation(env=env) as streams:
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception:
            sys.stderr.write(traceback.format_exc())
            code = 99
        out, err = streams[0].getvalue().decode(), streams[1].getvalue().decode()
    return code, out, err


def _files(d: Path, max_upload: int) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    files = {
        "broken.smi": "C1CC(\nc1ccccc1X\nN(=O)(=O)(=O)=O bad-valence\n[Xx]C\n",
        "empty.smi": "",
        "blank.smi": "\n \n\t\n",
        "nosmiles.csv": "name,formula\naspirin,C9H8O4\n",
        "garbage.sdf": "this is not a molecule\n$$$$\nnor this\n$$$$\n",
        "library.xyz": "CCO ethanol\n",
        "nothing.pdb": "HEADER    NOT A STRUCTURE\nREMARK only remarks here\nEND\n",
        "garbled.pdb": "ATOM      1  N   ALA A   1      xx.xxx   6.134  -6.504  1.00  0.00           N\n"
                       "ATOM      2  CA  ALA A   ?      11.6\nEND\n",
        "empty.pdb": "",
        "ok.pdb": OK_PDB,
    }
    out = {}
    for name, text in files.items():
        (d / name).write_text(text)
        out[name] = d / name
    (d / "binary.smi").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(2048))
    (d / "latin1.smi").write_bytes("CCO \u00e9thanol\n".encode("latin-1") + b"\xff\xfe\n")
    (d / "binary.pdb").write_bytes(b"\x00\x01\x02" + os.urandom(1024))
    with open(d / "huge.smi", "wb") as fh:  # sparse: over the limit without filling the disk
        fh.truncate(max_upload + 1)
    for name in ("binary.smi", "latin1.smi", "binary.pdb", "huge.smi"):
        out[name] = d / name
    return out


def cli_cases(files: dict[str, Path]) -> list[tuple[str, list[str], set[int]]]:
    """(case, argv, accepted exit codes)."""
    f = {k: str(v) for k, v in files.items()}
    lib = ["ingest", "library"]
    add = ["target", "add", "--key", "drill-bad"]
    create = ["campaign", "create", "--name", "drill-bad", "--targets", "3clpro", "--library", "demo"]
    return [
        ("library: every SMILES broken", [*lib, f["broken.smi"], "--name", "drill-broken"], {2, 3}),
        ("library: empty file", [*lib, f["empty.smi"], "--name", "drill-x"], {2}),
        ("library: only blank lines", [*lib, f["blank.smi"], "--name", "drill-x"], {2}),
        ("library: over the upload limit", [*lib, f["huge.smi"], "--name", "drill-x"], {2}),
        ("library: binary file", [*lib, f["binary.smi"], "--name", "drill-x"], {2}),
        ("library: not UTF-8", [*lib, f["latin1.smi"], "--name", "drill-x"], {2}),
        ("library: unknown file type", [*lib, f["library.xyz"], "--name", "drill-x"], {2}),
        ("library: CSV without smiles column", [*lib, f["nosmiles.csv"], "--name", "drill-x"], {2}),
        ("library: SDF of garbage", [*lib, f["garbage.sdf"], "--name", "drill-x"], {2, 3}),
        ("library: missing file", [*lib, f["empty.smi"].replace("empty", "missing"), "--name", "drill-x"], {2}),
        ("library: blank name", [*lib, f["broken.smi"], "--name", "  "], {2}),
        ("target add: PDB without atoms", [*add, "--file", f["nothing.pdb"]], {2}),
        ("target add: garbled ATOM records", [*add, "--file", f["garbled.pdb"], "--residues", "A:1"], {2}),
        ("target add: empty PDB", [*add, "--file", f["empty.pdb"]], {2}),
        ("target add: binary PDB", [*add, "--file", f["binary.pdb"]], {2}),
        ("target add: no structure given", [*add], {2}),
        ("target add: malformed --box", [*add, "--file", f["ok.pdb"], "--box", "1,2,x"], {2}),
        ("target add: unknown residue", [*add, "--file", f["ok.pdb"], "--residues", "Z:999"], {2}),
        ("campaign create: unknown target", [*create[:5], "nosuch-target", *create[6:]], {1, 2}),
        ("campaign create: unknown library", [*create[:7], "nosuch-library"], {1, 2}),
        ("campaign create: exhaustiveness 0", [*create, "--exhaustiveness", "0"], {2}),
        ("campaign create: unknown pocket", [*create, "--pocket", "everywhere"], {2}),
        ("campaign create: unknown option", [*create, "--bogus", "1"], {2}),
        ("campaign run: unknown campaign", ["campaign", "run", "987654"], {1, 2}),
        ("campaign run: not an id", ["campaign", "run", "1; DROP TABLE drug"], {1, 2}),
        ("campaign export: unknown format", ["campaign", "export", "1", "--format", "xml"], {2}),
        ("dock: unknown target", ["dock", "--target", "nosuch", "--smiles", "CCO"], {1, 2}),
        ("dock: broken SMILES", ["dock", "--target", "3clpro", "--smiles", "C1CC("], {1, 2}),
        ("dock: exhaustiveness 0", ["dock", "--target", "3clpro", "--smiles", "CCO", "--exhaustiveness", "0"], {2}),
        ("unknown command", ["frobnicate"], {2}),
    ]


def check_cli(case: str, code: int, err: str, accepted: set[int]) -> Row:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    error_line = next((ln for ln in reversed(lines) if ln.lower().startswith(("error", "usage"))), "")
    problems = []
    if "Traceback" in err or code == 99:
        problems.append("traceback")
    if code not in accepted:
        problems.append(f"exit {code} not in {sorted(accepted)}")
    if not error_line:
        problems.append("no error line on stderr")
    last = (lines or [""])[-1][:90]
    outcome = f"exit {code}: {error_line[:90]}" if not problems else f"{', '.join(problems)}: {last}"
    return Row("cli", case, f"exit {'/'.join(map(str, sorted(accepted)))}", outcome, not problems)


# ---------------------------------------------------------------- HTTP

# (case, path, expectation): "reject" = 4xx (JSON message under /api); "empty" = 200 with no rows;
# "safe" = any status below 500.  Every response: no 500, no traceback, no unescaped script tag in HTML.
HTTP_CASES: list[tuple[str, str, str]] = [
    ("SQL in drug search", "/api/v1/drugs?q=%27%20OR%20%271%27%3D%271", "empty"),
    ("SQL DROP in drug search", "/api/v1/drugs?q=1%3B%20DROP%20TABLE%20drug%3B--", "empty"),
    ("SQL in suggest", "/api/v1/drugs/suggest?q=%27%20UNION%20SELECT%20*%20FROM%20drug--", "empty"),
    ("SQL in score target", "/api/v1/scores?target=3clpro%27%20OR%201%3D1--", "reject"),
    ("SQL in target key", "/api/v1/targets/3clpro%27--", "reject"),
    ("SQL in drug id", "/api/v1/drugs/1%20OR%201%3D1", "reject"),
    ("SQL in int parameter", "/api/v1/scores?drug=1%20OR%201%3D1", "reject"),
    ("SQL in sort", "/api/v1/targets/3clpro/table?sort=best_score%3BDROP%20TABLE%20pose", "reject"),
    ("script tag as target key", "/api/v1/targets/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "reject"),
    ("script tag in suggest", "/api/v1/drugs/suggest?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "empty"),
    ("script tag as page number", "/api/v1/scores?page=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "reject"),
    ("traversal in pose id", "/api/v1/poses/..%2F..%2F..%2Fetc%2Fpasswd", "reject"),
    ("traversal in pose path", "/api/v1/poses/../../../etc/passwd", "reject"),
    ("traversal in pose SDF", "/api/v1/poses/1.sdf%2F..%2F..%2Fetc%2Fpasswd", "reject"),
    ("traversal in receptor PDB", "/api/v1/receptors/..%2F..%2Fetc%2Fpasswd.pdb", "reject"),
    ("NUL in pose download", "/api/v1/poses/1%00.sdf", "reject"),
    ("traversal in target archive", "/downloads/targets/..%2F..%2F..%2Fetc%2Fpasswd.zip", "reject"),
    ("dot-dot target archive", "/downloads/targets/....%2F%2F....%2F%2Fetc%2Fpasswd.zip", "reject"),
    ("traversal in campaign archive", "/downloads/campaigns/..%2F1.zip", "reject"),
    ("page not an int", "/api/v1/scores?page=abc", "reject"),
    ("negative page", "/api/v1/scores?page=-1", "reject"),
    ("huge page number", "/api/v1/scores?page=999999999999999999999999999", "reject"),
    ("page size over the max", "/api/v1/scores?page_size=100000", "reject"),
    ("huge drug id", "/api/v1/drugs/99999999999999999999999", "reject"),
    ("huge pose id", "/api/v1/poses/99999999999999999999.sdf", "reject"),
    ("oversized search text", "/api/v1/drugs?q=" + "A" * 20000, "reject"),
    ("oversized SMILES", "/api/v1/search/similar?smiles=" + "C" * 5000, "reject"),
    ("broken SMILES", "/api/v1/search/similar?smiles=C1CC(", "reject"),
    ("broken SMARTS", "/api/v1/search/substructure?smarts=%5B", "reject"),
    ("oversized SMARTS", "/api/v1/search/substructure?smarts=" + "[#6]~" * 200 + "[#6]", "reject"),
    ("NaN score", "/api/v1/scores?max_score=nan", "reject"),
    ("infinite score", "/api/v1/scores?max_score=1e999", "reject"),
    ("threshold out of range", "/api/v1/search/similar?smiles=CCO&threshold=7", "reject"),
    ("huge histogram", "/api/v1/targets/3clpro/distribution?bins=1000000", "reject"),
    ("negative top", "/api/v1/selectivity?top=-5", "reject"),
    ("traversal as source", "/api/v1/selectivity?source=..%2F..%2Fetc%2Fpasswd", "reject"),
    ("NUL in search", "/api/v1/drugs?q=%00", "reject"),
    ("bad boolean", "/api/v1/poses/1?include_sdf=maybe", "reject"),
    ("unknown API route", "/api/v1/admin%3Bdrop", "reject"),
    ("POST to read-only API", "POST /api/v1/scores", "reject"),
    ("page: script tag in search", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "safe"),
    ("page: script tag as target", "/targets/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "reject"),
    ("page: script tag as page", "/targets/3clpro?page=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "reject"),
    ("page: SQL in sort", "/targets/3clpro?sort=%27%20OR%201%3D1--", "reject"),
    ("page: SQL in CSV filter", "/targets/3clpro/table.csv?q=%27%20OR%201%3D1--", "safe"),
    ("page: drug id not an int", "/drugs/abc%27", "reject"),
    ("page: oversized search", "/search?q=" + "A" * 20000, "reject"),
]


def check_http(client: Any, case: str, spec: str, expect: str) -> Row:
    method, _, path = spec.rpartition(" ")
    resp = client.open(path, method=method or "GET")
    body = resp.get_data(as_text=True)
    status = resp.status_code
    is_json = resp.mimetype == "application/json"
    problems = []
    if status >= 500:
        problems.append(f"server error {status}")
    if "Traceback" in body:
        problems.append("traceback in body")
    if resp.mimetype == "text/html" and SCRIPT in body:
        problems.append("script tag echoed unescaped")
    message = ""
    if is_json:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
            problems.append("invalid JSON")
        if isinstance(data, dict) and status >= 400:
            message = str(data.get("message", ""))
            if not message or "\n" in message:
                problems.append("no one-line JSON message")
    if expect == "reject":
        if not 400 <= status < 500:
            problems.append(f"status {status}, expected 4xx")
        if path.startswith("/api/") and not is_json:
            problems.append(f"{resp.mimetype} answer, expected JSON")
    elif expect == "empty" and not problems:
        data = json.loads(body) if is_json else {}
        if status != 200 or data.get("total", len(data.get("items", []))) != 0:
            problems.append(f"status {status} with rows, expected 200 and no match")
    shown = message or (f"{resp.mimetype}, {len(body)} bytes" if status < 400 else resp.mimetype)
    outcome = f"{status} {shown[:80]}" if not problems else f"{status} {', '.join(problems)}"
    return Row("http", case, {"reject": "4xx", "empty": "200, no rows", "safe": "< 500"}[expect], outcome,
               not problems)


# ---------------------------------------------------------------- the drill


def drill(db_url: str, workdir: Path, report: Callable[[Row], None] | None = None) -> Verdict:
    from bench.drills._dataset import build  # the portal's realistic test dataset (3clpro, plpro, 8 drugs)
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from webapp import create_app

    v = Verdict(NAME)
    home = workdir / "bad-inputs-home"
    db = Database(db_url)
    try:
        upgrade(db.engine)
        build(db)
        config = Config.load(environ={}, home=home, database_url=db_url, mirror=mirror_dir())
        before = table_counts(db)
        rows: list[Row] = []
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DOCKDB_")}
        env.update({"DOCKDB_DATABASE_URL": db_url, "DOCKDB_HOME": str(home), "DOCKDB_OFFLINE": "1"})
        for case, argv, accepted in cli_cases(_files(workdir / "bad-inputs-files", config.max_upload_bytes)):
            code, _out, err = run_dockdb(argv, env)
            rows.append(check_cli(case, code, err, accepted))
            if report:
                report(rows[-1])
        app = create_app(config.with_(env="testing"))
        try:
            client = app.test_client()
            for case, spec, expect in HTTP_CASES:
                rows.append(check_http(client, case, spec, expect))
                if report:
                    report(rows[-1])
        finally:
            app.extensions["dockdb"].database.dispose()
        changed = count_changes(before, table_counts(db))
        failed = [r for r in rows if not r.ok]
        v.problems += [f"{r.case}: {r.outcome}" for r in failed]
        v.problems += [f"database changed: {c}" for c in changed]
        v.details = {"rows": rows, "changed": changed}
        n_cli = sum(r.kind == "cli" for r in rows)
        v.summary = (f"{len(rows)} cases ({n_cli} CLI, {len(rows) - n_cli} HTTP) on {db.backend}: "
                     f"each a clear error, 0 server errors, 0 tracebacks, database unchanged "
                     f"({sum(before.values())} rows in {len(before)} tables)")
    finally:
        db.dispose()
    return v


def print_row(r: Row) -> None:
    print(f"{'ok  ' if r.ok else 'FAIL'} {r.kind:4} {r.case:38.38} {r.expected:12} {r.outcome}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = drill_parser(__doc__.splitlines()[0])

    def build(args: Any) -> Verdict:
        print(f"{'':4} {'kind':4} {'case':38} {'expected':12} outcome")
        with scratch_database(args.backend, args.workdir, args.postgres_url) as url:
            return drill(url, args.workdir, report=print_row)

    return run_script(NAME, build, ap, argv)


if __name__ == "__main__":
    sys.exit(main())

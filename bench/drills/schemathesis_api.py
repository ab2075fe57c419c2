"""Drill: Schemathesis fuzzes every operation of the portal's OpenAPI document; zero server errors.

The portal (create_app over a small realistic dataset: 2 targets, 8 drugs, poses) is called
in-process through WSGI.  For each operation Schemathesis generates --max-examples valid
(positive) and as many invalid (negative) requests.  The verdict counts responses that fail
`not_a_server_error` (any 5xx); status-code, content-type and response-schema conformance are
checked too and reported as warnings.

    .venv/bin/python bench/drills/schemathesis_api.py [--max-examples 200] [--backend sqlite|postgres]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._common import Verdict, drill_parser, mirror_dir, run_script, scratch_database

NAME = "schemathesis_api"
OPENAPI_PATH = "/api/v1/openapi.json"


@dataclass
class OperationResult:
    label: str
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    conformance: list[str] = field(default_factory=list)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


def _fuzz(op: Any, mode: Any, res: OperationResult, max_examples: int, seed: int | None) -> None:
    """*max_examples* requests of *mode* (positive/negative) to operation *op*, findings into *res*."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    conformance = [status_code_conformance, content_type_conformance, response_schema_conformance]

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=seed is not None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        res.requests += 1
        where = f"{mode.value} {case.formatted_path} {case.query or ''}".strip()
        try:
            response = case.call()
        except Exception as e:  # an exception escaping the app is a server error too
            res.server_errors.append(f"exception on {where}: {type(e).__name__}: {_first_line(e)}")
            return
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except Exception as e:
            if len(res.server_errors) < 5:
                res.server_errors.append(f"{response.status_code} on {where}: {_first_line(e)}")
        if mode is GenerationMode.POSITIVE:
            try:
                case.validate_response(response, checks=conformance)
            except Exception as e:
                if len(res.conformance) < 5:
                    res.conformance.append(f"{response.status_code} on {where}: {_first_line(e)}")

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        pass


def fuzz_app(app: Any, max_examples: int, seed: int | None = 0,
             report: Callable[[OperationResult], None] | None = None) -> list[OperationResult]:
    """Run Schemathesis against *app* (a Flask app); one result per API operation."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)
    results: list[OperationResult] = []
    for loaded in schema.get_all_operations():
        op = loaded.ok()
        res = OperationResult(op.label)
        modes = [schemathesis.GenerationMode.POSITIVE]
        if op.definition.raw.get("parameters"):  # nothing to make invalid without parameters
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            _fuzz(op, mode, res, max_examples, seed)
        results.append(res)
        if report:
            report(res)
    return results


def drill(db_url: str, workdir: Path, max_examples: int = 25, seed: int | None = 0,
          report: Callable[[OperationResult], None] | None = None) -> Verdict:
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from tests.webapp.dataset import build  # the portal's realistic test dataset
    from webapp import create_app

    v = Verdict(NAME)
    db = Database(db_url)
    try:
        upgrade(db.engine)
        build(db)
        config = Config.load(environ={}, home=workdir / "schemathesis-home", database_url=db_url,
                             mirror=mirror_dir())
        app = create_app(config.with_(env="testing"))
        try:
            results = fuzz_app(app, max_examples, seed, report)
        finally:
            app.extensions["dockdb"].database.dispose()
        n = sum(r.requests for r in results)
        errors = [f"{r.label}: {e}" for r in results for e in r.server_errors]
        warnings = [f"{r.label}: {e}" for r in results for e in r.conformance]
        v.problems += errors
        v.details = {"results": results, "requests": n, "conformance": warnings}
        v.summary = (f"{len(results)} operations, {n} requests (max {max_examples} positive + {max_examples} "
                     f"negative each) on {db.backend}: 0 server errors, {len(warnings)} conformance warnings")
    finally:
        db.dispose()
    return v


def print_result(r: OperationResult) -> None:
    state = "ok  " if not r.server_errors else "FAIL"
    print(f"{state} {r.label:48} {r.requests:5d} requests, {len(r.server_errors)} server errors, "
          f"{len(r.conformance)} conformance warnings", flush=True)
    for line in r.server_errors + [f"(warning) {c}" for c in r.conformance]:
        print(f"       {line}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = drill_parser(__doc__.splitlines()[0])
    ap.add_argument("--max-examples", type=int, default=200, help="examples per operation and generation mode")
    ap.add_argument("--seed", type=int, default=None, help="derandomize (same examples each run)")

    def build(args: Any) -> Verdict:
        with scratch_database(args.backend, args.workdir, args.postgres_url) as url:
            return drill(url, args.workdir, args.max_examples, args.seed, report=print_result)

    return run_script(NAME, build, ap, argv)


if __name__ == "__main__":
    sys.exit(main())

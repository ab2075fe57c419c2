"""Drill: Schemathesis fuzzes every operation of the portal's OpenAPI document; zero server errors.

The portal (create_app over a small realistic dataset: 2 targets, 8 drugs, poses) is called
in-process through WSGI.  For each operation Schemathesis generates --max-examples valid
(positive) and as many invalid (negative) requests, and every undeclared method is tried.  The
drill fails on any server error (5xx) and on any broken contract: status code, content type,
headers or response schema not as documented, a schema-valid request rejected, a
schema-violating one accepted, an undeclared method not answered 405 with ``Allow``.

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
SMILES_EXAMPLES = ["CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "c1ccccc1", "CCO", "O=C(O)c1ccccc1O"]
SMARTS_EXAMPLES = ["c1ccccc1", "[OX2H]", "C(=O)[OH]", "[#7]", "[CX4]"]
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
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        positive_data_acceptance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    # every response check of Schemathesis that applies to a read-only API without auth: the
    # contract (status codes, content types, headers, schemas) and that schema-valid requests are
    # accepted and schema-violating ones rejected
    contract = [status_code_conformance, content_type_conformance, response_headers_conformance,
                response_schema_conformance, positive_data_acceptance, negative_data_rejection]

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
        try:
            case.validate_response(response, checks=contract)
        except BaseException as e:  # a Schemathesis FailureGroup is an exception group
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            if len(res.conformance) < 5:
                res.conformance.append(f"{response.status_code} on {where}: {_first_line(e)}")

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        pass


UNDECLARED_METHODS = ("POST", "PUT", "PATCH", "DELETE", "TRACE")


def _undeclared_methods(app: Any, path: str, res: OperationResult) -> None:
    """Each method the document does not declare answers 405 with an ``Allow`` header that lists
    the declared ones (Schemathesis' unsupported-method check, run here on every operation)."""
    import re

    url = re.sub(r"\{[^}]+\}", "1", path)
    client = app.test_client()
    for method in UNDECLARED_METHODS:
        res.requests += 1
        r = client.open(url, method=method)
        allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
        if r.status_code != 405 or "GET" not in allow:
            res.conformance.append(f"{method} {url}: {r.status_code}, Allow {sorted(allow)} (expected 405 with GET)")


def fuzz_app(app: Any, max_examples: int, seed: int | None = 0,
             report: Callable[[OperationResult], None] | None = None) -> list[OperationResult]:
    """Run Schemathesis against *app* (a Flask app); one result per API operation."""
    import schemathesis
    from hypothesis import strategies as st

    # a JSON schema cannot say which strings are SMILES: the document marks them with formats,
    # and schema-valid examples of those formats are real molecules and patterns
    schemathesis.openapi.format("smiles", st.sampled_from(SMILES_EXAMPLES))
    schemathesis.openapi.format("smarts", st.sampled_from(SMARTS_EXAMPLES))
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
        _undeclared_methods(app, op.path, res)
        results.append(res)
        if report:
            report(res)
    return results


def drill(db_url: str, workdir: Path, max_examples: int = 25, seed: int | None = 0,
          report: Callable[[OperationResult], None] | None = None) -> Verdict:
    from bench.drills._dataset import build  # the portal's realistic test dataset
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
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
        v.problems += errors + warnings  # a broken contract fails the drill like a server error
        v.details = {"results": results, "requests": n, "conformance": warnings}
        v.summary = (f"{len(results)} operations, {n} requests (max {max_examples} positive + {max_examples} "
                     f"negative each, and {len(UNDECLARED_METHODS)} undeclared methods) on {db.backend}: "
                     f"{len(errors)} server errors, {len(warnings)} contract failures")
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

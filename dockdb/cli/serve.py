"""`dockdb serve`: the portal on http://127.0.0.1:5000 through gunicorn; Werkzeug's debugger only with --debug."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import sys

import click

from dockdb.cli.common import AppContext, pass_app
from dockdb.errors import ConfigError, InputError

# gunicorn settings used by `dockdb serve` and by docker-compose
# (`gunicorn -c python:dockdb.cli.serve 'webapp:create_app()'`).
bind = os.environ.get("DOCKDB_BIND", "0.0.0.0:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(8, 2 * (os.cpu_count() or 1) + 1))))
threads = 2
timeout = 60
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
preload_app = False
limit_request_line = 8190


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--debug/--production",
    "debug",
    default=None,
    help="--debug: Werkzeug's development server with its interactive debugger, loopback hosts only. "
    "--production: DOCKDB_ENV=production settings (needs DOCKDB_SECRET_KEY). "
    "Without either: gunicorn, debugger off.",
)
@click.option("--workers", "n_workers", default=None, type=click.IntRange(1, 64), help="gunicorn workers.")
@pass_app
def serve(app_ctx: AppContext, host: str, port: int, debug: bool | None, n_workers: int | None) -> None:
    """Serve the portal and the JSON API (read-only) from the configured database."""
    config = app_ctx.config
    if debug and not is_loopback(host):
        raise InputError(
            f"--debug serves Werkzeug's debugger, which runs any code a visitor types, so it listens only on "
            f"a loopback host; use --host 127.0.0.1, or drop --debug to serve {host} with gunicorn"
        )
    app_ctx.db.dispose()  # checked reachable and migrated; the server's workers open their own connections
    if debug is False:
        if not config.secret_key:
            raise ConfigError("production serving needs DOCKDB_SECRET_KEY; set it to a long random string")
        config = config.with_(env="production")
    from webapp import create_app

    app = create_app(config)
    # gunicorn is a dependency, used as a library (no executable on PATH needed: `.venv/bin/dockdb serve` runs
    # without an activated virtualenv); it does not run on Windows, where Werkzeug serves with the debugger off
    use_gunicorn = not debug and sys.platform != "win32"
    if use_gunicorn and importlib.util.find_spec("gunicorn") is None:
        raise ConfigError("gunicorn is not installed in this environment; run scripts/setup-env.sh "
                          "(or pip install gunicorn), or use --debug on 127.0.0.1 for a development server")
    server = "werkzeug debugger" if debug else ("gunicorn" if use_gunicorn else "werkzeug, debugger off")
    click.echo(f"DockDB portal on http://{_url_host(host)}:{port} ({config.env}, {server})", err=True)
    if use_gunicorn:
        _run_gunicorn(app, host, port, n_workers)
        return
    app.run(host=host, port=port, debug=bool(debug), use_reloader=False, threaded=True)


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _run_gunicorn(app: object, host: str, port: int, n_workers: int | None) -> None:
    from gunicorn.app.base import BaseApplication

    class _Standalone(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{_url_host(host)}:{port}",
                "workers": n_workers or workers,
                "threads": threads,
                "timeout": timeout,
                "graceful_timeout": graceful_timeout,
                "accesslog": accesslog,
                "errorlog": errorlog,
                "limit_request_line": limit_request_line,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> object:
            return app

    _Standalone().run()

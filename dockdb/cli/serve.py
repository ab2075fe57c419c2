"""`dockdb serve`: the portal on http://127.0.0.1:5000 (werkzeug locally, gunicorn in production)."""

from __future__ import annotations

import os
import shutil
import sys

import click

from dockdb.cli.common import AppContext, pass_app
from dockdb.errors import ConfigError

# gunicorn settings used by `dockdb serve --production` and by docker-compose
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
    help="Werkzeug dev server with the debugger, or gunicorn with debug off (default: by DOCKDB_ENV).",
)
@click.option("--workers", "n_workers", default=None, type=click.IntRange(1, 64), help="gunicorn workers (production).")
@pass_app
def serve(app_ctx: AppContext, host: str, port: int, debug: bool | None, n_workers: int | None) -> None:
    """Serve the portal and the JSON API (read-only) from the configured database."""
    config = app_ctx.config
    app_ctx.db  # noqa: B018 - fail early with a clear message if the database is unreachable or not migrated
    production = config.env == "production" if debug is None else not debug
    if production:
        if not config.secret_key:
            raise ConfigError("production serving needs DOCKDB_SECRET_KEY; set it to a long random string")
        config = config.with_(env="production")
    from webapp import create_app

    app = create_app(config)
    click.echo(f"DockDB portal on http://{host}:{port} ({'production' if production else 'development'})", err=True)
    if production and shutil.which("gunicorn") is not None and sys.platform != "win32":
        _run_gunicorn(app, host, port, n_workers)
        return
    app.run(host=host, port=port, debug=not production, use_reloader=False, threaded=True)


def _run_gunicorn(app: object, host: str, port: int, n_workers: int | None) -> None:
    from gunicorn.app.base import BaseApplication

    class _Standalone(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
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

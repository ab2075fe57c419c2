"""A real portal on a free localhost port over a test database, for the browser tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from dockdb.config import Config
from dockdb.db import Database
from dockdb.migrate import upgrade
from tests.webapp.dataset import Dataset, build
from webapp import create_app


@contextmanager
def serve_portal(db_url: str, home: Path, extra: Callable[[Database], None] | None = None) -> Iterator[
        tuple[str, Dataset]]:
    """Migrate and fill ``db_url`` with the portal dataset (plus ``extra``), serve it on a free
    port in a thread, yield (base URL, dataset), then stop the server and release the database."""
    db = Database(db_url)
    upgrade(db.engine)
    ds = build(db)
    if extra is not None:
        extra(db)
    db.dispose()
    app = create_app(Config.load(environ={}, home=home, database_url=db_url, env="testing"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ds
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["dockdb"].database.dispose()

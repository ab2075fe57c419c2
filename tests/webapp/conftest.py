"""Portal fixtures: the realistic dataset in each backend's database and a Flask test client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dockdb.config import Config
from dockdb.db import Database
from tests.webapp.dataset import Dataset, build
from webapp import create_app


@dataclass
class Portal:
    app: Flask
    client: FlaskClient
    ds: Dataset
    db: Database


@pytest.fixture
def portal(db: Database, config: Config) -> Iterator[Portal]:
    ds = build(db)
    app = create_app(config.with_(env="testing"))
    yield Portal(app=app, client=app.test_client(), ds=ds, db=db)
    app.extensions["dockdb"].database.dispose()


@pytest.fixture
def empty_portal(db: Database, config: Config) -> Iterator[Portal]:
    app = create_app(config.with_(env="testing"))
    yield Portal(app=app, client=app.test_client(), ds=Dataset(), db=db)
    app.extensions["dockdb"].database.dispose()

"""Alembic environment: runs online against the engine handed over by dockdb.migrate."""

from __future__ import annotations

from alembic import context

from dockdb.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from dockdb.config import Config
        from dockdb.db import make_engine

        engine = make_engine(Config.load().effective_database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()

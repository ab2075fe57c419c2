"""Database engine, sessions and schema-revision checks (PostgreSQL or SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dockdb.config import Config, mask_url
from dockdb.errors import DatabaseError, NotMigratedError, one_line

CONNECT_TIMEOUT_S = 5


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for *url*; a malformed URL or missing driver raises :class:`DatabaseError`."""
    masked = mask_url(url)
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as e:
        raise DatabaseError(
            f"invalid database URL {masked!r}; use postgresql://USER@HOST:PORT/DB or sqlite:///PATH"
        ) from e
    backend = parsed.get_backend_name()
    if parsed.drivername == "postgresql":
        # SQLAlchemy >= 2.1 defaults to psycopg 3; DockDB ships psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "future": True}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    elif backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    else:
        raise DatabaseError(f"unsupported database {backend!r} in {masked!r}; use postgresql:// or sqlite://")
    try:
        engine = create_engine(parsed, **kwargs)
    except (sa_exc.NoSuchModuleError, ModuleNotFoundError) as e:
        raise DatabaseError(f"no driver for database URL {masked!r}; install psycopg2-binary or fix the URL") from e
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """Owns the engine and hands out sessions; knows whether the schema is current."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_config(cls, config: Config) -> Database:
        """A Database on the config's effective database URL."""
        return cls(config.effective_database_url)

    @property
    def backend(self) -> str:
        """The SQL dialect name: ``postgresql`` or ``sqlite``."""
        return self.engine.dialect.name

    # ----------------------------------------------------------------- sessions
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except sa_exc.OperationalError as e:
            session.rollback()
            raise self._connection_error(e) from e
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _connection_error(self, e: Exception) -> DatabaseError:
        reason = one_line(getattr(e, "orig", None) or e)
        return DatabaseError(
            f"cannot use database {self.masked_url}: {reason}; check DOCKDB_DATABASE_URL and that the server is running"
        )

    def check_connection(self) -> None:
        """Run ``SELECT 1``; an unreachable database raises a one-line connection error."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DBAPIError) as e:
            raise self._connection_error(e) from e

    # ----------------------------------------------------------------- revisions
    def current_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        from dockdb.migrate import current_revision

        self.check_connection()
        return current_revision(self.engine)

    def require_head(self) -> None:
        """Raise :class:`NotMigratedError` unless the schema is at the head revision."""
        from dockdb.migrate import head_revision

        current = self.current_revision()
        head = head_revision()
        if current != head:
            state = "empty (no schema)" if current is None else f"at revision {current}"
            raise NotMigratedError(
                f"database {self.masked_url} is {state}, not at head {head}; run `dockdb db upgrade`"
            )

    def table_names(self) -> list[str]:
        """Names of the tables that exist in the database."""
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        """Close every pooled connection of the engine."""
        self.engine.dispose()

"""The portal's one extension: a read-only, time-bounded database session per request.

The web layer never writes.  On PostgreSQL every request's transaction is ``READ ONLY``
with a ``statement_timeout``; on SQLite the connection is ``query_only`` and a progress
handler aborts statements that run past the time budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from cachetools import TTLCache
from flask import Flask, current_app, g
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from dockdb.config import Config
from dockdb.db import Database

EXTENSION_KEY = "dockdb"
RANKING_CACHE_ENTRIES = 256  # per process: distinct (target, filters, sort) tables kept at once


_MISSING = object()


class ReuseCache:
    """Values kept for *ttl_s* seconds among at most *maxsize* keys (least recently used dropped first),
    built only once a key is asked for a second time within *ttl_s*; thread-safe.  *timer* (monotonic
    seconds) is the clock the TTL is measured on."""

    def __init__(self, maxsize: int, ttl_s: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._kept: TTLCache[Any, Any] = TTLCache(maxsize, ttl_s, timer=timer)
        self._seen: TTLCache[Any, bool] = TTLCache(8 * maxsize, ttl_s, timer=timer)  # keys asked for once
        self._lock = Lock()

    def get(self, key: Any, build: Any) -> Any:
        """The kept value of *key*; ``build()`` (then kept) on its second ask; ``None`` on its first."""
        with self._lock:  # TTLCache is not thread-safe; the build runs outside the lock
            hit = self._kept.get(key, _MISSING)
            if hit is _MISSING and key not in self._seen:
                self._seen[key] = True
                return None
        if hit is not _MISSING:
            return hit
        value = build()
        with self._lock:
            self._kept[key] = value
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def __iter__(self) -> Iterator[Any]:
        with self._lock:
            return iter(list(self._kept))


@dataclass
class PortalState:
    """What the app holds between requests: config, database and small caches."""

    config: Config
    database: Database
    sessions: sessionmaker[Session]
    cache: dict[str, Any] = field(default_factory=dict)
    cache_lock: Lock = field(default_factory=Lock)
    # filtered tables: one entry per filter set a user asked for, so bounded in number as well as time
    rankings: ReuseCache | None = None
    # the clock every cache's TTL is measured on (monotonic seconds; tests advance their own)
    clock: Callable[[], float] = time.monotonic


def _sqlite_query_only(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only = ON")
    cur.close()


class PortalDatabase:
    """Flask extension (``init_app`` style) binding a :class:`Database` to the app."""

    def __init__(self, app: Flask | None = None, config: Config | None = None) -> None:
        if app is not None and config is not None:
            self.init_app(app, config)

    def init_app(self, app: Flask, config: Config) -> None:
        """Bind a read-only database, its session factory and the portal caches to *app*."""
        database = Database.from_config(config)
        if database.backend == "sqlite":
            event.listen(database.engine, "connect", _sqlite_query_only)
        sessions = sessionmaker(database.engine, expire_on_commit=False, autoflush=False)
        ttl = config.cache_ttl_s
        st = PortalState(config=config, database=database, sessions=sessions)
        if ttl > 0:
            st.rankings = ReuseCache(RANKING_CACHE_ENTRIES, ttl, timer=lambda: st.clock())
        app.extensions[EXTENSION_KEY] = st
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def _teardown(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("dockdb_session", None)
        if session is None:
            return
        try:
            if session.get_bind().dialect.name == "sqlite":
                raw = session.connection().connection.driver_connection
                if raw is not None:
                    raw.set_progress_handler(None, 0)
        except Exception:
            pass
        session.rollback()
        session.close()


def state() -> PortalState:
    """The portal state (config, database, sessions, caches) bound to the current app."""
    return current_app.extensions[EXTENSION_KEY]


def get_session() -> Session:
    """The request's read-only session (created on first use, closed at teardown)."""
    session: Session | None = g.get("dockdb_session")
    if session is not None:
        return session
    st = state()
    session = st.sessions()
    timeout_s = st.config.query_timeout_s
    if st.database.backend == "postgresql":
        # one round trip: both settings apply to this request's transaction only
        session.execute(text(f"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {int(timeout_s * 1000)}"))
    else:
        deadline = time.monotonic() + timeout_s
        raw = session.connection().connection.driver_connection
        if raw is not None:
            raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 20000)
    g.dockdb_session = session
    return session


def cached(key: str, stamp: Any, build: Any) -> Any:
    """App-wide cache entry *key*, rebuilt by ``build()`` whenever *stamp* changes."""
    st = state()
    entry = st.cache.get(key)
    if entry is not None and entry[0] == stamp:
        return entry[1]
    with st.cache_lock:
        entry = st.cache.get(key)
        if entry is not None and entry[0] == stamp:
            return entry[1]
        value = build()
        st.cache[key] = (stamp, value)
        return value


def ttl_cached(key: str, build: Any) -> Any:
    """App-wide cache entry *key* kept for ``cache_ttl_s`` seconds (aggregates other processes may change;
    the key must come from a small fixed set, such as the target keys)."""
    st = state()
    if st.config.cache_ttl_s <= 0:
        return build()
    now = st.clock()
    entry = st.cache.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = build()
    st.cache[key] = (now + st.config.cache_ttl_s, value)
    return value


def reused(key: Any, build: Any) -> Any:
    """*build()*'s value for *key* (any hashable, e.g. a filter set) from its second ask within
    ``cache_ttl_s`` seconds on, kept in the app's :class:`ReuseCache` of ``RANKING_CACHE_ENTRIES`` keys.
    ``None`` on the first ask (or with caching off): the caller answers that one the cheap way, so one-off
    requests do not pay for building what nobody reuses."""
    cache = state().rankings
    return None if cache is None else cache.get(key, build)


portal_db = PortalDatabase()

"""What every reliability drill shares: verdict lines, scratch databases, row counts, a TCP proxy.

A drill is a function returning a :class:`Verdict`; its script prints ``verdict.line()`` last
and exits 0 (PASS) or 1 (FAIL).  The test suite (tests/drills/) calls the same functions.
Importing this module has no side effects.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("DOCKDB_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@dataclass
class Verdict:
    """The outcome of one drill: PASS when *problems* is empty."""

    name: str
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"DRILL {self.name}: PASS {self.summary}".rstrip()
        shown = "; ".join(self.problems[:5]) + (f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else "")
        return f"DRILL {self.name}: FAIL {shown}"

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def run_script(name: str, build: Callable[[argparse.Namespace], Verdict], parser: argparse.ArgumentParser,
               argv: list[str] | None = None) -> int:
    """Parse *argv*, run the drill, print its verdict as the last line; an unexpected error is a FAIL."""
    args = parser.parse_args(argv)
    try:
        verdict = build(args)
    except KeyboardInterrupt:
        verdict = Verdict(name, problems=["interrupted"])
    except Exception as e:  # a crash of the drill itself is a failure with its reason
        from dockdb.errors import one_line

        traceback.print_exc()
        verdict = Verdict(name, problems=[f"drill crashed: {one_line(e, 1000, with_type=True)}"])
    print(verdict.line(), flush=True)
    return verdict.exit_code


# ---------------------------------------------------------------- scratch databases


@contextmanager
def postgres_schema(server_url: str = POSTGRES_URL, prefix: str = "drill") -> Iterator[str]:
    """URL of a new, empty PostgreSQL schema on *server_url* (via ``search_path``), dropped on exit."""
    from sqlalchemy import create_engine, text

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        admin.dispose()
        admin = create_engine(server_url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def scratch_database(backend: str, workdir: Path, server_url: str = POSTGRES_URL) -> Iterator[str]:
    """URL of an empty database: a SQLite file under *workdir*, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        workdir.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{workdir / f'drill-{uuid.uuid4().hex[:8]}.sqlite'}"
    elif backend == "postgres":
        with postgres_schema(server_url) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; use sqlite or postgres")


def table_counts(db: Any) -> dict[str, int]:
    """Row count of every table of *db* (a :class:`dockdb.db.Database`)."""
    from sqlalchemy import func, select

    from dockdb.models import Base

    counts: dict[str, int] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return counts


def count_changes(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """``table: N -> M`` for each table whose row count changed."""
    return [f"{t}: {before.get(t)} -> {after.get(t)}" for t in sorted(set(before) | set(after))
            if before.get(t) != after.get(t)]


def cli_env(db_url: str, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a `dockdb` subprocess on *db_url*: the caller's, minus other DOCKDB_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKDB_")}
    mirror = mirror_dir()
    if mirror is not None:
        env["DOCKDB_MIRROR"] = str(mirror)
    env.update({"DOCKDB_DATABASE_URL": db_url, "DOCKDB_HOME": str(home)})
    env.update(extra or {})
    return env


def mirror_dir() -> Path | None:
    """The shared data mirror (``DOCKDB_MIRROR`` or ../shared/data), if present."""
    env = os.environ.get("DOCKDB_MIRROR")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


def dockdb_exe() -> str:
    """The `dockdb` console script next to this interpreter."""
    return str(Path(sys.executable).parent / "dockdb")


# ---------------------------------------------------------------- a cuttable TCP proxy


class TcpProxy:
    """A TCP forwarder to a database server that can be cut and restored (a real network outage)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def url_for(self, url: str) -> str:
        """*url* (a server URL) rewritten to go through this proxy."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, f"{user}127.0.0.1:{self.port}", parts.path, parts.query, parts.fragment))

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.sock.close()


def add_repo_to_path() -> None:
    """Make `bench.drills` and `tests` importable when a drill runs as a plain script."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def drill_parser(description: str, backends: tuple[str, ...] = ("sqlite", "postgres")) -> argparse.ArgumentParser:
    """The options every drill script takes: the database backend, the PostgreSQL server, a work directory."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--backend", choices=backends, default=backends[0], help="database the drill runs on")
    ap.add_argument("--postgres-url", default=POSTGRES_URL,
                    help="PostgreSQL server for --backend postgres (the drill uses its own schema, dropped after)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/dockdb-drills"),
                    help="scratch directory (SQLite files, prepared receptors reused between runs)")
    return ap


def scratch_drill_main(name: str, description: str, drill: Callable[[str, Path], Verdict],
                       argv: list[str] | None = None) -> int:
    """``main`` of a drill that only needs a scratch database: parse the common options, run, print the verdict."""
    ap = drill_parser(description)

    def build(args: argparse.Namespace) -> Verdict:
        with scratch_database(args.backend, args.workdir, args.postgres_url) as url:
            return drill(url, args.workdir)

    return run_script(name, build, ap, argv)

"""A small HTTP load generator shared by bench/bench_portal.py and bench/drills/load.py.

*concurrency* threads, each with its own keep-alive connection, request random paths for a
fixed time; latencies and errors are kept per route.  Standard library only.
"""

from __future__ import annotations

import http.client
import random
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_S = 30.0


@dataclass
class RouteStats:
    """Latencies (ms) and errors of one route."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[p - 1]

    def as_dict(self, seconds: float) -> dict[str, Any]:
        return {"requests": self.requests, "rps": self.requests / seconds if seconds > 0 else 0.0,
                "p50": self.percentile(50), "p95": self.percentile(95), "p99": self.percentile(99),
                "errors": len(self.errors)}


@dataclass
class LoadReport:
    routes: dict[str, RouteStats]
    seconds: float

    @property
    def overall(self) -> RouteStats:
        total = RouteStats("overall")
        for r in self.routes.values():
            total.latencies += r.latencies
            total.errors += r.errors
        return total

    @property
    def errors(self) -> int:
        return sum(len(r.errors) for r in self.routes.values())

    def table(self) -> str:
        lines = [f"{'route':28} {'requests':>9} {'req/s':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"]
        for r in [*self.routes.values(), self.overall]:
            d = r.as_dict(self.seconds)
            lines.append(f"{r.name:28} {d['requests']:9d} {d['rps']:7.1f} {d['errors']:7d} {d['p50']:8.1f} "
                         f"{d['p95']:8.1f} {d['p99']:8.1f}")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _split(base_url: str) -> tuple[str, int, str]:
    parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")


def get(base_url: str, path: str, timeout_s: float = TIMEOUT_S) -> tuple[int, bytes]:
    """One GET: (status, body)."""
    host, port, prefix = _split(base_url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.request("GET", prefix + path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(base_url: str, timeout_s: float = 60, probe: str = "/api/v1/stats") -> None:
    """Wait until *probe* answers 200; RuntimeError after *timeout_s*."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if get(base_url, probe, timeout_s=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the portal at {base_url} did not answer {probe} within {timeout_s:g} s")


def run_load(base_url: str, routes: dict[str, list[str]], concurrency: int, seconds: float, seed: int = 0,
             ok_statuses: frozenset[int] = frozenset({200})) -> LoadReport:
    """*concurrency* keep-alive clients pick a random route, then a random path of it, for *seconds*."""
    host, port, prefix = _split(base_url)
    names = [n for n, paths in routes.items() if paths]
    stats = {n: RouteStats(n) for n in names}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        mine = {n: RouteStats(n) for n in names}
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
        while time.monotonic() < stop:
            name = rng.choice(names)
            path = rng.choice(routes[name])
            t0 = time.perf_counter()
            error = None
            try:
                conn.request("GET", prefix + path)
                resp = conn.getresponse()
                resp.read()
                if resp.status not in ok_statuses:
                    error = f"{resp.status} {path}"
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as e:
                error = f"{type(e).__name__} {path}"
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
            mine[name].latencies.append((time.perf_counter() - t0) * 1000)
            if error:
                mine[name].errors.append(error)
        conn.close()
        with lock:
            for n, s in mine.items():
                stats[n].latencies += s.latencies
                stats[n].errors += s.errors

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return LoadReport(stats, time.monotonic() - t0)


def hammer(port: int, paths: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    """Overall stats of random *paths* on 127.0.0.1:*port* (requests, rps, p50/p95/p99 ms, errors)."""
    report = run_load(f"http://127.0.0.1:{port}", {"all": paths}, concurrency, seconds)
    return report.overall.as_dict(report.seconds)

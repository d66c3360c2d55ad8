"""Request latency with EXPLAIN on against EXPLAIN off, for a request whose one statement is slow.

A request runs an unindexed filter over a 200,000-row SQLite table (a slow statement: a ``slow_query``
finding every time). With ``stop(background=True)`` (what middleware calls) the EXPLAIN runs on the worker
thread after the request, so the latency with EXPLAIN on must equal the latency with it off, within noise.
``explain_ttl_s=0`` makes every request queue an EXPLAIN (the worst case: no plan is reused). Off and on
alternate request by request in one process run; their 10th percentiles are compared (other processes
on the machine only ever add time, so the low percentile is the latency that EXPLAIN could change). The
third row isolates what the stage adds to ``stop()``; the last shows what the same EXPLAIN costs in the
foreground (a plain ``capture()`` block, as tests use it), i.e. what the worker keeps off the path.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import queryguard  # noqa: E402
import queryguard._explain as explain  # noqa: E402
from queryguard import Capture, Config, QueryEvent  # noqa: E402
from queryguard._explain.sources import connection_source  # noqa: E402
from queryguard.asgi import QueryGuardMiddleware  # noqa: E402

ROWS = 200_000
PAIRS = 200
SQL = "SELECT id, title FROM book WHERE title = ?"
SETTINGS: dict[str, Any] = {"action": "none", "slow_query_ms": 1.0, "explain_ttl_s": 0.0}


def _database(folder: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(Path(folder) / "shop.db"), check_same_thread=False)
    conn.execute("CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT NOT NULL, price INTEGER NOT NULL)")
    conn.executemany("INSERT INTO book VALUES (?, ?, ?)", ((i, f"title {i}", i % 100) for i in range(ROWS)))
    conn.commit()
    return conn


def _query(conn: sqlite3.Connection, source: Any, title: str) -> None:
    """The application's statement, recorded as an integration records it."""
    started = time.perf_counter()
    conn.execute(SQL, (title,)).fetchall()
    event = QueryEvent(
        SQL, (title,), (time.perf_counter() - started) * 1000.0, vendor="sqlite", started=started
    )
    event.explainer = source
    queryguard.record(event)


def _core_request(
    conn: sqlite3.Connection, source: Any, config: Config, *, background: bool, stop_only: bool = False
) -> float:
    """Seconds from the start of the unit to the return of ``stop()`` (or of ``stop()`` alone)."""
    started = time.perf_counter()
    cap = Capture(config, name="GET /search/").start()
    _query(conn, source, "title 77")
    stopping = time.perf_counter()
    cap.stop(background=background)
    return time.perf_counter() - (stopping if stop_only else started)


def _asgi_app(conn: sqlite3.Connection, source: Any) -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        _query(conn, source, "title 77")
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"found"})

    return app


async def _asgi_request(app: Any) -> float:
    """Seconds until the last byte of the response is sent, through the ASGI middleware."""
    sent: list[float] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(time.perf_counter())

    started = time.perf_counter()
    await app({"type": "http", "method": "GET", "path": "/search/", "headers": []}, receive, send)
    return sent[-1] - started


def _paired(measure: Callable[[bool], float]) -> tuple[float, float]:
    """Latency with EXPLAIN off and on (10th percentiles).

    Requests alternate (the order swaps every pair, so drift and warm-up hit both alike), and the worker
    finishes its EXPLAIN between requests, as it does between the requests of a server not saturated.
    """
    off: list[float] = []
    on: list[float] = []
    for index in range(PAIRS):
        for explain_on in (False, True) if index % 2 else (True, False):
            (on if explain_on else off).append(measure(explain_on))
            explain.wait(60.0)
    return _low(off), _low(on)


def _low(samples: list[float]) -> float:
    """The 10th percentile: the latency of an undisturbed request (a busy machine only adds to it)."""
    return statistics.quantiles(samples, n=10)[0]


def run() -> list[dict[str, Any]]:
    """Rows for ``benchmarks/run.py``: latency off against on, core capture and ASGI middleware."""
    with tempfile.TemporaryDirectory() as folder:
        conn = _database(folder)
        source = connection_source(conn)
        configs = {flag: Config(explain=flag, **SETTINGS) for flag in (False, True)}
        before = explain.stats().get("explained", 0)
        core = _paired(lambda on: _core_request(conn, source, configs[on], background=True))
        stop = _paired(lambda on: _core_request(conn, source, configs[on], background=True, stop_only=True))
        apps = {
            flag: QueryGuardMiddleware(_asgi_app(conn, source), explain=flag, **SETTINGS)
            for flag in (False, True)
        }
        loop = asyncio.new_event_loop()
        try:
            asgi = _paired(lambda on: loop.run_until_complete(_asgi_request(apps[on])))
        finally:
            loop.close()
        explained = explain.stats().get("explained", 0) - before
        foreground = _paired(lambda on: _core_request(conn, source, configs[on], background=False))
        conn.close()
    note = f"{explained} EXPLAINs ran on the worker, {explain.stats().get('dropped', 0)} dropped"
    added = f"+{(stop[1] - stop[0]) * 1000:.3f} ms per unit"
    return [
        _row("EXPLAIN after the response: core capture, stop(background=True)", core, note),
        _row("EXPLAIN after the response: ASGI middleware (time to last byte)", asgi, note),
        _row("stop(background=True) alone: detection, selection, queueing", stop, added),
        _row(
            "for reference: EXPLAIN in the foreground (plain capture block)", foreground, "kept off the path"
        ),
    ]


def _row(name: str, timings: tuple[float, float], value: str) -> dict[str, Any]:
    off, on = timings
    target = "≈ 1.00 (equal within noise)" if "after the response" in name else "-"
    return {
        "name": name,
        "bare_s": off,
        "instrumented_s": on,
        "ratio": on / off,
        "value": value,
        "target": target,
    }


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['name']}: off {row['bare_s'] * 1000:.2f} ms, on {row['instrumented_s'] * 1000:.2f} ms, "
            f"ratio {row['ratio']:.3f} ({row['value']})"
        )

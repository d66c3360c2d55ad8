"""ASGI request latency with EXPLAIN on against off, on an async PostgreSQL engine (asyncpg).

Each request runs one slow statement through an instrumented ``AsyncEngine`` (a filter on an unindexed
column of a 50,000-row table), inside ``queryguard.asgi.QueryGuardMiddleware``. With EXPLAIN on, the
middleware hands the statement to the worker thread after the response, which explains it through psycopg
3 on a connection of its own (never one of the engine's pool, never the request's event loop).
``explain_ttl_s=0`` makes every request queue an EXPLAIN (no plan is reused: the worst case). Off and on
alternate request by request in one process run and the worker finishes between requests, as between the
requests of a server that is not saturated; their 10th percentiles (time to the last byte) are compared.
Without a PostgreSQL server on 127.0.0.1:5432 the row says so.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in ("src", "integrations"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

import queryguard._explain as explain  # noqa: E402
from queryguard.asgi import QueryGuardMiddleware  # noqa: E402

SCHEMA = "qg_bench_asgi_explain"
ROWS = 50_000
PAIRS = 150
SETTINGS: dict[str, Any] = {"action": "none", "slow_query_ms": 1.0, "explain_ttl_s": 0.0}
NAME = "EXPLAIN after the response: ASGI middleware on an async PostgreSQL engine (asyncpg)"


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            return True
    except OSError:
        return False


def _seed() -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="test", autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(
            f"CREATE TABLE {SCHEMA}.review AS SELECT g AS id, 'reader ' || g AS reviewer, g % 5 AS stars"
            f" FROM generate_series(1, {ROWS}) g"
        )
        conn.execute(f"ALTER TABLE {SCHEMA}.review ADD PRIMARY KEY (id)")
        conn.execute(f"ANALYZE {SCHEMA}.review")


def _drop() -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="test", autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _app(engine: Any) -> Any:
    from sqlalchemy import text

    query = text("SELECT id, stars FROM review WHERE reviewer = :reviewer")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async with engine.connect() as conn:
            found = (await conn.execute(query, {"reviewer": "reader 4242"})).all()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": str(len(found)).encode()})

    return app


async def _request(app: Any) -> float:
    """Seconds until the last byte of the response is sent, through the ASGI middleware."""
    sent: list[float] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(time.perf_counter())

    started = time.perf_counter()
    await app({"type": "http", "method": "GET", "path": "/reviews", "headers": []}, receive, send)
    return sent[-1] - started


async def _measure() -> tuple[float, float, int]:
    from queryguard_sqlalchemy import instrument, uninstrument
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        connect_args={"server_settings": {"search_path": SCHEMA}},
    )
    instrument(engine)
    apps = {flag: QueryGuardMiddleware(_app(engine), explain=flag, **SETTINGS) for flag in (False, True)}
    before = explain.stats().get("explained", 0)
    off: list[float] = []
    on: list[float] = []
    try:
        for _ in range(5):  # warm-up: the pool's connections, the dialect's first statements
            await _request(apps[False])
        for index in range(PAIRS):
            for flag in (False, True) if index % 2 else (True, False):
                (on if flag else off).append(await _request(apps[flag]))
                await asyncio.to_thread(explain.wait, 60.0)
    finally:
        uninstrument(engine)
        await engine.dispose()
    return _low(off), _low(on), explain.stats().get("explained", 0) - before


def _low(samples: list[float]) -> float:
    """The 10th percentile: the latency of an undisturbed request (a busy machine only adds to it)."""
    return statistics.quantiles(samples, n=10)[0]


def run() -> list[dict[str, Any]]:
    """One row for ``benchmarks/run.py``: time to last byte with EXPLAIN off and on."""
    if not _reachable():
        return [{"name": NAME, "value": "skipped: PostgreSQL is not reachable on 127.0.0.1:5432"}]
    _seed()
    try:
        off, on, explained = asyncio.run(_measure())
    finally:
        _drop()
    return [
        {
            "name": NAME,
            "bare_s": off,
            "instrumented_s": on,
            "ratio": on / off,
            "value": f"{explained} EXPLAINs ran on the worker, {explain.stats().get('dropped', 0)} dropped",
            "target": "≈ 1.00 (equal within noise)",
        }
    ]


if __name__ == "__main__":
    for row in run():
        if "ratio" in row:
            print(
                f"{row['name']}: off {row['bare_s'] * 1000:.2f} ms, on {row['instrumented_s'] * 1000:.2f} ms,"
                f" ratio {row['ratio']:.3f} ({row['value']})"
            )
        else:
            print(f"{row['name']}: {row['value']}")

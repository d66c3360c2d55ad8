"""Core costs: record() per event, fingerprint throughput, memory of one million events.

Every number is measured against a bare run of the same loop in the same process run.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import queryguard
from queryguard import QueryEvent, _sql

N_EVENTS = 200_000
SQL = (
    'SELECT "shop_author"."id", "shop_author"."name" FROM "shop_author" '
    'WHERE "shop_author"."id" = %s LIMIT 21'
)


def _best(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _user_frames(depth: int, fn: Callable[[], None]) -> None:
    # A realistic stack: the statement is recorded a few frames below the user's code.
    if depth:
        _user_frames(depth - 1, fn)
    else:
        fn()


def record_cost() -> dict[str, Any]:
    """Nanoseconds that record() adds per event, with one active capture, over building the event alone."""
    params = (1,)

    units, per_unit = 20, N_EVENTS // 20  # 20 units of 10,000 statements: a very busy request each

    def bare() -> None:
        for _ in range(units):
            for _ in range(per_unit):
                QueryEvent(SQL, params, 0.1, vendor="sqlite")

    def recorded() -> None:
        for _ in range(units):
            cap = queryguard.capture(action="none", explain=False).start()
            for _ in range(per_unit):
                queryguard.record(QueryEvent(SQL, params, 0.1, vendor="sqlite"))
            cap.stop(act=False)  # detection runs once per unit, not per event: timed elsewhere

    bare_s = _best(lambda: _user_frames(8, bare))
    rec_s = _best(lambda: _user_frames(8, recorded))
    per_event_us = (rec_s - bare_s) / N_EVENTS * 1e6
    return {
        "name": "record() per event (1 capture, 8-frame stack, 10,000 per unit)",
        "bare_s": bare_s,
        "instrumented_s": rec_s,
        "ratio": rec_s / bare_s,
        "value": f"{per_event_us:.2f} µs/event",
        "target": "< 2 µs",
    }


def _distinct(n: int) -> list[str]:
    return [
        f'SELECT "t{i % 97}"."id", "t{i % 97}"."c{i}" FROM "t{i % 97}" WHERE "t{i % 97}"."c{i}" = %s '
        f'AND "t{i % 97}"."flag" = {i} ORDER BY "t{i % 97}"."id" LIMIT 21'
        for i in range(n)
    ]


def _miss_throughput(name: str, statements: list[str]) -> dict[str, Any]:
    """Statements analysed per second with every cache and memo cleared first."""

    def run() -> None:
        _sql._cache_clear()
        for sql in statements:
            _sql.analyze(sql)

    bare_s = _best(lambda: [len(s) for s in statements], repeat=3)
    seconds = _best(run, repeat=3)
    return {
        "name": name,
        "bare_s": bare_s,
        "instrumented_s": seconds,
        "ratio": seconds / bare_s,
        "value": f"{len(statements) / seconds:,.0f} statements/s",
        "target": "> 100,000/s",
    }


def fingerprint_distinct() -> dict[str, Any]:
    """Distinct statements per second (every call a cache miss, every shape new)."""
    return _miss_throughput("fingerprint, distinct statements of distinct shapes", _distinct(50_000))


def fingerprint_distinct_texts_shared_shapes() -> dict[str, Any]:
    """Distinct texts that share shapes (literals inlined by raw SQL): per-shape facts are reused."""
    statements = [
        f"SELECT id, title, author_id FROM book WHERE author_id = {i} AND title <> 'draft {i}' LIMIT 21"
        for i in range(50_000)
    ]
    return _miss_throughput("fingerprint, distinct texts of one shape", statements)


def fingerprint_repeated() -> dict[str, Any]:
    """Repeated statements per second (cache hits)."""
    n = 1_000_000
    _sql.analyze(SQL)

    def run() -> None:
        analyze = _sql.analyze
        for _ in range(n):
            analyze(SQL)

    def bare() -> None:
        ident = len
        for _ in range(n):
            ident(SQL)

    bare_s = _best(bare, repeat=3)
    seconds = _best(run, repeat=3)
    return {
        "name": "fingerprint, repeated statement",
        "bare_s": bare_s,
        "instrumented_s": seconds,
        "ratio": seconds / bare_s,
        "value": f"{n / seconds:,.0f} statements/s",
        "target": "> 1,000,000/s",
    }


def fingerprint_huge() -> dict[str, Any]:
    """One statement of about 1 MB (an INSERT of many rows)."""
    rows = ", ".join(f"({i}, 'title {i}', {i % 50})" for i in range(40_000))
    sql = f"INSERT INTO book (id, title, author_id) VALUES {rows}"[:1_000_000]

    def run() -> None:
        _sql._cache_clear()
        _sql.analyze(sql)

    seconds = _best(run, repeat=3)
    bare_s = _best(lambda: sql.split(","), repeat=3)
    return {
        "name": f"fingerprint, one {len(sql) / 1e6:.1f} MB statement",
        "bare_s": bare_s,
        "instrumented_s": seconds,
        "ratio": seconds / bare_s,
        "value": f"{seconds * 1000:.1f} ms",
        "target": "< 100 ms",
    }


def million_events_memory() -> dict[str, Any]:
    """Peak memory of one capture that receives one million events (an N+1 of a million rows)."""
    n = 1_000_000
    tracemalloc.start()
    with queryguard.capture(action="none", explain=False) as cap:
        for i in range(n):
            queryguard.record(QueryEvent(SQL, (i % 5000,), 0.01, vendor="sqlite"))
        _, peak_during = tracemalloc.get_traced_memory()
    findings = cap.findings
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert cap.query_count == n and findings[0].kind == "n_plus_one"
    return {
        "name": "one million events in one capture",
        "bare_s": None,
        "instrumented_s": None,
        "ratio": None,
        "value": f"{max(peak, peak_during) / 2**20:.1f} MB peak (traced)",
        "target": "tens of MB",
    }


def run() -> list[dict[str, Any]]:
    """All core benchmarks."""
    return [
        record_cost(),
        fingerprint_distinct(),
        fingerprint_distinct_texts_shared_shapes(),
        fingerprint_repeated(),
        fingerprint_huge(),
        million_events_memory(),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)

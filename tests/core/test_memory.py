"""Rule 6: memory stays bounded however many statements one unit runs, and detection stays linear."""

from __future__ import annotations

import gc
import time
import tracemalloc

import pytest

import queryguard
from queryguard import QueryEvent, _capture
from queryguard._detectors import detect

_MB = 2**20


def run(**settings: object) -> queryguard.Capture:
    """A capture that only collects (no action, no EXPLAIN)."""
    return queryguard.capture(action="none", explain=False, **settings)


def literal_lookups(n: int, *, start: int = 0) -> None:
    """``n`` lookups from one line, each with its value inlined in the SQL text (raw SQL in a loop)."""
    for i in range(start, start + n):
        queryguard.record(QueryEvent(f"SELECT name FROM author WHERE id = {i}", None, 0.01, vendor="sqlite"))


def test_a_million_distinct_literal_statements_stay_bounded() -> None:
    """Rule 6: one million statements with distinct literal texts hold a few MB, and still make an N+1."""
    n = 1_000_000
    gc.collect()
    tracemalloc.start()
    try:
        with run() as cap:
            literal_lookups(n)
            _, peak_recording = tracemalloc.get_traced_memory()
        findings = cap.findings
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert max(peak, peak_recording) < 50 * _MB
    assert cap.query_count == n
    assert len(cap.overflow) == 1
    [finding] = findings
    assert (finding.kind, finding.count) == ("n_plus_one", n)
    assert finding.details["distinct_params"] >= 2


def test_past_the_cap_statements_aggregate_per_shape_and_call_site() -> None:
    """Rule 6: distinct literal texts of one shape from one line share one entry past ``max_events``."""
    with run(max_events=100) as cap:
        literal_lookups(5_000)
        for i in range(5_000):
            queryguard.record(QueryEvent(f"UPDATE author SET name = 'n{i}' WHERE id = {i}", None, 0.02))
    assert len(cap.queries) == 100
    assert len(cap.overflow) == 2
    assert cap.query_count == 10_000
    assert cap.db_time_ms == pytest.approx(150.0)
    assert sorted(f.kind for f in cap.findings) == ["n_plus_one", "write_loop"]


def test_endless_distinct_shapes_fold_into_counted_entries() -> None:
    """Rule 6: past the cap on entries, further shapes are counted and timed in a few shared entries."""
    shapes = _capture.MAX_OVERFLOW_ENTRIES * 3
    with run(max_events=10, max_queries=5) as cap:
        for i in range(shapes):
            queryguard.record(QueryEvent(f"SELECT c{i} FROM t{i} WHERE id = %s", (i,), 0.5))
        queryguard.record(QueryEvent("BEGIN", None, 0.5))
    assert len(cap.overflow) <= _capture.MAX_OVERFLOW_ENTRIES + 2
    assert cap.query_count == shapes + 1
    assert cap.db_time_ms == pytest.approx((shapes + 1) * 0.5)
    [budget] = [f for f in cap.findings if f.kind == "query_budget"]
    assert budget.count == shapes  # every statement counted; the transaction statement left out
    assert budget.total_duration_ms == pytest.approx(shapes * 0.5)
    other = [entry for key, entry in cap.overflow.items() if key[0] is _capture.OTHER]
    assert [entry.other for entry in other] == [True, True]


def test_a_literal_duplicate_past_the_cap_keeps_its_own_text() -> None:
    """Past the cap, a literal statement that repeats is a duplicate whose example is that statement."""
    with run(max_events=10) as cap:
        for i in range(10):
            queryguard.record(QueryEvent("SELECT title FROM book WHERE id = %s", (i,), 0.01, vendor="sqlite"))
        for _ in range(3):
            queryguard.record(
                QueryEvent("SELECT name FROM author WHERE id = 77", None, 0.01, vendor="sqlite")
            )
            queryguard.record(
                QueryEvent("SELECT name FROM author WHERE id = 78", None, 0.01, vendor="sqlite")
            )
    duplicates = sorted((f.sql, f.count) for f in cap.findings if f.kind == "duplicate_query")
    assert duplicates == [
        ("SELECT name FROM author WHERE id = 77", 3),
        ("SELECT name FROM author WHERE id = 78", 3),
    ]


def test_a_duplicate_split_between_stored_and_aggregated_statements_is_counted_once() -> None:
    """The same statement before and past the cap adds up to one duplicate."""
    with run(max_events=3) as cap:
        for _ in range(2):
            queryguard.record(QueryEvent("SELECT name FROM author WHERE id = %s", (5,), 0.01))
            queryguard.record(QueryEvent("SELECT title FROM book WHERE id = %s", (6,), 0.01))
    [finding] = [f for f in cap.findings if f.kind == "duplicate_query" and "author" in f.sql]
    assert finding.count == 2


def _detection_seconds(n: int, runs: int = 3) -> float:
    """Best time of detection over ``n`` stored lookups with distinct literal texts (one N+1)."""
    with run(max_events=n) as cap:
        literal_lookups(n)
    best = float("inf")
    for _ in range(runs):
        queryguard._sql._cache_clear()
        gc.collect()
        start = time.perf_counter()
        detect(cap)
        best = min(best, time.perf_counter() - start)
    return best


def test_detection_time_is_linear_in_the_statements() -> None:
    """Rule 6: detection over 2n distinct literal statements takes about twice as long as over n."""
    n = 2_000
    while _detection_seconds(n, 1) < 0.02:
        n *= 2
    ratio = float("inf")
    for _ in range(3):  # measured again if the machine was busy; a quadratic pass stays near 4
        ratio = min(ratio, _detection_seconds(2 * n) / _detection_seconds(n))
        if ratio < 3.0:
            break
    assert ratio < 3.0

"""Counts in words agree with the number wherever one is printed: ``1 query``, ``2 queries``, ``1 call``."""

from __future__ import annotations

import asyncio

import pytest

import queryguard
from queryguard._plural import plural
from queryguard._report import Report, UnitReport

from ._helpers import shop_db
from ._reports import make_finding


@pytest.mark.parametrize(
    ("n", "word", "many", "expected"),
    [
        (0, "query", "queries", "0 queries"),
        (1, "query", "queries", "1 query"),
        (2, "query", "queries", "2 queries"),
        (1, "time", "", "1 time"),
        (3, "time", "", "3 times"),
        (1, "single-row INSERT", "", "1 single-row INSERT"),
        (2, "single-row INSERT", "", "2 single-row INSERTs"),
    ],
)
def test_plural(n: int, word: str, many: str, expected: str) -> None:
    """The helper: the singular for one, ``many`` or ``word`` + s otherwise."""
    assert plural(n, word, many) == expected


def test_a_budget_of_no_query_exceeded_by_one() -> None:
    """``max_queries=0`` and one statement: "ran 1 query (at most 0 allowed)"."""
    conn = shop_db()
    with queryguard.capture(action="none", max_queries=0) as cap:
        conn.execute("SELECT name FROM author WHERE id = ?", (1,))
    (budget,) = [f for f in cap.findings if f.kind == "query_budget"]
    assert budget.message.startswith("budget: ran 1 query (at most 0 allowed)")


@pytest.mark.parametrize(
    ("calls", "words"), [(1, "1 synchronous database call on"), (2, "2 synchronous database calls on")]
)
def test_blocking_calls_are_counted_in_words(calls: int, words: str) -> None:
    """A blocking finding says "1 synchronous database call", "2 ... calls", never "call(s)"."""
    conn = shop_db()

    async def route() -> queryguard.Capture:
        with queryguard.capture(action="none") as cap:
            for _ in range(calls):
                conn.execute("SELECT name FROM author WHERE id = ?", (1,))
        return cap

    (blocking,) = [f for f in asyncio.run(route()).findings if f.kind == "blocking_query"]
    assert f"blocking: {words} the event loop's thread" in blocking.message


def test_a_write_loop_of_one_statement() -> None:
    """With ``write_loop_threshold=1`` a single write is "1 single-row UPDATE", not "1 ... UPDATEs"."""
    conn = shop_db()
    with queryguard.capture(action="none", write_loop_threshold=1) as cap:
        conn.execute("UPDATE author SET name = ? WHERE id = ?", ("x", 1))
    (loop,) = [f for f in cap.findings if f.kind == "write_loop"]
    assert loop.message.startswith("write loop: 1 single-row UPDATE into author from ")


def test_reprs_count_in_words() -> None:
    """The reprs of a capture and a report of one statement, one unit, one finding."""
    conn = shop_db()
    with queryguard.capture(action="none") as cap:
        conn.execute("SELECT 1")
    assert repr(cap) == "<Capture unnamed: 1 query>"
    report = Report([UnitReport(unit="job", findings=[make_finding()], query_count=1)])
    assert repr(report) == "<Report 1 unit, 1 finding>"


def test_the_text_report_of_one_statement_and_one_unit() -> None:
    """The text report's header and total say "1 query", "1 finding" and "1 unit"."""
    units = [UnitReport(unit=name, findings=[make_finding()], query_count=1) for name in ("a", "b")]
    text = Report(units).to_text(color=False)
    assert text.splitlines()[0] == "a: 1 query, 0.0 ms, 1 finding"
    assert text.splitlines()[-1] == "total: 2 units, 2 queries, 2 findings (N+1: 2)"
    assert Report(units[:1]).to_text(color=False).splitlines()[0] == "a: 1 query, 0.0 ms, 1 finding"

"""The forms a newcomer writes first: ``@capture`` without parentheses, one capture entered inside itself."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

import pytest

import queryguard
from queryguard import QueryGuardViolation

from ._helpers import shop_db


def _lookups(conn: Any, n: int) -> None:
    for author_id in range(1, n + 1):
        conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))


def test_bare_decorator_wraps_a_function() -> None:
    """``@queryguard.capture`` captures each call of a function, as ``@queryguard.capture()`` does."""
    conn = shop_db()

    @queryguard.capture
    def view(n: int) -> int:
        _lookups(conn, n)
        return n

    assert view(3) == 3
    assert view.__name__ == "view"


def test_bare_decorator_acts_on_the_findings(caplog: pytest.LogCaptureFixture) -> None:
    """A function under a bare ``@queryguard.capture`` is a unit named after it, with the default action."""
    conn = shop_db()

    @queryguard.capture
    def book_list() -> None:
        _lookups(conn, 3)

    with caplog.at_level("WARNING", logger="queryguard"):
        book_list()
    assert "test_bare_decorator_acts_on_the_findings.<locals>.book_list ran 3 queries" in caplog.text
    assert "N+1: author rows loaded 3 times" in caplog.text


async def test_bare_decorator_wraps_a_coroutine_function() -> None:
    """``@queryguard.capture`` on an ``async def`` is a coroutine function still, and captures its calls."""
    conn = shop_db()

    @queryguard.capture
    async def view() -> str:
        await asyncio.sleep(0)
        return "done"

    assert asyncio.iscoroutinefunction(view)
    assert await view() == "done"
    with queryguard.capture(action="none") as outer:
        await view()
        conn.execute("SELECT 1")
    assert [q.sql for q in outer.queries] == ["SELECT 1"]


def test_entering_a_capture_inside_itself_records_each_statement_once() -> None:
    """``with cap: with cap:`` records every statement once and reports no false duplicate."""
    conn = shop_db()
    cap = queryguard.capture(action="raise")
    with cap:
        conn.execute("SELECT 1")
        with cap:
            conn.execute("SELECT 2")
        conn.execute("SELECT 3")
    assert [q.sql for q in cap.queries] == ["SELECT 1", "SELECT 2", "SELECT 3"]
    assert cap.findings == []


def test_the_inner_exit_of_a_reentered_capture_does_not_end_it() -> None:
    """The unit ends at the outermost exit: statements after the inner block still count, acted on once."""
    conn = shop_db()
    cap = queryguard.capture(action="raise")
    with pytest.raises(QueryGuardViolation, match=r"N\+1: author rows loaded 3 times") as raised, cap:
        for author_id in (1, 2, 3):  # the first lookup in an inner block, the others after it
            with cap if author_id == 1 else contextlib.nullcontext():
                conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
            assert cap.ended is None and queryguard.active_captures() == (cap,)
    assert len(raised.value.findings) == 1 and cap.query_count == 3
    assert queryguard.active_captures() == ()


async def test_async_with_a_capture_inside_itself_records_each_statement_once() -> None:
    """``async with cap: async with cap:`` records every statement once and ends once."""
    conn = shop_db()
    cap = queryguard.capture(action="none")
    async with cap:
        async with cap:
            conn.execute("SELECT 1")
            conn.execute("SELECT 1")
        assert cap.ended is None
    assert cap.query_count == 2
    duplicates = [f for f in cap.findings if f.kind == "duplicate_query"]
    assert [f.count for f in duplicates] == [2]
    assert duplicates[0].callsite.startswith("tests/core/test_capture_forms.py:")


def test_a_capture_used_again_after_it_ended_is_a_new_unit() -> None:
    """Entering a capture again after its block ended starts over, as before: it is not a re-entry."""
    conn = shop_db()
    cap = queryguard.capture(action="none")
    with cap:
        conn.execute("SELECT 1")
    with cap:
        conn.execute("SELECT 2")
    assert cap.query_count == 2 and cap.ended is not None


async def test_a_reentry_in_a_task_does_not_keep_the_outer_block_open() -> None:
    """A task that enters the capture again (its context copied) does not stop the outer exit ending it."""
    conn = shop_db()
    cap = queryguard.capture(action="none")
    release = asyncio.Event()

    async def inner() -> None:
        with cap:
            await release.wait()

    with cap:
        task = asyncio.ensure_future(inner())
        await asyncio.sleep(0)
        conn.execute("SELECT 1")
    assert cap.ended is not None and queryguard.active_captures() == ()
    release.set()
    await task
    conn.execute("SELECT 2")
    assert [q.sql for q in cap.queries] == ["SELECT 1"]


def test_wrapping_a_wrapped_connection_records_once_inside_a_reentered_capture() -> None:
    """Both idempotent forms at once: a connection wrapped twice, a capture entered twice: one event."""
    with contextlib.closing(sqlite3.connect(":memory:")) as raw:
        conn = queryguard.dbapi.instrument(queryguard.dbapi.instrument(raw))
        cap = queryguard.capture(action="raise")
        with cap, cap:
            conn.execute("SELECT 1").fetchall()
    assert cap.query_count == 1 and cap.findings == []

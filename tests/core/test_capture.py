"""Capture scoping: nesting, decorators, asyncio tasks and threads never mix, bounded memory."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import queryguard
from queryguard import QueryEvent, QueryGuardViolation

from ._helpers import shop_db


def test_record_without_capture_is_a_no_op() -> None:
    """No active capture: the event goes nowhere and gets no call site."""
    event = QueryEvent("SELECT 1")
    queryguard.record(event)
    assert event._site is None
    assert queryguard.active_captures() == ()


def test_nested_captures_each_receive_every_event() -> None:
    """An event reaches every active capture; after exit a capture receives nothing more."""
    conn = shop_db()
    with queryguard.capture(explain=False) as outer:
        conn.execute("SELECT 1")
        with queryguard.capture(explain=False) as inner:
            conn.execute("SELECT 2")
        conn.execute("SELECT 3")
    conn.execute("SELECT 4")
    assert [e.sql for e in outer.queries] == ["SELECT 1", "SELECT 2", "SELECT 3"]
    assert [e.sql for e in inner.queries] == ["SELECT 2"]


def test_callsite_is_the_users_line() -> None:
    """The call site names this file, line and function, not the wrapper or sqlite3."""
    conn = shop_db()
    with queryguard.capture(explain=False) as cap:
        conn.execute("SELECT 1")
    assert cap.queries[0].callsite.startswith("tests/core/test_capture.py:")
    assert cap.queries[0].callsite.endswith(" in test_callsite_is_the_users_line")


async def test_fifty_concurrent_tasks_see_only_their_own_statements() -> None:
    """50 asyncio tasks, interleaved at every await, each capture holds exactly its own statements."""
    conn = shop_db()

    async def unit(n: int) -> list[str]:
        async with queryguard.capture(explain=False) as cap:
            for step in range(5):
                conn.execute(f"SELECT {n} AS task, {step} AS step")
                await asyncio.sleep(0)
        return [e.sql for e in cap.queries]

    results = await asyncio.gather(*(unit(n) for n in range(50)))
    for n, sqls in enumerate(results):
        assert sqls == [f"SELECT {n} AS task, {step} AS step" for step in range(5)]


def test_twenty_threads_see_only_their_own_statements() -> None:
    """20 threads running at once, each capture holds exactly its own statements."""
    conn = shop_db()
    barrier = threading.Barrier(20)
    results: dict[int, list[str]] = {}

    def unit(n: int) -> None:
        with queryguard.capture(explain=False) as cap:
            barrier.wait()
            for step in range(20):
                conn.execute(f"SELECT {n}, {step}")
        results[n] = [e.sql for e in cap.queries]

    threads = [threading.Thread(target=unit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: [f"SELECT {n}, {step}" for step in range(20)] for n in range(20)}


def test_decorator_runs_each_call_in_a_fresh_capture() -> None:
    """As a decorator, every call gets its own capture with the decorator's settings."""
    conn = shop_db()
    seen: list[int] = []

    @queryguard.capture(action="none", explain=False, callback=lambda cap: seen.append(cap.query_count))
    def view(n: int) -> None:
        for _ in range(n):
            conn.execute("SELECT 1")

    view(2)
    view(3)
    assert seen == [2, 3]


async def test_async_decorator_raises_on_findings() -> None:
    """An async function decorated in raise mode raises QueryGuardViolation naming the N+1."""
    conn = shop_db()

    @queryguard.capture(action="raise", explain=False)
    async def view() -> None:
        for author_id in range(1, 6):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))

    with pytest.raises(QueryGuardViolation, match=r"N\+1: author rows loaded 5 times"):
        await view()


def test_exception_in_block_is_not_replaced_by_a_violation() -> None:
    """The block's own exception propagates unchanged, even in raise mode."""
    conn = shop_db()
    with pytest.raises(KeyError), queryguard.capture(action="raise", explain=False):
        for author_id in range(1, 6):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
        raise KeyError("boom")


def test_failing_callback_is_logged_once_and_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    """A callback that raises never reaches the application; it is logged as an internal error."""

    def broken(cap: object) -> None:
        raise RuntimeError("callback bug")

    with caplog.at_level(logging.ERROR, logger="queryguard"):
        for _ in range(2):
            with queryguard.capture(action="none", explain=False, callback=broken):
                pass
    errors = [r for r in caplog.records if "internal error in callback" in r.getMessage()]
    assert len(errors) == 1


def test_memory_is_bounded_past_max_events() -> None:
    """Past max_events, statements are aggregated per shape and call site, and still detected."""
    with queryguard.capture(max_events=100, action="none", explain=False) as cap:
        for n in range(20_000):
            queryguard.record(QueryEvent("SELECT name FROM author WHERE id = ?", (n,), 0.01, vendor="sqlite"))
    assert len(cap.queries) == 100
    assert len(cap.overflow) == 1
    assert cap.query_count == 20_000
    assert cap.db_time_ms == pytest.approx(200.0)
    [finding] = cap.findings
    assert (finding.kind, finding.count) == ("n_plus_one", 20_000)


def test_blocking_call_inside_event_loop_is_reported() -> None:
    """A synchronous statement on the thread of a running event loop is a blocking_query."""
    conn = shop_db()

    async def route() -> queryguard.Capture:
        with queryguard.capture(action="none", explain=False) as cap:
            conn.execute("SELECT name FROM author WHERE id = ?", (1,))
        return cap

    cap = asyncio.run(route())
    [finding] = [f for f in cap.findings if f.kind == "blocking_query"]
    assert finding.severity == "error"
    assert "test_capture.py" in finding.callsite and "in route" in finding.callsite
    assert "asyncio.to_thread" in finding.suggestion


def test_capture_started_in_one_task_and_stopped_in_another() -> None:
    """A capture stopped from another task receives nothing more, and the stack stays usable."""

    async def main() -> tuple[queryguard.Capture, queryguard.Capture]:
        cap = queryguard.capture(action="none", explain=False)
        cap.start()
        await asyncio.get_running_loop().create_task(_stop_later(cap))
        queryguard.record(QueryEvent("SELECT 1", is_async=True))
        with queryguard.capture(action="none", explain=False) as inner:
            queryguard.record(QueryEvent("SELECT 2", is_async=True))
        assert cap not in queryguard.active_captures()
        return cap, inner

    cap, inner = asyncio.run(main())
    assert cap.query_count == 0
    assert [e.sql for e in inner.queries] == ["SELECT 2"]


async def _stop_later(cap: queryguard.Capture) -> None:
    cap.stop()


def test_warn_action_points_at_the_users_block() -> None:
    """The warn action emits a QueryGuardWarning attributed to the user's `with` block."""
    conn = shop_db()
    expected = pytest.warns(queryguard.QueryGuardWarning, match=r"N\+1: author rows loaded 3 times")
    with expected as caught, queryguard.capture(action="warn", explain=False):
        for author_id in (1, 2, 3):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
    assert caught[0].filename == __file__


def test_repeated_walk_matches_a_full_walk_and_runs_hooks() -> None:
    """capture_repeated() repeats a walk by depth, running its hooks again; another site is walked anew."""
    from queryguard import _callsite, _repeat

    namespace: dict[str, object] = {}
    exec(compile("def library(fn):\n    return fn()\n", "<queryguard test library>", "exec"), namespace)
    library = namespace["library"]
    assert callable(library)
    seen: list[object] = []
    _callsite.register_frame_hook(library.__code__, lambda frame, event: seen.append(event) and None)
    key = object()
    try:

        def statement(event: str) -> tuple[object, object]:
            return _repeat.capture_repeated(key, event, 1), _callsite.capture(None, sys._getframe(1))

        looped = [library(functools.partial(statement, f"loop {n}")) for n in range(3)]
        other = library(functools.partial(statement, "other"))
    finally:
        del _callsite._hooks[id(library.__code__)]
    assert len(_callsite._trails[key]) == 2  # one walk per site: the loop's repeats reused the first
    assert all(repeated == walked for repeated, walked in [*looped, other])
    assert looped[0][0] == looped[2][0] != other[0]
    names = [entry[0].co_name for entry in other[0]]  # type: ignore[attr-defined,index]
    assert names[0] == "test_repeated_walk_matches_a_full_walk_and_runs_hooks"
    assert [event for event in seen if event is not None] == ["loop 0", "loop 1", "loop 2", "other"]


def test_a_repeated_walk_skips_the_hooks_an_outer_hook_shadows() -> None:
    """A hook registered with shadows=: a walk calls the inner hook too, a repeat only the outer one."""
    from queryguard import _callsite, _repeat

    namespace: dict[str, object] = {}
    source = "def outer(fn):\n    return inner(fn)\n\ndef inner(fn):\n    return fn()\n"
    exec(compile(source, "<queryguard test library>", "exec"), namespace)
    outer, inner = namespace["outer"], namespace["inner"]
    assert callable(outer) and callable(inner)
    calls: list[tuple[str, object]] = []
    _callsite.register_frame_hook(inner.__code__, lambda frame, event: calls.append(("inner", event)))
    _callsite.register_frame_hook(
        outer.__code__, lambda frame, event: calls.append(("outer", event)), shadows=[inner.__code__]
    )
    key = object()
    try:

        def statement(event: str) -> object:
            return _repeat.capture_repeated(key, event, 1)

        sites = [outer(functools.partial(statement, f"loop {n}")) for n in range(3)]
    finally:
        for function in (inner, outer):
            del _callsite._hooks[id(function.__code__)]
            del _callsite._shadows[id(function.__code__)]
    assert sites[0] == sites[1] == sites[2]
    assert len(_callsite._trails[key]) == 1  # walked once, then repeated
    assert calls == [
        ("inner", "loop 0"),
        ("outer", "loop 0"),
        ("outer", "loop 1"),
        ("outer", "loop 2"),
    ]


def test_a_loops_user_frame_vouches_for_its_callers_and_nothing_else() -> None:
    """Repeats from the same live user frame check only the frames under it; another frame is checked again.

    A loop's element call runs a statement, or the same loop again from another caller: the inner loop's frame
    is then at the depth of the outer one (which is live, at the same instruction). Every repeated site equals
    a full walk. A generator's frame is never an anchor (another caller could resume it); a capture's end
    releases them.
    """
    from queryguard import _callsite, _repeat

    namespace: dict[str, Any] = {"capture_repeated": _repeat.capture_repeated, "capture": _callsite.capture}
    source = (
        "import sys\n"
        "def library(fn):\n    return fn()\n"
        "def record(key, found):\n"
        "    found.append((capture_repeated(key, None, 1), capture(None, sys._getframe(1))))\n"
    )
    exec(compile(source, "<queryguard test library>", "exec"), namespace)
    library, record = namespace["library"], namespace["record"]
    _callsite.register_frame_hook(library.__code__, lambda frame, event: None)
    key = object()
    found: list[tuple[object, object]] = []
    statement = functools.partial(record, key, found)

    def loop(steps: list[Any]) -> list[None]:
        return [library(step) for step in steps]

    def again() -> None:
        loop([statement, statement])

    def generated() -> Iterator[None]:
        for _ in range(2):
            yield library(statement)

    try:
        loop([statement, statement, again, statement])
        list(generated())
        anchored = [trail for trail in _callsite._trails[key] if trail.anchor is not None]
        with queryguard.capture(action="none"):
            pass
    finally:
        del _callsite._hooks[id(library.__code__)]
    assert len(found) == 7
    assert all(repeated == walked for repeated, walked in found)
    assert found[0][0] == found[1][0] == found[4][0] != found[2][0]  # the inner loop's site is its own
    assert anchored
    assert not [trail for trail in _callsite._trails[key] if trail.anchor is not None]  # released
    # The walks here stop short of the unit's entry (pytest's frames are beyond their reach): such a walk is
    # repeated only from its anchor, and a generator's frame is none, so the generator's walk is not kept.
    assert all(trail.anchorable for trail in _callsite._trails[key] if not trail.exact)

"""Suppressions: ``queryguard.ignore()`` blocks and decorators, inline comments, setting entries, and what
every report says about what they silenced; ``queryguard.unit()`` for any job runner."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import queryguard
from queryguard import ConfigurationError, QueryGuardViolation, _ignore

from ._helpers import shop_db


@pytest.fixture(autouse=True)
def _fresh_rules() -> Iterator[None]:
    """Each test starts with no rule seen and no setting entry."""
    _ignore.configure([], source="test")
    _ignore.forget()
    yield
    _ignore.configure([], source="test")
    _ignore.forget()


def _loop(conn: Any, n: int = 5) -> None:
    for author_id in range(1, n + 1):
        conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()


def _other_loop(conn: Any, n: int = 5) -> None:
    for book_id in range(1, n + 1):
        conn.execute("SELECT title FROM book WHERE id = ?", (book_id,)).fetchone()


def _commented_loop(conn: Any) -> None:
    sql = "SELECT author_id FROM book WHERE id = ?"
    for i in range(1, 6):
        conn.execute(sql, (i,)).fetchone()  # queryguard: ignore[duplicate_query, n_plus_one]


def _formatted_comment(conn: Any) -> None:
    for book_id in range(1, 6):
        # A formatter moves a trailing comment to the last line of a call it splits.
        conn.execute(
            "SELECT author_id, title FROM book WHERE id = ?", (book_id,)
        ).fetchone()  # queryguard: ignore[n_plus_one]


def _wrong_kind_comment(conn: Any) -> None:
    for book_id in range(1, 6):
        conn.execute(
            "SELECT id FROM book WHERE id = ?", (book_id,)
        ).fetchone()  # queryguard: ignore[write_loop]


def _bare_comment(conn: Any) -> None:
    for book_id in range(1, 6):
        conn.execute("SELECT title, id FROM book WHERE id = ?", (book_id,)).fetchone()  # queryguard: ignore


def test_block_suppresses_its_kinds_inside_only() -> None:
    """Inside ``ignore("n_plus_one")`` the N+1 is suppressed, with its rule; one after the block is not."""
    conn = shop_db()
    with queryguard.capture(explain=False, action="none") as cap:
        with queryguard.ignore("n_plus_one", reason="five authors at most"):
            _loop(conn)
        _other_loop(conn)
    assert [f.callsite.split(" in ")[1] for f in cap.findings] == ["_other_loop"]
    assert cap.query_count == 10  # the statements inside are still counted
    [(finding, rule)] = cap.suppressed
    assert finding.kind == "n_plus_one"
    assert rule.startswith(
        "ignore('n_plus_one', reason='five authors at most') at tests/core/test_ignore.py:"
    )


def test_block_of_another_kind_suppresses_nothing() -> None:
    """``ignore("duplicate_query")`` leaves an N+1 inside it reported, and its rule stays unused."""
    conn = shop_db()
    block = queryguard.ignore("duplicate_query", reason="cached upstream")
    with queryguard.capture(explain=False, action="none") as cap, block:
        _loop(conn)
    assert [f.kind for f in cap.findings] == ["n_plus_one"]
    assert [rule.used for rule in _ignore.rules()] == [0]
    assert len(_ignore.stale()) == 1


@pytest.mark.parametrize(
    ("kinds", "reason", "message"),
    [
        ((), "why", "ignore() needs at least one kind"),
        (("n_plus_1",), "why", "ignore(): unknown kind 'n_plus_1'"),
        (("n_plus_one",), "", "ignore() needs a reason"),
        (("n_plus_one",), "   ", "ignore() needs a reason"),
    ],
)
def test_block_validates_kinds_and_reason(kinds: tuple[str, ...], reason: str, message: str) -> None:
    """A kind is required and must exist; so is a reason that says why."""
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        queryguard.ignore(*kinds, reason=reason)


def test_decorator_suppresses_each_call() -> None:
    """As a decorator, ``ignore()`` suppresses the findings of each call of the function; the raise action
    does not raise for them."""
    conn = shop_db()

    @queryguard.ignore("n_plus_one", reason="a fixed menu of five")
    def menu() -> None:
        _loop(conn)

    for _ in range(2):
        with queryguard.capture(explain=False, action="raise") as cap:
            menu()
        assert cap.findings == []
    [rule] = _ignore.rules()
    assert rule.used == 2
    assert "test_ignore.py:" in rule.label and rule.reason == "a fixed menu of five"


def test_async_block_leaves_a_concurrent_task_alone() -> None:
    """An ``async with ignore()`` in one task does not suppress the N+1 another task of the unit runs
    meanwhile."""
    conn = shop_db()

    async def quiet() -> None:
        async with queryguard.ignore("n_plus_one", reason="known"):
            for author_id in range(1, 6):
                conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()
                await asyncio.sleep(0)

    async def loud() -> None:
        for book_id in range(1, 6):
            conn.execute("SELECT title FROM book WHERE id = ?", (book_id,)).fetchone()
            await asyncio.sleep(0)

    async def main() -> queryguard.Capture:
        async with queryguard.capture(explain=False, action="none") as cap:
            await asyncio.gather(quiet(), loud())
        return cap

    cap = asyncio.run(main())
    n_plus_ones = [f for f in cap.findings if f.kind == "n_plus_one"]  # each is a blocking_query too
    assert [f.callsite.split(" in ")[1] for f in n_plus_ones] == ["loud"]
    assert [f.callsite.split(" in ")[1] for f, _ in cap.suppressed] == ["quiet"]


def test_inline_comment_suppresses_listed_kinds() -> None:
    """``# queryguard: ignore[duplicate_query, n_plus_one]`` on the finding's line (or the last line of its
    call, split by a formatter) suppresses it; a comment of another kind, or a bare ``ignore``, does not."""
    conn = shop_db()
    with queryguard.capture(explain=False, action="none") as cap:
        _commented_loop(conn)
        _formatted_comment(conn)
        _wrong_kind_comment(conn)
        _bare_comment(conn)
    assert sorted(f.callsite.split(" in ")[1] for f in cap.findings) == [
        "_bare_comment",
        "_wrong_kind_comment",
    ]
    rules = [rule.split(" at ")[0] for _, rule in cap.suppressed]
    assert rules == ["# queryguard: ignore[duplicate_query, n_plus_one]", "# queryguard: ignore[n_plus_one]"]
    stale = sorted(rule.label.split(" at ")[0] for rule in _ignore.stale())
    assert stale == ["# queryguard: ignore[?]", "# queryguard: ignore[write_loop]"]


@pytest.mark.parametrize(
    ("entry", "suppressed"),
    [
        ("n_plus_one tests/core/test_ignore.py:_loop", True),
        ("n_plus_one test_ignore.py:_loop", True),
        ("n_plus_one core/test_ignore.py:*", True),
        ("n_plus_one test_ignore.py:test_setting_entry_matches_a_frame_of_the_stack", True),
        ("n_plus_one test_ignore.py:_other_loop", False),
        ("duplicate_query test_ignore.py:_loop", False),
        ("n_plus_one Book.author", False),
    ],
)
def test_setting_entry_matches_a_frame_of_the_stack(entry: str, suppressed: bool) -> None:
    """A setting entry is a kind and a ``path:function`` that any frame of the finding's stack matches (a
    path suffix; ``*`` for every function), or a relation."""
    _ignore.configure([entry], source="test")
    conn = shop_db()
    with queryguard.capture(explain=False, action="none") as cap:
        _loop(conn)
    assert bool(cap.suppressed) is suppressed
    assert bool(cap.findings) is not suppressed
    if suppressed:
        assert cap.suppressed[0][1] == f"test entry {entry.split()[0]} {entry.split()[1]!r}"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["n_plus_one"], "must be a kind and a call site or relation"),
        (["nplusone Book.author"], "unknown kind 'nplusone'"),
        ([3], "must be a kind and a call site or relation"),
    ],
)
def test_setting_entries_are_validated(entries: list[object], message: str) -> None:
    """A malformed entry names itself and the expected form."""
    with pytest.raises(ConfigurationError, match=message):
        _ignore.configure(entries, source="test")


def test_every_report_format_counts_the_suppressed() -> None:
    """Text, JSON, SARIF and HTML say how many findings were suppressed and by which rule."""
    conn = shop_db()
    with queryguard.capture(explain=False, action="none", name="nightly") as cap:
        with queryguard.ignore("n_plus_one", reason="five authors"):
            _loop(conn)
        _commented_loop(conn)
    report = cap.report
    text = report.to_text()
    assert "nightly: 10 queries" in text and "0 findings, 2 suppressed" in text
    assert (
        "  suppressed 1 by ignore('n_plus_one', reason='five authors') at tests/core/test_ignore.py:" in text
    )
    assert "  suppressed 1 by # queryguard: ignore[duplicate_query, n_plus_one] at tests/" in text
    data = json.loads(report.to_json())
    assert data["summary"]["suppressed"] == 2
    assert sorted(data["units"][0]["suppressed"].values()) == [1, 1]
    sarif = json.loads(report.to_sarif())
    assert sarif["runs"][0]["results"] == []
    assert sarif["runs"][0]["properties"]["suppressed"] == 2
    assert len(sarif["runs"][0]["properties"]["suppressedByRule"]) == 2
    assert "suppressed" in report.to_html()


def test_unit_is_a_named_capture_with_the_action() -> None:
    """``queryguard.unit(name)`` names the unit and applies the configured action when it ends."""
    conn = shop_db()
    unit = queryguard.unit("export", action="raise", explain=False)
    with pytest.raises(QueryGuardViolation, match="queryguard: export ran 5 queries"), unit:
        _loop(conn)


def test_unit_as_a_decorator_is_one_unit_per_call() -> None:
    """Each call of a function decorated with ``unit(name)`` is a unit of that name."""
    conn = shop_db()
    ended: list[tuple[str, int]] = []

    @queryguard.unit("job", callback=lambda cap: ended.append((cap.name, cap.query_count)), explain=False)
    def job(n: int) -> None:
        _loop(conn, n)

    job(2)
    job(3)
    assert ended == [("job", 2), ("job", 3)]


def test_unit_needs_a_name() -> None:
    """A unit without a name is a configuration error."""
    with pytest.raises(ConfigurationError, match="unit\\(\\) needs a name"):
        queryguard.unit("")


def test_one_block_entered_by_two_threads() -> None:
    """One ``ignore()`` instance entered by two threads: the first to enter leaves first, while the other
    is still inside and runs its N+1 after that; each leaves its own block, and both N+1s are suppressed."""
    conn = shop_db()
    quiet = queryguard.ignore("n_plus_one", reason="shared by the workers")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    caps: dict[str, queryguard.Capture] = {}

    def first() -> None:
        with queryguard.capture(explain=False, action="none") as cap:
            with quiet:
                first_in.set()
                _loop(conn)
                second_in.wait(10)
            first_out.set()
        caps["first"] = cap

    def second() -> None:
        first_in.wait(10)
        with queryguard.capture(explain=False, action="none") as cap, quiet:
            second_in.set()
            first_out.wait(10)
            _other_loop(conn)
        caps["second"] = cap

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [len(caps[name].findings) for name in ("first", "second")] == [0, 0]
    assert [len(caps[name].suppressed) for name in ("first", "second")] == [1, 1]

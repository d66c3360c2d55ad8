"""``queryguard.testing``: the assertion context managers for unittest and Django ``TestCase`` users."""

from __future__ import annotations

import contextlib
import sqlite3
import unittest
from collections.abc import Callable, Iterator

import pytest

import queryguard
from queryguard import ConfigurationError, QueryGuardViolation, dbapi, testing


@pytest.fixture
def conn() -> Iterator[dbapi.Connection]:
    """A real in-memory SQLite database of 3 authors and their books, recorded through the DB-API wrapper."""
    raw = sqlite3.connect(":memory:", isolation_level=None)
    raw.executescript(
        "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT, author_id INTEGER);"
    )
    connection = dbapi.instrument(raw)
    populate(connection, 3)
    yield connection
    raw.close()


def populate(conn: dbapi.Connection, n: int) -> None:
    """Make the database hold ``n`` authors with one book each."""
    conn.execute("DELETE FROM book")
    conn.execute("DELETE FROM author")
    for i in range(1, n + 1):
        conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (i, f"secret-name-{i}"))
        conn.execute("INSERT INTO book (id, title, author_id) VALUES (?, ?, ?)", (i, f"book {i}", i))


def book_list(conn: dbapi.Connection) -> None:
    """The N+1: one author lookup per book."""
    for (author_id,) in conn.execute("SELECT author_id FROM book").fetchall():
        conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()


LOOKUP_LINE = book_list.__code__.co_firstlineno + 3
SITE = f"tests/core/test_testing.py:{LOOKUP_LINE} in book_list"


def rename_all(conn: dbapi.Connection) -> None:
    """The write loop: one UPDATE per author."""
    for (author_id,) in conn.execute("SELECT id FROM author").fetchall():
        conn.execute("UPDATE author SET name = ? WHERE id = ?", ("renamed", author_id))


def count_twice(conn: dbapi.Connection) -> None:
    """The duplicate: the same count, asked twice."""
    for _ in range(2):
        conn.execute("SELECT count(*) FROM book").fetchone()


def _site(func: object, offset: int) -> str:
    code = func.__code__  # type: ignore[attr-defined]
    return f"tests/core/test_testing.py:{code.co_firstlineno + offset} in {code.co_name}"


def test_max_queries_passes_within_the_limit(conn: dbapi.Connection) -> None:
    """At the limit passes, and ``with`` gives the capture."""
    with testing.assert_max_queries(4) as cap:
        book_list(conn)
    assert cap.query_count == 4


def test_max_queries_message(conn: dbapi.Connection) -> None:
    """Over the limit: measured against expected, then the N+1 with count, shape, call site and fix."""
    with pytest.raises(QueryGuardViolation) as info, testing.assert_max_queries(2):
        book_list(conn)
    lines = str(info.value).splitlines()
    assert lines[0] == "queryguard: test_max_queries_message ran 4 queries (at most 2 allowed)"
    assert lines[1] == f"  N+1: 3x SELECT name FROM author WHERE id = ?   {SITE}"
    assert lines[2].startswith("       fix: load the rows in one query")
    assert [f.kind for f in info.value.findings] == ["n_plus_one"]  # type: ignore[attr-defined]
    assert "secret-name" not in str(info.value)


def test_verbose_lists_statements_without_values(conn: dbapi.Connection) -> None:
    """``verbose=True`` adds every statement in order, as shapes."""
    cap = queryguard.capture()
    with cap:
        book_list(conn)
    message = testing.check_max_queries(cap, 1, unit="unit", verbose=True)
    assert message is not None
    lines = message.splitlines()
    first = f"tests/core/test_testing.py:{LOOKUP_LINE - 1} in book_list"
    assert lines[3:5] == ["  statements in order (4):", f"      1  SELECT author_id FROM book   {first}"]
    assert lines[-1] == f"      4  SELECT name FROM author WHERE id = ?   {SITE}"


def test_without_an_explaining_finding_the_frequent_statements_show(conn: dbapi.Connection) -> None:
    """Distinct statements over the limit are listed by frequency, with their call sites."""
    with pytest.raises(QueryGuardViolation) as info, testing.assert_max_queries(1):
        conn.execute("SELECT id FROM book").fetchall()
        conn.execute("SELECT id FROM author").fetchall()
    lines = str(info.value).splitlines()
    assert lines[1].startswith("  1x SELECT id FROM book   tests/core/test_testing.py:")
    assert len(lines) == 3


def test_transaction_control_is_not_counted(conn: dbapi.Connection) -> None:
    """SAVEPOINT and RELEASE are not queries: the count is the same in a test transaction and outside."""
    with testing.assert_queries(1) as cap:
        conn.execute("SAVEPOINT s1")
        conn.execute("SELECT 1")
        conn.execute("RELEASE s1")
    assert cap.query_count == 3


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"n": 6}, "ran 8 queries (6 expected)"),
        ({"select": 2, "update": 1}, "ran 5 SELECTs (2 expected), 3 UPDATEs (1 expected)"),
        ({"update": 3, "insert": 1}, "ran 0 INSERTs (1 expected)"),
        ({"max": 5}, "ran 8 queries (at most 5 allowed)"),
        ({"n": 6, "max": 5}, "ran 8 queries (6 expected), 8 queries (at most 5 allowed)"),
        ({"delete": 0, "n": 8, "select": 5, "update": 3}, None),
    ],
)
def test_assert_queries_counts(conn: dbapi.Connection, counts: dict[str, int], expected: str | None) -> None:
    """Each wrong count is named; right counts pass."""
    cap = queryguard.capture()
    with cap:
        book_list(conn)
        for (author_id,) in conn.execute("SELECT id FROM author").fetchall():
            conn.execute("UPDATE author SET name = ? WHERE id = ?", ("x", author_id))
    message = testing.check_queries(cap, counts, unit="unit")
    if expected is None:
        assert message is None
    else:
        assert message is not None
        assert message.splitlines()[0] == f"queryguard: unit {expected}"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, "assert_queries needs a count"),
        ({"n": -1}, "n must be an integer >= 0, got -1"),
        ({"select": 1.5}, "select must be an integer >= 0, got 1.5"),
        ({"merge": 1}, "unknown count 'merge'"),
    ],
)
def test_assert_queries_mistakes(kwargs: dict[str, object], error: str) -> None:
    """A missing, negative or unknown count raises ``ConfigurationError`` with the bad value."""
    with pytest.raises(ConfigurationError, match=error):
        testing.check_queries(queryguard.capture(), kwargs)  # type: ignore[arg-type]


def test_using_counts_one_alias(conn: dbapi.Connection) -> None:
    """``using=`` keeps the statements of one database alias."""
    raw = sqlite3.connect(":memory:")
    other = dbapi.instrument(raw, alias="replica")
    with (
        contextlib.closing(raw),
        pytest.raises(QueryGuardViolation, match=r'ran 2 queries on "replica" \(at most 1 allowed\)'),
        testing.assert_max_queries(1, using="default"),
        testing.assert_max_queries(1, using="replica"),
    ):
        conn.execute("SELECT 1")
        other.execute("SELECT 1")
        other.execute("SELECT 2")


def test_no_n_plus_one(conn: dbapi.Connection) -> None:
    """A JOIN passes; the loop fails naming the N+1."""
    with testing.assert_no_n_plus_one():
        conn.execute("SELECT book.title, author.name FROM book JOIN author ON author.id = book.author_id")
    with pytest.raises(QueryGuardViolation) as info, testing.assert_no_n_plus_one():
        book_list(conn)
    assert (
        str(info.value).splitlines()[0]
        == "queryguard: test_no_n_plus_one ran 4 queries with 1 N+1 loop (none allowed)"
    )


def test_no_findings(conn: dbapi.Connection) -> None:
    """Only the named kinds fail; no kind means every kind; an unknown kind fails at the call."""
    with testing.assert_no_findings("n_plus_one"):
        conn.execute("SELECT * FROM book").fetchall()
    with pytest.raises(QueryGuardViolation) as info, testing.assert_no_findings():
        conn.execute("SELECT * FROM book").fetchall()
    assert str(info.value).splitlines()[:2] == [
        "queryguard: test_no_findings ran 1 query with 1 SELECT * (none allowed)",
        "  SELECT *: 1x SELECT * FROM book   "
        f"tests/core/test_testing.py:{test_no_findings.__code__.co_firstlineno + 5} "
        "in test_no_findings",
    ]
    with pytest.raises(
        ConfigurationError, match="unknown finding kind 'n_plus_2'; valid kinds: n_plus_one, "
    ):
        testing.assert_no_findings("n_plus_2")


def test_settings_reach_the_capture(conn: dbapi.Connection) -> None:
    """Keywords are capture settings; the configured action never fires on top of the assertion."""
    with testing.assert_no_n_plus_one(n_plus_one_threshold=4, action="raise"):
        book_list(conn)
    with pytest.raises(ConfigurationError, match="unknown setting 'threshold'"):
        testing.assert_no_n_plus_one(threshold=4)


def test_the_block_s_own_exception_wins(conn: dbapi.Connection) -> None:
    """When the block raises, its exception propagates and no assertion runs."""
    with pytest.raises(KeyError), testing.assert_max_queries(0):
        book_list(conn)
        raise KeyError("the user's")


def test_as_a_decorator(conn: dbapi.Connection) -> None:
    """As a decorator every call is checked, and the message names the function."""

    @testing.assert_max_queries(1)
    def render() -> None:
        book_list(conn)

    with pytest.raises(QueryGuardViolation, match=r"^queryguard: render ran 4 queries"):
        render()
    with pytest.raises(QueryGuardViolation, match=r"^queryguard: render ran 4 queries"):
        render()


def test_constant_queries(conn: dbapi.Connection) -> None:
    """A JOIN stays constant; the loop grows with n, and the growing shape is named with its fix."""
    joined = "SELECT book.title, author.name FROM book JOIN author ON author.id = book.author_id"
    testing.assert_constant_queries(lambda: conn.execute(joined).fetchall(), lambda n: populate(conn, n))
    with pytest.raises(QueryGuardViolation) as info:
        testing.assert_constant_queries(
            lambda: book_list(conn), lambda n: populate(conn, n), scales=(1, 4, 8)
        )
    lines = str(info.value).splitlines()
    assert lines[0] == (
        "queryguard: test_constant_queries ran 2 queries at n=1, 5 queries at n=4, 9 queries at n=8 "
        "(the same number expected at every scale)"
    )
    assert lines[1] == f"  grows with n: 1x at n=1, 8x at n=8: SELECT name FROM author WHERE id = ?   {SITE}"
    assert lines[2].startswith("      fix: load the rows in one query")


def test_constant_queries_runs_func_once_per_scale(conn: dbapi.Connection) -> None:
    """``populate`` gets each scale's total in order, and ``func`` runs once after each."""
    calls: list[str] = []

    def fill(n: int) -> None:
        calls.append(f"populate({n})")
        populate(conn, n)

    def joined() -> None:
        calls.append("func")
        conn.execute("SELECT book.title FROM book JOIN author ON author.id = book.author_id").fetchall()

    testing.assert_constant_queries(joined, fill, scales=(1, 3, 6))
    assert calls == ["populate(1)", "func", "populate(3)", "func", "populate(6)", "func"]


def test_constant_queries_show_one_run_to_the_enclosing_capture(conn: dbapi.Connection) -> None:
    """A capture around the check sees the largest scale's run only: no duplicate across scales."""
    joined = "SELECT book.title FROM book JOIN author ON author.id = book.author_id"
    with queryguard.capture() as outer:
        testing.assert_constant_queries(lambda: conn.execute(joined).fetchall(), lambda n: populate(conn, n))
        with pytest.raises(QueryGuardViolation):
            testing.assert_constant_queries(
                lambda: book_list(conn), lambda n: populate(conn, n), scales=(2, 5)
            )
    assert [event.sql for event in outer.queries].count(joined) == 1
    assert [(f.kind, f.count) for f in outer.findings] == [("n_plus_one", 5)]


@pytest.mark.parametrize(
    ("work", "cause"),
    [
        (book_list, f"the N+1 at {SITE} (3 of 4 statements)"),
        (rename_all, f"the write loop at {_site(rename_all, 3)} (3 of 4 statements)"),
        (count_twice, f"the duplicate at {_site(count_twice, 3)} (2 of 2 statements)"),
    ],
)
def test_budget_fix_names_the_finding_behind_the_excess(
    conn: dbapi.Connection, work: Callable[[dbapi.Connection], None], cause: str
) -> None:
    """A query budget's fix names the loop or duplicate that spent it, not always "the N+1"."""
    with queryguard.capture(max_queries=1, action="none") as cap:
        work(conn)
    [budget] = [f for f in cap.findings if f.kind == "query_budget"]
    assert budget.suggestion == f"fix {cause} first; the unit needs fewer statements"


def test_budget_fix_names_the_two_costliest_causes(conn: dbapi.Connection) -> None:
    """Two loops over the budget: the larger is named first; time budgets name time, not counts."""
    populate(conn, 5)
    with queryguard.capture(max_queries=3, max_db_time_ms=0.0, action="none") as cap:
        book_list(conn)
        rename_all(conn)
    by_count, by_time = [f.suggestion for f in cap.findings if f.kind == "query_budget"]
    assert by_count.startswith(f"fix the N+1 at {SITE} (5 of 12 statements) and the write loop at ")
    assert by_time.startswith("fix the ") and " ms) and the " in by_time
    assert by_time.endswith("first; the unit needs less database time")


def test_budget_fix_without_a_loop_says_so(conn: dbapi.Connection) -> None:
    """Over budget with no loop or duplicate: the fix does not invent an N+1."""
    with queryguard.capture(max_queries=1, action="none") as cap:
        conn.execute("SELECT count(*) FROM book").fetchone()
        conn.execute("SELECT count(*) FROM author").fetchone()
    [budget] = [f for f in cap.findings if f.kind == "query_budget"]
    assert budget.suggestion.startswith("no loop or duplicate explains it: the unit needs fewer statements")


@pytest.mark.parametrize("scales", [(2,), (10, 2), (2, 2), (1, -3), "ab", (1, True)])
def test_constant_queries_scales_are_checked(scales: object) -> None:
    """Scales must be two or more distinct increasing integers."""
    with pytest.raises(ConfigurationError, match="scales must be"):
        testing.assert_constant_queries(lambda: None, lambda n: None, scales=scales)  # type: ignore[arg-type]


def test_in_a_unittest_testcase(conn: dbapi.Connection) -> None:
    """In a ``unittest.TestCase`` the failure is a test failure that names the test method."""

    class BooksTest(unittest.TestCase):
        def test_list(self) -> None:
            with testing.assert_max_queries(2):
                book_list(conn)

    result = unittest.TestResult()
    BooksTest("test_list").run(result)
    [(_, traceback)] = result.failures  # a QueryGuardViolation is an AssertionError: a failure, not an error
    assert "queryguard: test_list ran 4 queries (at most 2 allowed)" in traceback


def test_overflowed_statements_are_counted(conn: dbapi.Connection) -> None:
    """Statements aggregated past ``max_events`` still count."""
    with (
        pytest.raises(QueryGuardViolation, match="ran 4 queries") as info,
        testing.assert_max_queries(3, max_events=2),
    ):
        book_list(conn)
    assert "N+1: 3x" in str(info.value)


@pytest.mark.parametrize(
    ("sql", "shape"),
    [
        ("SELECT a.id, a.name, a.email, a.created FROM a WHERE a.id = 5", "SELECT ... FROM a WHERE a.id = ?"),
        ("SELECT id FROM a WHERE id = 5", "SELECT id FROM a WHERE id = ?"),
        ("SELECT * FROM a", "SELECT * FROM a"),
        (
            "SELECT a.id, (SELECT count(*) FROM b WHERE b.a_id = a.id) AS n FROM a",
            "SELECT ... FROM a",
        ),
        ("UPDATE a SET name = 'x' WHERE id = 1", "UPDATE a SET name = ? WHERE id = ?"),
    ],
)
def test_short_shape(sql: str, shape: str) -> None:
    """Shapes hide values; long select lists become ``...``, subqueries included, ``*`` stays."""
    assert testing.short_shape(sql) == shape


@pytest.mark.parametrize("name", [*testing.__all__, "Assertion", "REPEATS", "STATEMENT_KINDS"])
def test_public_name_is_reachable(name: str) -> None:
    """Each public name of ``queryguard.testing`` (``__all__``, Assertion, the counted kinds) is on it."""
    assert getattr(testing, name) is not None

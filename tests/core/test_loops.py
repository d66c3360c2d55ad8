"""What a loop, a page and a duplicate are: the rules of the README's findings reference, on real SQLite.

Each test is a case the accuracy corpus does not hold: the rules, not the corpus's examples.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest

import queryguard
from queryguard import dbapi
from queryguard._sql import params_key
from queryguard._sql._page import page_of

from ._helpers import shop_db


def kinds(cap: queryguard.Capture) -> list[tuple[str, int]]:
    """(kind, count) of each finding, sorted."""
    return sorted((f.kind, f.count) for f in cap.findings)


def author_name(conn: dbapi.Connection, author_id: int) -> Any:
    """A repository method: one lookup, whoever calls it."""
    return conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()


def authenticate(conn: dbapi.Connection) -> Any:
    return author_name(conn, 1)


def profile(conn: dbapi.Connection) -> Any:
    return author_name(conn, 2)


def walk(conn: dbapi.Connection, ids: list[int], depth: int) -> None:
    """A recursive walk: one lookup per node, from the same line at every depth."""
    for author_id in ids:
        author_name(conn, author_id)
    if depth:
        walk(conn, [i + 1 for i in ids], depth - 1)


def test_three_callers_of_one_helper_are_three_places() -> None:
    """A helper called once each by three functions (no loop) is no N+1: each caller is its own place."""
    conn = shop_db()
    with queryguard.capture() as cap:
        authenticate(conn)
        profile(conn)
        author_name(conn, 3)
    assert cap.findings == []


def test_a_helper_in_a_loop_is_one_place_and_its_other_caller_another() -> None:
    """The helper called in a loop is an N+1 of the loop's stack; its call outside the loop is not in it."""
    conn = shop_db()
    with queryguard.capture() as cap:
        authenticate(conn)
        for author_id in range(3, 8):
            author_name(conn, author_id)
    (finding,) = cap.findings
    assert (finding.kind, finding.count) == ("n_plus_one", 5)
    assert finding.callsite.startswith("tests/core/test_loops.py:")
    assert finding.details["stack"][1].endswith(
        "test_a_helper_in_a_loop_is_one_place_and_its_other_caller_another"
    )


def test_two_loops_over_one_helper_are_two_findings_that_name_their_callers() -> None:
    """Two loops calling one helper: two N+1s at the helper's line, each message naming its caller."""
    conn = shop_db()
    with queryguard.capture() as cap:
        for author_id in range(1, 4):
            author_name(conn, author_id)
        for author_id in range(4, 9):
            author_name(conn, author_id)
    assert kinds(cap) == [("n_plus_one", 3), ("n_plus_one", 5)]
    assert len({f.callsite for f in cap.findings}) == 1
    assert all("(called from tests/core/test_loops.py:" in f.message for f in cap.findings)


def test_a_recursive_walk_is_reported() -> None:
    """Lookups of a recursive walk are N+1s (each depth a loop of its own), never silence."""
    conn = shop_db()
    with queryguard.capture() as cap:
        walk(conn, [1, 2, 3], 1)
    assert {f.kind for f in cap.findings} == {"n_plus_one"}
    assert sum(f.count for f in cap.findings) == 6


def test_two_single_row_writes_from_one_line_are_a_write_loop() -> None:
    """Two rows inserted one at a time from one line are a write loop; two from two lines are not."""
    conn = shop_db()
    with queryguard.capture() as looped:
        for i in (100, 101):
            conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (i, "new"))
    with queryguard.capture() as apart:
        conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (102, "new"))
        conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (103, "new"))
    assert kinds(looped) == [("write_loop", 2)]
    assert apart.findings == []


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        ("SELECT id FROM book ORDER BY id LIMIT 5 OFFSET ?", lambda i: (i * 5,), []),  # pages of 5
        ("SELECT id FROM book WHERE author_id = ? LIMIT 5", lambda i: (i,), ["n_plus_one"]),  # 5 per parent
        ("SELECT id FROM book WHERE author_id = ? LIMIT 1 OFFSET ?", lambda i: (1, i), ["n_plus_one"]),
        ("SELECT id FROM book WHERE id > ? ORDER BY id LIMIT 50", lambda i: (i * 50,), []),  # keyset
        ("SELECT id FROM book WHERE author_id = ? LIMIT ?", lambda i: (i, 1), ["n_plus_one"]),
        ("SELECT id FROM author WHERE id = ? LIMIT 21", lambda i: (i,), ["n_plus_one"]),  # Django's get()
        ("SELECT id FROM book WHERE author_id = ? ORDER BY id LIMIT 50", lambda i: (i,), ["n_plus_one"]),
        ("SELECT id FROM book WHERE id BETWEEN ? AND ? LIMIT 20", lambda i: (i, i + 20), []),
    ],
    ids=[
        "offset-pages",
        "top-five-per-parent",
        "one-row-walk",
        "keyset",
        "bound-limit-one",
        "get-guard",
        "fifty-per-parent",
        "range-window",
    ],
)
def test_a_page_is_judged_by_what_it_asks_for(sql: str, params: Any, expected: list[str]) -> None:
    """A loop is a page loop only when each call asks for many rows (a large LIMIT, or a moving OFFSET)."""
    conn = shop_db()
    with queryguard.capture() as cap:
        for i in range(1, 5):
            conn.execute(sql, params(i)).fetchall()
    assert [f.kind for f in cap.findings] == expected


def test_a_read_after_a_write_to_its_table_is_no_duplicate() -> None:
    """A count before and after an INSERT into its table asks twice; around another write, a duplicate."""
    conn = shop_db()
    count = "SELECT COUNT(*) FROM author WHERE name = ?"
    with queryguard.capture() as around_own_write:
        conn.execute(count, ("new",)).fetchone()
        conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (200, "new"))
        conn.execute(count, ("new",)).fetchone()
    with queryguard.capture() as around_other_write:
        conn.execute(count, ("new",)).fetchone()
        conn.execute("INSERT INTO book (id, title, author_id) VALUES (?, ?, ?)", (200, "t", 1))
        conn.execute(count, ("new",)).fetchone()
    assert around_own_write.findings == []
    assert kinds(around_other_write) == [("duplicate_query", 2)]


def test_the_same_read_on_two_databases_is_neither_a_duplicate_nor_a_loop() -> None:
    """The same statement and parameters on two aliases are two questions to two databases."""
    first, second = shop_db(), shop_db()
    second = dbapi.instrument(second._connection, alias="replica")  # type: ignore[attr-defined]
    with queryguard.capture() as cap:
        for conn in (first, second):
            conn.execute("SELECT name FROM author WHERE id = ?", (1,)).fetchone()
    assert cap.findings == []


@pytest.mark.parametrize("empty", [None, (), [], {}])
def test_no_parameters_have_one_key_whatever_the_container(empty: object) -> None:
    """None, (), [] and {} are all "no parameters"; a NULL parameter or an empty JSON value is not."""
    assert params_key(empty) == ()
    assert params_key((None,)) != () and params_key(({},)) != ()


@pytest.mark.parametrize(
    ("sql", "params", "vendor", "page"),
    [
        ("SELECT a FROM t ORDER BY a LIMIT ? OFFSET ?", (10, 20), "sqlite", (10, 20)),
        ("SELECT a FROM t LIMIT 21", None, "postgresql", (21, None)),
        ("SELECT a FROM t WHERE b = %s LIMIT %s, %s", ("x", 40, 20), "mysql", (20, 40)),
        ("SELECT a FROM t WHERE b = %(b)s LIMIT %(n)s", {"b": 1, "n": 7}, "postgresql", (7, None)),
        ("SELECT a FROM t WHERE b = $1 LIMIT $2", (1, 9), "postgresql", (9, None)),
        ("SELECT a FROM t WHERE b = :b LIMIT :n", {"b": "LIMIT", "n": 3}, "sqlite", (3, None)),
        ("SELECT a FROM (SELECT a FROM t LIMIT 5) s", None, "", (None, None)),
        ("SELECT a FROM t OFFSET 5 ROWS FETCH FIRST 3 ROWS ONLY", None, "", (3, 5)),
        ("SELECT 'LIMIT 4' FROM t", None, "", (None, None)),
        ("SELECT a FROM t LIMIT ?", ("many",), "sqlite", (None, None)),
        ("SELECT a FROM t LIMIT ?", (), "sqlite", (None, None)),
    ],
)
def test_the_page_a_statement_asks_for(sql: str, params: Any, vendor: str, page: tuple[Any, Any]) -> None:
    """LIMIT and OFFSET are read from the outermost query, literal or bound in any placeholder style."""
    assert page_of(sql, params, vendor) == page


def test_the_same_write_twice_is_no_duplicate() -> None:
    """An increment sent twice with identical parameters writes twice: writes are never duplicates."""
    conn = shop_db()
    conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    conn.execute("INSERT INTO counter VALUES (1, 0)")
    with queryguard.capture() as cap:
        conn.execute("UPDATE counter SET n = n + 1 WHERE id = ?", (1,))
        conn.execute("UPDATE counter SET n = n + 1 WHERE id = ?", (1,))
    assert cap.findings == []


def validate(conn: dbapi.Connection, author_id: int) -> Any:
    return author_name(conn, author_id)


def handle(conn: dbapi.Connection, author_id: int) -> Any:
    return validate(conn, author_id)


def endpoint(conn: dbapi.Connection, author_id: int) -> Any:
    return handle(conn, author_id)


def test_two_calls_on_one_line_are_two_places() -> None:
    """Two lookups written side by side on one line, run once each, are no loop."""
    conn = shop_db()
    with queryguard.capture() as cap:
        first, second = author_name(conn, 1), author_name(conn, 2)
    assert (first, second) != (None, None)
    assert cap.findings == []


def test_callers_four_frames_out_still_tell_places_apart() -> None:
    """Two requests' worth of calls that differ only four frames out (the test's two lines) are no loop."""
    conn = shop_db()
    with queryguard.capture() as cap:
        endpoint(conn, 1)
        endpoint(conn, 2)
    assert cap.findings == []
    with queryguard.capture() as looped:
        for author_id in (1, 2, 3):
            endpoint(conn, author_id)
    assert kinds(looped) == [("n_plus_one", 3)]


def test_two_requests_through_the_wsgi_middleware_are_two_units() -> None:
    """A test's capture around two requests of a WSGI app: the same view line once per request, no loop."""
    import queryguard.wsgi

    conn = shop_db()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        author_name(conn, int(environ["PATH_INFO"].strip("/")))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    wrapped = queryguard.wsgi.QueryGuardMiddleware(app, config=queryguard.Config(action="none"))
    with queryguard.capture() as cap:
        for author_id in (1, 2, 3):
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/{author_id}", "REMOTE_ADDR": "127.0.0.1"}
            assert list(wrapped(environ, lambda status, headers: None)) == [b"ok"]
    assert cap.query_count == 3
    assert cap.findings == []


def test_a_duplicate_with_no_frame_of_yours_says_so() -> None:
    """A statement recorded with no user call site: the message names library code, never an empty place."""
    with queryguard.capture(action="none") as cap:
        for _ in range(2):
            queryguard.record(queryguard.QueryEvent("SELECT 1", (), 0.1, vendor="sqlite", callsite=()))
    (finding,) = cap.findings
    assert "from library code (no frame of your code)" in finding.message


class _Lookups(ast.NodeVisitor):
    """Runs one lookup per name it visits: a user function that a library (ast) calls back."""

    def __init__(self, conn: dbapi.Connection) -> None:
        self.conn = conn

    def visit_Name(self, node: ast.Name) -> None:
        author_name(self.conn, 1)


def _visit_shallow(conn: dbapi.Connection) -> None:
    _Lookups(conn).visit(ast.parse("x"))


def test_a_repeated_statement_never_keeps_a_site_that_stopped_short() -> None:
    """A statement first seen with its callers beyond the walk's reach (deep in a library), then from a
    caller within reach, names that caller: the first site is not reused for it."""
    conn = shop_db()
    deep = ast.parse("-" * 60 + "x")  # 60 nested unary minus nodes: the visitor recurses in ast.py
    with queryguard.capture(action="none") as cap:
        _Lookups(conn).visit(deep)
        _visit_shallow(conn)
    first, second = cap.queries
    assert not any("_visit_shallow" in entry for entry in _stack(first))
    assert any("_visit_shallow" in entry for entry in _stack(second))


def _stack(event: queryguard.QueryEvent) -> tuple[str, ...]:
    from queryguard import _callsite

    return _callsite.describe_stack(event._site)

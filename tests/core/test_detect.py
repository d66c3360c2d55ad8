"""Detectors on real SQLite statements (and on hand-built events where a driver cannot tell row counts)."""

from __future__ import annotations

from typing import Any

import pytest

import queryguard
from queryguard import Finding, QueryEvent

from ._helpers import fetch_author, shop_db


def run(**settings: Any) -> queryguard.Capture:
    """A capture that only collects (no action, no EXPLAIN)."""
    return queryguard.capture(action="none", explain=False, **settings)


def kinds(cap: queryguard.Capture) -> list[str]:
    """The kinds of the capture's findings, in order."""
    return [f.kind for f in cap.findings]


def one(cap: queryguard.Capture, kind: str) -> Finding:
    """The single finding of ``kind``."""
    [finding] = [f for f in cap.findings if f.kind == kind]
    return finding


def test_n_plus_one_loop_names_the_call_site_and_the_fix() -> None:
    """A lookup per row from one line is an N+1 with count, call site and a fix."""
    conn = shop_db()
    with run() as cap:
        books = conn.execute("SELECT id, title, author_id FROM book").fetchall()
        for _, _, author_id in books:
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()
    finding = one(cap, "n_plus_one")
    assert finding.count == 30
    assert finding.callsite.startswith("tests/core/test_detect.py:")
    assert finding.message.startswith("N+1: author rows loaded 30 times from tests/core/test_detect.py:")
    assert "WHERE id IN (...)" in finding.suggestion or "one query" in finding.suggestion
    assert kinds(cap) == ["n_plus_one"]  # the repeated authors are the N+1, not duplicates


def test_statements_on_separate_lines_are_not_an_n_plus_one() -> None:
    """Two lookups written on two lines are two call sites, not a loop."""
    conn = shop_db()
    with run() as cap:
        conn.execute("SELECT name FROM author WHERE id = ?", (1,))
        conn.execute("SELECT name FROM author WHERE id = ?", (2,))
    assert kinds(cap) == []


def test_below_threshold_is_not_reported() -> None:
    """A loop shorter than n_plus_one_threshold is fine."""
    conn = shop_db()
    with run(n_plus_one_threshold=5) as cap:
        for author_id in (1, 2, 3, 4):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
    assert kinds(cap) == []


def test_parent_statement_is_named() -> None:
    """The N+1 names the earlier statement that returned about as many rows as the loop ran."""
    with run() as cap:
        queryguard.record(
            QueryEvent("SELECT id FROM book", (), 1.0, rowcount=3, callsite="shop/views.py:40 in list")
        )
        queryguard.record(QueryEvent("SELECT 1", (), 0.1, rowcount=1, callsite="shop/views.py:41 in list"))
        for n in range(3):
            queryguard.record(
                QueryEvent(
                    "SELECT * FROM author WHERE id = %s",
                    (n,),
                    0.1,
                    rowcount=1,
                    callsite="shop/views.py:42 in list",
                )
            )
    finding = one(cap, "n_plus_one")
    assert finding.parent_callsite == "shop/views.py:40 in list"
    assert finding.message.endswith("; parent rows loaded at shop/views.py:40 in list")
    assert kinds(cap) == ["n_plus_one"]  # SELECT * inside the loop is explained by the N+1


@pytest.mark.parametrize(
    ("sql", "rowcount"),
    [
        ("SELECT id FROM book WHERE id > ? ORDER BY id LIMIT 500", 500),
        ("SELECT id FROM book ORDER BY id LIMIT 20 OFFSET ?", 20),
        ("SELECT id FROM book WHERE author_id IN (" + ", ".join("?" * 50) + ")", 50),
    ],
)
def test_batches_and_pages_are_not_n_plus_one(sql: str, rowcount: int) -> None:
    """A loop that fetches many rows per call (keyset pages, offsets, IN batches) is not an N+1."""
    with run() as cap:
        for n in range(5):
            queryguard.record(QueryEvent(sql, (n,), 1.0, rowcount=rowcount, callsite="jobs.py:9 in export"))
    assert kinds(cap) == []


def test_relation_from_the_orm_is_named_with_its_fix() -> None:
    """When an ORM tells the relation, the message and the suggestion use it."""
    with run() as cap:
        for n in range(4):
            queryguard.record(
                QueryEvent(
                    'SELECT "shop_author"."id" FROM "shop_author" WHERE "id" = %s',
                    (n,),
                    orm="django",
                    relation="Book.author",
                    relation_kind="many_to_one",
                    relation_path="author",
                    callsite="shop/views.py:42 in book_list",
                )
            )
    finding = one(cap, "n_plus_one")
    assert finding.relation == "Book.author"
    assert finding.message == (
        "N+1: Book.author loaded 4 times from shop/views.py:42 in book_list; "
        'add .select_related("author") to the queryset that loads Book'
    )


def test_duplicate_query_lists_every_call_site() -> None:
    """The identical statement with identical parameters from two lines is one duplicate finding."""
    conn = shop_db()
    with run() as cap:
        conn.execute("SELECT name FROM author WHERE id = ?", (7,))
        conn.execute("SELECT name FROM author WHERE id = ?", (7,))
    finding = one(cap, "duplicate_query")
    assert finding.count == 2
    assert len(finding.details["callsites"]) == 2
    assert "reuse the first result" in finding.suggestion


def test_same_values_inline_in_different_statements_are_not_duplicates() -> None:
    """Literals inlined in the SQL text make different statements, even with equal (empty) parameters."""
    conn = shop_db()
    with run() as cap:
        conn.execute("SELECT name FROM author WHERE id = 1")
        conn.execute("SELECT name FROM author WHERE id = 2")
    assert kinds(cap) == []


def test_literal_values_in_a_loop_are_an_n_plus_one() -> None:
    """A loop of raw SQL with its value inlined (other texts, one shape, one line) is an N+1."""
    conn = shop_db()
    with run() as cap:
        for author_id in range(1, 6):
            conn.execute(f"SELECT name FROM author WHERE id = {author_id}").fetchone()
    finding = one(cap, "n_plus_one")
    assert (finding.count, finding.details["distinct_params"]) == (5, 5)


def test_write_loop_and_executemany() -> None:
    """Single-row INSERTs in a loop are a write loop; one executemany is not."""
    conn = shop_db()
    with run() as cap:
        for n in range(100, 105):
            conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (n, "x"))
        conn.executemany("INSERT INTO author (id, name) VALUES (?, ?)", [(n, "y") for n in range(200, 205)])
    finding = one(cap, "write_loop")
    assert finding.count == 5
    assert finding.message.startswith(
        "write loop: 5 single-row INSERTs into author from tests/core/test_detect.py:"
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM book", ["select_star"]),
        ("SELECT b.* FROM book b JOIN author a ON a.id = b.author_id", ["select_star"]),
        ("SELECT COUNT(*) FROM book", []),
        ("SELECT id FROM author WHERE EXISTS (SELECT * FROM book WHERE author_id = author.id)", []),
    ],
)
def test_select_star(sql: str, expected: list[str]) -> None:
    """`*` in a select list is reported (as info); COUNT(*) and EXISTS (SELECT * ...) are not."""
    conn = shop_db()
    with run() as cap:
        conn.execute(sql).fetchall()
    assert kinds(cap) == expected
    if expected:
        assert one(cap, "select_star").severity == "info"


def test_slow_query_on_a_real_statement() -> None:
    """A statement slower than slow_query_ms is reported with its duration against the limit."""
    conn = shop_db()
    with run(slow_query_ms=0.0) as cap:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "SELECT sum(i) FROM n"
        ).fetchone()
    finding = one(cap, "slow_query")
    assert "(limit 0 ms)" in finding.message
    assert finding.event is cap.queries[0]


def test_query_budget_counts_and_time() -> None:
    """More statements, or more database time, than the budget is an error finding."""
    conn = shop_db()
    with run(max_queries=2, max_db_time_ms=0.0) as cap:
        for sql in ("SELECT 1", "SELECT 2", "SELECT 3"):
            conn.execute(sql)
    budget = [f for f in cap.findings if f.kind == "query_budget"]
    assert budget[0].message.split(";")[0] == "budget: ran 3 queries (at most 2 allowed)"
    assert len(budget) == 2
    assert all(f.severity == "error" for f in budget)


def test_transaction_statements_are_not_counted_or_reported() -> None:
    """BEGIN/SAVEPOINT/COMMIT are bookkeeping: no loop, no duplicate, not in the budget."""
    with run(max_queries=1) as cap:
        for n in range(5):
            queryguard.record(QueryEvent(f'SAVEPOINT "s{n}"', callsite="x.py:1 in f"))
            queryguard.record(QueryEvent(f'RELEASE SAVEPOINT "s{n}"', callsite="x.py:1 in f"))
        queryguard.record(QueryEvent("SELECT 1", callsite="x.py:2 in f"))
    assert kinds(cap) == []


def test_ignore_kinds_and_callsite_ignore() -> None:
    """ignore_kinds drops a kind; callsite_ignore skips a helper module to name its caller."""
    conn = shop_db()
    with run(callsite_ignore=("tests/core/_helpers.py",), ignore_kinds=["duplicate_query"]) as cap:
        for author_id in (1, 2, 3):
            fetch_author(conn, author_id)
        fetch_author(conn, 9)
        fetch_author(conn, 9)
    finding = one(cap, "n_plus_one")
    assert finding.callsite.startswith("tests/core/test_detect.py:")
    assert finding.callsite.endswith("in test_ignore_kinds_and_callsite_ignore")
    assert kinds(cap) == ["n_plus_one"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT (((",
        "SELECT 'unterminated",
        "\x00\x01",
        "",
        "/* only a comment",
        "SELECT " + "x," * 100_000 + "y",
    ],
)
def test_malformed_and_huge_statements_never_crash(sql: str) -> None:
    """Detection survives any statement text and odd parameters."""
    with run(slow_query_ms=0.0) as cap:
        for params in (None, b"\xff\x00", {"a": [1, {2}]}, [bytearray(b"x")], object()):
            queryguard.record(QueryEvent(sql, params, 1.0, callsite="x.py:1 in f"))
            queryguard.record(QueryEvent(sql, params, 1.0, callsite="x.py:1 in f"))
    assert isinstance(cap.findings, list)
    assert isinstance(cap.report.to_json(), str)


def test_parent_of_a_many_to_one_loop_may_have_more_rows_than_loads() -> None:
    """An identity map loads each parent once: 30 books, 10 author loads, and the parent is still named."""
    with run() as cap:
        queryguard.record(QueryEvent("SELECT id FROM book", (), 1.0, rowcount=30, callsite="v.py:1 in f"))
        for n in range(10):
            queryguard.record(
                QueryEvent(
                    "SELECT id FROM author WHERE id = ?",
                    (n,),
                    0.1,
                    rowcount=1,
                    relation="Book.author",
                    relation_kind="many_to_one",
                    orm="sqlalchemy",
                    callsite="v.py:2 in f",
                )
            )
    assert one(cap, "n_plus_one").parent_callsite == "v.py:1 in f"

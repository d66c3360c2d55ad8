"""Reading statements and plan conditions: one statement or two, columns and wrappers, read-only proofs,
placeholder styles, and redacted errors (pure functions, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from queryguard._explain import _lex, _paramstyle, _plan, _redact, _safety


def refs(text: str, vendor: str = "") -> list[tuple[str | None, str, str | None]]:
    """``(qualifier, column, wrapper)`` of every column reference in ``text``."""
    return [(r.qualifier, r.column, r.wrapper) for r in _lex.column_refs(_lex.tokenize(text, vendor=vendor))]


@pytest.mark.parametrize(
    ("sql", "vendor", "expected"),
    [
        ("SELECT 1", "", True),
        ("SELECT 1;", "", True),
        ("SELECT 1; SELECT 2", "", False),
        ("SELECT 'a;b' FROM t", "", True),
        ("SELECT 1 -- ; DROP TABLE t", "", True),
        ("SELECT 1 /* ; */", "", True),
        # A standard string's end after a backslash depends on standard_conforming_strings.
        ("SELECT 'a\\'; DELETE FROM t; --'", "postgresql", False),
        ("SELECT E'a\\'; DELETE FROM t; --'", "postgresql", True),
        ("SELECT $$a;b$$", "postgresql", True),
        ("SELECT $tag$a;b$tag$", "postgresql", True),
        # Rule 3: what the reader does not fully understand is not explained.
        ("SELECT $é$ ' $é$ AS a; COMMIT; DELETE FROM acct WHERE id = 14", "postgresql", False),
        ("SELECT a$b$ FROM t", "postgresql", False),
        ("SELECT 1 /* a /* b */ ; DELETE FROM t */", "postgresql", False),
        ("SELECT 1 -- c\r; DELETE FROM t", "postgresql", False),
        ("SELECT 1 /* never closed", "postgresql", False),
        ("SELECT 'never closed", "postgresql", False),
        ('SELECT "never closed', "postgresql", False),
        ("SELECT 1 === 2", "postgresql", False),
        ("SELECT id FROM acct WHERE id = 14 # '\n; DELETE FROM acct", "mysql", False),
        ("SELECT id FROM acct WHERE id = 14 --1\n; DELETE FROM acct", "mysql", False),
        ("SELECT id FROM acct WHERE id = 14 -- c\n", "mysql", True),
        ("SELECT /*!50000 1; DELETE FROM acct */", "mysql", False),
        ("SELECT 'a\\'; DELETE FROM t; --'", "mysql", False),  # a backslash depends on NO_BACKSLASH_ESCAPES
        ('SELECT "a;b"', "mysql", True),
        ("SELECT `a``b` FROM t WHERE x = 'it''s'", "mysql", True),
        ("SELECT [a b] FROM t WHERE x = ?", "", True),
        ("EXPLAIN SELECT 1", "", False),
        ("CREATE TABLE t (x int)", "", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "", True),
        ("", "", False),
    ],
)
def test_only_one_fully_understood_statement_is_explainable(sql: str, vendor: str, expected: bool) -> None:
    """Rule 3: a second statement in any quoting, or anything the reader is unsure of, is not explained."""
    assert (_safety.refusal(sql, vendor) is None) is expected


@pytest.mark.parametrize(
    ("text", "vendor", "expected"),
    [
        ("((title)::text = 'x'::text)", "postgresql", [(None, "title", None)]),
        ("(lower((title)::text) = 'x'::text)", "postgresql", [(None, "title", "lower")]),
        ("((price)::numeric = 5.0)", "postgresql", [(None, "price", "::numeric")]),
        ("(b.author_id = a.id)", "postgresql", [("b", "author_id", None), ("a", "id", None)]),
        ("((created)::timestamp with time zone > now())", "postgresql", [(None, "created", "::timestamp")]),
        ("lcase(qgx_book.title) = 't5'", "mysql", [("qgx_book", "title", "lcase")]),
        ("(`test`.`book`.`title` = 'x')", "mysql", [("book", "title", None)]),
        (
            '"book"."title" = ? AND coalesce(x, "book"."price") > 2',
            "",
            [("book", "title", None), (None, "x", "coalesce"), ("book", "price", "coalesce")],
        ),
        ("CAST(price AS text) = ?", "", [(None, "price", "cast")]),
        ("published > DATE '2020-01-01'", "", [(None, "published", None)]),
    ],
)
def test_column_references_and_what_wraps_them(text: str, vendor: str, expected: list[Any]) -> None:
    """Columns come out of conditions with their table qualifier and any function or cast around them."""
    assert refs(text, vendor) == expected


def test_join_conditions_point_at_each_other() -> None:
    """``a.x = b.y`` is a join; ``x = b.y`` in a plan's scan filter too (b is the outer side)."""
    found = _lex.column_refs(_lex.tokenize("WHERE a.x = b.y AND c.z = 1 AND w = d.v"))
    assert [(r.column, r.other.column if r.other else None) for r in found] == [
        ("x", "y"),
        ("y", "x"),
        ("z", None),
        ("w", "v"),
        ("v", "w"),
    ]


def test_statement_facts_resolve_aliases_filters_order_and_offset() -> None:
    """Facts name tables by alias, their filtered and joined columns, ORDER BY and the OFFSET value."""
    sql = (
        'SELECT b.id FROM "shop"."book" AS b JOIN author a ON b.author_id = a.id '
        "WHERE b.title = %(t)s AND a.name LIKE %(n)s ORDER BY b.published DESC, b.id LIMIT 10 OFFSET %(o)s"
    )
    facts = _plan.Facts(sql, {"t": "x", "n": "y", "o": 2500}, "postgresql")
    assert facts.table("b") == ("shop", "book") and facts.table("author") == (None, "author")
    assert [r.column for r in facts.filters("b")] == ["title"]
    assert [r.column for r in facts.joins("book")] == ["author_id"]
    assert facts.order == [("b", "published", True), ("b", "id", False)]
    assert facts.offset == 2500
    assert _plan.Facts("SELECT x FROM t LIMIT ?, 20", (3000,), "mysql").offset == 3000
    assert _plan.Facts("SELECT x FROM t LIMIT 5 OFFSET 1200", None, "").offset == 1200


@pytest.mark.parametrize(
    ("sql", "params", "vendor", "searched"),
    [
        ("SELECT id FROM book WHERE title LIKE ?", ("%42%",), "sqlite", {"title"}),
        ("SELECT id FROM book WHERE title LIKE ?", ("42%",), "sqlite", set()),
        ("SELECT id FROM book WHERE title LIKE '_42' AND price = ?", (3,), "sqlite", {"title"}),
        (
            "SELECT id FROM b WHERE UPPER(b.title) NOT LIKE UPPER(%s) ESCAPE '\\'",
            ["%x%"],
            "postgresql",
            {"title"},
        ),
        (
            "SELECT id FROM b WHERE b.title ILIKE %(q)s OR b.isbn LIKE %(p)s",
            {"q": "%x", "p": "9%"},
            "postgresql",
            {"title"},
        ),
        ("SELECT id FROM b WHERE title LIKE $2 AND price = $1", (3, "%x"), "postgresql", {"title"}),
        ("SELECT id FROM b WHERE title LIKE ?", (42,), "sqlite", set()),
        ("SELECT id FROM b WHERE title LIKE ?", (), "sqlite", set()),
    ],
)
def test_wildcard_patterns_are_read_from_literals_and_parameters(
    sql: str, params: Any, vendor: str, searched: set[str]
) -> None:
    """A LIKE whose pattern starts with a wildcard is known from the statement, whatever the placeholders."""
    assert _plan.Facts(sql, params, vendor).wildcard_columns == searched


@pytest.mark.parametrize(
    ("sql", "executemany", "allowed"),
    [
        ("SELECT id FROM book WHERE title = %s", False, True),
        ("WITH x AS (SELECT id FROM book) SELECT * FROM x", False, True),
        ("SELECT id FROM book WHERE title = %s", True, False),
        ("SELECT id FROM book FOR UPDATE", False, False),
        ("SELECT id FROM book FOR SHARE", False, False),
        ("SELECT id FROM book LOCK IN SHARE MODE", False, False),
        ("SELECT nextval('s')", False, False),
        ("SELECT NEXT VALUE FOR s", False, False),
        ("SELECT pg_advisory_lock(1)", False, False),
        ("SELECT * INTO copy FROM book", False, False),
        ("WITH gone AS (DELETE FROM book RETURNING id) SELECT * FROM gone", False, False),
        ("DELETE FROM book WHERE id = %s", False, False),
        ("UPDATE book SET price = 1", False, False),
        ("INSERT INTO book (id) VALUES (%s)", False, False),
        ("SELECT 1; DELETE FROM book", False, False),
    ],
)
def test_analyze_needs_a_proven_read_only_statement(sql: str, executemany: bool, allowed: bool) -> None:
    """Only a single read-only SELECT without locks, volatile calls or executemany may be analysed."""
    assert _safety.analyze_allowed(sql, "postgresql", executemany=executemany) is allowed


@pytest.mark.parametrize(
    ("sql", "params", "source", "connection_style", "expected"),
    [
        (
            "SELECT a FROM t WHERE b = %s AND c LIKE '5%%'",
            (1,),
            "format",
            "qmark",
            ("SELECT a FROM t WHERE b = ? AND c LIKE '5%'", (1,)),
        ),
        (
            "SELECT a FROM t WHERE b = %(b)s",
            {"b": 1},
            "pyformat",
            "qmark",
            ("SELECT a FROM t WHERE b = :b", {"b": 1}),
        ),
        (
            "SELECT a FROM t WHERE b = ? AND c LIKE '5%'",
            (1,),
            "qmark",
            "format",
            ("SELECT a FROM t WHERE b = %s AND c LIKE '5%%'", (1,)),
        ),
        (
            "SELECT a FROM t WHERE b = :b",
            {"b": 1},
            "named",
            "format",
            ("SELECT a FROM t WHERE b = %(b)s", {"b": 1}),
        ),
        (
            "SELECT a FROM t WHERE b = $2 AND c = $1",
            ("c", "b"),
            "numeric_dollar",
            "format",
            ("SELECT a FROM t WHERE b = %s AND c = %s", ("b", "c")),
        ),
        ("SELECT '%s' FROM t", None, "qmark", "format", ("SELECT '%s' FROM t", None)),
        ("SELECT a FROM t WHERE b = %s", (1,), "pyformat", "format", ("SELECT a FROM t WHERE b = %s", (1,))),
    ],
)
def test_placeholders_are_rewritten_for_the_explaining_driver(
    sql: str, params: Any, source: str, connection_style: str, expected: tuple[str, Any]
) -> None:
    """Only placeholders and percent escapes change between styles; the statement stays the same."""
    assert _paramstyle.adapt(sql, params, source, connection_style, vendor="") == expected


def test_database_errors_are_redacted_unless_show_params() -> None:
    """Values a driver quotes in an error message are hidden by default."""
    error = ValueError('invalid input syntax for type integer: "s3cret"')
    assert _redact.error(error, show_params=False) == "ValueError: invalid input syntax for type integer: ?"
    assert "s3cret" in _redact.error(error, show_params=True)
    mysql = RuntimeError(1054, "Unknown column 'x' in 'where clause'")
    assert _redact.error(mysql, show_params=False) == "RuntimeError: (1054) Unknown column ? in ?"

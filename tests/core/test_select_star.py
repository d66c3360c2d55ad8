"""``select_star``: a ``*`` is a finding only where it reads a table's columns into the application.

The rule (README, findings reference): a ``*`` or ``q.*`` directly in the select list of a SELECT whose rows
reach the application, expanding to the columns of a table or a view. Not a finding: a star over a subquery,
a CTE, a set-returning function or a VALUES list (its columns were chosen elsewhere, or the function defines
them); a star in a statement that returns no rows to the code (INSERT ... SELECT *, CREATE TABLE ... AS);
under EXISTS; inside a call (COUNT(*)).
"""

from __future__ import annotations

import pytest

import queryguard
from queryguard import _sql

from ._helpers import shop_db
from .test_linear import doubling_ratio

READS_A_TABLE = [
    "SELECT * FROM t",
    "SELECT t.* FROM t JOIN u ON u.id = t.u_id",
    "SELECT b.*, a.name FROM book b JOIN author a ON a.id = b.author_id",
    "SELECT a, * FROM t",
    "SELECT DISTINCT * FROM t",
    "SELECT * FROM s.t",
    "SELECT t.* FROM s.t",
    'SELECT "shop"."book".* FROM "shop"."book"',
    "SELECT TOP 5 * FROM t",
    "SELECT * FROM t WHERE id = 1 FOR UPDATE",
    # the star reads the table next to the source, too
    "SELECT * FROM (SELECT a, b FROM t) x JOIN u ON u.id = x.a",
    "SELECT * FROM generate_series(1, 10) g(i) JOIN t ON t.id = g.i",
    "SELECT * FROM t1, json_each(t1.tags)",
    "SELECT * FROM (VALUES (1), (2)) v(a) JOIN t ON t.id = v.a",
    "WITH c AS (SELECT a FROM t) SELECT * FROM c JOIN u ON u.id = c.a",
    "SELECT * FROM a JOIN b ON a.x = b.x, c",
    "SELECT * FROM (t1 JOIN t2 ON t1.a = t2.a)",
    # a star inside a subquery or CTE is judged by itself
    "SELECT * FROM (SELECT * FROM t) x",
    "SELECT a FROM (SELECT * FROM t) x",
    "WITH c AS (SELECT * FROM t) SELECT * FROM c",
    "WITH c AS (SELECT * FROM t) SELECT a FROM c",
    "SELECT x FROM t WHERE a IN (SELECT * FROM u)",
    "SELECT * FROM (SELECT a FROM t) x UNION SELECT * FROM u",
    "(SELECT * FROM t) UNION (SELECT a FROM u)",
    "WITH RECURSIVE r AS (SELECT * FROM t WHERE id = 1 UNION ALL SELECT t.* FROM t JOIN r ON t.p = r.id) "
    "SELECT id FROM r",
    "SELECT * FROM t WHERE EXISTS (SELECT * FROM u)",
    "SELECT extract(year FROM d), * FROM t",
]

PASSES_ON_CHOSEN_COLUMNS = [
    # set-returning functions: their columns are the function's
    "SELECT * FROM unnest(%s::int[])",
    "SELECT * FROM unnest(%s::int[]) WITH ORDINALITY AS u(v, n)",
    "SELECT u.* FROM unnest(%s::int[]) WITH ORDINALITY AS u(v, n)",
    "SELECT * FROM generate_series(1, %s)",
    "SELECT g.* FROM generate_series(1, 10) g(i) JOIN t ON t.id = g.i",
    "SELECT * FROM jsonb_to_recordset(%s::jsonb) AS x(a int, b text)",
    "SELECT x.* FROM t, LATERAL jsonb_to_recordset(t.j) AS x(a int)",
    "SELECT * FROM json_each(?)",
    "SELECT json_each.* FROM t1, json_each(t1.tags)",
    "SELECT j.* FROM t1, json_each(t1.tags) j",
    "SELECT * FROM pragma_table_info('t')",
    "SELECT * FROM JSON_TABLE(%s, '$[*]' COLUMNS (v INT PATH '$')) AS t",
    'SELECT * FROM "fn"(1, 2)',
    # derived tables and CTEs with a select list of their own
    "SELECT * FROM (SELECT a, b FROM t) x",
    "SELECT x.* FROM (SELECT a, b FROM t) x JOIN u ON u.id = x.a",
    "SELECT * FROM LATERAL (SELECT a FROM t) x",
    "WITH c AS (SELECT a FROM t) SELECT * FROM c",
    "WITH c AS (SELECT a FROM t) SELECT c.* FROM c JOIN u ON u.id = c.a",
    "WITH c AS (SELECT a FROM t) SELECT x.* FROM c AS x",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
    "SELECT * FROM (VALUES (1, 2), (3, 4)) AS v(a, b)",
    "SELECT v.* FROM (VALUES (1), (2)) v(a) JOIN t ON t.id = v.a",
    # Django: a window filter (QUALIFY), a compound on SQLite, an aggregate over a distinct subquery
    'SELECT * FROM ( SELECT "b"."id" AS "col1", ROW_NUMBER() OVER (PARTITION BY "b"."author_id" ORDER BY '
    '"b"."id") AS "r" FROM "b" ) "qualify" WHERE "r" <= %s',
    'SELECT "w" FROM ( SELECT * FROM ( SELECT "p"."w" AS "w", ROW_NUMBER() OVER (ORDER BY "p"."w") '
    'AS "qual0" FROM "p" ) "qualify" WHERE "qual0" <= %s ) "qualify_mask"',
    'SELECT * FROM (SELECT "t"."id" AS "col1" FROM "t" LIMIT 1) UNION SELECT * FROM (SELECT "t"."id" AS '
    '"col1" FROM "t" LIMIT 1)',
]

RETURNS_NO_ROWS_TO_THE_CODE = [
    'INSERT INTO "x" ("code", "n") SELECT * FROM UNNEST((%s)::varchar[], (%s)::integer[]) RETURNING "x"."id"',
    'INSERT INTO "x" ("code", "n") SELECT * FROM UNNEST((%s)::varchar[], (%s)::integer[]) '
    'ON CONFLICT("code") DO UPDATE SET "n" = EXCLUDED."n" RETURNING "x"."id"',
    "INSERT INTO x SELECT * FROM y",
    "INSERT INTO x (a, b) SELECT * FROM y WHERE y.a > 1",
    "WITH c AS (SELECT * FROM y) INSERT INTO x SELECT * FROM c",
    "CREATE TABLE x AS SELECT * FROM y",
    "CREATE VIEW v AS SELECT * FROM y",
    "SELECT * INTO x FROM y",
    "DELETE FROM t WHERE t.id IN (SELECT * FROM (SELECT u0.id FROM t u0 JOIN u u1 ON u0.x = u1.id) subquery)",
    "UPDATE t SET a = 1 WHERE id IN (SELECT * FROM (SELECT id FROM t WHERE b > 2) s)",
    "EXPLAIN SELECT * FROM t",
    "INSERT INTO t (a) VALUES (1) RETURNING *",
]

NOT_A_SELECT_LIST = [
    "SELECT COUNT(*) FROM t",
    "SELECT a * b FROM t",
    "SELECT a FROM t WHERE EXISTS (SELECT * FROM u WHERE u.id = t.id)",
    "SELECT a FROM t WHERE NOT EXISTS(SELECT * FROM u)",
    "SELECT EXISTS (SELECT * FROM t WHERE t.n > ?) AS anon_1",
    "SELECT a FROM t WHERE EXISTS (SELECT * FROM u UNION SELECT * FROM v)",
]


@pytest.mark.parametrize("sql", READS_A_TABLE)
def test_a_star_that_reads_a_table_is_a_select_star(sql: str) -> None:
    """A star expanding to a table's columns, in a SELECT's select list, is a select_star."""
    assert _sql.analyze(sql).select_star is True


@pytest.mark.parametrize("sql", PASSES_ON_CHOSEN_COLUMNS)
def test_a_star_over_a_source_with_chosen_columns_is_not(sql: str) -> None:
    """A star over a function, subquery, CTE or VALUES list passes on columns chosen elsewhere."""
    assert _sql.analyze(sql).select_star is False


@pytest.mark.parametrize("sql", RETURNS_NO_ROWS_TO_THE_CODE)
def test_a_star_in_a_statement_that_returns_no_rows_is_not(sql: str) -> None:
    """INSERT ... SELECT *, CREATE ... AS SELECT *, stars in UPDATE or DELETE: the code reads no rows."""
    assert _sql.analyze(sql).select_star is False


@pytest.mark.parametrize("sql", NOT_A_SELECT_LIST)
def test_a_star_outside_a_select_list_is_not(sql: str) -> None:
    """COUNT(*), a product, and a star under EXISTS are no select list that anyone reads."""
    assert _sql.analyze(sql).select_star is False


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM book WHERE id < 3", ["select_star"]),
        ("SELECT b.* FROM book b JOIN author a ON a.id = b.author_id WHERE a.id = 1", ["select_star"]),
        ("SELECT * FROM json_each('[1, 2, 3]')", []),
        ("SELECT j.* FROM book, json_each('[1, 2]') AS j WHERE book.id = 1", []),
        ("SELECT * FROM (SELECT id, title FROM book) AS b WHERE b.id < 3", []),
        ("WITH b AS (SELECT id, title FROM book) SELECT * FROM b WHERE b.id < 3", []),
        ("SELECT * FROM (VALUES (1, 'a'), (2, 'b'))", []),
        ("INSERT INTO book SELECT * FROM book WHERE 1 = 0", []),
    ],
)
def test_findings_on_real_statements(sql: str, expected: list[str]) -> None:
    """On a real SQLite database: stars that read a table are reported, the others are not."""
    conn = shop_db()
    with queryguard.capture(action="none", explain=False) as cap:
        conn.execute(sql).fetchall()
    assert [f.kind for f in cap.findings] == expected


def test_each_shape_that_reads_a_table_is_reported_once() -> None:
    """One finding per shape that reads a table; the function and subquery stars beside it add none."""
    conn = shop_db()
    with queryguard.capture(action="none", explain=False) as cap:
        for _ in range(2):
            conn.execute("SELECT * FROM json_each('[1]')").fetchall()
            conn.execute("SELECT * FROM (SELECT id FROM author) a").fetchall()
        conn.execute("SELECT a.* FROM author a WHERE a.id = 1").fetchall()
    stars = [f for f in cap.findings if f.kind == "select_star"]
    assert [f.sql for f in stars] == ["SELECT a.* FROM author a WHERE a.id = 1"]


def _rows(n: int, item: str, width: int, sep: str = ", ") -> str:
    return sep.join(item.format(i=i) for i in range(max(1, n // width)))


#: Inputs that stress the star rule's own pass (the analysis of every statement is tried in test_linear).
ADVERSARIAL = {
    "qualified stars, nested joins": lambda n: (
        "SELECT " + _rows(n // 2, "t{i}.*", 7) + " FROM " + "(" * (n // 4) + "a JOIN b ON a.x = b.x"
    ),
    "qualified stars, closed nested joins": lambda n: (
        "SELECT " + _rows(n // 2, "t{i}.*", 7) + " FROM " + "(" * (n // 8) + "a" + ")" * (n // 8)
    ),
    "many subqueries in FROM": lambda n: "SELECT * FROM " + _rows(n, "(SELECT a FROM t) x{i}", 24),
    "many functions in FROM": lambda n: "SELECT * FROM " + _rows(n, "f(1) AS a{i}", 14),
    "many unions": lambda n: _rows(n, "SELECT * FROM (SELECT 1) x", 33, " UNION "),
    "open parentheses after FROM": lambda n: "SELECT t.* FROM " + "(" * n,
    "stars in open subqueries": lambda n: "SELECT a FROM " + "(SELECT * FROM " * (n // 15),
    "long alias": lambda n: "SELECT * FROM (SELECT a FROM t) " + "x" * n,
    "row stars in calls": lambda n: "SELECT " + "f(t.*)" * (n // 6) + " FROM t",
    "stars in a long FROM list": lambda n: "SELECT *, t.* FROM " + _rows(n, "t{i} x{i}", 10),
}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_the_rule_is_linear(name: str) -> None:
    """The star rule reads each statement in time linear in its length."""

    def analyze(text: str) -> bool:
        _sql._cache_clear()
        return _sql.analyze(text).select_star

    assert doubling_ratio(analyze, ADVERSARIAL[name]) < 3.0

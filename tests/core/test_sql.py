"""Statement analysis: shapes, fingerprints, statement facts and parameter keys."""

from __future__ import annotations

import datetime
import decimal
import json
import os
import subprocess
import sys
import textwrap
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite

from queryguard import _sql
from queryguard._sql import Statement, _facts, _shape, _statement, analyze, params_key, params_keys

BASE = "SELECT a FROM t WHERE id = %s"


def fingerprints(*statements: str) -> set[str]:
    return {analyze(sql).fingerprint for sql in statements}


PLACEHOLDERS = ["%(id)s", "?", "?1", ":id", ":1", "$1", "42", "-42", "4.2e1", "'it''s'", "E'it\\'s'", "X'0F'"]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholder_styles_and_literals_share_the_fingerprint(value: str) -> None:
    """Every placeholder style and every literal value gives the same shape."""
    statement = analyze(f"SELECT a FROM t WHERE id = {value}")
    assert statement.shape == "SELECT a FROM t WHERE id = ?"
    assert statement.fingerprint == analyze(BASE).fingerprint


def test_postgres_casts_are_not_placeholders() -> None:
    """``::int`` is a cast: it stays in the shape and tells statements apart."""
    assert analyze("SELECT x :: int FROM t").shape == "SELECT x::int FROM t"
    assert len(fingerprints("SELECT x::int FROM t", "SELECT x::text FROM t", "SELECT x FROM t")) == 3


@pytest.mark.parametrize(
    ("condition", "shape", "in_list_max"),
    [
        ("id IN (%s)", "id IN (...)", 1),
        ("id IN (%s, %s, %s)", "id IN (...)", 3),
        ("id NOT IN (1,2,3,4)", "id NOT IN (...)", 4),
        ("id IN ( 'a' , 'b' )", "id IN (...)", 2),
        ("id IN ($1::INTEGER, $2::INTEGER)", "id IN (...)", 2),
        ("id IN (" + ", ".join(["?"] * 500) + ")", "id IN (...)", 500),
        ("(a, b) IN ((1, 2), (3, 4), (5, 6))", "(a, b) IN (...)", 3),
        ("id IN (SELECT t_id FROM u)", "id IN (SELECT t_id FROM u)", 0),
    ],
)
def test_in_lists_collapse(condition: str, shape: str, in_list_max: int) -> None:
    """An IN list of any length collapses to ``IN (...)`` and is measured; a subquery stays."""
    statement = analyze(f"SELECT a FROM t WHERE {condition}")
    assert (statement.shape, statement.in_list_max) == (f"SELECT a FROM t WHERE {shape}", in_list_max)


@pytest.mark.parametrize("rows", [1, 2, 50])
def test_values_rows_collapse(rows: int) -> None:
    """``VALUES (...), (...)`` collapses whatever the row count, which is kept apart."""
    statement = analyze('INSERT INTO "book" ("title", "year") VALUES ' + ", ".join(["(%s, %s)"] * rows))
    assert statement.shape == "INSERT INTO book(title, year) VALUES (...)"
    assert (statement.values_rows, statement.is_single_row_write) == (rows, rows == 1)


@pytest.mark.parametrize(
    "variant",
    [
        "select a from t where id = %s",
        "SELECT  a\n\tFROM t\nWHERE id=%s;",
        "SELECT a FROM t -- the list\nWHERE id = %s",
        "/* sqlcommenter */ SELECT a FROM t WHERE id = %s /* route='/x' */",
        'SELECT "a" FROM "t" WHERE "id" = %s',
        "SELECT `a` FROM `t` WHERE `id` = %s",
        "SELECT [a] FROM [t] WHERE [id] = %s",
    ],
)
def test_cosmetic_differences_share_the_fingerprint(variant: str) -> None:
    """Case, blanks, comments, quoting and a trailing semicolon do not change the shape."""
    assert analyze(variant).shape == analyze(BASE).shape


def test_structural_differences_change_the_fingerprint() -> None:
    """Different tables, columns, operators or clauses give different fingerprints."""
    edits = [
        ("SELECT a", "SELECT b"),
        ("FROM t", "FROM u"),
        ("id =", "id >"),
        ("id =", "pk ="),
        ("%s", "%s LIMIT 1"),
        ("FROM t", "FROM public.t"),
        ("SELECT a", "SELECT a, b"),
        ("id = %s", "id IN (%s)"),
        ("SELECT a", "SELECT count(a)"),
    ]
    statements = [BASE] + [BASE.replace(old, new) for old, new in edits]
    assert len(fingerprints(*statements)) == len(statements)
    assert all(len(f) == 16 and set(f) <= set("0123456789abcdef") for f in fingerprints(*statements))


def test_savepoint_names_are_normalised() -> None:
    """Savepoint names vary per atomic block: they leave the shape."""
    names = ['SAVEPOINT "s140245_x2"', "SAVEPOINT sa_1", 'RELEASE SAVEPOINT "s1_x2"', "ROLLBACK TO x"]
    shapes = ["SAVEPOINT ?", "SAVEPOINT ?", "RELEASE SAVEPOINT ?", "ROLLBACK TO ?"]
    assert [analyze(sql).shape for sql in names] == shapes
    assert {analyze(sql).kind for sql in names} == {"transaction"}


@pytest.mark.parametrize(
    ("sql", "kind", "single_row_write"),
    [
        ("SELECT 1", "select", False),
        ("(SELECT 1) UNION (SELECT 2)", "select", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "select", False),
        ("WITH d AS (DELETE FROM t RETURNING id) SELECT count(*) FROM d", "select", False),
        ("WITH RECURSIVE x(n) AS (SELECT 1) INSERT INTO t SELECT n FROM x", "insert", False),
        ("VALUES (1), (2)", "select", False),
        ("INSERT INTO t (a) VALUES (%s)", "insert", True),
        ("INSERT INTO t DEFAULT VALUES", "insert", True),
        ("REPLACE INTO t (a) VALUES (1), (2)", "insert", False),
        ("INSERT OR IGNORE INTO t (a) SELECT a FROM u", "insert", False),
        ("update t set a = 1", "update", True),
        ("DELETE FROM t WHERE id = %s", "delete", True),
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "merge", False),
        ("BEGIN", "transaction", False),
        ("START TRANSACTION", "transaction", False),
        ("COMMIT;", "transaction", False),
        ("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", "transaction", False),
        ("CREATE TABLE t (id int)", "ddl", False),
        ("TRUNCATE t", "ddl", False),
        ("COMMENT ON TABLE t IS 'x'", "ddl", False),
        ("GRANT SELECT ON t TO u", "ddl", False),
        ("EXPLAIN ANALYZE SELECT 1", "other", False),
        ("SHOW search_path", "other", False),
        ("SET search_path TO public", "other", False),
        ("PRAGMA foreign_keys = ON", "other", False),
    ],
)
def test_kind_and_single_row_writes(sql: str, kind: str, single_row_write: bool) -> None:
    """The kind comes from the first keyword past parentheses and WITH; one-row writes are told apart."""
    assert (analyze(sql).kind, analyze(sql).is_single_row_write) == (kind, single_row_write)


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('SELECT "shop_book"."id" FROM "shop_book"', ("shop_book",)),
        ("SELECT * FROM Public.Book b JOIN author a ON a.id = b.author_id", ("public.book", "author")),
        ("SELECT * FROM a, b x, c AS y WHERE a.id = b.id", ("a", "b", "c")),
        ("SELECT * FROM (SELECT * FROM inner_t) AS sub", ("inner_t",)),
        ("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON 1=1", ("orders", "users")),
        ("SELECT extract(YEAR FROM t.created) FROM t", ("t",)),
        ("SELECT * FROM generate_series(1, 3)", ()),
        ("INSERT INTO `shop`.`book` (title) SELECT title FROM staging", ("shop.book", "staging")),
        ("UPDATE t SET a = 1 FROM u WHERE t.id = u.id", ("t", "u")),
        ("DELETE FROM t USING u WHERE t.id = u.id", ("t", "u")),
        ('SELECT * FROM "My Table"', ("my table",)),
        ("SELECT * FROM t JOIN t ON 1 = 1", ("t",)),
    ],
)
def test_tables(sql: str, tables: tuple[str, ...]) -> None:
    """Tables are unquoted, lower-cased, schema-qualified, in order, without duplicates or aliases."""
    assert analyze(sql).tables == tables


@pytest.mark.parametrize(
    ("sql", "star"),
    [
        ("SELECT * FROM t", True),
        ("SELECT t.* FROM t", True),
        ("SELECT a, * FROM t", True),
        ("SELECT DISTINCT * FROM t", True),
        ("SELECT a FROM (SELECT * FROM t) x", True),
        ("WITH x AS (SELECT * FROM t) SELECT a FROM x", True),
        ("SELECT * FROM t WHERE EXISTS (SELECT * FROM u)", True),
        ("SELECT COUNT(*) FROM t", False),
        ("SELECT a * b FROM t", False),
        ("SELECT a FROM t WHERE EXISTS (SELECT * FROM u WHERE u.id = t.id)", False),
        ("SELECT a FROM t WHERE NOT EXISTS(SELECT * FROM u)", False),
        ("INSERT INTO t (a) VALUES (1) RETURNING *", False),
    ],
)
def test_select_star(sql: str, star: bool) -> None:
    """A star counts in a select list, not in a call, an expression or directly under EXISTS."""
    assert analyze(sql).select_star is star


FLAGS = ("writes", "locking", "volatile_calls", "read_only")


@pytest.mark.parametrize(
    ("sql", "flag"),
    [
        ("SELECT a FROM t", "read_only"),
        ("SELECT substring(a FROM 1 FOR 2), random(), mynextval(1), 'nextval(1)' FROM t", "read_only"),
        ("WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d", "writes"),
        ("WITH u AS (UPDATE t SET a = 1 RETURNING id) SELECT * FROM u", "writes"),
        ("WITH i AS (INSERT INTO t (a) VALUES (1) RETURNING id) SELECT * FROM i", "writes"),
        ("SELECT * INTO backup FROM t", "writes"),
        ("CREATE INDEX i ON t (a)", "writes"),
        ("BEGIN", None),
        ("SELECT * FROM t FOR UPDATE", "locking"),
        ("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", "locking"),
        ("SELECT * FROM t LOCK IN SHARE MODE", "locking"),
        ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "locking"),
        ("SELECT NEXTVAL('book_id_seq')", "volatile_calls"),
        ("SELECT pg_try_advisory_xact_lock(%s)", "volatile_calls"),
        ("SELECT pg_sleep(1), SLEEP(1), GET_LOCK('x', 10)", "volatile_calls"),
        ("SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)", "volatile_calls"),
    ],
)
def test_writes_locking_volatile_calls_and_read_only(sql: str, flag: str | None) -> None:
    """Writes anywhere (CTEs too), locking clauses and sequence/lock/sleep calls; read_only needs none."""
    assert [name for name in FLAGS if getattr(analyze(sql), name)] == ([flag] if flag else [])


@pytest.mark.parametrize(
    ("sql", "has_limit", "offset"),
    [
        ("SELECT a FROM t LIMIT 21", True, None),
        ("SELECT a FROM t LIMIT 20 OFFSET 4000", True, 4000),
        ("SELECT a FROM t LIMIT %s OFFSET %s", True, None),
        ("SELECT a FROM t LIMIT 40, 20", True, 40),
        ("SELECT a FROM t ORDER BY a OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY", True, 10),
        ("SELECT a FROM t WHERE b = 'LIMIT 1 OFFSET 9' /* OFFSET 7 */", False, None),
        ("SELECT a FROM t OFFSET 99999999999999999999999", False, None),
    ],
)
def test_limit_and_offset(sql: str, has_limit: bool, offset: int | None) -> None:
    """LIMIT/FETCH are flagged and a numeric OFFSET (or MySQL's LIMIT a, b) is read."""
    assert (analyze(sql).has_limit, analyze(sql).offset) == (has_limit, offset)


MALFORMED = ["", "  ", "-- only", "/* open", "SELECT 'open", 'SELECT "open', "SELECT ((a", "SELECT a))", "["]


@pytest.mark.parametrize(
    "sql",
    [*MALFORMED, "\x00 FROM t\x00", "$$ open", "x = '\\", "\ud800", b"SELECT 'caf\xc3\xa9'", b"\xff\xfe"],
)
def test_malformed_input_never_raises(sql: str | bytes) -> None:
    """Malformed SQL, NUL bytes, lone surrogates, bytes and invalid UTF-8 are analysed without raising."""
    statement = analyze(sql)
    assert isinstance(statement, Statement)
    assert len(statement.fingerprint) == 16


def test_huge_statements_are_analysed() -> None:
    """A megabyte-sized bulk INSERT or IN list collapses; its rows and items are counted in its first part."""
    rows = ", ".join(f"({i}, 'name {i}', {i}.5, NULL)" for i in range(20_000))
    sql = f"INSERT INTO t (a, b, c, d) VALUES {rows}"
    insert = analyze(sql)
    assert (insert.shape, insert.is_single_row_write) == ("INSERT INTO t(a, b, c, d) VALUES (...)", False)
    assert insert.values_rows == sql[: _sql.MAX_CHARS].count("), (") + 1  # the rows begun before the limit
    ids = "SELECT a FROM t WHERE id IN (" + ", ".join(map(str, range(100_000))) + ")"
    in_list = analyze(ids)
    assert (in_list.shape, in_list.in_list_max) == (
        "SELECT a FROM t WHERE id IN (...)",
        ids[: _sql.MAX_CHARS].count(","),
    )


def bulk_insert(rows: int) -> str:
    """An INSERT of ``rows`` rows of literal values."""
    return "INSERT INTO t (a, b) VALUES " + ", ".join(f"({i}, 'name {i}')" for i in range(rows))


FIVE_MB = 5 * 2**20


def test_a_long_statement_is_read_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5 MB statement is analysed by its first ``MAX_CHARS`` characters, however often it is asked for."""
    read: list[int] = []
    analyze_text = _statement.analyze_text

    def counted(text: str, **kwargs: bool) -> Statement:
        read.append(len(text))
        return analyze_text(text, **kwargs)

    monkeypatch.setattr(_statement, "analyze_text", counted)
    _sql._cache_clear()
    sql = bulk_insert(FIVE_MB // 16)
    assert len(sql) > FIVE_MB
    first = analyze(sql)
    assert (first.kind, first.shape, _sql.rough_kind(sql)) == (
        "insert",
        "INSERT INTO t(a, b) VALUES (...)",
        "insert",
    )
    assert _sql.literal_key(sql) == first.shape and analyze(sql) is first
    assert read == [_sql.MAX_CHARS]


def test_no_cache_keeps_a_long_statement() -> None:
    """Rule 6: analysing a long statement, keying and classing it leave no reference to its text anywhere."""
    _sql._cache_clear()
    sql = bulk_insert(FIVE_MB // 16)
    before = sys.getrefcount(sql)
    for _ in range(2):
        analyze(sql)
        _sql.literal_key(sql)
        _sql.rough_kind(sql)
    assert sys.getrefcount(sql) == before


@pytest.mark.parametrize(
    "tail",
    [
        ", (1, 'a')" * 100_000,
        ", ('" + "x" * FIVE_MB,
        " /* " + "y" * FIVE_MB,
        ") ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b",
        "; DELETE FROM t",
    ],
    ids=["more rows", "open string", "open comment", "a clause", "a statement"],
)
def test_what_follows_the_limit_is_not_read(tail: str) -> None:
    """Past ``MAX_CHARS`` nothing is read: whatever follows, the facts are those of the first part."""
    first = bulk_insert(3_000)
    assert len(first) > _sql.MAX_CHARS
    assert analyze(first + tail) == analyze(first)


def test_a_bulk_insert_has_one_shape_whatever_its_row_count() -> None:
    """Cut in its first row or its thousandth, a long bulk INSERT has the shape of a short one."""
    shapes = {analyze(bulk_insert(rows)).fingerprint for rows in (2, 10, 2_000, 3_001, 50_000, 123_457)}
    assert shapes == {analyze(bulk_insert(2)).fingerprint}
    one_huge_row = analyze("INSERT INTO t (a, b) VALUES (1, '" + "x" * FIVE_MB + "')")
    assert (one_huge_row.shape, one_huge_row.is_single_row_write) == (
        "INSERT INTO t(a, b) VALUES (...)",
        True,
    )


def test_cache_is_bounded() -> None:
    """The memo of analysed statements never holds more than 4096 texts."""
    for i in range(10_000):
        analyze(f"SELECT a FROM t WHERE b{i} = %s")
    assert 0 < _statement.cache_size() <= 4096
    assert analyze("SELECT 1") is analyze("SELECT 1")


class Opaque:
    """An unhashable parameter with a value-based repr."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Opaque({self.value!r})"


SAME_PARAMS: list[tuple[Any, Any]] = [
    ((1, "a", None), [1, "a", None]),
    ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}),
    ([[1, 2], [3, 4]], ((1, 2), (3, 4))),
    ((b"\x00\x01",), (memoryview(b"\x00\x01"),)),
    ((bytearray(b"xy"),), (b"xy",)),
    ((decimal.Decimal("1.50"),), (decimal.Decimal("1.5"),)),
    ((float("nan"),), (float("nan"),)),
    ((datetime.datetime(2024, 1, 2, 3, 4),), (datetime.datetime(2024, 1, 2, 3, 4),)),
    ((uuid.UUID(int=7),), (uuid.UUID(int=7),)),
    (({1, 2},), ({2, 1},)),
    ((Opaque([1]),), (Opaque([1]),)),
    (None, None),
]
DIFFERENT_PARAMS: list[tuple[Any, Any]] = [
    ((1,), (2,)),
    ((1,), ("1",)),
    ((1,), (True,)),
    ((1,), (1.0,)),
    (("a",), (b"a",)),
    ({"a": 1}, {"a": 2}),
    ({"a": 1}, {"b": 1}),
    ([[1, 2]], [[2, 1]]),
    ((decimal.Decimal("1"),), (decimal.Decimal("2"),)),
    ((Opaque(1),), (Opaque(2),)),
    ((None,), ()),
]


@pytest.mark.parametrize(("a", "b"), SAME_PARAMS)
def test_params_key_equal_for_equal_values(a: Any, b: Any) -> None:
    """Equal parameter sets get equal, hashable keys whatever their containers."""
    assert params_key(a) == params_key(b)
    assert hash(params_key(a)) == hash(params_key(b))


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PARAMS)
def test_params_key_differs_for_different_values(a: Any, b: Any) -> None:
    """Different values, or values of different types, get different keys."""
    assert params_key(a) != params_key(b)


@pytest.mark.parametrize("pair", SAME_PARAMS + DIFFERENT_PARAMS)
def test_params_keys_match_params_key(pair: tuple[Any, Any]) -> None:
    """The keys of a whole run are the keys of its parameter sets one by one."""
    run = [*pair, (1, "a", None), [2, "b"]]
    assert params_keys(run) == [params_key(params) for params in run]


def test_params_key_never_raises() -> None:
    """Recursive structures and objects whose repr raises still get a key."""

    class Broken:
        __hash__ = None  # type: ignore[assignment]

        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    recursive: list[object] = [1]
    recursive.append(recursive)
    for params in (recursive, (Broken(),), {"k": Broken()}):
        hash(params_key(params))


@given(st.text())
def test_analyze_never_raises_and_is_deterministic(text: str) -> None:
    """Any text is analysed, and twice to the same result."""
    statement = _statement.analyze_text(text)
    assert statement == _statement.analyze_text(text)
    assert analyze(text).fingerprint == statement.fingerprint
    # the lazy facts swallow errors: the scan itself must not raise
    _facts.scan_facts(statement.shape, statement.kind, _facts.scan(statement.shape, pending_kind=False))


COLUMNS = st.sampled_from(["a", "b", '"c"', "t.d"])


@given(
    st.lists(st.tuples(COLUMNS, st.sampled_from(["=", "<", ">="]), st.integers()), min_size=1, max_size=4),
    st.integers(),
    st.sampled_from([" ", "  ", "\n", "\t "]),
)
def test_integer_literals_and_layout_do_not_change_the_fingerprint(
    conditions: list[tuple[str, str, int]], other: int, blank: str
) -> None:
    """Replacing integer literals, re-spacing or adding a comment keeps the fingerprint."""
    where = " AND ".join(f"{column} {op} {value}" for column, op, value in conditions)
    sql = f"SELECT a, b FROM t WHERE {where}"
    replaced = f"SELECT a, b FROM t WHERE {' AND '.join(f'{c} {o} {other}' for c, o, _ in conditions)}"
    respaced = blank.join(sql.split(" "))
    commented = sql + " -- a trailing comment takes the tokeniser's path"
    assert len(fingerprints(sql, replaced, respaced, commented)) == 1


FRAGMENTS = [
    " ",
    "\n",
    "a",
    "b1",
    "(",
    ")",
    ",",
    "*",
    ".",
    ";",
    ":",
    "::",
    "-",
    "1",
    "?",
    "%s",
    "$1",
    '"',
    "[",
]
FRAGMENTS += ["]", "`", "=", "SELECT", "FROM", "WHERE ", "IN", "VALUES", "x(", "OFFSET 5", "LIMIT 3,"]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_chunk_and_token_paths_agree(text: str) -> None:
    """The blank-split fast paths and the tokeniser give the same shape to the same text."""
    assert analyze(text) == analyze("/* forces the tokeniser */ " + text)


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_offset_check_agrees_with_the_scan(text: str) -> None:
    """The substring test that spares the scan finds an OFFSET exactly when the scan does."""
    shape = analyze(text).shape
    assert _shape.may_offset(shape) == _facts.scan(shape, pending_kind=not _facts.kind_of(shape)).offset


NAMES = ['"T1"', '"t1"."C_2"', "t.c", "T.C", '"a"."b"."c"', "_x.y9", '"select"', 'u."v"', '"a b"', '"1a"']


@given(
    st.lists(
        st.one_of(st.sampled_from(NAMES), st.sampled_from([*FRAGMENTS, "(", ")", ",", " ", "),", "("])),
        max_size=20,
    ).map("".join)
)
def test_name_chunks_agree_with_the_tokeniser(text: str) -> None:
    """Chunks made of quoted or dotted names take a shortcut that the tokeniser agrees with."""
    assert analyze(text) == analyze("/* forces the tokeniser */ " + text)


def test_statements_compare_by_every_fact() -> None:
    """Facts worked out on first use still take part in equality, hashing and the repr."""
    first, again = analyze("SELECT * FROM t LIMIT 5 OFFSET 10"), analyze("SELECT  * FROM t LIMIT 6 OFFSET 10")
    assert first == again and hash(first) == hash(again) and first != analyze("SELECT * FROM t LIMIT 5")
    assert first != analyze("SELECT * FROM t LIMIT 5 OFFSET 11") and first != first.shape
    assert repr(first) == (
        f"Statement(shape='SELECT * FROM t LIMIT ? OFFSET ?', fingerprint='{first.fingerprint}', "
        "kind='select', tables=('t',), select_star=True, values_rows=0, in_list_max=0, has_limit=True, "
        "offset=10, writes=False, locking=False, volatile_calls=False)"
    )


def test_fingerprints_are_stable_across_processes() -> None:
    """A fingerprint is a digest of the shape, the same in every run and on every machine."""
    assert analyze(BASE).fingerprint == "4ca1310a97005db2"  # blake2b, 8 bytes, of the shape


BOOK = sa.Table(
    "book",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(50)),
    sa.Column("author_id", sa.Integer),
)
DIALECTS = [sqlite.dialect(), postgresql.dialect(), mysql.dialect()]


def render(statement: sa.ClauseElement, dialect: sa.Dialect, **compile_kwargs: bool) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs=compile_kwargs))


def by_author(ids: list[int], title: str = "x") -> sa.Select[Any]:
    query = sa.select(BOOK.c.id, BOOK.c.title)
    return query.where(BOOK.c.author_id.in_(ids), BOOK.c.title != title).limit(10)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_sqlalchemy_statements(dialect: sa.Dialect) -> None:
    """SQLAlchemy's renderings share a fingerprint across values and IN-list lengths, not across queries."""
    bound = [render(by_author(ids), dialect, render_postcompile=True) for ids in ([1], [1, 2, 3])]
    literal = [render(by_author(i, t), dialect, literal_binds=True) for i, t in (([1], "a"), ([7, 8], "b"))]
    assert len(fingerprints(*bound)) == 1
    assert len(fingerprints(*literal)) == 1
    assert [analyze(sql).in_list_max for sql in bound + literal] == [1, 3, 1, 2]
    only_id = sa.select(BOOK.c.id).where(BOOK.c.author_id.in_([1])).limit(10)
    other = [
        render(only_id, dialect, render_postcompile=True),
        render(sa.select(BOOK.c.id, BOOK.c.title).where(BOOK.c.id == 1), dialect),
        render(sa.select(BOOK).with_for_update(), dialect),
    ]
    assert len(fingerprints(bound[0], *other)) == 4
    assert analyze(other[2]).locking is (dialect.name != "sqlite")
    inserts = [render(sa.insert(BOOK).values([{"title": "t"}] * n), dialect) for n in (2, 3)]
    assert len(fingerprints(*inserts)) == 1
    assert [analyze(sql).values_rows for sql in inserts] == [2, 3]
    paged = render(by_author([1]).offset(40), dialect, literal_binds=True)
    assert (analyze(paged).tables, analyze(paged).offset) == (("book",), 40)


DJANGO_SCRIPT = """
    import json, django
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    )
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    call_command("migrate", verbosity=0)

    def nested_create():
        with transaction.atomic(), transaction.atomic():
            Group.objects.create(name="g1")

    runs = {
        "in_2": lambda: list(User.objects.filter(id__in=[1, 2])),
        "in_5": lambda: list(User.objects.filter(id__in=[1, 2, 3, 4, 5])),
        "join_a": lambda: list(User.objects.filter(groups__name="a")[:5]),
        "join_b": lambda: list(User.objects.filter(groups__name="b", username__icontains="c")[:5]),
        "atomic": nested_create,
        "bulk": lambda: Group.objects.bulk_create([Group(name="g2"), Group(name="g3")]),
        "page": lambda: list(User.objects.all()[40:60]),
    }
    captured = {}
    for label, run in runs.items():
        with CaptureQueriesContext(connection) as context:
            run()
        captured[label] = [query["sql"] for query in context.captured_queries]
    captured["template"] = [User.objects.filter(id__in=[1, 2]).query.sql_with_params()[0]]
    print(json.dumps(captured))
"""


def test_django_statements() -> None:
    """SQL that Django really runs (in a throw-away process, to keep its settings out of this one)."""
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    script = textwrap.dedent(DJANGO_SCRIPT)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    runs = {label: [analyze(sql) for sql in queries] for label, queries in json.loads(result.stdout).items()}
    in_2, in_5, template, join_a, join_b, page = (runs[label][0] for label in DJANGO_SINGLE_QUERIES)
    assert in_2.fingerprint == in_5.fingerprint == template.fingerprint
    assert (in_2.in_list_max, in_5.in_list_max, in_2.tables) == (2, 5, ("auth_user",))
    assert join_a.fingerprint != join_b.fingerprint
    assert join_b.tables == ("auth_user", "auth_user_groups", "auth_group")
    assert {s.shape for s in runs["atomic"] if "SAVEPOINT" in s.shape} == {
        "SAVEPOINT ?",
        "RELEASE SAVEPOINT ?",
    }
    (insert,) = (s for s in runs["atomic"] if s.kind == "insert")
    (bulk,) = (s for s in runs["bulk"] if s.kind == "insert")
    assert insert.fingerprint == bulk.fingerprint
    assert (insert.is_single_row_write, bulk.values_rows, bulk.is_single_row_write) == (True, 2, False)
    assert (page.offset, page.has_limit, page.read_only) == (40, True, True)


DJANGO_SINGLE_QUERIES = ("in_2", "in_5", "template", "join_a", "join_b", "page")


@pytest.mark.parametrize(
    ("sql", "key"),
    [
        ("SELECT a FROM t1 WHERE id = 42", "SELECT a FROM t1 WHERE id = ?"),
        ("SELECT a FROM t WHERE b = 'it''s' AND c = 1.5e3", "SELECT a FROM t WHERE b = ? AND c = ?"),
        ("SELECT a FROM t WHERE b = 'it\\'s'", "SELECT a FROM t WHERE b = ?"),
        ("SELECT a FROM t WHERE b IN (1, 2, 3) LIMIT 21", "SELECT a FROM t WHERE b IN (?, ?, ?) LIMIT ?"),
        ("SELECT c2 FROM t WHERE b = 'never closed", "SELECT c2 FROM t WHERE b = ?"),
        ("SELECT a FROM t WHERE id = %s", "SELECT a FROM t WHERE id = %s"),
    ],
)
def test_literal_key_replaces_strings_and_numbers(sql: str, key: str) -> None:
    """The key past ``max_events``: strings and numbers become ``?``; digits inside names stay."""
    assert _sql.literal_key(sql) == key


def test_literal_key_keeps_shapes_apart() -> None:
    """Statements that differ in more than literals get different keys; a non-text gets its repr."""
    keys = {_sql.literal_key(f"SELECT c{i} FROM t WHERE id = {i}") for i in range(3)}
    assert len(keys) == 3
    assert _sql.literal_key(b"SELECT 1") == "b'SELECT 1'"


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "select"),
        ("  (select 1) UNION (select 2)", "select"),
        ("WITH a AS (SELECT 1) DELETE FROM t", "with"),
        ("begin", "transaction"),
        ("/* comment */ SELECT 1", "other"),
        ("", "other"),
    ],
)
def test_rough_kind_reads_the_first_word(sql: str, kind: str) -> None:
    """The kind of a statement past the overflow cap comes from its first word, without analysis."""
    assert _sql.rough_kind(sql) == kind

"""Plan findings on real SQLite, PostgreSQL and MariaDB: each names the table, the columns and the fix."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

import queryguard
from queryguard import Finding
from queryguard._explain.sources import DBAPISource, connection_source

from .conftest import Shop


def explain_block(
    shop: Shop, sql: str, params: Any, *, orm: str | None = None, **settings: Any
) -> queryguard.Capture:
    """Run one statement in a capture where every statement counts as slow, explained in the foreground."""
    options = {"slow_query_ms": 0, "action": "none", **settings}
    with queryguard.capture(**options) as cap:
        shop.recorder(orm).run(shop.sql(sql), params)
    return cap


def one(cap: queryguard.Capture, kind: str) -> Finding:
    """The single finding of ``kind``."""
    found = [f for f in cap.findings if f.kind == kind]
    assert len(found) == 1, [f.message for f in cap.findings]
    return found[0]


def test_unindexed_filter_is_a_full_scan_with_the_django_index(shop: Shop) -> None:
    """A slow filter on an unindexed column is one finding, full_scan, with its plan and the models.Index."""
    cap = explain_block(shop, "SELECT id, title FROM book WHERE title = ?", ("title 42",), orm="django")
    [scan] = cap.findings  # one verdict per slow statement
    assert (scan.kind, scan.table, scan.columns) == ("full_scan", "book", ("title",))
    assert scan.severity == "warning"
    assert 'models.Index(fields=["title"], name="book_title_idx")' in scan.suggestion
    assert "db_index=True" in scan.suggestion
    assert scan.message.startswith("full scan: ")
    assert "filtering on title with no index" in scan.message and "(the SELECT took " in scan.message
    assert scan.plan is not None and scan.details["explained"] is True
    assert [s["kind"] for s in scan.details["smells"]] == ["full_scan"]
    assert scan.details["index_sql"].startswith("CREATE INDEX")


@pytest.mark.parametrize("orm", ["sqlalchemy", None])
def test_an_unmapped_table_gets_create_index(shop: Shop, orm: str | None) -> None:
    """A table no class maps (SQLAlchemy Core) and raw SQL get CREATE INDEX (CONCURRENTLY on PostgreSQL)."""
    cap = explain_block(shop, "SELECT id FROM book WHERE title = ?", ("title 7",), orm=orm)
    scan = one(cap, "full_scan")
    concurrently = " CONCURRENTLY" if shop.vendor == "postgresql" else ""
    assert scan.suggestion == f"add an index: CREATE INDEX{concurrently} book_title_idx ON book (title);"


def test_model_names_come_from_the_source_when_it_knows_them(sqlite_shop_db: Shop) -> None:
    """A source's model_fields hook turns table and columns into the model and its fields."""
    conn = sqlite_shop_db.conn
    sqlite_shop_db.source = DBAPISource(
        None, vendor="sqlite", session=lambda: conn,
        model_fields=lambda table, columns: ("Book", ["author"]) if table == "book" else None,
    )  # fmt: skip
    cap = explain_block(sqlite_shop_db, "SELECT id FROM book WHERE author_id = ?", (3,), orm="django")
    scan = one(cap, "full_scan")
    assert (
        'models.Index(fields=["author"], name="book_author_id_idx") to Book.Meta.indexes' in scan.suggestion
    )
    assert "(or db_index=True on Book.author)" in scan.suggestion
    assert "author_id: a foreign key without an index" in scan.message


def test_function_on_an_indexed_column_disables_its_index(shop: Shop) -> None:
    """abs(price) on the indexed price column is a function_on_column finding, not a missing index."""
    cap = explain_block(shop, "SELECT id, title FROM book WHERE abs(price) = ?", (5,), orm="django")
    finding = one(cap, "function_on_column")
    assert (finding.table, finding.columns, finding.details["wrapper"]) == ("book", ("price",), "abs")
    assert "abs(price) in the filter on book keeps the index on price from being used" in finding.message
    assert "index the expression" in finding.suggestion
    assert not [f for f in cap.findings if f.kind == "full_scan"]


def test_decimal_compared_with_an_integer_column_is_a_cast_on_the_column(postgres_shop: Shop) -> None:
    """PostgreSQL casts an integer column to numeric for a Decimal value: its index goes unused."""
    cap = explain_block(
        postgres_shop, "SELECT id, title FROM book WHERE price = %s", (decimal.Decimal("5.0"),)
    )
    finding = one(cap, "function_on_column")
    assert finding.details["wrapper"] == "::numeric"
    assert "a cast price::numeric" in finding.message
    assert "not a Decimal" in finding.suggestion


def test_sort_without_an_index_in_that_order_is_a_temp_sort(shop: Shop) -> None:
    """ORDER BY an unindexed column under a LIMIT sorts in a temporary structure: index it in that order."""
    cap = explain_block(
        shop, "SELECT id, title FROM book ORDER BY published DESC LIMIT 10", None, orm="django"
    )
    finding = one(cap, "temp_sort")
    assert (finding.table, finding.columns) == ("book", ("published",))
    assert 'models.Index(fields=["-published"], name="book_published_idx")' in finding.suggestion
    label = {"sqlite": "USE TEMP B-TREE FOR ORDER BY", "postgresql": "Sort of", "mysql": "Using filesort"}
    assert label[shop.vendor] in finding.message


def test_a_filtered_sort_names_what_it_orders_by_apart_from_the_filter(shop: Shop) -> None:
    """WHERE title = ? ORDER BY published: one finding, one index serving the filter and then the order."""
    sql = "SELECT id, title FROM book WHERE title = ? ORDER BY published LIMIT 10"
    cap = explain_block(shop, sql, ("title 42",), orm="django")
    [finding] = cap.findings
    assert finding.kind == "full_scan"
    for smell in [s for s in finding.details["smells"] if s["kind"] == "temp_sort"]:
        assert "ordering by published" in smell["message"] and smell["columns"][-1] == "published"
    if shop.vendor in ("sqlite", "mysql"):  # it sorts in a temporary structure after the scan
        assert "temp_sort" in [s["kind"] for s in finding.details["smells"]]
        assert 'models.Index(fields=["title", "published"]' in finding.suggestion
        assert finding.columns == ("title", "published")


def test_the_optimizers_annotations_are_no_columns(shop: Shop) -> None:
    """MariaDB prints UPPER(?) as <cache>(ucase(...)): no finding names a column the table does not have."""
    sql = "SELECT id, title FROM book WHERE UPPER(title) LIKE UPPER(?)"
    cap = explain_block(shop, sql, ("%42%",), orm="django")
    columns = {column for finding in cap.findings for column in finding.columns}
    assert columns <= {"id", "title", "price", "author_id", "published"}


def test_a_substring_pattern_gets_a_search_fix_not_an_index(shop: Shop) -> None:
    """LIKE '%42%' (Django's contains): no B-tree index serves it; the fix says what does, per database."""
    cap = explain_block(shop, "SELECT id FROM book WHERE title LIKE ?", ("%42%",), orm="django")
    scan = one(cap, "full_scan")
    assert scan.columns == ("title",) and scan.details["pattern_search"] is True
    assert "matching title with LIKE '%...'" in scan.message and "heuristic" not in scan.message
    assert "models.Index" not in scan.suggestion and "by prefix (startswith/istartswith" in scan.suggestion
    expected = {
        "sqlite": "an FTS5 table",
        "mysql": "a FULLTEXT index",
        "postgresql": 'GinIndex(fields=["title"]',
    }
    assert expected[shop.vendor] in scan.suggestion
    prefix = explain_block(
        shop, "SELECT id, price FROM book WHERE title LIKE ?", ("title 42%",), orm="django"
    )
    assert 'models.Index(fields=["title"]' in one(prefix, "full_scan").suggestion  # a prefix can use one


def test_large_offset_suggests_keyset_pagination_without_showing_the_value(shop: Shop) -> None:
    """A large OFFSET parameter is a large_offset finding; its value shows only with show_params."""
    sql = "SELECT id, title FROM book ORDER BY id LIMIT 10 OFFSET ?"
    finding = one(explain_block(shop, sql, (2345,), orm="django"), "large_offset")
    assert "skips at least 1,000 rows with OFFSET" in finding.message and "2345" not in finding.message
    assert '.filter(id__gt=last_id).order_by("id")[:page_size]' in finding.suggestion
    assert "offset" not in finding.details
    shown = one(explain_block(shop, sql, (2345,), show_params=True), "large_offset")
    assert "skips 2,345 rows" in shown.message and shown.details["offset"] == 2345


def test_small_offset_is_fine(shop: Shop) -> None:
    """An OFFSET below 1,000 is no finding."""
    cap = explain_block(shop, "SELECT id FROM book ORDER BY id LIMIT 10 OFFSET ?", (20,))
    assert not [f for f in cap.findings if f.kind == "large_offset"]


def test_lookup_by_primary_key_has_no_plan_finding(shop: Shop) -> None:
    """An indexed lookup is explained and found fine: the slow finding says no index is missing."""
    cap = explain_block(shop, "SELECT id, title FROM book WHERE id = ?", (7,))
    assert [f.kind for f in cap.findings] == ["slow_query"]
    slow = cap.findings[0]
    assert slow.plan is not None
    assert (
        slow.suggestion == "EXPLAIN shows no missing index; fetch fewer rows or columns, or cache the result"
    )


def test_unindexed_foreign_key_inside_a_nested_loop(postgres_shop: Shop) -> None:
    """PostgreSQL: a correlated lookup scans book once per author: index the foreign key it joins on."""
    sql = (
        "SELECT a.name, latest.title FROM author a CROSS JOIN LATERAL (SELECT b.title FROM book b "
        "WHERE b.author_id = a.id ORDER BY b.published DESC LIMIT 1) latest WHERE a.id <= %s"
    )
    finding = one(explain_block(postgres_shop, sql, (5,), orm="django"), "unindexed_join")
    assert (finding.table, finding.columns) == ("book", ("author_id",))
    assert "joins on book.author_id (a foreign key without an index)" in finding.message
    assert "for each of ~5 outer rows" in finding.message
    assert 'models.Index(fields=["author_id"]' in finding.suggestion


@pytest.mark.parametrize(
    ("fixture", "sql", "column"),
    [
        (
            "sqlite_shop_db",
            "SELECT b.id FROM author a JOIN book b ON b.author_id = a.id WHERE a.name = ?",
            "author_id",
        ),
        # MariaDB indexes every foreign key itself: join on another column.
        (
            "mysql_shop",
            "SELECT b.id FROM author a JOIN book b ON b.title = a.name WHERE a.name = %s",
            "title",
        ),
    ],
)
def test_join_on_an_unindexed_column(
    fixture: str, sql: str, column: str, request: pytest.FixtureRequest
) -> None:
    """SQLite and MariaDB: a join that reads the whole book table for its join column is unindexed_join."""
    shop: Shop = request.getfixturevalue(fixture)
    finding = one(explain_block(shop, sql, ("author 3",)), "unindexed_join")
    assert (finding.table, finding.columns) == ("book", (column,))
    assert f"joins on book.{column}" in finding.message


def test_misestimate_of_correlated_columns_needs_extended_statistics(postgres_shop: Shop) -> None:
    """With ANALYZE, rows 10x off the estimate on two correlated columns suggest CREATE STATISTICS."""
    sql = "SELECT id FROM pair WHERE a = %s AND b = %s"  # b always equals a: 1,000 rows, not the 50 guessed
    cap = explain_block(postgres_shop, sql, (3, 3), explain_analyze=True)
    [finding] = cap.findings  # the full scan is the worse smell; the misestimate is listed with it
    [smell] = [s for s in finding.details["smells"] if s["kind"] == "misestimate"]
    assert (smell["table"], smell["columns"]) == ("pair", ["a", "b"]) and smell["ratio"] >= 10
    assert "CREATE STATISTICS" in finding.suggestion and "(dependencies) ON" in finding.suggestion
    assert "misestimate: Seq Scan on pair" in finding.message
    assert finding.details["analyzed"] is True


def test_sort_spilling_to_disk(postgres_shop_params: dict[str, Any]) -> None:
    """With ANALYZE and a small work_mem for the database's connections, a big sort spills: sort_spill."""
    import psycopg

    options = f"{postgres_shop_params['options']} -c work_mem=64kB"
    params = {**postgres_shop_params, "options": options}
    conn = psycopg.connect(**params)
    try:
        shop = Shop("postgresql", conn, connection_source(conn), lambda: psycopg.connect(**params), "%s")
        sql = "SELECT id, title FROM book ORDER BY title, published"
        cap = explain_block(shop, sql, None, explain_analyze=True)
    finally:
        conn.close()
    finding = one(cap, "sort_spill")
    assert finding.columns == ("title", "published")
    assert "spilled to disk" in finding.message and "work_mem" in finding.suggestion


def test_mariadb_analyzes_a_read_only_select_in_the_background(mysql_shop: Shop) -> None:
    """MariaDB: ANALYZE FORMAT=JSON runs on a new connection for a proven read-only SELECT."""
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_analyze=True).start()
    mysql_shop.recorder().run("SELECT id FROM book WHERE title = %s", ("title 9",))
    cap.stop(background=True)
    assert queryguard._explain.wait(30.0)
    [scan] = cap.findings
    assert scan.details["analyzed"] is True
    assert "r_rows" in str(scan.plan)
    assert (scan.kind, scan.columns) == ("full_scan", ("title",))

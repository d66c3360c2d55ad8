"""EXPLAIN sources over real drivers, placeholder styles across drivers, HypoPG, and redacted output."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import queryguard
import queryguard._explain as explain
from queryguard import QueryEvent, dbapi, record
from queryguard._explain.sources import DBAPISource, connection_source

from ._db import Recorder, book_rows, sqlite_shop
from .conftest import Shop


def test_sources_satisfy_the_protocol(shop: Shop) -> None:
    """connection_source gives an ExplainSource of the right vendor and placeholder style."""
    source = shop.source
    assert isinstance(source, explain.ExplainSource)
    assert (source.vendor, source.paramstyle) == (
        shop.vendor,
        "qmark" if shop.vendor == "sqlite" else "format",
    )
    assert source.session_connection() is shop.conn


def test_a_new_connection_reaches_the_same_database_and_is_closed(shop: Shop) -> None:
    """connect() opens another connection to the same database, and closes it on exit."""
    with shop.source.connect() as conn:
        assert conn is not shop.conn
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM book")
        assert cur.fetchone()[0] == 5_000
        cur.close()
    with pytest.raises(Exception):  # noqa: B017 - each driver names "closed" its own way
        conn.cursor().execute("SELECT 1")


def test_sqlite_new_connections_are_read_only(sqlite_shop_db: Shop) -> None:
    """The background's connection to an SQLite file cannot write, whatever it is asked."""
    with sqlite_shop_db.source.connect() as conn, pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM item")


def test_a_dbapi_wrapper_is_a_source_too(tmp_path: Path) -> None:
    """connection_source accepts a queryguard.dbapi.Connection and explains on the driver's connection."""
    with contextlib.closing(sqlite_shop(str(tmp_path / "shop.db"))) as raw:
        app = dbapi.instrument(raw)
        source = connection_source(app)
        assert source.session_connection() is raw
        with queryguard.capture(action="none", slow_query_ms=0) as cap:
            Recorder(raw, source).run("SELECT id FROM book WHERE title = ?", ("title 3",))
    assert [f.kind for f in cap.findings] == ["full_scan"]  # one verdict per slow statement


def test_psycopg_connection_with_client_side_cursors(postgres_shop_params: dict[str, object]) -> None:
    """Django gives psycopg connections client-side cursors; EXPLAIN still runs (with its own cursor)."""
    import psycopg

    conn = psycopg.connect(**postgres_shop_params, cursor_factory=psycopg.ClientCursor)  # type: ignore[arg-type]
    try:
        with queryguard.capture(action="none", slow_query_ms=0) as cap:
            Recorder(conn, connection_source(conn)).run("SELECT id FROM book WHERE title = %s", ("title 3",))
        assert [f.kind for f in cap.findings] == ["full_scan"]  # one verdict per slow statement
    finally:
        conn.close()


def test_sql_recorded_in_another_style_than_the_driver_takes(sqlite_shop_db: Shop) -> None:
    """Django records SQLite statements with %s: the source says so and the driver gets ? placeholders."""
    raw = sqlite_shop_db.conn
    source = DBAPISource(None, vendor="sqlite", paramstyle="format", session=lambda: raw)
    with queryguard.capture(action="none", slow_query_ms=0) as cap:
        event = QueryEvent(
            "SELECT id FROM book WHERE title = %s AND title LIKE '%%1'", ("t",), 5.0, vendor="sqlite"
        )
        event.explainer = source
        record(event)
    assert [f.kind for f in cap.findings] == ["full_scan"]  # one verdict per slow statement


@pytest.fixture(scope="module")
def hypopg_params(postgres_params: dict[str, object]) -> Iterator[dict[str, object]]:
    """A database of its own with HypoPG installed and the shop filled (skipped without HypoPG)."""
    import psycopg

    name = f"qg_hypopg_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**postgres_params, autocommit=True) as admin:  # type: ignore[arg-type]
        if not admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone():
            pytest.skip(
                "the HypoPG extension is not installed on this PostgreSQL server (postgresql-NN-hypopg)"
            )
        admin.execute(f"CREATE DATABASE {name}")
    params = {**postgres_params, "dbname": name}
    try:
        with psycopg.connect(**params, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute("CREATE EXTENSION hypopg")
            conn.execute(
                "CREATE TABLE book (id integer PRIMARY KEY, title text, price integer,"
                " author_id integer, published date)"
            )
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO book VALUES (%s, %s, %s, %s, %s)", list(book_rows()))
            conn.execute("ANALYZE book")
        yield params
    finally:
        with psycopg.connect(**postgres_params, autocommit=True) as admin:  # type: ignore[arg-type]
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_hypopg_verifies_the_index_with_a_hypothetical_one(hypopg_params: dict[str, object]) -> None:
    """With HypoPG the finding states the planner's cost before and after the suggested index, and no
    index (real or hypothetical) is left behind."""
    import psycopg

    conn = psycopg.connect(**hypopg_params)  # type: ignore[arg-type]
    try:
        with queryguard.capture(action="none", slow_query_ms=0) as cap:
            Recorder(conn, connection_source(conn)).run("SELECT id FROM book WHERE title = %s", ("title 9",))
        scan = next(f for f in cap.findings if f.kind == "full_scan")
        before, after = scan.details["cost_before"], scan.details["cost_after"]
        assert after < before and scan.details["heuristic"] is False
        assert f"(HypoPG verified: estimated cost {before:,.0f} -> {after:,.0f})" in scan.message
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'book'").fetchone() == (1,)
    finally:
        conn.rollback()
        conn.close()


def test_without_hypopg_the_suggestion_says_it_is_heuristic(postgres_shop: Shop) -> None:
    """Where HypoPG is not installed, an index suggestion says it was not verified."""
    with queryguard.capture(action="none", slow_query_ms=0) as cap:
        postgres_shop.recorder().run("SELECT id FROM book WHERE title = %s", ("title 9",))
    scan = next(f for f in cap.findings if f.kind == "full_scan")
    assert scan.message.endswith("(heuristic: not verified with a hypothetical index)")
    assert scan.details["heuristic"] is True


def test_literals_in_plans_are_redacted_in_every_output(postgres_shop: Shop) -> None:
    """A parameter value appears in the raw plan, but in no report, message or log unless show_params."""
    secret = "s3cret-title-value"

    def run(**settings: Any) -> queryguard.Capture:
        with queryguard.capture(action="none", slow_query_ms=0, **settings) as cap:
            postgres_shop.recorder().run("SELECT id FROM book WHERE title = %s", (secret,))
        return cap

    cap = run()
    assert secret in json.dumps(cap.findings[0].plan)  # the raw plan, kept for the report layer
    report = cap.report
    for text in (report.to_json(), report.to_text(), report.to_html(), report.to_sarif()):
        assert secret not in text
    for finding in cap.findings:
        assert secret not in finding.message + finding.suggestion + json.dumps(finding.details, default=str)
    shown = run(show_params=True, explain_ttl_s=0)
    assert secret in shown.report.to_json()

"""EXPLAIN never changes data nor the user's transaction, on real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import pytest

import queryguard
import queryguard._explain as explain

from .conftest import Shop

WRITES: dict[str, dict[str, tuple[str, Any]]] = {
    "sqlite": {
        "delete": ("DELETE FROM item WHERE id <= ?", (3,)),
        "update": ("UPDATE item SET qty = qty + ?", (1,)),
        "insert": ("INSERT INTO item (id, qty) VALUES (?, ?)", (100, 1)),
        "writing_cte": (
            "WITH doomed AS (SELECT id FROM item WHERE id <= ?) DELETE FROM item WHERE id IN doomed",
            (3,),
        ),
        "nextval": ("INSERT INTO counter (note) VALUES (?)", ("x",)),  # AUTOINCREMENT moves sqlite_sequence
    },
    "postgresql": {
        "delete": ("DELETE FROM item WHERE id <= %s", (3,)),
        "update": ("UPDATE item SET qty = qty + %s", (1,)),
        "insert": ("INSERT INTO item (id, qty) VALUES (%s, %s)", (100, 1)),
        "writing_cte": (
            "WITH gone AS (DELETE FROM item WHERE id <= %s RETURNING id) SELECT count(*) FROM gone",
            (3,),
        ),
        "nextval": ("SELECT nextval('item_seq')", None),
    },
    "mysql": {
        "delete": ("DELETE FROM item WHERE id <= %s", (3,)),
        "update": ("UPDATE item SET qty = qty + %s", (1,)),
        "insert": ("INSERT INTO item (id, qty) VALUES (%s, %s)", (100, 1)),
        # MariaDB has no writing CTE; a CTE inside a DELETE is the closest.
        "writing_cte": (
            "DELETE FROM item WHERE id IN (WITH doomed AS (SELECT id FROM item WHERE id <= %s) "
            "SELECT id FROM doomed)",
            (3,),
        ),
        "nextval": ("SELECT NEXTVAL(item_seq)", None),
    },
}
SEQUENCE = {
    "sqlite": "SELECT seq FROM sqlite_sequence WHERE name = 'counter'",
    "postgresql": "SELECT last_value, is_called FROM item_seq",
    "mysql": "SELECT next_not_cached_value FROM item_seq",
}


def assert_explained_unless_sequence(slow: Any, vendor: str, kind: str) -> None:
    """A write is explained, never analysed; a sequence function is not explained, and the finding says so."""
    if kind == "nextval" and vendor != "sqlite":
        assert slow.plan is None and slow.details["explained"] is False
        assert "not explained: calls a function queryguard cannot prove read-only: nextval()" in slow.message
    else:
        assert slow.plan is not None and slow.details["analyzed"] is False


def state(shop: Shop) -> tuple[Any, ...]:
    """Every row of item and the sequence's position, as the app's connection sees them."""
    return tuple(shop.rows("SELECT id, qty FROM item ORDER BY id")), tuple(shop.rows(SEQUENCE[shop.vendor]))


def begin(shop: Shop) -> None:
    """Open a transaction on the app's connection with a savepoint of the user's own."""
    if shop.vendor == "sqlite":
        shop.conn.execute("BEGIN")
    elif shop.vendor == "mysql":
        shop.rows("START TRANSACTION")
    shop.rows("SAVEPOINT user_sp")


def in_transaction(shop: Shop) -> bool:
    """Whether the app's connection is inside a transaction."""
    if shop.vendor == "sqlite":
        return bool(shop.conn.in_transaction)
    if shop.vendor == "postgresql":
        return int(shop.conn.info.transaction_status) == 2
    return shop.rows("SELECT @@in_transaction") == [(1,)]


def committed(shop: Shop) -> list[Any]:
    """The committed rows of item, read through another connection."""
    other = shop.reopen()
    try:
        cur = other.cursor()
        cur.execute("SELECT id, qty FROM item ORDER BY id")
        return [tuple(row) for row in cur.fetchall()]
    finally:
        other.rollback()
        other.close()


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("kind", list(WRITES["sqlite"]))
def test_foreground_explain_keeps_rows_sequence_and_transaction(shop: Shop, kind: str, analyze: bool) -> None:
    """On the statement's own connection, inside the user's transaction, EXPLAIN changes nothing."""
    sql, params = WRITES[shop.vendor][kind]
    before = state(shop)
    begin(shop)
    with queryguard.capture(slow_query_ms=0, action="none", explain_analyze=analyze) as cap:
        shop.recorder().run(shop.sql(sql), params)
        after_statement = state(shop)
    assert after_statement != before  # the statement itself did change something
    [slow] = [f for f in cap.findings if f.kind == "slow_query"]
    assert_explained_unless_sequence(slow, shop.vendor, kind)
    assert state(shop) == after_statement
    assert in_transaction(shop)
    shop.rows("ROLLBACK TO SAVEPOINT user_sp")  # the user's savepoint is still there
    assert state(shop)[0] == before[0]  # (a sequence keeps the app's own nextval: not transactional)
    shop.conn.rollback()
    assert state(shop)[0] == before[0]


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("kind", list(WRITES["sqlite"]))
def test_background_explain_on_a_new_connection_changes_nothing(shop: Shop, kind: str, analyze: bool) -> None:
    """On a new connection after the unit, EXPLAIN changes nothing either, and the user's work stays open."""
    sql, params = WRITES[shop.vendor][kind]
    before, before_committed = state(shop), committed(shop)
    begin(shop)
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_analyze=analyze).start()
    shop.recorder().run(shop.sql(sql), params)
    after_statement = state(shop)
    cap.stop(background=True)
    assert explain.wait(30.0)
    [slow] = [f for f in cap.findings if f.kind == "slow_query"]
    assert_explained_unless_sequence(slow, shop.vendor, kind)
    assert state(shop) == after_statement and in_transaction(shop)
    assert committed(shop) == before_committed
    shop.conn.rollback()
    assert state(shop)[0] == before[0]


def test_analyze_runs_read_only_selects_and_changes_nothing(postgres_shop: Shop) -> None:
    """PostgreSQL: a proven read-only SELECT is analysed (actual rows) inside the user's transaction."""
    before = state(postgres_shop)
    begin(postgres_shop)
    postgres_shop.rows("SET LOCAL statement_timeout = '123s'")
    with queryguard.capture(slow_query_ms=0, action="none", explain_analyze=True) as cap:
        postgres_shop.recorder().run("SELECT id, qty FROM item WHERE qty > %s", (2,))
    [slow] = cap.findings
    assert slow.details["analyzed"] is True and slow.plan["Plan"]["Actual Rows"] == 8
    assert postgres_shop.rows("SHOW statement_timeout") == [
        ("123s",)
    ]  # our SET LOCAL ended with our savepoint
    assert postgres_shop.rows("SHOW transaction_read_only") == [("off",)]
    assert state(postgres_shop) == before and in_transaction(postgres_shop)


def test_a_select_calling_a_user_function_is_not_explained(
    postgres_shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule 3: a function that writes hides from the statement analysis: user functions are never called."""
    begin(postgres_shop)
    postgres_shop.rows(
        "CREATE FUNCTION pg_temp.bump() RETURNS int LANGUAGE sql"
        " AS 'UPDATE item SET qty = qty + 1 RETURNING 1'"
    )
    with queryguard.capture(slow_query_ms=0, action="none", explain_analyze=True) as cap:
        postgres_shop.recorder().run("SELECT pg_temp.bump()")
        after_statement = state(postgres_shop)
    [slow] = cap.findings
    assert slow.plan is None and slow.details["explained"] is False
    assert slow.details["not_explained"].endswith("cannot prove read-only: pg_temp.bump()")
    assert state(postgres_shop) == after_statement and in_transaction(postgres_shop)
    assert "EXPLAIN failed" not in caplog.text
    assert explain.stats()["refused"] == 1 and "failures" not in explain.stats()


def test_failing_explain_is_logged_once_and_leaves_the_transaction_usable(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """A statement on a table gone by the end of the unit fails to explain: logged once, nothing lost."""
    begin(shop)
    temporary = (
        "CREATE TEMPORARY TABLE scratch (id int)"
        if shop.vendor != "postgresql"
        else "CREATE TEMP TABLE scratch (id int)"
    )
    for _ in range(2):
        shop.rows(temporary)
        with queryguard.capture(slow_query_ms=0, action="none") as cap:
            shop.recorder().run(shop.sql("SELECT id FROM scratch WHERE id = ?"), (12345,))
            shop.rows("DROP TABLE scratch" if shop.vendor != "mysql" else "DROP TEMPORARY TABLE scratch")
        assert cap.findings[0].plan is None
    assert in_transaction(shop)
    shop.rows("ROLLBACK TO SAVEPOINT user_sp")
    failures = [r for r in caplog.records if "EXPLAIN failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
    assert "12345" not in caplog.text
    assert explain.stats()["failures"] == 2


def test_postgres_lock_timeout_bounds_a_blocked_explain(
    postgres_shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """An EXPLAIN waiting for a lock another session holds gives up after explain_timeout_ms."""
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_timeout_ms=100).start()
    postgres_shop.recorder().run("SELECT id FROM item WHERE qty = %s", (3,))
    postgres_shop.conn.commit()
    locker = postgres_shop.reopen()
    try:
        locker.execute("LOCK TABLE item IN ACCESS EXCLUSIVE MODE")
        cap.stop(background=True)
        assert explain.wait(20.0)
    finally:
        locker.rollback()
        locker.close()
    assert cap.findings[0].plan is None
    assert "lock timeout" in caplog.text


def test_postgres_statement_timeout_bounds_an_analyze(
    postgres_shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """EXPLAIN ANALYZE of a long read-only SELECT is cancelled after explain_timeout_ms."""
    sql = "SELECT count(*) FROM book b1 CROSS JOIN author a1 WHERE b1.price + a1.id > %s"
    with queryguard.capture(
        slow_query_ms=0, action="none", explain_analyze=True, explain_timeout_ms=1
    ) as cap:
        postgres_shop.recorder().run(sql, (-1,))
    assert cap.findings[0].plan is None
    assert "statement timeout" in caplog.text
    assert int(postgres_shop.conn.info.transaction_status) == 2  # still in the user's (implicit) transaction


def test_mariadb_lock_wait_bounds_a_blocked_explain(
    mysql_shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """MariaDB: an EXPLAIN waiting for a table another session locked gives up (lock_wait_timeout)."""
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_timeout_ms=2000).start()
    mysql_shop.recorder().run("SELECT id FROM item WHERE qty = %s", (3,))
    mysql_shop.conn.commit()
    locker = mysql_shop.reopen()
    try:
        locker.cursor().execute("LOCK TABLES item WRITE")
        cap.stop(background=True)
        assert explain.wait(20.0)
    finally:
        locker.cursor().execute("UNLOCK TABLES")
        locker.close()
    assert cap.findings[0].plan is None
    assert "Lock wait timeout" in caplog.text


def test_sqlite_busy_timeout_bounds_a_blocked_explain(
    sqlite_shop_db: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite: a new connection waiting for the file another connection locks gives up (busy timeout)."""
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_timeout_ms=50).start()
    sqlite_shop_db.recorder().run("SELECT id FROM item WHERE qty = ?", (3,))
    locker = sqlite_shop_db.reopen()
    try:
        locker.execute("BEGIN EXCLUSIVE")
        cap.stop(background=True)
        assert explain.wait(20.0)
    finally:
        locker.rollback()
        locker.close()
    assert cap.findings[0].plan is None
    assert "database is locked" in caplog.text


def test_repeated_failures_back_off_per_database(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    """After three failures in a row a database is left alone; the failure is logged once."""
    import sqlite3

    from ._db import DBAPISource, Recorder

    path = tmp_path / "gone.db"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE t (x int)")
    source = DBAPISource(
        lambda: sqlite3.connect(f"file:{tmp_path}/missing.db?mode=ro", uri=True), vendor="sqlite"
    )
    with contextlib.closing(conn):
        for _ in range(5):
            cap = queryguard.capture(slow_query_ms=0, action="none").start()
            Recorder(conn, source).run("SELECT x FROM t WHERE x = ?", (1,))
            cap.stop(background=True)
            assert explain.wait(20.0)
    counts = explain.stats()
    assert (counts["failures"], counts["skipped_backoff"]) == (3, 2)
    assert len([r for r in caplog.records if "EXPLAIN failed" in r.getMessage()]) == 1


def test_only_the_capturing_thread_gets_the_session_connection(sqlite_shop_db: Shop) -> None:
    """connection_source offers an sqlite3 connection only to the thread that created it."""
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(sqlite_shop_db.source.session_connection()))
    thread.start()
    thread.join()
    assert seen == [None] and sqlite_shop_db.source.session_connection() is sqlite_shop_db.conn

"""Rule 3 under attack: statements built to make EXPLAIN write, lock, commit or leave state behind.

Each case records a hostile statement as a captured one and lets queryguard explain it in one of three modes
(foreground inside the user's open transaction, foreground in autocommit, background on the worker), with
ANALYZE off and on. A snapshot of everything the statement could touch is taken before and after.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import queryguard
import queryguard._explain as explain
from queryguard import QueryEvent, record
from queryguard._explain import _lex, _safety
from queryguard._explain.sources import connection_source

SCHEMA = f"qg_adversarial_{os.getpid()}"
LOCK_KEY = 734205
MODES = ["transaction", "autocommit", "background"]

POSTGRES_SETUP = [
    "CREATE TABLE acct (id integer PRIMARY KEY, note text NOT NULL)",
    "INSERT INTO acct SELECT g, 'n' || g FROM generate_series(1, 20) g",
    "CREATE SEQUENCE adv_seq",
    "CREATE TABLE adv_log (x integer)",
    "CREATE FUNCTION imm_next() RETURNS bigint IMMUTABLE LANGUAGE sql"
    f" AS 'SELECT nextval(''{SCHEMA}.adv_seq'')'",
    "CREATE FUNCTION imm_lock() RETURNS integer IMMUTABLE LANGUAGE sql"
    f" AS 'SELECT 1 FROM (SELECT pg_advisory_lock({LOCK_KEY})) AS l'",
    "CREATE VIEW acct_view AS SELECT id, note FROM acct WHERE id <> imm_next()",
    "CREATE TABLE acct_default (id bigint DEFAULT imm_next(), note text)",
]
#: (statement, whether queryguard may explain it)
POSTGRES_CASES = {
    "immutable_nextval": ("SELECT id FROM acct WHERE id = imm_next()", False),
    "immutable_advisory_lock": ("SELECT id FROM acct WHERE id = imm_lock()", False),
    "view_hides_the_function": ("SELECT id FROM acct_view WHERE id = 3", False),
    "default_hides_the_function": ("INSERT INTO acct_default (note) VALUES ('x')", False),
    "dollar_tag_hides_commit": ("SELECT $é$ ' $é$ AS a; COMMIT; DELETE FROM acct WHERE id > 15", False),
    "nested_comment_hides_delete": ("SELECT 1 /* a /* b */ ; DELETE FROM acct WHERE id > 15 -- */", False),
    "backslash_hides_delete": ("SELECT 'a\\'; DELETE FROM acct WHERE id > 15; --' AS b", False),
    "ordinary_select": ("SELECT id, note FROM acct WHERE note = 'n3'", True),
    "ordinary_delete": ("DELETE FROM acct WHERE id > 15", True),
}
MYSQL_SETUP = [
    "CREATE TABLE acct (id int PRIMARY KEY, note varchar(20) NOT NULL) ENGINE=InnoDB",
    "INSERT INTO acct VALUES " + ", ".join(f"({i}, 'n{i}')" for i in range(1, 21)),
    "CREATE TABLE adv_log (x int) ENGINE=MyISAM",
    "CREATE TABLE acct_auto (id int AUTO_INCREMENT PRIMARY KEY, note varchar(20)) ENGINE=InnoDB",
    "INSERT INTO acct_auto (note) VALUES ('first')",
    "CREATE SEQUENCE adv_seq NOCACHE",
    "CREATE FUNCTION det_ins() RETURNS int DETERMINISTIC BEGIN INSERT INTO adv_log VALUES (1); RETURN 1; END",
    "CREATE VIEW acct_view AS SELECT id FROM acct WHERE id <> det_ins()",
]
MYSQL_CASES = {
    "deterministic_function_writes_myisam": ("SELECT id FROM acct WHERE id = det_ins()", False),
    "nextval_in_where": ("SELECT id FROM acct WHERE id = NEXTVAL(adv_seq)", False),
    "next_value_for": ("SELECT id FROM acct WHERE id = NEXT VALUE FOR adv_seq", False),
    "view_hides_the_function": ("SELECT id FROM acct_view WHERE id = 3", False),
    "hash_comment_hides_delete": (
        "SELECT id FROM acct WHERE id = 14 # '\n; DELETE FROM acct WHERE id > 15",
        False,
    ),
    "minus_minus_hides_delete": (
        "SELECT id FROM acct WHERE id = 14 --1\n; DELETE FROM acct WHERE id > 15",
        False,
    ),
    "executable_comment": (
        "SELECT id FROM acct WHERE id = 14 /*! ; DELETE FROM acct WHERE id > 15 */",
        False,
    ),
    "backslash_hides_delete": ("SELECT 'a\\'; DELETE FROM acct WHERE id > 15; -- ' AS b", False),
    "ordinary_select": ("SELECT id, note FROM acct WHERE note = 'n3'", True),
    "ordinary_insert": ("INSERT INTO acct_auto (note) VALUES ('x')", True),
}


@pytest.fixture(scope="module")
def postgres_db(postgres_params: dict[str, object]) -> Iterator[dict[str, object]]:
    """A schema of hostile objects: mislabelled IMMUTABLE functions, a view and a default that hide them."""
    import psycopg

    with psycopg.connect(**postgres_params, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"SET search_path = {SCHEMA}")
        for statement in POSTGRES_SETUP:
            conn.execute(statement)
    yield {**postgres_params, "options": f"-c search_path={SCHEMA}"}
    with psycopg.connect(**postgres_params, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@pytest.fixture(scope="module")
def mysql_db(mysql_params: dict[str, object]) -> Iterator[dict[str, object]]:
    """A database of hostile objects: a DETERMINISTIC function writing to MyISAM, a sequence, a view."""
    import pymysql

    conn = pymysql.connect(**{**mysql_params, "database": None}, autocommit=True)  # type: ignore[arg-type]
    cur = conn.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
    cur.execute(f"CREATE DATABASE {SCHEMA}")
    cur.execute(f"USE {SCHEMA}")
    for statement in MYSQL_SETUP:
        cur.execute(statement)
    yield {**mysql_params, "database": SCHEMA}
    cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
    conn.close()


def postgres_connect(params: dict[str, object], driver: str) -> Any:
    """A connection through psycopg 3 or psycopg2, not in autocommit mode."""
    if driver == "psycopg":
        import psycopg

        return psycopg.connect(**params)  # type: ignore[arg-type]
    import psycopg2

    return psycopg2.connect(**{("database" if k == "dbname" else k): v for k, v in params.items()})


def rows(conn: Any, sql: str) -> tuple[Any, ...]:
    """The rows of ``sql`` on ``conn`` (never prepared on psycopg 3)."""
    cur = conn.cursor()
    if type(conn).__module__ == "psycopg":
        cur.execute(sql, prepare=False)
    else:
        cur.execute(sql)
    found = tuple(tuple(row) for row in cur.fetchall())
    cur.close()
    return found


def postgres_snapshot(observer: Any, user: Any) -> tuple[Any, ...]:
    """Rows, sequence, log, advisory locks; the user's transaction, settings and prepared statements."""
    return (
        rows(observer, "SELECT id, note FROM acct ORDER BY id"),
        rows(observer, "SELECT last_value, is_called FROM adv_seq"),
        rows(observer, "SELECT count(*) FROM adv_log"),
        rows(observer, "SELECT count(*) FROM acct_default"),
        rows(observer, f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {LOCK_KEY}"),
        int(user.info.transaction_status if hasattr(user, "info") else user.get_transaction_status()),
        rows(user, "SELECT name FROM pg_prepared_statements"),
        rows(user, "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout')"),
    )


def mysql_snapshot(observer: Any, user: Any) -> tuple[Any, ...]:
    """Rows, the MyISAM log, the sequence, the AUTO_INCREMENT counter, and the user's transaction."""
    return (
        rows(observer, "SELECT id, note FROM acct ORDER BY id"),
        rows(observer, "SELECT count(*) FROM adv_log"),
        rows(observer, "SELECT next_not_cached_value FROM adv_seq"),
        rows(observer, "SELECT id FROM acct_auto ORDER BY id"),
        rows(observer, f"SHOW TABLE STATUS FROM {SCHEMA} LIKE 'acct_auto'")[0][10],
        rows(user, "SELECT @@in_transaction, @@autocommit, @@tx_read_only"),
    )


def run_unit(conn: Any, vendor: str, sql: str, mode: str, analyze: bool) -> queryguard.Finding:
    """Record ``sql`` as a captured statement on ``conn`` and let queryguard explain it in ``mode``."""
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_analyze=analyze).start()
    event = QueryEvent(sql, None, 5.0, vendor=vendor, alias="default")
    event.explainer = connection_source(conn)
    record(event)
    cap.stop(background=mode == "background")
    assert explain.wait(30.0)
    [slow] = [f for f in cap.findings if f.kind == "slow_query"]
    return slow


def check_case(
    snapshot: Callable[[], tuple[Any, ...]],
    conn: Any,
    vendor: str,
    case: tuple[str, bool],
    mode: str,
    analyze: bool,
) -> None:
    """The snapshot after queryguard explained (or refused) the statement equals the one before."""
    sql, explainable = case
    before = snapshot()
    slow = run_unit(conn, vendor, sql, mode, analyze)
    assert snapshot() == before
    if explainable:
        assert slow.plan is not None, slow.message
    else:
        assert slow.plan is None and slow.details["not_explained"].startswith("not explained: ")
        assert slow.details["not_explained"] in slow.message


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
@pytest.mark.parametrize("case", list(POSTGRES_CASES))
def test_postgres_state_is_unchanged(
    postgres_db: dict[str, object], case: str, driver: str, mode: str, analyze: bool
) -> None:
    """Rule 3: no row, sequence value, advisory lock, prepared statement or transaction state changes."""
    conn = postgres_connect(postgres_db, driver)
    observer = postgres_connect(postgres_db, driver)
    observer.autocommit = True
    try:
        conn.autocommit = mode == "autocommit"
        if mode != "autocommit":
            rows(conn, "SELECT id FROM acct WHERE id = 1 FOR UPDATE")  # the user's transaction is open
        check_case(
            lambda: postgres_snapshot(observer, conn), conn, "postgresql", POSTGRES_CASES[case], mode, analyze
        )
    finally:
        conn.rollback()
        conn.close()
        observer.close()


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("multi", [False, True], ids=["single", "multi_statements"])
@pytest.mark.parametrize("case", list(MYSQL_CASES))
def test_mariadb_state_is_unchanged(
    mysql_db: dict[str, object], case: str, multi: bool, mode: str, analyze: bool
) -> None:
    """Rule 3: no row, MyISAM write, sequence value, AUTO_INCREMENT counter or transaction state changes."""
    import pymysql
    from pymysql.constants import CLIENT

    flag = CLIENT.MULTI_STATEMENTS if multi else 0
    conn = pymysql.connect(**mysql_db, client_flag=flag, autocommit=mode == "autocommit")  # type: ignore[arg-type]
    observer = pymysql.connect(**mysql_db, autocommit=True)  # type: ignore[arg-type]
    try:
        if mode != "autocommit":
            rows(conn, "START TRANSACTION")
            rows(conn, "SELECT id FROM acct WHERE id = 1 FOR UPDATE")
        check_case(lambda: mysql_snapshot(observer, conn), conn, "mysql", MYSQL_CASES[case], mode, analyze)
    finally:
        conn.rollback()
        conn.close()
        observer.close()


def test_psycopg3_prepares_nothing_on_the_users_connection(postgres_db: dict[str, object]) -> None:
    """Rule 3: after many foreground units, nothing of queryguard's is prepared on the user's connection."""
    conn = postgres_connect(postgres_db, "psycopg")
    try:
        for _ in range(3 * conn.prepare_threshold):
            with queryguard.capture(slow_query_ms=0, action="none", explain_ttl_s=0) as cap:
                event = QueryEvent("SELECT id FROM acct WHERE note = %s", ("n3",), 5.0, vendor="postgresql")
                event.explainer = connection_source(conn)
                record(event)
            assert cap.findings[0].details["connection"] == "session"
        assert rows(conn, "SELECT name, statement FROM pg_prepared_statements") == ()
    finally:
        conn.close()


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_psycopg_extended_protocol_refuses_a_second_statement(
    postgres_db: dict[str, object], driver: str
) -> None:
    """Rule 3: on psycopg 3 queryguard's statements cannot carry a second one (psycopg2: the reader's job)."""
    from queryguard._explain import _pgexec

    conn = postgres_connect(postgres_db, driver)
    try:
        cur = _pgexec.cursor(conn)
        assert _pgexec.is_psycopg3(cur) is (driver == "psycopg")
        if driver == "psycopg":
            with pytest.raises(Exception, match="multiple commands"):
                _pgexec.execute(cur, "SELECT 1; SELECT 2")
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_analyze_never_runs_on_the_users_session(postgres_db: dict[str, object], driver: str) -> None:
    """Rule 3: a read-only SELECT is analysed on a connection of queryguard's own, never the user's."""
    conn = postgres_connect(postgres_db, driver)
    try:
        rows(conn, "SELECT 1")
        slow = run_unit(conn, "postgresql", "SELECT id FROM acct WHERE note = 'n3'", "transaction", True)
        assert slow.details["analyzed"] is True and slow.details["connection"] == "new"
    finally:
        conn.rollback()
        conn.close()


def test_a_long_statement_is_neither_read_nor_cached(
    postgres_db: dict[str, object], monkeypatch: Any
) -> None:
    """Rule 3: a bulk INSERT past the size limit is not explained nor tokenised; the finding says why."""
    from queryguard._explain import _strict

    reads: list[int] = []
    tokenize, read = _lex._tokenize, _strict.read
    monkeypatch.setattr(
        _lex, "_tokenize", lambda text, vendor: reads.append(len(text)) or tokenize(text, vendor)
    )
    monkeypatch.setattr(_strict, "read", lambda text, **kw: reads.append(len(text)) or read(text, **kw))
    conn = postgres_connect(postgres_db, "psycopg")
    try:
        values = ", ".join(f"({i}, 'note {i}')" for i in range(_safety.MAX_CHARS // 10))
        sql = f"INSERT INTO acct_default (id, note) VALUES {values}"
        assert len(sql) > _safety.MAX_CHARS
        for mode in ("transaction", "background"):
            slow = run_unit(conn, "postgresql", sql, mode, False)
            assert slow.plan is None and "characters, more than the" in slow.details["not_explained"]
        assert reads == []
    finally:
        conn.rollback()
        conn.close()


def test_the_token_cache_keeps_no_long_text() -> None:
    """Rule 6: tokenising a long text leaves nothing in the token cache."""
    _lex._cached.cache_clear()
    _lex.tokenize("SELECT 1 " * _lex.CACHED_CHARS, vendor="postgresql")
    assert _lex._cached.cache_info().currsize == 0
    _lex.tokenize("SELECT 1", vendor="postgresql")
    assert _lex._cached.cache_info().currsize == 1


def test_background_reads_no_statement_on_the_request_thread(
    postgres_db: dict[str, object], monkeypatch: Any
) -> None:
    """Rule 3: with background=True the safety check runs on the worker, not on the thread of the request."""
    import threading

    from queryguard._explain import _strict

    threads: list[int] = []
    read = _strict.read
    monkeypatch.setattr(
        _strict, "read", lambda text, **kw: threads.append(threading.get_ident()) or read(text, **kw)
    )
    conn = postgres_connect(postgres_db, "psycopg")
    try:
        slow = run_unit(conn, "postgresql", "SELECT id FROM acct WHERE note = 'n4'", "background", False)
        assert slow.plan is not None
        assert threads and threading.get_ident() not in threads
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", ["transaction", "autocommit"])
@pytest.mark.parametrize(
    ("sql", "explainable"),
    [
        ("SELECT id FROM acct WHERE id = bump()", False),
        ("SELECT id FROM acct WHERE id = 3; DELETE FROM acct", False),
        ("SELECT id FROM acct WHERE id = 3 /* ; DELETE FROM acct", False),
        ("SELECT id FROM acct WHERE note = 'n3'", True),
    ],
)
def test_sqlite_state_is_unchanged(
    tmp_path: Any, sql: str, explainable: bool, mode: str, analyze: bool
) -> None:
    """Rule 3: on SQLite a user function is never called and a hidden statement never runs."""
    import sqlite3

    calls: list[int] = []
    conn = sqlite3.connect(str(tmp_path / "adv.db"), isolation_level=None if mode == "autocommit" else "")
    conn.create_function("bump", 0, lambda: calls.append(1) or 1)
    conn.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
    conn.executemany("INSERT INTO acct VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 21)])
    if mode == "transaction":
        conn.execute("UPDATE acct SET note = note WHERE id = 1")  # the user's transaction is open
    try:
        check_case(
            lambda: (rows(conn, "SELECT id, note FROM acct ORDER BY id"), len(calls), conn.in_transaction),
            conn,
            "sqlite",
            (sql, explainable),
            mode,
            analyze,
        )
    finally:
        conn.close()

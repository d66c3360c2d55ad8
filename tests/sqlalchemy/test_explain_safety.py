"""Rule 3 under attack, through SQLAlchemy engines: the hostile statements of ``tests/explain/`` explained
through an engine's EXPLAIN source, sync (pysqlite, psycopg 3, PyMySQL) and async (aiosqlite, asyncpg,
aiomysql), in the user's open transaction, in autocommit and on the background worker, ANALYZE off and on.
Nothing a statement could touch differs afterwards; writes explained for real change nothing either."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from queryguard_sqlalchemy._engine import _engine_facts
from queryguard_sqlalchemy._explain import bound
from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

import queryguard
import queryguard._explain as explain
from queryguard import QueryEvent, record
from tests.explain.conftest import mysql_shop_params, postgres_shop_params  # noqa: F401  (fixtures)
from tests.explain.test_adversarial import (  # noqa: F401  (fixtures)
    MYSQL_CASES,
    POSTGRES_CASES,
    mysql_db,
    mysql_snapshot,
    postgres_db,
    postgres_snapshot,
    rows,
)
from tests.explain.test_safety import SEQUENCE, WRITES

MODES = ["transaction", "autocommit", "background"]
SQLITE_CASES = {
    "user_function": ("SELECT id FROM acct WHERE id = bump()", False),
    "second_statement": ("SELECT id FROM acct WHERE id = 3; DELETE FROM acct", False),
    "unterminated_comment": ("SELECT id FROM acct WHERE id = 3 /* ; DELETE FROM acct", False),
    "ordinary_select": ("SELECT id FROM acct WHERE note = 'n3'", True),
}


@pytest.fixture(autouse=True)
def fresh_stage() -> Iterator[None]:
    """No plan, back-off or counter is carried from one test to the next; no work is left behind."""
    explain._reset()
    yield
    assert explain.wait(30.0), "the background worker did not finish"
    explain._reset()


def pg_url(params: dict[str, Any], driver: str) -> URL:
    """The PostgreSQL test database through ``driver``."""
    return URL.create(
        f"postgresql+{driver}",
        username=str(params["user"]),
        host=str(params["host"]),
        port=int(params["port"]),
        database=str(params["dbname"]),
    )


def pg_args(params: dict[str, Any], driver: str) -> dict[str, Any]:
    """The search path that ``params`` set (``-c search_path=...``), as ``driver`` takes it."""
    path = str(params["options"]).split("search_path=", 1)[1].split()[0]
    if driver == "asyncpg":
        return {"server_settings": {"search_path": path}}
    return {"options": f"-csearch_path={path}"}


def mysql_url(params: dict[str, Any], driver: str) -> URL:
    """The MariaDB test database through ``driver``."""
    return URL.create(
        f"mysql+{driver}",
        username=str(params["user"]),
        password=str(params.get("password") or "") or None,
        host=str(params["host"]),
        port=int(params["port"]),
        database=str(params["database"]),
    )


def explain_as_captured(explainer: Any, vendor: str, sql: str, mode: str, analyze: bool) -> Any:
    """Record ``sql`` as a statement of the engine and let queryguard explain it in ``mode``."""
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_analyze=analyze).start()
    found = QueryEvent(sql, None, 5.0, vendor=vendor, alias="default", is_async=True, explainer=explainer)
    record(found)
    cap.stop(background=mode == "background")
    assert explain.wait(30.0)
    [finding] = [f for f in cap.findings if f.event is found]
    return finding


def check(
    snapshot: Callable[[], Any], explainer: Any, vendor: str, case: Any, mode: str, analyze: bool
) -> None:
    """The snapshot after queryguard explained (or refused) the statement equals the one before."""
    sql, explainable = case
    before = snapshot()
    finding = explain_as_captured(explainer, vendor, sql, mode, analyze)
    assert snapshot() == before
    if explainable:
        assert finding.plan is not None, finding.message
    else:
        assert finding.plan is None and finding.details["not_explained"].startswith("not explained: ")


def source_of(engine: Engine) -> Any:
    """The EXPLAIN source queryguard gives the engine's statements."""
    return _engine_facts(engine)[3]


@pytest.mark.postgres
@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(POSTGRES_CASES))
def test_postgres_psycopg_engine(
    postgres_db: dict[str, Any],  # noqa: F811
    case: str,
    mode: str,
    analyze: bool,
) -> None:
    """Rule 3 (psycopg 3 engine): no row, sequence, lock, prepared statement or transaction state changes."""
    import psycopg

    engine = create_engine(pg_url(postgres_db, "psycopg"), connect_args=pg_args(postgres_db, "psycopg"))
    observer = psycopg.connect(**postgres_db, autocommit=True)  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            if mode == "autocommit":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                conn.execute(text("SELECT id FROM acct WHERE id = 1 FOR UPDATE"))  # the user's transaction
            user = conn.connection.dbapi_connection
            explainer = bound(source_of(engine), conn)
            check(
                lambda: (postgres_snapshot(observer, user), conn.in_transaction()),
                explainer, "postgresql", POSTGRES_CASES[case], mode, analyze,
            )  # fmt: skip
            conn.rollback()
    finally:
        observer.close()
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(POSTGRES_CASES))
async def test_postgres_asyncpg_engine(
    postgres_db: dict[str, Any],  # noqa: F811
    case: str,
    mode: str,
    analyze: bool,
) -> None:
    """Rule 3 (asyncpg engine, explained through psycopg): nothing changes, the user's transaction stays."""
    import psycopg

    engine = create_async_engine(pg_url(postgres_db, "asyncpg"), connect_args=pg_args(postgres_db, "asyncpg"))
    observer = psycopg.connect(**postgres_db, autocommit=True)  # type: ignore[arg-type]
    try:
        async with engine.connect() as conn:
            if mode == "autocommit":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                await conn.execute(text("SELECT id FROM acct WHERE id = 1 FOR UPDATE"))
            check(
                lambda: (postgres_snapshot(observer, observer), conn.in_transaction()),
                source_of(engine.sync_engine), "postgresql", POSTGRES_CASES[case], mode, analyze,
            )  # fmt: skip
            await conn.rollback()
    finally:
        observer.close()
        await engine.dispose()


@pytest.mark.mysql
@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("multi", [False, True], ids=["single", "multi_statements"])
@pytest.mark.parametrize("case", list(MYSQL_CASES))
def test_mariadb_pymysql_engine(
    mysql_db: dict[str, Any],  # noqa: F811
    case: str,
    multi: bool,
    mode: str,
    analyze: bool,
) -> None:
    """Rule 3 (PyMySQL engine): no row, MyISAM write, sequence, AUTO_INCREMENT or transaction state moves."""
    import pymysql
    from pymysql.constants import CLIENT

    args = {"client_flag": CLIENT.MULTI_STATEMENTS} if multi else {}
    engine = create_engine(mysql_url(mysql_db, "pymysql"), connect_args=args)
    observer = pymysql.connect(**mysql_db, autocommit=True)
    try:
        with engine.connect() as conn:
            if mode == "autocommit":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                conn.execute(text("SELECT id FROM acct WHERE id = 1 FOR UPDATE"))
            user = conn.connection.dbapi_connection
            check(
                lambda: mysql_snapshot(observer, user),
                bound(source_of(engine), conn), "mysql", MYSQL_CASES[case], mode, analyze,
            )  # fmt: skip
            conn.rollback()
    finally:
        observer.close()
        engine.dispose()


@pytest.mark.mysql
@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(MYSQL_CASES))
async def test_mariadb_aiomysql_engine(
    mysql_db: dict[str, Any],  # noqa: F811
    case: str,
    mode: str,
    analyze: bool,
) -> None:
    """Rule 3 (aiomysql engine with multi-statements, explained through PyMySQL): nothing changes."""
    import pymysql
    from pymysql.constants import CLIENT

    engine = create_async_engine(
        mysql_url(mysql_db, "aiomysql"), connect_args={"client_flag": CLIENT.MULTI_STATEMENTS}
    )
    observer = pymysql.connect(**mysql_db, autocommit=True)
    try:
        async with engine.connect() as conn:
            if mode == "autocommit":
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                await conn.execute(text("SELECT id FROM acct WHERE id = 1 FOR UPDATE"))
            check(
                lambda: (mysql_snapshot(observer, observer), conn.in_transaction()),
                source_of(engine.sync_engine), "mysql", MYSQL_CASES[case], mode, analyze,
            )  # fmt: skip
            await conn.rollback()
    finally:
        observer.close()
        await engine.dispose()


def sqlite_file(tmp_path: Path) -> str:
    """A file database of 20 accounts."""
    import sqlite3

    path = str(tmp_path / "adv.db")
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        setup.executemany("INSERT INTO acct VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 21)])
    setup.close()
    return path


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(SQLITE_CASES))
def test_sqlite_pysqlite_engine(tmp_path: Path, case: str, mode: str, analyze: bool) -> None:
    """Rule 3 (pysqlite engine): a user function is never called, a hidden statement never runs."""
    calls: list[int] = []
    engine = create_engine(f"sqlite:///{sqlite_file(tmp_path)}")
    event.listen(
        engine, "connect", lambda dbapi, _: dbapi.create_function("bump", 0, lambda: calls.append(1) or 1)
    )
    try:
        with engine.connect() as conn:
            if mode == "autocommit":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                conn.execute(text("UPDATE acct SET note = note WHERE id = 1"))  # the user's transaction
            snapshot = lambda: (  # noqa: E731
                conn.exec_driver_sql("SELECT id, note FROM acct ORDER BY id").all(),
                len(calls),
                conn.connection.dbapi_connection.in_transaction,
            )
            check(snapshot, bound(source_of(engine), conn), "sqlite", SQLITE_CASES[case], mode, analyze)
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(SQLITE_CASES))
async def test_sqlite_aiosqlite_engine(tmp_path: Path, case: str, mode: str, analyze: bool) -> None:
    """Rule 3 (aiosqlite engine, explained through a read-only sqlite3 connection): nothing changes."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{sqlite_file(tmp_path)}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("UPDATE acct SET note = note WHERE id = 1"))
            rows_now = (await conn.exec_driver_sql("SELECT id, note FROM acct ORDER BY id")).all()
            check(
                lambda: (rows_now, conn.in_transaction()),
                source_of(engine.sync_engine), "sqlite", SQLITE_CASES[case], mode, analyze,
            )  # fmt: skip
            assert (await conn.exec_driver_sql("SELECT id, note FROM acct ORDER BY id")).all() == rows_now
            await conn.rollback()
    finally:
        await engine.dispose()


# -- writes explained for real: the counterpart of tests/explain/test_safety.py ------------------------------


def driver_sql(sql: str, driver: str) -> str:
    """``%s`` placeholders as asyncpg's ``$1``; others unchanged."""
    if driver != "asyncpg":
        return sql
    parts = sql.split("%s")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1))


ENGINES = [
    pytest.param(("postgresql", "psycopg"), id="postgresql-psycopg", marks=pytest.mark.postgres),
    pytest.param(("postgresql", "asyncpg"), id="postgresql-asyncpg", marks=pytest.mark.postgres),
    pytest.param(("mysql", "pymysql"), id="mysql-pymysql", marks=pytest.mark.mysql),
    pytest.param(("mysql", "aiomysql"), id="mysql-aiomysql", marks=pytest.mark.mysql),
]


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("kind", list(WRITES["postgresql"]))
@pytest.mark.parametrize("which", ENGINES)
async def test_writes_through_an_engine_change_nothing(
    which: tuple[str, str], kind: str, background: bool, analyze: bool, request: pytest.FixtureRequest
) -> None:
    """A write run through the engine in the user's transaction is explained (never analysed): the rows,
    the sequence and the transaction are as the statement left them; the rollback undoes the statement."""
    vendor, driver = which
    if vendor == "postgresql":
        params = request.getfixturevalue("postgres_shop_params")
        url, args = pg_url(params, driver), pg_args(params, driver)
    else:
        params = request.getfixturevalue("mysql_shop_params")
        url, args = mysql_url(params, driver), {}
    from queryguard_sqlalchemy import instrument

    sql, values = WRITES[vendor][kind]
    aio = driver in ("asyncpg", "aiomysql")
    engine: Any = (create_async_engine if aio else create_engine)(url, connect_args=args)
    instrument(engine)
    try:
        if aio:
            async with engine.connect() as conn:
                await _write_and_check(
                    conn, vendor, kind, driver_sql(sql, driver), values, background, analyze
                )
        else:
            with engine.connect() as conn:
                await _write_and_check(conn, vendor, kind, sql, values, background, analyze)
    finally:
        result = engine.dispose()
        if aio:
            await result


async def _write_and_check(
    conn: Any, vendor: str, kind: str, sql: str, values: Any, background: bool, analyze: bool
) -> None:
    aio = isinstance(conn, AsyncConnection)

    async def run(statement: str, params: Any = None) -> list[Any]:
        result = conn.exec_driver_sql(statement, params)
        if aio:
            result = await result
        return [tuple(row) for row in result.all()] if result.returns_rows else []

    async def state() -> tuple[Any, ...]:
        return await run("SELECT id, qty FROM item ORDER BY id"), await run(SEQUENCE[vendor])

    before = await state()
    await run("SELECT id FROM item WHERE id = 1")  # the user's transaction is open
    cap = queryguard.capture(slow_query_ms=0, action="none", explain_analyze=analyze).start()
    await run(sql, values)
    cap.stop(background=background)
    assert explain.wait(30.0)
    after_statement = await state()
    assert after_statement != before  # the statement itself did change something
    # (a sync engine in this async test also gets a blocking_query finding)
    [finding] = [f for f in cap.findings if f.sql == sql and f.kind != "blocking_query"]
    if kind == "nextval":
        assert finding.plan is None and "nextval()" in finding.details["not_explained"]
    else:
        assert finding.plan is not None and finding.details["analyzed"] is False, finding.message
    assert await state() == after_statement and conn.in_transaction()
    await (conn.rollback() if aio else _sync(conn.rollback))
    assert (await state())[0] == before[0]
    await (conn.rollback() if aio else _sync(conn.rollback))


async def _sync(fn: Callable[[], Any]) -> None:
    fn()

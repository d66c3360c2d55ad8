"""Run one ORM's cases on one database, each inside ``queryguard.capture()`` and a rolled-back transaction.

Every case starts from the same seeded rows: what it writes is rolled back when it ends. A case receives
the objects its parameters name: ``session`` and ``other_session`` (SQLAlchemy, on the corpus's database
and on the other one; ``AsyncSession`` for an async case), ``db`` and ``other`` (raw DB-API).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _corpus
import _servers

import queryguard

#: The statements of a case are judged with the default settings; only what costs time and is not
#: judged here is off (EXPLAIN, slow statements) and nothing is logged.
SETTINGS: dict[str, Any] = {"action": "none", "explain": False, "slow_query_ms": 1e9}


def run(orm: str, database: str, folder: Path, only: str = "") -> dict[str, Any]:
    """Every case of ``orm`` that runs on ``database``: its expectations and what queryguard reported."""
    runner = {"django": _django, "sqlalchemy": _sqlalchemy, "raw": _raw}[orm]
    results: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    runner(database, folder, only, results, skipped)
    return {"orm": orm, "database": database, "results": results, "skipped": skipped}


def _selected(orm: str, database: str, only: str) -> list[_corpus.Case]:
    for module in _corpus.MODULES_BY_ORM[orm]:
        importlib.import_module(module)
    return [
        case
        for case in _corpus.CASES
        if case.orm == orm and database in case.databases and (not only or only in case.name)
    ]


def _result(case: _corpus.Case, database: str, cap: Any, error: str | None) -> dict[str, Any]:
    findings = [] if cap is None else cap.findings
    return {
        "case": case.name,
        "orm": case.orm,
        "database": database,
        "path": case.path,
        "line": case.first_line,
        "note": case.note,
        "expected": [
            {"kind": e.kind, "relations": sorted(e.relations or ()) or None, "line": e.line}
            for e in case.expected_on(database)
        ],
        "found": [
            {
                "kind": f.kind,
                "relation": f.relation,
                "callsite": f.callsite,
                "count": f.count,
                "message": f.message,
            }
            for f in findings
        ],
        "error": error,
    }


def _call(case: _corpus.Case, database: str, available: dict[str, Any]) -> dict[str, Any]:
    kwargs = {name: available[name] for name in inspect.signature(case.function).parameters}
    try:
        with queryguard.capture(name=case.name, **SETTINGS) as cap:
            case.function(**kwargs)
        return _result(case, database, cap, None)
    except Exception:
        return _result(case, database, None, traceback.format_exc(limit=-3))


async def _call_async(case: _corpus.Case, database: str, available: dict[str, Any]) -> dict[str, Any]:
    kwargs = {name: available[name] for name in inspect.signature(case.function).parameters}
    try:
        async with queryguard.capture(name=case.name, **SETTINGS) as cap:
            await case.function(**kwargs)
        return _result(case, database, cap, None)
    except Exception:
        return _result(case, database, None, traceback.format_exc(limit=-3))


# -- Django ------------------------------------------------------------------------------------------------


def _django(database: str, folder: Path, only: str, results: list[Any], skipped: list[Any]) -> None:
    import _django_env

    _django_env.setup(database, folder)
    from django.db import transaction

    for case in _selected("django", database, only):
        with transaction.atomic(using="default"), transaction.atomic(using="other"):
            results.append(_call(case, database, {}))
            transaction.set_rollback(True, using="other")
            transaction.set_rollback(True, using="default")


# -- SQLAlchemy --------------------------------------------------------------------------------------------


def _sqlalchemy(database: str, folder: Path, only: str, results: list[Any], skipped: list[Any]) -> None:
    import sqlalchemy_models as models
    from queryguard_sqlalchemy import instrument
    from sqlalchemy import create_engine

    engines = [create_engine(_servers.sqlalchemy_url(database, folder, other=o)) for o in (False, True)]
    for engine in engines:
        models.seed(engine)
    instrument()
    cases = _selected("sqlalchemy", database, only)
    for case in (c for c in cases if not c.is_async):
        with _sync_sessions(engines) as sessions:
            results.append(_call(case, database, sessions))
    for engine in engines:
        engine.dispose()
    waiting = [c for c in cases if c.is_async]
    missing = _servers.async_driver_missing(database)
    if missing:
        skipped.extend({"case": c.name, "orm": c.orm, "reason": missing} for c in waiting)
    elif waiting:
        asyncio.run(_async_cases(waiting, database, folder, results))


@contextlib.contextmanager
def _sync_sessions(engines: list[Any]) -> Iterator[dict[str, Any]]:
    from sqlalchemy.orm import Session

    with engines[0].connect() as conn, engines[1].connect() as other:
        conn.begin()
        other.begin()
        sessions = [Session(bind=c, join_transaction_mode="create_savepoint") for c in (conn, other)]
        try:
            yield {"session": sessions[0], "other_session": sessions[1]}
        finally:
            for session in sessions:
                session.close()
            conn.rollback()
            other.rollback()


async def _async_cases(cases: list[_corpus.Case], database: str, folder: Path, results: list[Any]) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    engines = [
        create_async_engine(_servers.sqlalchemy_url(database, folder, other=o, asynchronous=True))
        for o in (False, True)
    ]
    for case in cases:
        async with engines[0].connect() as conn, engines[1].connect() as other:
            await conn.begin()
            await other.begin()
            sessions = [AsyncSession(bind=c, join_transaction_mode="create_savepoint") for c in (conn, other)]
            try:
                available = {"session": sessions[0], "other_session": sessions[1]}
                results.append(await _call_async(case, database, available))
            finally:
                for session in sessions:
                    await session.close()
                await conn.rollback()
                await other.rollback()
    for engine in engines:
        await engine.dispose()


# -- raw DB-API --------------------------------------------------------------------------------------------


class Raw:
    """A case's DB-API connection, recorded by queryguard, and the placeholder style of its driver."""

    def __init__(self, conn: Any, database: str) -> None:
        self.conn = conn
        self.database = database

    def sql(self, text: str) -> str:
        """``text`` written with ``?`` placeholders, in the driver's own style."""
        return text if self.database == "sqlite" else text.replace("?", "%s")

    def cursor(self) -> Any:
        return self.conn.cursor()


def _raw(database: str, folder: Path, only: str, results: list[Any], skipped: list[Any]) -> None:
    import raw_cases

    plain = [_servers.dbapi_connect(database, folder, other=o) for o in (False, True)]
    for conn in plain:
        raw_cases.seed(conn, database)
    wrapped = [
        Raw(queryguard.dbapi.instrument(conn, alias=alias), database)
        for conn, alias in zip(plain, ("default", "other"), strict=True)
    ]
    for case in _selected("raw", database, only):
        try:
            results.append(_call(case, database, {"db": wrapped[0], "other": wrapped[1]}))
        finally:
            for conn in plain:
                conn.rollback()
    for conn in plain:
        conn.close()

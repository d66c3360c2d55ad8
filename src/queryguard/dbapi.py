"""Record the statements of a plain DB-API 2.0 connection (sqlite3, psycopg, PyMySQL, ...).

``conn = queryguard.dbapi.instrument(sqlite3.connect(...))`` returns a proxy whose cursors record every
``execute`` and ``executemany`` into the active captures; everything else passes through untouched.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ._capture import _active, record
from ._events import QueryEvent
from ._guard import internal_error

_VENDORS = {
    "sqlite3": "sqlite",
    "psycopg": "postgresql",
    "psycopg2": "postgresql",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "mysql": "mysql",
    "asyncpg": "postgresql",
}


def vendor_of(connection: object) -> str:
    """``"sqlite"``, ``"postgresql"``, ``"mysql"`` or the driver's module name."""
    module = type(connection).__module__.split(".")[0]
    return _VENDORS.get(module, module)


class Cursor:
    """A DB-API cursor that records what it executes."""

    def __init__(self, cursor: Any, *, vendor: str, alias: str, explainer: Any = None) -> None:
        self._cursor = cursor
        self._vendor = vendor
        self._alias = alias
        self._explainer = explainer

    def execute(self, sql: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not _active.get():
            return self._cursor.execute(sql, *(() if params is None else (params,)), *args, **kwargs)
        return self._run(self._cursor.execute, sql, params, False, args, kwargs)

    def executemany(self, sql: Any, seq_of_params: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        if not _active.get():
            return self._cursor.executemany(sql, seq_of_params, *args, **kwargs)
        return self._run(self._cursor.executemany, sql, seq_of_params, True, args, kwargs)

    def _run(self, method: Any, sql: Any, params: Any, many: bool, args: Any, kwargs: Any) -> Any:
        error: str | None = None
        started = time.perf_counter()
        try:
            return method(sql, *(() if params is None and not many else (params,)), *args, **kwargs)
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            self._record(sql, params, started, many, error)

    def _record(self, sql: Any, params: Any, started: float, many: bool, error: str | None) -> None:
        try:
            rowcount = getattr(self._cursor, "rowcount", -1)
            record(
                QueryEvent(
                    sql if isinstance(sql, str) else str(sql),
                    params,
                    (time.perf_counter() - started) * 1000.0,
                    vendor=self._vendor,
                    alias=self._alias,
                    rowcount=rowcount if isinstance(rowcount, int) else -1,
                    executemany=many,
                    error=error,
                    started=started,
                    explainer=self._explainer,
                )
            )
        except Exception as exc:
            internal_error("dbapi", exc)

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class Connection:
    """A DB-API connection whose cursors (and ``execute`` shortcut, as sqlite3 has) record statements."""

    def __init__(self, connection: Any, *, alias: str = "default", vendor: str | None = None) -> None:
        self._connection = connection
        self._alias = alias
        self._vendor = vendor or vendor_of(connection)
        self._explainer: Any = None
        try:
            from ._explain.sources import connection_source

            self._explainer = connection_source(connection, vendor=self._vendor)
        except Exception as exc:  # EXPLAIN is a bonus: recording works without it
            internal_error("dbapi explain source", exc)

    def cursor(self, *args: Any, **kwargs: Any) -> Cursor:
        cursor = self._connection.cursor(*args, **kwargs)
        return Cursor(cursor, vendor=self._vendor, alias=self._alias, explainer=self._explainer)

    def execute(self, sql: Any, params: Any = None) -> Cursor:
        cursor = self.cursor()
        cursor.execute(sql, params)
        return cursor

    def executemany(self, sql: Any, seq_of_params: Iterable[Any]) -> Cursor:
        cursor = self.cursor()
        cursor.executemany(sql, seq_of_params)
        return cursor

    def __enter__(self) -> Connection:
        self._connection.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._connection.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def instrument(connection: Any, *, alias: str = "default", vendor: str | None = None) -> Connection:
    """Wrap a DB-API connection so that its statements are recorded into active captures.

    Idempotent: a connection wrapped already is returned as it is (wrapping it again would record every
    statement twice).
    """
    if isinstance(connection, Connection):
        return connection
    return Connection(connection, alias=alias, vendor=vendor)

"""EXPLAIN sources: how queryguard's EXPLAIN stage reaches the database of an instrumented engine.

One :class:`EngineSource` per engine is made the first time a statement of the engine is recorded; each
event carries it (for a sync engine, wrapped with the ``Connection`` the statement ran on). The stage calls
it only after the unit ended, for the few statements it explains:

* in the foreground, on the statement's own DBAPI connection while SQLAlchemy still holds it (the
  ``Connection`` is open and valid, on the thread that ran it), inside a savepoint that is rolled back;
* otherwise on a connection queryguard opens itself and closes: never one checked out of the engine's pool.
  A sync engine's own creator opens it (the URL, ``connect_args`` and ``do_connect`` hooks, as the pool
  would), an SQLite file is opened read-only (``mode=ro``), and an async engine is reached through a
  driver the worker can use without an event loop: psycopg 3 for asyncpg and psycopg's async mode, sqlite3
  for aiosqlite, PyMySQL for aiomysql and asyncmy. Its arguments are the engine's own: the URL's, and the
  ``connect_args`` kept in the pool's creator (the only place SQLAlchemy keeps them).

No URL, DSN or password is ever formatted: the source's ``repr`` names the vendor and database only.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, Final

from sqlalchemy.engine import Connection, Engine

#: asyncpg's ``ssl`` values as libpq's ``sslmode``.
_SSLMODES: Final = {True: "require", False: "disable"}
#: The keywords of ``pymysql.connect`` an aiomysql or asyncmy engine may carry.
_PYMYSQL_KEYS: Final = frozenset(
    """host port user password database unix_socket charset collation sql_mode read_default_file
    read_default_group init_command connect_timeout ssl ssl_ca ssl_cert ssl_key ssl_disabled
    ssl_verify_cert ssl_verify_identity client_flag local_infile""".split()  # noqa: SIM905
)
_MULTI_STATEMENTS: Final = 1 << 16  # pymysql.constants.CLIENT.MULTI_STATEMENTS
_BOUND_MAX: Final = 1024


class EngineSource:
    """The EXPLAIN source of one engine (see the module's docstring)."""

    #: Plan findings speak SQLAlchemy (``Index(...)``) for mapped tables, plain SQL for the others.
    orm = "sqlalchemy"

    def __init__(self, engine: Engine, vendor: str, alias: str) -> None:
        self.vendor = vendor
        self.alias = alias
        self.paramstyle = str(engine.dialect.paramstyle)
        self.driver = str(engine.dialect.driver)
        self.is_async = bool(engine.dialect.is_async)
        self._engine = weakref.ref(engine)

    def __repr__(self) -> str:
        return f"<SQLAlchemy EXPLAIN source {self.alias!r} ({self.vendor}+{self.driver})>"

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A new DBAPI connection to the engine's database, of queryguard's own, closed on exit."""
        engine = self._engine()
        if engine is None:
            raise LookupError("the engine is gone")
        conn = self._open(engine)
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def session_connection(self) -> Any | None:
        """None: the engine alone does not know the statement's connection (see :class:`Bound`)."""
        return None

    def model_fields(self, table: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...]] | None:
        """``("Review", ("reviewer",))``: the mapped class of ``table`` and its attributes of ``columns``."""
        return mapped(table, columns)

    def _open(self, engine: Engine) -> Any:
        if self.vendor == "sqlite":
            return _sqlite_read_only(engine)
        if not self.is_async:
            # The pool's own creator (URL, connect_args, do_connect hooks); the connection never enters it.
            return engine.pool._invoke_creator(None)  # type: ignore[arg-type]
        cargs, cparams = _connect_args(engine)
        if self.vendor == "postgresql":
            return _psycopg(self.driver, cargs, cparams)
        if self.vendor == "mysql":
            return _pymysql(cparams)
        raise LookupError(f"no synchronous driver known for {self.vendor}+{self.driver}")


class Bound:
    """An engine's source with the ``Connection`` a statement ran on (sync engines, foreground EXPLAIN).

    Equal to (and hashed as) its engine's source: plans are cached and failures counted per database.
    """

    __slots__ = ("_connection", "_thread", "source")

    def __init__(self, source: EngineSource, connection: Connection) -> None:
        self.source = source
        self._connection = weakref.ref(connection)
        self._thread = threading.get_ident()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    def __eq__(self, other: object) -> bool:
        return (other.source if isinstance(other, Bound) else other) is self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return repr(self.source)

    def connect(self) -> contextlib.AbstractContextManager[Any]:
        """A new connection (see :meth:`EngineSource.connect`)."""
        return self.source.connect()

    def session_connection(self) -> Any | None:
        """The statement's DBAPI connection while SQLAlchemy still holds it, on the thread that ran it."""
        conn = self._connection()
        if conn is None or threading.get_ident() != self._thread or conn.closed or conn.invalidated:
            return None
        return conn.connection.dbapi_connection


_bound: dict[int, Bound] = {}


def bound(source: EngineSource, connection: Connection) -> Bound:
    """The :class:`Bound` source of ``connection`` (one per ``Connection``; a dict look-up per statement)."""
    found = _bound.get(id(connection))
    if found is not None and found._connection() is connection:
        return found
    if len(_bound) >= _BOUND_MAX:
        _bound.clear()
    found = _bound[id(connection)] = Bound(source, connection)
    return found


def mapped(table: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...]] | None:
    """The mapped class of ``table`` (the base of an inheritance that shares it) and the attribute names."""
    try:
        from sqlalchemy.orm import mapperlib

        registries = mapperlib._all_registries()
    except (ImportError, AttributeError):  # another SQLAlchemy: no names, the plain CREATE INDEX
        return None
    for registry in list(registries):
        for mapper in list(registry.mappers):
            local = mapper.local_table
            if getattr(local, "name", None) != table:
                continue
            if mapper.inherits is not None and mapper.inherits.local_table is local:
                continue  # single-table inheritance: the base owns the table
            keys: dict[str, str] = {}
            for prop in mapper.column_attrs:
                for column in prop.columns:
                    if getattr(column, "table", None) is local:
                        keys.setdefault(column.name, prop.key)
            return mapper.class_.__name__, tuple(keys.get(column, column) for column in columns)
    return None


def _connect_args(engine: Engine) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword arguments the pool connects with: the URL's and ``connect_args``.

    ``create_engine`` keeps ``connect_args`` only in the closure of the creator it gives the pool; without
    that creator (a ``creator=`` of the application's own), the URL's arguments alone.
    """
    creator = getattr(engine.pool, "_creator", None)
    code = getattr(creator, "__code__", None)
    closure = getattr(creator, "__closure__", None)
    if code is not None and closure and {"cargs_tup", "cparams"} <= set(code.co_freevars):
        cells = dict(zip(code.co_freevars, closure, strict=True))
        return list(cells["cargs_tup"].cell_contents), dict(cells["cparams"].cell_contents)
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    return list(cargs), dict(cparams)


def _sqlite_read_only(engine: Engine) -> sqlite3.Connection:
    database = engine.url.database or ""
    if database in ("", ":memory:") or "mode=memory" in database:
        raise LookupError("an in-memory SQLite database is seen only by its own connection")
    path = urllib.parse.urlsplit(database).path if database.startswith("file:") else os.path.abspath(database)
    uri = "file:" + urllib.parse.quote(path) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _psycopg(driver: str, cargs: list[Any], cparams: dict[str, Any]) -> Any:
    try:
        import psycopg
    except ImportError:
        raise LookupError(
            f"EXPLAIN for a postgresql+{driver} engine needs psycopg 3 off the event loop: "
            'pip install "queryguard-perf[postgres]"'
        ) from None
    if driver == "asyncpg":
        cparams = _from_asyncpg(cparams)
    else:  # psycopg's async mode takes the same arguments as its sync mode
        cparams = {k: v for k, v in cparams.items() if not callable(v)}
    return psycopg.connect(*cargs, **cparams)


def _from_asyncpg(params: dict[str, Any]) -> dict[str, Any]:
    """asyncpg's connect arguments as libpq's (what psycopg takes)."""
    out = {
        key: params[name]
        for name, key in (("host", "host"), ("port", "port"), ("user", "user"), ("password", "password"))
        if params.get(name) is not None
    }
    if params.get("database"):
        out["dbname"] = params["database"]
    settings = params.get("server_settings") or {}
    if settings:
        out["options"] = " ".join(f"-c {k}={str(v).replace(' ', chr(92) + ' ')}" for k, v in settings.items())
    ssl = params.get("ssl")
    if isinstance(ssl, str):
        out["sslmode"] = ssl
    elif isinstance(ssl, bool):
        out["sslmode"] = _SSLMODES[ssl]
    elif ssl is not None:  # an SSLContext: encrypted, as libpq can do it
        out["sslmode"] = "require"
    if params.get("timeout"):
        out["connect_timeout"] = max(int(params["timeout"]), 1)
    return out


def _pymysql(cparams: dict[str, Any]) -> Any:
    try:
        import pymysql  # type: ignore[import-untyped]
    except ImportError:
        raise LookupError(
            "EXPLAIN for an async MySQL engine needs PyMySQL off the event loop: "
            'pip install "queryguard-perf[mysql]"'
        ) from None
    renamed = {"db": "database", "passwd": "password"}  # PyMySQL's old names warn
    params = {renamed.get(k, k): v for k, v in cparams.items() if k in _PYMYSQL_KEYS or k in renamed}
    params["client_flag"] = int(params.get("client_flag") or 0) & ~_MULTI_STATEMENTS
    return pymysql.connect(**params)

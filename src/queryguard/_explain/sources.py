"""Ready-made :class:`~queryguard._explain.ExplainSource` implementations over plain DB-API drivers.

``DBAPISource(connect, vendor=..., paramstyle=...)`` wraps a function that opens a new connection;
``connection_source(conn)`` derives a source from a live connection (sqlite3, psycopg 3, psycopg2, PyMySQL,
or a :class:`queryguard.dbapi.Connection`): the statement's own connection for the foreground, a new one
to the same database (a read-only one for an SQLite file) for the background.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

__all__ = ["DBAPISource", "connection_source"]

_VENDORS: Final = {
    "sqlite3": "sqlite",
    "psycopg": "postgresql",
    "psycopg2": "postgresql",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
}
_STYLES: Final = {"sqlite": "qmark", "postgresql": "format", "mysql": "format"}


class DBAPISource:
    """An EXPLAIN source that opens connections with ``connect()`` and offers ``session()``'s connection.

    ``model_fields(table, columns)``, when given, names the model and fields of a table's columns.
    """

    def __init__(
        self,
        connect: Callable[[], Any] | None,
        *,
        vendor: str,
        paramstyle: str | None = None,
        session: Callable[[], Any | None] | None = None,
        model_fields: Callable[[str, Sequence[str]], tuple[str, Sequence[str]] | None] | None = None,
    ) -> None:
        self.vendor = vendor
        self.paramstyle = paramstyle or _STYLES.get(vendor, "format")
        self._connect = connect
        self._session = session
        if model_fields is not None:
            self.model_fields = model_fields

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A new connection, closed on exit."""
        if self._connect is None:
            raise LookupError(
                f"this {self.vendor} source cannot open a new connection (an in-memory database?)"
            )
        conn = self._connect()
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def session_connection(self) -> Any | None:
        """The statement's own connection, when this thread may use it now."""
        return self._session() if self._session is not None else None

    def __repr__(self) -> str:
        return f"<DBAPISource {self.vendor}>"


def connection_source(
    connection: Any, *, vendor: str | None = None, paramstyle: str | None = None
) -> DBAPISource:
    """A source for a live DB-API connection (or a ``queryguard.dbapi.Connection`` around one)."""
    raw = (
        getattr(connection, "_connection", connection)
        if type(connection).__module__ == "queryguard.dbapi"
        else connection
    )
    root = type(raw).__module__.split(".")[0]
    vendor = vendor or _VENDORS.get(root, root)
    owner = threading.get_ident()

    def session() -> Any | None:
        # sqlite3 refuses a connection from another thread than its creator's (check_same_thread).
        return raw if root != "sqlite3" or threading.get_ident() == owner else None

    return DBAPISource(_reopener(raw, root), vendor=vendor, paramstyle=paramstyle, session=session)


def _reopener(raw: Any, root: str) -> Callable[[], Any] | None:
    try:
        if root == "sqlite3":
            return _sqlite_reopener(raw)
        if root == "psycopg":
            info = raw.info
            return lambda: (
                type(raw).connect(info.dsn, password=info.password)
                if info.password
                else type(raw).connect(info.dsn)
            )
        if root == "psycopg2":
            password = getattr(raw.info, "password", None)
            driver = sys.modules["psycopg2"]
            return lambda: driver.connect(raw.dsn, password=password) if password else driver.connect(raw.dsn)
        if root == "pymysql":
            return _pymysql_reopener(raw)
    except Exception:  # an unusual connection: no background EXPLAIN for it, the foreground still works
        return None
    return None


def _sqlite_reopener(raw: Any) -> Callable[[], Any] | None:
    rows = raw.execute("PRAGMA database_list").fetchall()
    path = next((row[2] for row in rows if row[1] == "main"), "")
    if not path:
        return None  # in-memory or temporary: only the session connection sees it
    import sqlite3

    uri = "file:" + urllib.parse.quote(path) + "?mode=ro"
    return lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)


def _pymysql_reopener(raw: Any) -> Callable[[], Any]:
    driver = sys.modules["pymysql"]

    def text(value: Any) -> Any:
        return value.decode() if isinstance(value, bytes) else value

    options = {
        "host": raw.host,
        "port": raw.port,
        "user": text(raw.user),
        "password": text(raw.password),
        "database": text(raw.db),
        "unix_socket": raw.unix_socket,
        "charset": raw.charset,
    }
    return lambda: driver.connect(**options)

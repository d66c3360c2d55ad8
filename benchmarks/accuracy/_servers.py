"""The corpus's databases: SQLite files, and two databases of its own on each server it can reach.

The servers are those of the test suite (PostgreSQL and MariaDB on 127.0.0.1); the corpus creates
``queryguard_accuracy`` and ``queryguard_accuracy_other`` on each (the second is where the statements of
"the same SELECT on another database" go) and drops them when it is done.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

# Two runs at once on one machine each set their own suffix.
_SUFFIX = os.environ.get("QUERYGUARD_TEST_DB_SUFFIX", "")
NAME = "queryguard_accuracy" + _SUFFIX
OTHER = "queryguard_accuracy_other" + _SUFFIX
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
SERVERS = {"postgresql": POSTGRES, "mysql": MYSQL}


def reachable(database: str) -> str | None:
    """None when ``database`` can be used, else why not."""
    if database == "sqlite":
        return None
    server = SERVERS[database]
    try:
        with socket.create_connection((str(server["host"]), int(server["port"])), timeout=1.0):  # type: ignore[call-overload]
            return None
    except OSError:
        return f"{database} is not reachable on {server['host']}:{server['port']}"


def create(database: str, folder: Path) -> None:
    """Create the corpus's two databases afresh (SQLite: two files in ``folder``)."""
    if database == "sqlite":
        for name in (NAME, OTHER):
            path = folder / f"{name}.sqlite3"
            if path.exists():
                path.unlink()
        return
    _each(database, "DROP DATABASE IF EXISTS {}", "CREATE DATABASE {}")


def drop(database: str) -> None:
    """Drop the corpus's databases on ``database``'s server (SQLite files go with their folder)."""
    if database != "sqlite":
        _each(database, "DROP DATABASE IF EXISTS {}")


def _each(database: str, *statements: str) -> None:
    if database == "postgresql":
        import psycopg

        with psycopg.connect(**POSTGRES, dbname="postgres", autocommit=True) as conn:  # type: ignore[arg-type]
            for name in (NAME, OTHER):
                for statement in statements:
                    conn.execute(statement.format(name))
        return
    import pymysql

    conn = pymysql.connect(**MYSQL, autocommit=True)  # type: ignore[arg-type]
    try:
        with conn.cursor() as cursor:
            for name in (NAME, OTHER):
                for statement in statements:
                    sql = statement.format(name)
                    if sql.startswith("CREATE"):
                        sql += " CHARACTER SET utf8mb4"
                    cursor.execute(sql)
    finally:
        conn.close()


def sqlite_path(folder: Path, other: bool = False) -> str:
    """The SQLite file of the corpus's (other) database."""
    return os.fspath(folder / f"{OTHER if other else NAME}.sqlite3")


def dbapi_connect(database: str, folder: Path, *, other: bool = False) -> Any:
    """A plain DB-API connection to the corpus's (other) database."""
    name = OTHER if other else NAME
    if database == "sqlite":
        import sqlite3

        return sqlite3.connect(sqlite_path(folder, other))
    if database == "postgresql":
        import psycopg

        return psycopg.connect(**POSTGRES, dbname=name)  # type: ignore[arg-type]
    import pymysql

    return pymysql.connect(**MYSQL, database=name)  # type: ignore[arg-type]


def sqlalchemy_url(database: str, folder: Path, *, other: bool = False, asynchronous: bool = False) -> str:
    """The SQLAlchemy URL of the corpus's (other) database; ``asynchronous``: with an asyncio driver."""
    name = OTHER if other else NAME
    if database == "sqlite":
        return f"sqlite+{'aiosqlite' if asynchronous else 'pysqlite'}:///{sqlite_path(folder, other)}"
    if database == "postgresql":
        return f"postgresql+psycopg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    driver = "aiomysql" if asynchronous else "pymysql"
    return f"mysql+{driver}://{MYSQL['user']}@{MYSQL['host']}:{MYSQL['port']}/{name}?charset=utf8mb4"


def async_driver_missing(database: str) -> str | None:
    """Why async cases cannot run on ``database`` (no asyncio driver installed), or None."""
    module = {"sqlite": "aiosqlite", "postgresql": "psycopg", "mysql": "aiomysql"}[database]
    try:
        __import__(module)
    except ImportError:
        return f"no asyncio driver for {database} is installed ({module})"
    return None

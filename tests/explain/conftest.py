"""Fixtures of the EXPLAIN tests: a shop (authors, books, items) on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import queryguard._explain as explain

from ._db import AUTHORS, Recorder, book_rows, connection_source, sqlite_shop

SCHEMA = f"qg_explain_{os.getpid()}"


@pytest.fixture(autouse=True)
def fresh_stage() -> Iterator[None]:
    """Every test starts with no cached plans, no back-off and zeroed counters, and leaves no work behind."""
    explain._reset()
    yield
    assert explain.wait(30.0), "the background worker did not finish"
    explain._reset()


@dataclasses.dataclass
class Shop:
    """A shop database: the app's connection, its EXPLAIN source, and how to open another connection."""

    vendor: str
    conn: Any
    source: Any
    reopen: Callable[[], Any]
    placeholder: str

    def recorder(self, orm: str | None = None) -> Recorder:
        """A recorder on the app's connection."""
        return Recorder(self.conn, self.source, orm=orm)

    def sql(self, text: str) -> str:
        """``text`` with ``?`` placeholders in this database's style."""
        return text.replace("?", self.placeholder)

    def rows(self, sql: str, params: Any = ()) -> list[Any]:
        """Rows of a query on the app's connection, not recorded."""
        cur = self.conn.cursor()
        cur.execute(self.sql(sql), params)
        rows = [tuple(row) for row in cur.fetchall()] if cur.description else []
        cur.close()
        return rows


@pytest.fixture
def sqlite_shop_db(tmp_path: Path) -> Iterator[Shop]:
    """The shop in an SQLite file."""
    path = str(tmp_path / "shop.db")
    conn = sqlite_shop(path)
    conn.executescript(
        "CREATE TABLE item (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);"
        "CREATE TABLE counter (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);"
        "INSERT INTO counter (note) VALUES ('first');"
    )
    conn.executemany("INSERT INTO item VALUES (?, ?)", [(i, i) for i in range(1, 11)])
    conn.commit()
    yield Shop("sqlite", conn, connection_source(conn), lambda: sqlite3.connect(path), "?")
    conn.close()


@pytest.fixture(scope="session")
def postgres_shop_params(postgres_params: dict[str, object]) -> Iterator[dict[str, object]]:
    """A schema of its own in the PostgreSQL test database, with the shop filled and analysed."""
    import psycopg

    with psycopg.connect(**postgres_params, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"SET search_path = {SCHEMA}")
        conn.execute("CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL)")
        conn.execute(
            "CREATE TABLE book (id integer PRIMARY KEY, title varchar(200) NOT NULL, price integer NOT NULL,"
            " author_id integer NOT NULL REFERENCES author(id), published date NOT NULL)"
        )
        conn.execute("CREATE INDEX book_price ON book (price)")
        conn.execute("CREATE TABLE item (id integer PRIMARY KEY, qty integer NOT NULL)")
        conn.execute("CREATE SEQUENCE item_seq")
        conn.execute(
            "CREATE TABLE pair AS SELECT g AS id, g % 20 AS a, g % 20 AS b FROM generate_series(1, 20000) g"
        )
        conn.execute("SELECT nextval('item_seq')")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO author VALUES (%s, %s)", [(i, f"author {i}") for i in range(1, AUTHORS + 1)]
            )
            cur.executemany("INSERT INTO book VALUES (%s, %s, %s, %s, %s)", list(book_rows()))
            cur.executemany("INSERT INTO item VALUES (%s, %s)", [(i, i) for i in range(1, 11)])
        conn.execute("ANALYZE")
    yield {**postgres_params, "options": f"-c search_path={SCHEMA}"}
    with psycopg.connect(**postgres_params, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@pytest.fixture
def postgres_shop(postgres_shop_params: dict[str, object]) -> Iterator[Shop]:
    """The PostgreSQL shop through a fresh psycopg connection (not in autocommit mode)."""
    import psycopg

    conn = psycopg.connect(**postgres_shop_params)  # type: ignore[arg-type]
    yield Shop(
        "postgresql", conn, connection_source(conn), lambda: psycopg.connect(**postgres_shop_params), "%s"
    )  # type: ignore[arg-type]
    conn.rollback()
    conn.close()


@pytest.fixture(scope="session")
def mysql_shop_params(mysql_params: dict[str, object]) -> Iterator[dict[str, object]]:
    """A database of its own on the MariaDB server, with the shop filled."""
    import pymysql

    conn = pymysql.connect(**{**mysql_params, "database": None}, autocommit=True)  # type: ignore[arg-type]
    cur = conn.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
    cur.execute(f"CREATE DATABASE {SCHEMA}")
    cur.execute(f"USE {SCHEMA}")
    cur.execute("CREATE TABLE author (id int PRIMARY KEY, name varchar(100) NOT NULL)")
    cur.execute(
        "CREATE TABLE book (id int PRIMARY KEY, title varchar(200) NOT NULL, price int NOT NULL,"
        " INDEX (price),"
        " author_id int NOT NULL, published date NOT NULL, FOREIGN KEY (author_id) REFERENCES author(id))"
    )
    cur.execute("CREATE TABLE item (id int PRIMARY KEY, qty int NOT NULL)")
    cur.execute("CREATE SEQUENCE item_seq NOCACHE")  # every NEXTVAL shows in the sequence table
    cur.execute("SELECT NEXTVAL(item_seq)")
    cur.executemany("INSERT INTO author VALUES (%s, %s)", [(i, f"author {i}") for i in range(1, AUTHORS + 1)])
    cur.executemany("INSERT INTO book VALUES (%s, %s, %s, %s, %s)", list(book_rows()))
    cur.executemany("INSERT INTO item VALUES (%s, %s)", [(i, i) for i in range(1, 11)])
    cur.execute("ANALYZE TABLE author, book, item")
    cur.fetchall()
    yield {**mysql_params, "database": SCHEMA}
    cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
    conn.close()


@pytest.fixture
def mysql_shop(mysql_shop_params: dict[str, object]) -> Iterator[Shop]:
    """The MariaDB shop through a fresh PyMySQL connection (autocommit off, as PyMySQL defaults)."""
    import pymysql

    conn = pymysql.connect(**mysql_shop_params)  # type: ignore[arg-type]
    yield Shop("mysql", conn, connection_source(conn), lambda: pymysql.connect(**mysql_shop_params), "%s")  # type: ignore[arg-type]
    conn.rollback()
    conn.close()


@pytest.fixture
def postgres2_shop(postgres_shop_params: dict[str, object]) -> Iterator[Shop]:
    """The PostgreSQL shop through psycopg2 (the other PostgreSQL driver in use), not in autocommit mode."""
    import psycopg2

    params = {("database" if k == "dbname" else k): v for k, v in postgres_shop_params.items()}
    conn = psycopg2.connect(**params)
    yield Shop("postgresql", conn, connection_source(conn), lambda: psycopg2.connect(**params), "%s")
    conn.rollback()
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql", "postgresql-psycopg2", "mysql"])
def shop(request: pytest.FixtureRequest) -> Shop:
    """The shop on each database (and PostgreSQL driver) in turn."""
    name = {
        "sqlite": "sqlite_shop_db",
        "postgresql": "postgres_shop",
        "postgresql-psycopg2": "postgres2_shop",
        "mysql": "mysql_shop",
    }[request.param]
    result: Shop = request.getfixturevalue(name)
    return result

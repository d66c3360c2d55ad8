"""Real databases for the EXPLAIN tests, and a recorder that reports statements like an integration does."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from queryguard import QueryEvent, record
from queryguard._explain.sources import DBAPISource, connection_source

BOOKS = 5_000
AUTHORS = 200


class Recorder:
    """Runs statements on a real DB-API connection and records each one with its EXPLAIN source."""

    def __init__(self, conn: Any, source: Any, *, orm: str | None = None, alias: str = "default") -> None:
        self.conn = conn
        self.source = source
        self.orm = orm
        self.alias = alias

    def run(self, sql: str, params: Any = None, *, many: bool = False) -> list[Any]:
        """Execute ``sql`` (``executemany`` with ``many``), record it, return its rows."""
        cur = self.conn.cursor()
        started = time.perf_counter()
        error = None
        try:
            if many:
                cur.executemany(sql, params)
            elif params is None and self.source.vendor == "sqlite":
                cur.execute(sql)
            else:
                cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            event = QueryEvent(
                sql,
                params,
                (time.perf_counter() - started) * 1000.0,
                vendor=self.source.vendor,
                alias=self.alias,
                executemany=many,
                orm=self.orm,
                error=error,
                rowcount=cur.rowcount,
            )
            event.explainer = self.source
            record(event)
            cur.close()


SQLITE_SCHEMA = """
CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE book (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, price INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES author(id), published TEXT NOT NULL
);
CREATE INDEX book_price ON book (price);
"""


def book_rows() -> Iterator[tuple[Any, ...]]:
    """Deterministic books: unique titles, 100 prices, AUTHORS authors, dates over 10 years."""
    for i in range(1, BOOKS + 1):
        yield (
            i,
            f"title {i}",
            i % 100,
            1 + i % AUTHORS,
            f"20{10 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        )


def sqlite_shop(path: str) -> sqlite3.Connection:
    """A file SQLite database with the shop tables filled."""
    conn = sqlite3.connect(path)
    conn.executescript(SQLITE_SCHEMA)
    conn.executemany("INSERT INTO author VALUES (?, ?)", [(i, f"author {i}") for i in range(1, AUTHORS + 1)])
    conn.executemany("INSERT INTO book VALUES (?, ?, ?, ?, ?)", list(book_rows()))
    conn.commit()
    return conn


__all__ = ["AUTHORS", "BOOKS", "DBAPISource", "Recorder", "book_rows", "connection_source", "sqlite_shop"]

"""Small helpers shared by the core tests (a separate file so call-site tests can skip it)."""

from __future__ import annotations

import sqlite3
from typing import Any

from queryguard import dbapi


def shop_db() -> dbapi.Connection:
    """A real in-memory SQLite shop: 10 authors, 30 books, recorded through the DB-API wrapper."""
    raw = sqlite3.connect(":memory:", check_same_thread=False)
    raw.executescript(
        """
        CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT, author_id INTEGER REFERENCES author(id));
        """
    )
    raw.executemany("INSERT INTO author VALUES (?, ?)", [(i, f"author {i}") for i in range(1, 11)])
    raw.executemany(
        "INSERT INTO book VALUES (?, ?, ?)", [(i, f"book {i}", (i % 10) + 1) for i in range(1, 31)]
    )
    raw.commit()
    return dbapi.instrument(raw)


def fetch_author(conn: dbapi.Connection, author_id: int) -> Any:
    """Run one lookup from this module (call-site tests ignore this file)."""
    return conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()

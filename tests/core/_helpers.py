"""Small helpers shared by the core tests (a separate file so call-site tests can skip it)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest

from queryguard import _guard, dbapi

# The connections shop_db() opened in the running test: conftest.py closes them after it (Python 3.13 warns
# about an sqlite3 connection left open, and warnings are errors).
_opened: list[sqlite3.Connection] = []


def shop_db() -> dbapi.Connection:
    """A real in-memory SQLite shop: 10 authors, 30 books, recorded through the DB-API wrapper."""
    raw = sqlite3.connect(":memory:", check_same_thread=False)
    _opened.append(raw)
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


def close_shop_dbs() -> None:
    """Close every connection :func:`shop_db` opened so far."""
    while _opened:
        _opened.pop().close()


def fetch_author(conn: dbapi.Connection, author_id: int) -> Any:
    """Run one lookup from this module (call-site tests ignore this file)."""
    return conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()


class RequestFilter(logging.Filter):
    """A filter written for ``django.request`` records: it reads ``record.request``, which ours lack."""

    def filter(self, record: logging.LogRecord) -> bool:
        return bool(record.request.path)  # type: ignore[attr-defined]


class DownHandler(logging.Handler):
    """A handler whose sink is down: every record raises."""

    def emit(self, record: logging.LogRecord) -> None:
        raise OSError("the log sink is down")


#: The two ways a logging configuration can raise on queryguard's records.
BROKEN_LOGGING = {"filter": RequestFilter, "handler": DownHandler}


def break_logging(how: str) -> logging.Filterer:
    """Install a raising filter or handler (``how``) on the ``queryguard`` logger; return it."""
    logger = logging.getLogger("queryguard")
    broken = BROKEN_LOGGING[how]()
    if isinstance(broken, logging.Handler):
        logger.addHandler(broken)
    else:
        logger.addFilter(broken)
    return broken


def mend_logging(broken: logging.Filterer) -> None:
    """Remove what :func:`break_logging` installed."""
    logger = logging.getLogger("queryguard")
    if isinstance(broken, logging.Handler):
        logger.removeHandler(broken)
    elif isinstance(broken, logging.Filter):
        logger.removeFilter(broken)


def forget_internal_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Internal errors are logged once per process: make this test start with none logged yet."""
    monkeypatch.setattr(_guard, "_reported", set())
    monkeypatch.setattr(_guard, "_fallback_used", False)

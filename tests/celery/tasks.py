"""The Celery app of the tests: tasks with an N+1, a write loop, a suppressed loop and a failure, on a
SQLite file recorded through queryguard's DB-API wrapper. Broker and results: Redis on 127.0.0.1:6379."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from celery import Celery
from queryguard_celery import instrument

import queryguard
from queryguard import dbapi

REDIS = os.environ.get("QUERYGUARD_TEST_REDIS", "redis://127.0.0.1:6379/0")
app = Celery("qgtests", broker=REDIS, backend=REDIS)
app.conf.update(
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=True,
    task_acks_late=False,
    result_expires=600,
)
instrument(app, explain=False, action=os.environ.get("QG_TEST_CELERY_ACTION", "log"))


def _connect(path: str) -> dbapi.Connection:
    return dbapi.instrument(sqlite3.connect(path, isolation_level=None))


def create(path: str, n: int = 4) -> None:
    """Create the shop: ``n`` authors with a book each."""
    with sqlite3.connect(path) as raw:
        raw.executescript(
            "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT, author_id INTEGER);"
        )
        for i in range(1, n + 1):
            raw.execute("INSERT INTO author VALUES (?, ?)", (i, f"author {i}"))
            raw.execute("INSERT INTO book VALUES (?, ?, ?)", (i, f"book {i}", i))
    raw.close()


@app.task
def book_authors(path: str) -> int:
    """An N+1: one author query per book."""
    conn = _connect(path)
    try:
        books = conn.execute("SELECT title, author_id FROM book").fetchall()
        for _title, author_id in books:
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()
        return len(books)
    finally:
        conn.close()


@app.task
def rename_authors(path: str) -> int:
    """A write loop: one UPDATE per author."""
    conn = _connect(path)
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM author").fetchall()]
        for author_id in ids:
            conn.execute("UPDATE author SET name = ? WHERE id = ?", (f"renamed {author_id}", author_id))
        return len(ids)
    finally:
        conn.close()


@app.task
def quiet_authors(path: str) -> int:
    """An N+1 suppressed with a reason."""
    conn = _connect(path)
    try:
        with queryguard.ignore("n_plus_one", reason="four authors at most"):
            books = conn.execute("SELECT author_id FROM book").fetchall()
            for (author_id,) in books:
                conn.execute("SELECT id, name FROM author WHERE id = ?", (author_id,)).fetchone()
        return len(books)
    finally:
        conn.close()


@app.task
def clean(path: str) -> int:
    """One query: no finding."""
    conn = _connect(path)
    try:
        return len(conn.execute("SELECT title FROM book").fetchall())
    finally:
        conn.close()


@app.task(bind=True, max_retries=1, default_retry_delay=0)
def flaky_authors(self: Any, path: str) -> int:
    """The N+1 of ``book_authors``, then a retry on the first attempt: each attempt is a unit."""
    count = int(book_authors.run(path))
    if not self.request.retries:
        raise self.retry(countdown=0)
    return count

"""Closing database connections that Django keeps open: those of an in-memory SQLite database."""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper


def close(connection: Any) -> None:
    """Close ``connection``, also when it is a connection to an in-memory SQLite database.

    Django ignores ``close()`` there, as closing the last connection would drop the database. The test
    database keeps the main thread's connection, so a worker thread's (or a copy's) can go; left open, it
    makes Python 3.13 warn when it is collected, and warnings are errors.
    """
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        BaseDatabaseWrapper.close(connection)
    else:
        connection.close()


def close_all() -> None:
    """Close every connection of this thread (``connections.close_all()``, in-memory SQLite ones too)."""
    for connection in connections.all(initialized_only=True):
        close(connection)

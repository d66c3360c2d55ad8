"""Wrapping a DB-API connection: idempotent, so no statement is recorded twice."""

from __future__ import annotations

import contextlib
import sqlite3

import queryguard


def test_wrapping_twice_returns_the_same_wrapper_and_records_once() -> None:
    """instrument(instrument(conn)) is the first wrapper: one event per statement, no false duplicate."""
    with contextlib.closing(sqlite3.connect(":memory:")) as raw:
        first = queryguard.dbapi.instrument(raw)
        second = queryguard.dbapi.instrument(first)
        assert second is first
        with queryguard.capture(action="none") as cap:
            second.execute("SELECT 1").fetchall()
    assert len(cap.queries) == 1
    assert not [f for f in cap.findings if f.kind == "duplicate_query"]

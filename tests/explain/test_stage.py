"""The stage: what gets explained, how often, in the foreground or after the response, and who hears of it."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from typing import Any

import pytest

import queryguard
import queryguard._explain as explain
from queryguard import dbapi
from queryguard._explain import _worker
from queryguard._explain.sources import DBAPISource, connection_source

from ._db import Recorder
from .conftest import Shop

FULL_SCAN = "SELECT id, title FROM book WHERE title = ?"


def kinds(cap: queryguard.Capture) -> list[str]:
    """The kinds of the capture's findings, in order."""
    return [f.kind for f in cap.findings]


def test_only_statements_slower_than_the_limit_are_explained(sqlite_shop_db: Shop) -> None:
    """Fast statements are not explained: no slow_query, no plan, no EXPLAIN run."""
    with queryguard.capture(action="none") as cap:
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 1",))
    assert kinds(cap) == []
    assert explain.stats().get("explained", 0) == 0


def test_explain_false_turns_the_stage_off(sqlite_shop_db: Shop) -> None:
    """capture(explain=False) reports the slow statement without a plan."""
    with queryguard.capture(action="none", slow_query_ms=0, explain=False) as cap:
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 1",))
    assert kinds(cap) == ["slow_query"] and cap.findings[0].plan is None


def test_a_plan_is_reused_within_the_ttl_and_asked_again_after(sqlite_shop_db: Shop) -> None:
    """The same statement shape on the same database is explained once per explain_ttl_s."""
    for title in ("title 1", "title 2"):
        with queryguard.capture(action="none", slow_query_ms=0) as cap:
            sqlite_shop_db.recorder().run(FULL_SCAN, (title,))
        assert kinds(cap) == ["full_scan"]
    assert explain.stats()["explained"] == 1 and explain.stats()["cache_hits"] == 1
    with queryguard.capture(action="none", slow_query_ms=0, explain_ttl_s=0) as cap:
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 3",))
    assert kinds(cap) == ["full_scan"] and explain.stats()["explained"] == 2


def test_at_most_explain_max_per_unit_statements_are_explained(sqlite_shop_db: Shop) -> None:
    """Three slow shapes with a limit of two: the two slowest get a plan, the third none."""
    recorder = sqlite_shop_db.recorder()
    with queryguard.capture(action="none", slow_query_ms=0, explain_max_per_unit=2) as cap:
        recorder.run("SELECT id FROM book WHERE title = ?", ("a",))
        recorder.run("SELECT id FROM book WHERE published = ?", ("b",))
        recorder.run("SELECT id FROM book WHERE price = ?", (3,))
    assert sorted(f.plan is not None for f in cap.findings) == [False, True, True]
    assert explain.stats()["explained"] == 2


def test_n_plus_one_child_statement_is_explained_only_when_asked(sqlite_shop_db: Shop) -> None:
    """explain_n_plus_one: the repeated child query of an N+1 gets its plan (an unindexed foreign key)."""
    recorder = sqlite_shop_db.recorder(orm="django")

    def loop() -> None:
        for author_id in (1, 2, 3):
            recorder.run("SELECT id, title FROM book WHERE author_id = ?", (author_id,))

    with queryguard.capture(action="none") as cap:
        loop()
    assert kinds(cap) == ["n_plus_one"] and cap.findings[0].plan is None
    with queryguard.capture(action="none", explain_n_plus_one=True) as cap:
        loop()
    assert kinds(cap) == ["n_plus_one"]  # the loop is the verdict; its plan's smells are listed in it
    assert cap.findings[0].plan is not None and cap.findings[0].message.startswith("N+1: ")
    assert "its plan shows full scan: " in cap.findings[0].message
    assert "(author_id: a foreign key without an index)" in cap.findings[0].message


def test_explain_statements_are_never_captured(tmp_path: Any) -> None:
    """EXPLAIN and catalog statements run suppressed: an outer capture sees only the app's statements."""
    path = str(tmp_path / "t.db")
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.executescript("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        setup.commit()
    raw = sqlite3.connect(path)
    app = dbapi.instrument(raw)  # a recording connection: what an EXPLAIN on it would be captured through
    source = DBAPISource(
        lambda: dbapi.instrument(sqlite3.connect(path)), vendor="sqlite", session=lambda: app
    )
    with contextlib.closing(raw), queryguard.capture(action="none", explain=False) as outer:
        with queryguard.capture(action="none", slow_query_ms=0) as inner:
            Recorder(raw, source).run("SELECT x FROM t WHERE x = ?", (1,))
        cap = queryguard.capture(action="none", slow_query_ms=0).start()
        Recorder(raw, source).run("SELECT x FROM t WHERE x > ?", (0,))
        cap.stop(background=True)
        assert explain.wait(20.0)
    assert inner.findings[0].plan is not None and cap.findings[0].plan is not None
    assert [q.sql for q in outer.queries] == ["SELECT x FROM t WHERE x = ?", "SELECT x FROM t WHERE x > ?"]


def test_background_completes_the_findings_logs_them_and_calls_listeners(
    sqlite_shop_db: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """stop(background=True): act now; the worker then inserts plan findings, logs them, tells listeners."""
    heard: list[tuple[Any, list[str], bool]] = []
    done = threading.Event()

    def listener(capture: Any, added: list[queryguard.Finding]) -> None:
        heard.append(
            (capture, [f.kind for f in added], threading.current_thread().name == "queryguard-explain")
        )
        done.set()

    explain.add_listener(listener)
    try:
        caplog.set_level(logging.WARNING, logger="queryguard")
        cap = queryguard.capture(slow_query_ms=0, name="GET /books/").start()
        sqlite_shop_db.recorder(orm="django").run(FULL_SCAN, ("title 5",))
        cap.stop(background=True)
        assert done.wait(20.0) and explain.wait(20.0)
    finally:
        explain.remove_listener(listener)
    assert heard == [(cap, ["full_scan"], True)]
    assert kinds(cap) == ["full_scan"] and not explain.is_pending(cap)
    unit, added = (r.getMessage().splitlines() for r in caplog.records)  # one record each
    assert unit[0].startswith("queryguard: GET /books/ ran 1 query")
    assert added[0] == "queryguard: GET /books/ EXPLAIN added 1 finding"
    assert added[1].strip().startswith("full scan: SCAN book reads ~5,000 rows")
    assert [f["kind"] for f in caplog.records[1].queryguard_findings] == ["full_scan"]  # type: ignore[attr-defined]


def test_foreground_findings_are_complete_before_the_action(sqlite_shop_db: Shop) -> None:
    """In a plain capture the raise action already sees the plan findings."""
    with (
        pytest.raises(queryguard.QueryGuardViolation) as raised,
        queryguard.capture(slow_query_ms=0, action="raise"),
    ):
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 5",))
    assert "full scan: SCAN book" in str(raised.value)


def test_background_reuses_a_cached_plan_at_once(sqlite_shop_db: Shop) -> None:
    """A shape explained moments ago is applied during stop(): nothing waits for the worker."""
    with queryguard.capture(action="none", slow_query_ms=0):
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 1",))
    cap = queryguard.capture(action="none", slow_query_ms=0).start()
    sqlite_shop_db.recorder().run(FULL_SCAN, ("title 2",))
    cap.stop(background=True)
    assert kinds(cap) == ["full_scan"] and not explain.is_pending(cap)


def test_ignored_kinds_stay_out(sqlite_shop_db: Shop) -> None:
    """ignore_kinds applies to plan findings too."""
    with queryguard.capture(action="none", slow_query_ms=0, ignore_kinds=["full_scan"]) as cap:
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 1",))
    assert kinds(cap) == ["slow_query"] and cap.findings[0].plan is not None


def test_failed_and_foreign_statements_are_not_explained(sqlite_shop_db: Shop) -> None:
    """A statement that failed, one without a source, and queryguard-style EXPLAIN text are skipped."""
    recorder = sqlite_shop_db.recorder()
    with queryguard.capture(action="none", slow_query_ms=0) as cap:
        with pytest.raises(sqlite3.OperationalError):
            recorder.run("SELECT nope FROM book WHERE title = ?", ("x",))
        recorder.run("EXPLAIN QUERY PLAN SELECT id FROM book WHERE title = ?", ("x",))
        queryguard.record(
            queryguard.QueryEvent("SELECT id FROM book WHERE title = ?", ("x",), 5.0, vendor="sqlite")
        )
    assert all(f.plan is None for f in cap.findings)
    assert explain.stats().get("explained", 0) == 0


def test_executemany_is_explained_with_its_first_parameters(sqlite_shop_db: Shop) -> None:
    """An executemany UPDATE is explained (never analysed) with its first parameter set."""
    sql = "UPDATE book SET price = price WHERE title = ?"
    with queryguard.capture(action="none", slow_query_ms=0, explain_analyze=True) as cap:
        sqlite_shop_db.recorder().run(sql, [("title 1",), ("title 2",)], many=True)
    assert kinds(cap) == ["full_scan"]
    assert cap.findings[0].details["analyzed"] is False


def test_worker_drops_and_counts_work_when_its_queue_is_full() -> None:
    """A full queue drops the job (counted) instead of growing; the worker finishes what it accepted."""
    worker = _worker.Worker(maxsize=1)
    release = threading.Event()
    started = threading.Event()
    ran: list[int] = []

    def blocking() -> None:
        started.set()
        release.wait(20.0)
        ran.append(0)

    assert worker.submit(blocking)
    assert started.wait(20.0)
    assert worker.submit(lambda: ran.append(1))
    assert not worker.submit(lambda: ran.append(2))
    assert worker.dropped == 1 and not worker.wait(0.05)
    release.set()
    assert worker.wait(20.0) and ran == [0, 1]


def test_a_dropped_job_is_not_pending(sqlite_shop_db: Shop) -> None:
    """When the queue refuses a unit's job, the capture is not left pending forever."""
    saved = _worker.WORKER
    _worker.WORKER = _worker.Worker(maxsize=1)
    release, started = threading.Event(), threading.Event()

    def blocking() -> None:
        started.set()
        release.wait(20.0)

    try:
        _worker.WORKER.submit(blocking)
        assert started.wait(20.0)
        _worker.WORKER.submit(lambda: None)
        cap = queryguard.capture(action="none", slow_query_ms=0).start()
        sqlite_shop_db.recorder().run(FULL_SCAN, ("title 1",))
        cap.stop(background=True)
        assert not explain.is_pending(cap) and explain.stats()["dropped"] == 1
    finally:
        release.set()
        assert _worker.WORKER.wait(20.0)
        _worker.WORKER = saved


def test_a_listener_that_raises_is_logged_and_others_still_run(
    sqlite_shop_db: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken listener never breaks the application or the other listeners."""
    heard: list[Any] = []

    def broken(capture: Any, added: Any) -> None:
        raise RuntimeError("listener bug")

    explain.add_listener(broken)
    explain.add_listener(lambda capture, added: heard.append(capture))
    try:
        with queryguard.capture(action="none", slow_query_ms=0) as cap:
            sqlite_shop_db.recorder().run(FULL_SCAN, ("title 1",))
    finally:
        explain._stage.STATE.listeners.clear()
    assert heard == [cap] and "explain listener" in caplog.text


def test_memory_database_is_explained_in_the_foreground_only() -> None:
    """An in-memory SQLite database has no second connection: only the foreground can explain it."""
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
    source = connection_source(conn)
    with queryguard.capture(action="none", slow_query_ms=0) as cap:
        Recorder(conn, source).run("SELECT x FROM t WHERE x = ?", (1,))
    assert cap.findings[0].plan == [{"id": 2, "parent": 0, "detail": "SCAN t"}]
    cap = queryguard.capture(action="none", slow_query_ms=0, explain_ttl_s=0).start()
    Recorder(conn, source).run("SELECT x FROM t WHERE x = ?", (1,))
    cap.stop(background=True)
    assert explain.wait(20.0) and cap.findings[0].plan is None and explain.stats()["failures"] == 1

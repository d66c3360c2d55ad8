"""The "log" action: one record per unit, so that the lines of concurrent units never interleave."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import pytest

import queryguard

from ._helpers import shop_db


def _unit(conn: Any, name: str, gate: threading.Barrier) -> None:
    with queryguard.capture(name=name, action_min_severity="info"):
        for author_id in (1, 2, 3):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
        conn.execute("SELECT * FROM book")
        gate.wait(timeout=30)  # every unit ends at about the same time


def test_each_unit_is_one_record_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    """Eight units ending together give eight records, each its own header followed by its own findings."""
    conn = shop_db()
    names = [f"GET /books/{n}/" for n in range(8)]
    gate = threading.Barrier(len(names))
    threads = [threading.Thread(target=_unit, args=(conn, name, gate)) for name in names]
    with caplog.at_level(logging.INFO, logger="queryguard"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    records = [r for r in caplog.records if r.name == "queryguard"]
    assert sorted(r.queryguard_unit for r in records) == sorted(names)  # type: ignore[attr-defined]
    for record in records:
        header, *lines = record.getMessage().splitlines()
        unit = re.escape(record.queryguard_unit)  # type: ignore[attr-defined]
        assert re.fullmatch(rf"queryguard: {unit} ran 4 queries in [\d.]+ ms: 2 findings", header)
        assert [line.split(" ")[2] for line in lines] == ["N+1:", "SELECT"]


def test_the_record_carries_each_findings_facts(caplog: pytest.LogCaptureFixture) -> None:
    """``extra`` holds the unit and each finding's kind, count, call site and fix; the level is the worst."""
    conn = shop_db()
    with caplog.at_level(logging.INFO, logger="queryguard"), queryguard.capture(name="job"):
        for author_id in (1, 2, 3):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    (finding,) = record.queryguard_findings  # type: ignore[attr-defined]
    assert finding["kind"] == "n_plus_one" and finding["count"] == 3 and finding["severity"] == "warning"
    assert finding["callsite"].startswith("tests/core/test_log_records.py:")
    assert finding["suggestion"] and finding["message"].startswith("N+1: author rows loaded 3 times")


def test_one_statement_is_one_query_in_the_header(caplog: pytest.LogCaptureFixture) -> None:
    """The header counts in words that agree with the number: ``1 query``, ``1 finding``."""
    conn = shop_db()
    with (
        caplog.at_level(logging.INFO, logger="queryguard"),
        queryguard.capture(name="job", action_min_severity="info"),
    ):
        conn.execute("SELECT * FROM book")
    assert caplog.records[0].getMessage().splitlines()[0].startswith("queryguard: job ran 1 query in ")
    assert caplog.records[0].getMessage().splitlines()[0].endswith(" ms: 1 finding")

"""The bookshop demo end to end: every planted mistake is found, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES

DEMO = Path(__file__).resolve().parents[2] / "example_projects" / "django_bookshop" / "demo.py"


def run_demo(tmp_path: Path, **env: str) -> tuple[str, dict[str, Any]]:
    """Run ``demo.py`` in a new process from ``tmp_path``: its output, and a JSON report of the slow page."""
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "bookshop.settings", **env}
    result = subprocess.run(
        [sys.executable, str(DEMO)], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    audit = subprocess.run(
        [sys.executable, str(DEMO.parent / "manage.py"), "queryguard_audit", "/reviews/?by=Ada+O.",
         "--report", str(tmp_path / "reader.json")],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert audit.returncode == 1, audit.stdout + audit.stderr  # findings at "warning": CI would fail
    return result.stdout, json.loads((tmp_path / "reader.json").read_text())


EXPECTED_LINES = [
    'fix: add .select_related("author") to the queryset that loads Book',
    'fix: add .prefetch_related("books") to the queryset that loads Author',
    'fix: add .prefetch_related("books__reviews") to the queryset that loads Author',
    'fix: add .prefetch_related("tags") to the queryset that loads Book',
    "duplicate [warning] the same SELECT on shop_review ran 2 times",
    "write loop [warning] 10 single-row UPDATEs into shop_book",
    "fix: use Model.objects.bulk_update(objs, fields) or one queryset .update(...)",
    "SELECT * [info] SELECT * from shop_tag",
    "views.py:55 in restock loaded Book.author for 10 rows, and no code read it",
    'fix: remove "author" from .select_related(...)',
]
# One index leads with the filter (and serves the order too where the plan sorts: SQLite, MariaDB).
INDEX = 'add models.Index(fields=["reviewer"'


def check(output: str, report: dict[str, Any]) -> None:
    """Every planted mistake is in the output, and the slow filter names the index to add."""
    for line in EXPECTED_LINES:
        assert line in output
    findings = {f["kind"]: f for f in report["units"][0]["findings"]}
    assert "full_scan" in findings and "slow_query" not in findings  # one verdict per slow statement
    assert findings["full_scan"]["suggestion"].startswith(INDEX) and "to Review.Meta.indexes" in output
    assert findings["full_scan"]["table"] == "shop_review" and findings["full_scan"]["plan"] is not None
    assert "Ada" not in json.dumps(report)  # the filter's value is redacted everywhere


def test_bookshop_demo_on_sqlite(tmp_path: Path) -> None:
    """`make demo` on SQLite: forward, reverse and nested N+1, duplicate, write loop, SELECT *, slow scan."""
    output, report = run_demo(tmp_path, BOOKSHOP_SQLITE=str(tmp_path / "bookshop.sqlite3"))
    check(output, report)
    assert (tmp_path / "queryguard-report.html").stat().st_size > 10_000
    hint = next(line for line in output.splitlines() if line.startswith("Browse the shop:"))
    python, manage, verb = hint.partition("(or: ")[2].rstrip(")").split()
    # The printed command works from where the demo ran: its interpreter and manage.py exist there.
    assert verb == "runserver" and "make serve" in hint
    assert (tmp_path / python).exists() and (tmp_path / manage).is_file()


@pytest.fixture
def bookshop_database(postgres_params: dict[str, object]) -> str:
    """A fresh PostgreSQL database for the bookshop, dropped afterwards."""
    import psycopg

    name = "queryguard_bookshop"
    params = {**postgres_params, "autocommit": True}
    with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield name  # type: ignore[misc]
    with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_bookshop_demo_on_postgres(tmp_path: Path, bookshop_database: str) -> None:
    """The same demo on PostgreSQL: the Seq Scan on shop_review names the same models.Index."""
    output, report = run_demo(
        tmp_path, BOOKSHOP_POSTGRES=bookshop_database, BOOKSHOP_POSTGRES_HOST=str(POSTGRES["host"])
    )
    assert "postgresql: queryguard_bookshop" in output
    check(output, report)
    assert "Seq Scan" in report["units"][0]["findings"][0]["message"] + json.dumps(report)

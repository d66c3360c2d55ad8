"""``manage.py queryguard_audit``: requests pages, prints their findings, and fails CI on them."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from . import _server
from ._data import seed


def audit(*args: str) -> tuple[str, str, CommandError | None]:
    """Run the command in this process: (stdout, stderr, the CommandError it raised or None)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("queryguard_audit", *args, stdout=out, stderr=err, no_color=True)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.mark.django_db
def test_prints_the_findings_and_fails_on_a_warning() -> None:
    """Each URL is a unit with its status, queries and findings; a warning makes the exit status 1."""
    seed()
    out, _err, error = audit("/books/3/", "/clean/")
    assert "GET /books/3/ (200): 4 queries" in out
    assert "N+1 [warning] Book.author loaded 3 times from tests/django/testapp/views.py:" in out
    assert 'fix: add .select_related("author") to the queryset that loads Book' in out
    assert "GET /clean/ (200): 1 query" in out
    assert error is not None and error.returncode == 1
    assert "1 finding at or above 'warning'" in str(error)


@pytest.mark.django_db
def test_fail_severity_decides_the_exit_status() -> None:
    """--fail-severity error: warnings alone pass; the setting gives the default."""
    seed()
    assert audit("/books/3/", "--fail-severity", "error")[2] is None
    assert audit("/books/3/", "--fail-severity", "never")[2] is None
    with override_settings(QUERYGUARD={"AUDIT_FAIL_SEVERITY": "error"}):
        assert audit("/books/3/")[2] is None
    assert audit("/raw/", "--fail-severity", "info")[2] is not None


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["report.json", "report.html", "report.sarif", "report.txt"])
def test_writes_a_report_in_the_format_of_its_extension(tmp_path: Path, name: str) -> None:
    """--report PATH writes the same findings as JSON, HTML, SARIF or text."""
    seed()
    target = tmp_path / name
    out, _err, _error = audit("/books/3/", "/search/?q=x", "--report", str(target))
    assert f"report written to {target}" in out
    text = target.read_text()
    if name.endswith(".json"):
        units = json.loads(text)["units"]
        assert [u["unit"] for u in units] == ["GET /books/3/ (200)", "GET /search/?q=? (200)"]
        assert [f["kind"] for u in units for f in u["findings"]] == ["n_plus_one", "duplicate_query"]
    else:
        assert "Book.author" in text


@pytest.mark.django_db
def test_only_the_request_is_captured_and_the_middleware_stands_aside(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The command's own work is not counted, and the middleware does not log the same findings again."""
    seed()
    with caplog.at_level(logging.WARNING, logger="queryguard"):
        out, _err, _error = audit("/books/3/")
    assert "GET /books/3/ (200): 4 queries" in out
    assert "queryguard: GET /books/3/" not in caplog.text


@pytest.mark.django_db
def test_a_failing_page_is_reported() -> None:
    """A page that answers 500 is named on stderr; its statements are still audited."""
    out, err, _error = audit("/failing/")
    assert "GET /failing/ answered 500" in err
    assert "GET /failing/ (500): 1 query" in out


def test_exit_status_of_the_real_command(tmp_path: Path) -> None:
    """From the command line: status 1 with findings, 0 without."""
    db = tmp_path / "audit.sqlite3"
    _server.prepare(db)
    env = _server.environ(db)
    failing = _server.django_admin(env, "queryguard_audit", "/books/3/", "--no-color")
    assert failing.returncode == 1, failing.stderr
    assert "N+1 [warning] Book.author loaded 3 times" in failing.stdout
    assert "CommandError: 1 finding at or above 'warning'" in failing.stderr
    passing = _server.django_admin(env, "queryguard_audit", "/clean/")
    assert passing.returncode == 0, passing.stderr

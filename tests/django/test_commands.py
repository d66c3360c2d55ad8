"""Management commands as units (``QUERYGUARD["COMMANDS"]``) and ``QUERYGUARD["IGNORE"]`` entries."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.core.management import call_command
from django.test import override_settings
from queryguard_django import conf

from queryguard import ConfigurationError, QueryGuardViolation, _ignore

from ._data import seed


def run(name: str, *args: str) -> tuple[str, str]:
    """Run a command in this process: (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err, no_color=True)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("commands", [True, ["book_authors"]])
def test_command_is_a_unit_with_its_findings_printed(
    commands: object, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``COMMANDS`` on (or naming it), ``manage.py book_authors`` is one unit: its N+1 is logged and
    printed at the end of the command."""
    seed()
    settings = override_settings(QUERYGUARD={"EXPLAIN": False, "COMMANDS": commands})
    with settings, caplog.at_level(logging.WARNING, logger="queryguard"):
        out, err = run("book_authors")
    assert out.count("book ") == 6
    assert err.startswith("manage.py book_authors: 7 queries")
    assert "N+1 [warning] Book.author loaded 6 times from tests/django/testapp/management/commands/" in err
    assert [r.getMessage().splitlines()[0] for r in caplog.records if r.name == "queryguard"] == [
        "queryguard: manage.py book_authors ran 7 queries in "
        + caplog.records[0].getMessage().split(" in ", 1)[1].splitlines()[0]
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("commands", [False, ["migrate"]])
def test_command_not_named_is_no_unit(commands: object, caplog: pytest.LogCaptureFixture) -> None:
    """A command ``COMMANDS`` does not name runs as it would without queryguard."""
    seed()
    settings = override_settings(QUERYGUARD={"EXPLAIN": False, "COMMANDS": commands})
    with settings, caplog.at_level(logging.WARNING, logger="queryguard"):
        _out, err = run("book_authors")
    assert err == ""
    assert not [r for r in caplog.records if r.name == "queryguard"]


@pytest.mark.django_db
def test_raise_action_fails_the_command() -> None:
    """With the action ``"raise"`` the command's N+1 fails it with ``QueryGuardViolation``."""
    seed()
    settings = override_settings(QUERYGUARD={"EXPLAIN": False, "COMMANDS": True, "ACTION": "raise"})
    with settings, pytest.raises(QueryGuardViolation, match=r"manage\.py book_authors ran 7 queries"):
        run("book_authors")


@pytest.mark.django_db
def test_inline_comment_in_a_command() -> None:
    """An inline ``# queryguard: ignore[n_plus_one]`` suppresses the command's N+1; the printed report says
    so."""
    seed()
    with override_settings(QUERYGUARD={"EXPLAIN": False, "COMMANDS": True, "ACTION": "raise"}):
        _out, err = run("book_authors", "--quiet-loop")
    assert "0 findings, 1 suppressed" in err
    assert (
        "suppressed 1 by # queryguard: ignore[n_plus_one] at tests/django/testapp/management/commands/" in err
    )


@pytest.mark.django_db
def test_audit_is_never_a_unit() -> None:
    """``queryguard_audit`` captures its pages itself: with ``COMMANDS`` on it is still no unit."""
    seed()
    with override_settings(QUERYGUARD={"EXPLAIN": False, "COMMANDS": True, "ACTION": "raise"}):
        out, err = run("queryguard_audit", "/clean/")
    assert "GET /clean/ (200): 1 query" in out
    assert "manage.py" not in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("entry", "suppressed"),
    [
        ("n_plus_one Book.author", True),
        ("n_plus_one commands/book_authors.py:handle", True),
        ("n_plus_one Author.books", False),
        ("duplicate_query Book.author", False),
    ],
)
def test_ignore_setting_entry(entry: str, suppressed: bool) -> None:
    """``QUERYGUARD["IGNORE"]`` entries match a finding by kind and relation, or kind and call site."""
    seed()
    settings = {"EXPLAIN": False, "COMMANDS": True, "ACTION": "raise", "IGNORE": [entry]}
    with override_settings(QUERYGUARD=settings):
        if suppressed:
            _out, err = run("book_authors")
            assert (
                f"suppressed 1 by QUERYGUARD['IGNORE'] entry {entry.split()[0]} {entry.split()[1]!r}" in err
            )
        else:
            with pytest.raises(QueryGuardViolation):
                run("book_authors")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"COMMANDS": "yes"}, "QUERYGUARD['COMMANDS'] must be True, False or a list of management command"),
        ({"IGNORE": "n_plus_one Book.author"}, "QUERYGUARD['IGNORE'] must be a list"),
        ({"IGNORE": ["n_plus_one"]}, "must be a kind and a call site or relation"),
        ({"IGNORE": ["n_plus_1 Book.author"]}, "unknown kind 'n_plus_1'"),
    ],
)
def test_bad_values_are_reported(value: dict[str, object], message: str) -> None:
    """A bad ``COMMANDS`` or ``IGNORE`` is a configuration error that says what is accepted."""
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        conf.parse(value)


@pytest.mark.django_db
def test_audit_lists_stale_suppressions() -> None:
    """``queryguard_audit`` lists the suppressions that silenced nothing on the pages it requested."""
    seed()
    _ignore.forget()
    settings = {"EXPLAIN": False, "IGNORE": ["n_plus_one Book.author", "write_loop views.py:book_list"]}
    with override_settings(QUERYGUARD=settings):
        out, _err = run("queryguard_audit", "/books/3/", "--fail-severity", "never")
    assert re.search(r"GET /books/3/ \(200\): 4 queries, [\d.]+ ms, 0 findings, 1 suppressed", out)
    assert "queryguard: 1 unused suppression (silenced nothing in this run):" in out
    assert "  QUERYGUARD['IGNORE'] entry write_loop 'views.py:book_list'" in out


@pytest.mark.django_db
def test_template_comment_suppresses_its_line() -> None:
    """``{# queryguard: ignore[n_plus_one] #}`` on a template line suppresses the N+1 found there; the same
    template without it is reported."""
    seed()
    with override_settings(QUERYGUARD={"EXPLAIN": False, "COMMANDS": True}):
        _out, loud = run("render_books", "testapp/book_list.html")
        _out, quiet = run("render_books", "testapp/quiet_list.html")
    assert (
        "N+1 [warning] Book.author loaded 6 times from tests/django/testapp/templates/testapp/book_list"
        in loud
    )
    assert "0 findings, 1 suppressed" in quiet
    assert (
        "by # queryguard: ignore[n_plus_one] at tests/django/testapp/templates/testapp/quiet_list.html:4"
        in quiet
    )

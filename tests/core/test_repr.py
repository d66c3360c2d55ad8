"""Reprs of findings, statements and violations: useful in a failing test, and redacted like every output."""

from __future__ import annotations

import dataclasses

import pytest

import queryguard
from queryguard import QueryEvent

from ._helpers import shop_db

# The secrets are assembled at run time so that no source line pytest prints can contain them.
PROJECT = """
import contextlib
import dataclasses
import sqlite3

import pytest

import queryguard
from queryguard import dbapi

PARAM = "".join(["param", "-", "7f3a1c"])
LITERAL = "".join(["literal", "-", "9b2e4d"])


def unit(action="none"):
    with contextlib.closing(sqlite3.connect(":memory:")) as raw:
        conn = dbapi.instrument(raw)
        conn.execute("CREATE TABLE account (id INTEGER, email TEXT)")
        with queryguard.capture(explain=False, action=action) as cap:
            for n in range(3):
                conn.execute("SELECT id FROM account WHERE email = ?", (PARAM + str(n),)).fetchall()
            for n in range(2):
                conn.execute(f"SELECT id FROM account WHERE email = '{LITERAL}{n}'").fetchall()
    return cap


def test_no_findings():
    assert unit().findings == []


def test_one_finding_against_another():
    finding = unit().findings[0]
    assert finding == dataclasses.replace(finding, count=99)


def test_statements():
    assert unit().queries == []


def test_violation_findings():
    with pytest.raises(queryguard.QueryGuardViolation) as raised:
        unit("raise")
    assert raised.value.findings == ()


def test_violation_itself():
    unit("raise")
"""


def test_pytest_vv_prints_no_parameter_or_literal(pytester: pytest.Pytester) -> None:
    """Rule 4: ``pytest -vv`` on failing asserts about findings, statements, violations shows no value."""
    pytester.makepyfile(test_secrets=PROJECT)
    # In-process: without pytest-django, whose test environment this session may have set up already.
    result = pytester.runpytest("-vv", "-p", "no:django", "-o", "asyncio_default_fixture_loop_scope=function")
    result.assert_outcomes(failed=5)
    output = result.stdout.str() + result.stderr.str()
    assert "param-7f3a1c" not in output and "literal-9b2e4d" not in output
    assert "Finding(kind='n_plus_one'" in output
    assert "sql='SELECT id FROM account WHERE email = ?'" in output
    assert "<QueryEvent sqlite:default" in output


def test_finding_repr_is_redacted_and_names_the_finding() -> None:
    """Rule 4: a finding's repr: kind, count, call site, relation, message, the SQL's shape; no value."""
    conn = shop_db()
    with queryguard.capture(explain=False, action="none", show_params=True) as cap:
        for n in (101, 102, 103):
            conn.execute("SELECT name FROM author WHERE id = ? AND name <> 'hidden'", (n,)).fetchall()
    (finding,) = cap.findings
    text = repr(finding)
    assert text.startswith("Finding(kind='n_plus_one', severity='warning', count=3, callsite='tests/core/")
    assert "sql='SELECT name FROM author WHERE id = ? AND name <> ?'" in text
    assert "hidden" not in text and "101" not in text
    assert "hidden" not in repr(cap.queries) and "101" not in repr(cap.queries)
    assert " in test_finding_repr_is_redacted_and_names_the_finding>" in repr(cap.queries[0])


def test_findings_compare_by_value_as_before() -> None:
    """Equal fields make equal findings (the statement behind one does not count); none is hashable."""
    finding = queryguard.Finding("n_plus_one", "warning", "N+1", params=(1,), event=QueryEvent("SELECT 1"))
    assert finding == dataclasses.replace(finding, event=None)
    assert finding != dataclasses.replace(finding, params=(2,))
    assert finding != "N+1"
    with pytest.raises(TypeError):
        hash(finding)


@pytest.mark.parametrize("value", [object(), b"\xff", float("nan")])
def test_a_repr_never_raises(value: object) -> None:
    """An event or finding holding anything at all still has a repr."""
    event = QueryEvent(value)  # type: ignore[arg-type]
    assert repr(event).startswith("<QueryEvent")
    assert repr(queryguard.Finding("x", "info", "m", sql=value)).startswith(("Finding(", "<Finding"))  # type: ignore[arg-type]

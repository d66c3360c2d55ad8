"""The core stands alone: importing it pulls in no framework."""

from __future__ import annotations

import subprocess
import sys

import queryguard


def test_core_imports_no_framework() -> None:
    """`import queryguard` (and its public modules) leaves django, sqlalchemy, celery and pytest unloaded."""
    code = (
        "import sys, queryguard, queryguard.asgi, queryguard.wsgi, queryguard.dbapi, queryguard.testing;"
        "queryguard.Report;"
        "print(sorted(m for m in ('django', 'sqlalchemy', 'celery', 'pytest') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_sorted_and_present() -> None:
    """`__all__` is sorted (constants, classes, functions) and every name in it resolves."""

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert list(queryguard.__all__) == sorted(queryguard.__all__, key=order)
    for name in queryguard.__all__:
        assert getattr(queryguard, name) is not None


def test_violation_is_an_assertion_error() -> None:
    """QueryGuardViolation is both a QueryGuardError and an AssertionError."""
    assert issubclass(queryguard.QueryGuardViolation, queryguard.QueryGuardError)
    assert issubclass(queryguard.QueryGuardViolation, AssertionError)
    assert issubclass(queryguard.ConfigurationError, queryguard.QueryGuardError)

"""Literals in plans and in database errors are redacted like parameters, unless ``show_params``."""

from __future__ import annotations

from typing import Any


def text(value: str, *, show_params: bool) -> str:
    """``value`` with every quoted literal and compared number replaced by ``?`` (unless ``show_params``)."""
    if show_params:
        return value
    from .._report._redact import redact_text

    return redact_text(value)


def error(exc: BaseException, *, show_params: bool) -> str:
    """``Type: first line of the message`` of a database error, redacted (drivers quote row values)."""
    args = exc.args
    code = ""
    raw = str(exc)
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):  # MySQL: (1205, 'Lock ...')
        code, raw = f"({args[0]}) ", args[1]
    lines = raw.strip().splitlines()
    message = lines[0] if lines else ""
    if not show_params:
        message = text(message, show_params=False)
        # PostgreSQL names a rejected value in double quotes after a colon: invalid input ... : "abc"
        head, sep, _ = message.partition(': "')
        message = head + (": ?" if sep else "")
    return f"{type(exc).__name__}: {code}{message}" if message else type(exc).__name__


def plan(value: Any, *, show_params: bool) -> Any:
    """A JSON-ready copy of a plan with its literals redacted (unless ``show_params``)."""
    from .._report._redact import plain

    return plain(value, redact=not show_params)

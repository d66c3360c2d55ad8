"""Redaction: what any output may show of a statement, a plan or a database error.

This is a security boundary (parameter values and literals never reach an output unless ``show_params`` is
on), so it lives apart from every format and imports nothing of queryguard's records: the reports, the
reprs of :class:`~queryguard.QueryEvent` and :class:`~queryguard.Finding`, and the EXPLAIN stage all redact
through it.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from .._sql import analyze

_MAX_DEPTH = 40
_SQL_WIDTH = 100

# A dollar-quoted string that never closes runs to the end, like an unterminated quote: the search for its
# end then happens once, not again from every later tag.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*(?:'|$)|\$(\w*)\$(?:.*?\$\1\$|.*)", re.S)
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.|"")*(?:"|$)', re.S)
# No two ways through one run of digits or blanks: a failure after it costs one step back per character.
_NUMBER = r"[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# A number compared with something, or in a list: a value. Plan metrics (cost=, rows=, width=, actual
# time=, loops=) are not values and stay readable. Double quotes are left alone: PostgreSQL and SQLite
# quote identifiers with them.
_COMPARED = re.compile(
    r"(?P<op>(?:<>|!=|<=|>=|(?<!cost)(?<!rows)(?<!width)(?<!time)(?<!loops)=|<|>)\s*(?:\(\s*)?"
    r"|\b(?:between|and|or|in|like|limit|offset)\s+(?:\(\s*)?|[(,]\s*)"
    rf"(?P<num>{_NUMBER})\b",
    re.I,
)
_ERROR_VALUES = re.compile(r':\s*"[^"]*"|(?<=\)=)\([^)]*\)')


def redact_text(text: str) -> str:
    """Replace quoted literals and compared numbers in free text (a plan line, an error) by ``?``."""
    text = _QUOTED.sub("?", text)
    return _COMPARED.sub(lambda m: m["op"] + "?", text)


@functools.lru_cache(maxsize=1024)
def redact_sql(sql: str) -> str:
    """The statement's shape: every literal and parameter replaced by ``?``."""
    try:
        shape = analyze(sql).shape
    except Exception:  # the fallback below still removes every literal
        shape = sql
    return redact_text(shape if isinstance(shape, str) else sql)


def redact_plan(plan: Any) -> Any:
    """A JSON-ready copy of an EXPLAIN plan with every literal in its strings replaced by ``?``."""
    return plain(plan, redact=True)


def statement_text(sql: Any, redact: bool, vendor: Any = "") -> str:
    """A captured statement as text, redacted to its shape when ``redact``."""
    text = sql if isinstance(sql, str) else safe_repr(sql) if sql is not None else ""
    if not redact or not text:
        return text
    if vendor in ("mysql", "mariadb"):
        # MySQL quotes identifiers with backticks; "text" is a string literal there.
        text = _DOUBLE_QUOTED.sub("'?'", text)
    return redact_sql(text)


def error_text(error: Any, redact: bool) -> str | None:
    """A captured statement's database error as text, its first line redacted when ``redact``."""
    if error is None:
        return None
    text = str(error)
    if not redact:
        return text
    # Later lines of a driver's message (PostgreSQL's DETAIL) show row values unquoted; PostgreSQL also
    # names a rejected value in double quotes after a colon, or as "Key (column)=(value)".
    first = text.strip().splitlines()[0] if text.strip() else ""
    return redact_text(_ERROR_VALUES.sub(lambda m: ": ?" if m[0].startswith(":") else "(?)", first))


def plain(value: Any, *, redact: bool = False, _depth: int = 0) -> Any:
    """A JSON-ready copy of ``value``: unknown objects become their repr, NaN and infinities ``None``."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return redact_text(value) if redact else value
    if _depth >= _MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        return {
            plain(str(key), redact=redact): plain(item, redact=redact, _depth=_depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item, redact=redact, _depth=_depth + 1) for item in value]
    return plain(safe_repr(value), redact=redact)


def safe_repr(value: object) -> str:
    """``repr(value)``, or a placeholder naming its type when the repr raises."""
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def shorten(sql: str, width: int = _SQL_WIDTH) -> str:
    """``sql`` on one line, cut to ``width`` characters with ``...`` (a shape at a glance, in a repr too)."""
    line = " ".join(sql.split())
    return line if len(line) <= width else line[: width - 3].rstrip() + "..."

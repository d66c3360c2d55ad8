"""Rewrite a captured statement for the placeholder style of the driver that explains it.

An integration may record SQL in another style than the raw connection takes (Django writes ``%s`` for
SQLite, whose driver takes ``?``). Only placeholders and ``%`` escapes change; the statement stays the
statement that ran.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Final

from . import _lex

_QMARK_DRIVERS: Final = frozenset(("sqlite3", "pysqlite2", "apsw", "sqlcipher3"))
_FORMAT_FAMILY: Final = frozenset(("format", "pyformat"))
_QMARK_FAMILY: Final = frozenset(("qmark", "named", "numeric"))
_NUMBER_RE: Final = re.compile(r"\d+")


def driver_style(connection: Any) -> str:
    """``"qmark"`` for SQLite drivers, else the driver module's ``paramstyle`` (``"format"`` if unknown)."""
    root = type(connection).__module__.split(".")[0]
    if root in _QMARK_DRIVERS:
        return "qmark"
    module = sys.modules.get(root)
    style = getattr(module, "paramstyle", "format")
    return style if isinstance(style, str) else "format"


def adapt(sql: str, params: Any, source: str, target: str, *, vendor: str) -> tuple[str, Any]:
    """``(sql, params)`` for a driver of style ``target``; unchanged when the styles agree or no params."""
    if params is None:
        return sql, None
    to_format = target in _FORMAT_FAMILY
    if (source in _FORMAT_FAMILY) == to_format and source != "numeric_dollar":
        return sql, params
    return _rewrite(sql, params, to_format=to_format, vendor=vendor)


def _rewrite(sql: str, params: Any, *, to_format: bool, vendor: str) -> tuple[str, Any]:
    out: list[str] = []
    ordered: list[Any] = []
    named = isinstance(params, Mapping)
    position = 0
    last = 0
    for m in _lex.spans(sql, vendor=vendor):
        kind, text = m.lastgroup, m.group()
        out.append(_escape(sql[last : m.start()], to_format))
        last = m.end()
        if kind != "p":
            out.append(_escape(text, to_format))
            continue
        name, index = _placeholder(text, position)
        position += 1
        if named and name is not None:
            out.append(f"%({name})s" if to_format else f":{name}")
        else:
            out.append("%s" if to_format else "?")
            ordered.append(_item(params, index))
    out.append(_escape(sql[last:], to_format))
    return "".join(out), params if named else tuple(ordered)


def _escape(text: str, to_format: bool) -> str:
    return text.replace("%", "%%") if to_format else text.replace("%%", "%")


def _placeholder(text: str, position: int) -> tuple[str | None, int]:
    """The name of a named placeholder, and the parameter index of a positional one."""
    if text.startswith("%("):
        return text[2:-2], position
    if text.startswith(":") and not text[1:].isdigit():
        return text[1:], position
    number = _NUMBER_RE.search(text)
    return None, int(number.group()) - 1 if number else position


def _item(params: Any, index: int) -> Any:
    if isinstance(params, Sequence) and not isinstance(params, (str, bytes)):
        return params[index]
    raise TypeError(f"positional placeholders need a sequence of parameters, got {type(params).__name__}")

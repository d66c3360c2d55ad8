"""Markup primitives of the HTML report: every value that reaches the page goes through :func:`esc`."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from .._plural import plural as counted

_SEPARATOR = re.compile(r"([/\\])")


def esc(value: Any) -> str:
    """``value`` as text that is safe in an element and in a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def path_text(value: Any) -> str:
    """``value`` escaped, with a line-break opportunity after each path separator (a call site wraps at
    ``/`` and ``\\`` rather than in the middle of a name)."""
    # Escaping never produces or removes a separator, and no entity contains one: each part is escaped alone.
    return "".join(
        esc(part) + "<wbr>" if part in ("/", "\\") else esc(part)
        for part in _SEPARATOR.split("" if value is None else str(value))
    )


def plural(count: Any, noun: str, many: str = "") -> str:
    """``"1 query"``, ``"3 queries"``, escaped (``many``: the plural when not ``noun`` + s)."""
    return esc(counted(count, noun, many))


def noun_of(count: Any, noun: str, many: str = "") -> str:
    """The noun alone, in the number ``count`` needs."""
    return esc(counted(count, noun, many).partition(" ")[2])

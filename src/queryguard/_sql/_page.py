"""The page a statement asks for: the values of its outermost LIMIT and OFFSET, bound or literal.

Read from the text and its parameters (once per group, never on the hot path): ``LIMIT n``, ``LIMIT n
OFFSET m``, ``OFFSET m ROWS FETCH FIRST n ROWS ONLY`` and MySQL's ``LIMIT m, n``, where each of n and m is a
number or a placeholder (``?``, ``%s``, ``%(name)s``, ``:name``, ``$1``) whose value is taken from the
parameters. A value that cannot be read is None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from . import _lexer
from ._shape import _int
from ._statement import MAX_CHARS

#: (limit, offset): None where the statement has none, or its value cannot be read.
Page = tuple[int | None, int | None]
_NOTHING: Final[Page] = (None, None)


def page_of(sql: object, params: object = None, vendor: str = "") -> Page:
    """The (limit, offset) of the outermost query of ``sql``, with placeholders read from ``params``."""
    if not isinstance(sql, str) or len(sql) > MAX_CHARS:
        return _NOTHING
    upper = sql.upper()
    if "LIMIT" not in upper and "OFFSET" not in upper and "FETCH" not in upper:
        return _NOTHING
    try:
        return _read(_lexer.tokens(sql, vendor), params)
    except Exception:  # an odd text or odd parameters: no page known
        return _NOTHING


def _read(tokens: Sequence[_lexer.Token], params: object) -> Page:
    limit: int | None = None
    offset: int | None = None
    positional = 0  # placeholders seen so far, for ?, %s and :1-less styles
    values: list[tuple[int, int | None]] = []  # token index -> the value of a number or placeholder there
    for index, token in enumerate(tokens):
        if token.kind == "p":
            values.append((index, _param(token.text, positional, params)))
            positional += 1
        elif token.kind == "n":
            values.append((index, _int(token.text)))
    value_at = dict(values)
    for index, token in enumerate(tokens):
        if token.depth or token.kind != "w":
            continue
        word = token.value
        if word == "limit":
            first = value_at.get(index + 1)
            if index + 2 < len(tokens) and tokens[index + 2].text == ",":  # MySQL: LIMIT offset, count
                offset, limit = first, value_at.get(index + 3)
            else:
                limit = first
        elif word == "offset":
            offset = value_at.get(index + 1)
        elif word == "fetch" and index + 2 < len(tokens) and tokens[index + 1].value in ("first", "next"):
            limit = value_at.get(index + 2, 1 if tokens[index + 2].value in ("row", "rows") else None)
    return limit, offset


def _param(text: str, position: int, params: object) -> int | None:
    if text.startswith("%("):
        return _int_of(params[text[2:-2]]) if isinstance(params, Mapping) else None
    if text.startswith(":") and not text[1:].isdigit():
        return _int_of(params[text[1:]]) if isinstance(params, Mapping) else None
    if isinstance(params, Mapping):
        return None
    if not isinstance(params, Sequence) or isinstance(params, (str, bytes)):
        return None
    if text[0] in "$:" or (text[0] == "?" and len(text) > 1):  # $1, :1, ?1: numbered from 1
        number = int(text[1:])
        return _int_of(params[number - 1]) if 0 < number <= len(params) else None
    return _int_of(params[position]) if position < len(params) else None


def _int_of(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str):
        return _int(value)
    return None

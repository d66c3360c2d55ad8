"""Whether a ``*`` in a select list reads the columns of a stored table: the rule of ``select_star``.

A star is a finding where the user could have named the columns instead: in the select list of a query
whose rows reach the application (a SELECT statement; not under EXISTS), expanding to the columns of a
table or a view. A star over a subquery, a CTE, a set-returning function (``unnest``, ``generate_series``,
``json_each``, ``JSON_TABLE``) or a VALUES list passes on columns that were chosen elsewhere, or that the
function defines; a star inside that subquery or CTE is judged by itself. ``q.*`` reads what ``q`` names.

One pass over the shape, with a frame per parenthesis, each holding the query that opened in it; every
pattern is matched at a known position and reads only the name there, so the pass stays linear.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final

#: A name in a shape: unquoted (lower-case) or with quoted parts, dotted or not.
NAME: Final = r'(?:[^\s(),;"?@*]|"[^"]*")[^\s(),;"?@*]*(?:"[^"]*"[^\s(),;"?@*]*)*'
_CLAUSES: Final = (
    "WHERE GROUP HAVING ORDER LIMIT OFFSET FETCH WINDOW UNION INTERSECT EXCEPT FOR INTO RETURNING"
)
# Keywords are the only upper-case words of a shape: none needs a left boundary.
_TOKEN_RE: Final = re.compile(
    r"\(|\)|,|\*|" + "|".join(word + r"\b" for word in ["SELECT", "FROM", "JOIN", *_CLAUSES.split()])
)
_FROM_ENDS: Final = frozenset(_CLAUSES.split())  # the clauses that end a FROM list
# A FROM item: a "(" (a subquery, VALUES or a parenthesised join), or a name with the "(" of a call.
_ITEM_RE: Final = re.compile(rf" (?:ONLY |LATERAL )?(?:(\()|({NAME})(\()?)")
_ALIAS_RE: Final = re.compile(r'(?: WITH ordinality)?(?: AS)? ([a-z_][\w$]*|"[^"]*")')
_DERIVED: Final = ("SELECT", "WITH", "VALUES", "(")
_STAR_BEFORE: Final = ("SELECT ", "DISTINCT ", "ALL ", ", ", ") ", "TOP ? ")
_STAR_AFTER: Final = (",", ")", " FROM", " INTO")
# What a parenthesis opens: an expression, a call, EXISTS, a FROM item named by the alias after it.
_PLAIN, _CALL, _EXISTS, _SOURCE = 0, 1, 2, 3


class _Query:
    """One SELECT: the stars of its select list and the sources of its FROM list."""

    __slots__ = ("bare", "hidden", "in_from", "opens", "others", "qualifiers", "tables")

    def __init__(self, hidden: bool) -> None:
        self.hidden = hidden  # directly under EXISTS: its rows are never read
        self.bare = False  # a ``*`` of its own
        self.qualifiers: set[str] = set()  # the q of each ``q.*``
        self.in_from = False
        self.tables = False  # a FROM item names a table or a view
        self.others: set[str] = set()  # the names of its subqueries, CTEs and functions
        self.opens = -1  # where the "(" of the FROM item being read is

    def reads_table(self) -> bool:
        """Whether one of its stars expands to a table's columns."""
        if self.hidden:
            return False
        if self.bare and (self.tables or not self.others):
            return True  # a star whose sources were not understood is taken at its word
        return any(name not in self.others for name in self.qualifiers)


# A frame: what its "(" opened, and the query open in it (None: no SELECT yet).
_Frame = list[object]


def reads_stored_columns(shape: str, ctes: Collection[str]) -> bool:
    """Whether a ``*`` or ``q.*`` of a select list in ``shape`` (a SELECT) expands to a table's columns.

    ``ctes``: the names the statement's WITH clause defines.
    """
    if "(" not in shape:
        return True  # no subquery, CTE or function: every FROM item is a table or a view
    frames: list[_Frame] = [[_PLAIN, None]]
    for m in _TOKEN_RE.finditer(shape):
        word, start = m.group(), m.start()
        frame = frames[-1]
        query = frame[1]
        if word == "(":
            frames.append(_opened(shape, start, query))
        elif word == ")":
            if len(frames) > 1:
                frames.pop()
                outer = frames[-1][1]
                if query is not outer:  # a parenthesised join shares the query around it
                    if isinstance(query, _Query) and query.reads_table():
                        return True
                    _closed(shape, m.end(), frame, outer)
        elif word == "SELECT":  # the first, or the next after a UNION: the one before is complete
            if isinstance(query, _Query) and query.reads_table():
                return True
            frame[1] = _Query(hidden=frame[0] == _EXISTS)
        elif not isinstance(query, _Query):
            continue  # a FROM inside a call: EXTRACT(YEAR FROM d), SUBSTRING(s FROM 2)
        elif word == "*":
            if not query.in_from and is_select_star(shape, start):
                _add_star(query, shape, start)
        elif word == "FROM":
            if not shape.endswith("DISTINCT ", 0, start):  # a IS DISTINCT FROM b
                query.in_from = True
                _read_item(query, shape, m.end(), ctes)
        elif word == "JOIN" or word == ",":
            if query.in_from:
                _read_item(query, shape, m.end(), ctes)
        elif word in _FROM_ENDS:
            query.in_from = False
    last = None
    for _, query in frames:  # an unclosed text: the queries still open
        if query is not last and isinstance(query, _Query) and query.reads_table():
            return True
        last = query
    return False


def _opened(shape: str, start: int, query: object) -> _Frame:
    """The frame of the "(" at ``start``, in a frame whose query is ``query``."""
    if isinstance(query, _Query) and query.opens == start:
        if shape.startswith(_DERIVED, start + 1) or shape[start - 1] != " ":
            return [_SOURCE, None]  # a subquery, VALUES or a function's arguments: named by the alias
        query.opens = -1
        return [_PLAIN, query]  # FROM (a JOIN b ON ...): the items inside are the query's own
    if start and shape[start - 1] not in " (":
        return [_CALL, None]
    return [_EXISTS if shape.endswith("EXISTS ", 0, start) else _PLAIN, None]


def _closed(shape: str, end: int, frame: _Frame, outer: object) -> None:
    """After the ")" at ``end`` that closes ``frame``: note the alias of the FROM item it held."""
    if frame[0] != _SOURCE or not isinstance(outer, _Query):
        return
    outer.opens = -1
    m = _ALIAS_RE.match(shape, end)
    outer.others.add(m.group(1) if m is not None else "")


def _read_item(query: _Query, shape: str, pos: int, ctes: Collection[str]) -> None:
    """Note the FROM item that starts at ``pos``: a table, a CTE, or the "(" of a subquery or call."""
    m = _ITEM_RE.match(shape, pos)
    if m is None:
        return
    paren, name, call = m.groups()
    if paren is not None or call is not None:
        query.opens = m.end() - 1
        if name is not None:
            query.others.add(name.rpartition(".")[2])  # a function's name is its default alias
        return
    if name.replace('"', "") not in ctes:
        query.tables = True
        return
    query.others.add(name)
    alias = _ALIAS_RE.match(shape, m.end())
    if alias is not None:
        query.others.add(alias.group(1))


def _add_star(query: _Query, shape: str, at: int) -> None:
    """Note the ``*`` or ``q.*`` at ``at`` in the query's select list."""
    if not at or shape[at - 1] != ".":
        query.bare = True
        return
    space = shape.rfind(" ", 0, at)
    query.qualifiers.add(shape[max(space, shape.rfind("(", space + 1, at)) + 1 : at - 1])


def is_select_star(shape: str, at: int) -> bool:
    """Whether the ``*`` at ``at`` is a whole item of a select list (``*`` or ``name.*``)."""
    if not shape.startswith(_STAR_AFTER, at + 1) and at + 1 != len(shape):
        return False
    if at and shape[at - 1] == ".":
        space = shape.rfind(" ", 0, at)  # the nearest blank or "(" before the name, not any earlier one
        at = max(space, shape.rfind("(", space + 1, at)) + 1
    return shape.endswith(_STAR_BEFORE, 0, at)

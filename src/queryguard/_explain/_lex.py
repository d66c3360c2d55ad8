"""What the EXPLAIN stage reads in SQL: tables and aliases, column references, ORDER BY lists.

It reads both the captured statements and the condition texts of plans (``((title)::text = 'x'::text)``,
``lcase(book.title) = 'x'``), tokenised by the tolerant reader of :mod:`queryguard._sql._lexer` with the
database's own lexical rules, then walked by plain loops. It skips what it does not know: whether a
statement is safe to explain is :mod:`._strict`'s question.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Final

from .._sql import _lexer
from .._sql._lexer import Token

COMPARISONS: Final = frozenset(
    ("=", "<", ">", "<=", ">=", "<>", "!=", "like", "ilike", "in", "between", "is")
)
_CLAUSES: Final = frozenset(
    """select from where on having order group limit offset set values returning join using window into
    union except intersect fetch for""".split()  # noqa: SIM905
)
_NOT_COLUMNS: Final = frozenset(
    """all and any array as asc between by case cast collate current_date current_time current_timestamp
    default desc distinct else end escape exists false from if ilike in interval is isnull join left like
    limit not notnull null nulls offset on or order right select similar some then true unknown when where
    with binary row date time timestamp hashed subplan initplan alternatives""".split()  # noqa: SIM905
)
#: Words that continue a type name after ``::`` (``::timestamp with time zone``, ``::double precision``).
_TYPE_WORDS: Final = frozenset(("with", "without", "time", "zone", "precision", "varying"))
#: Casts that keep an index on a text column usable (PostgreSQL casts varchar to text in every filter).
_TEXT_TYPES: Final = frozenset(("text", "varchar", "character", "bpchar", "name", "citext"))
#: Words that end a table name in FROM/JOIN (so they are never read as its alias).
_NAME_STOP: Final = frozenset(
    """where on join inner left right full cross natural using set group order limit offset having window
    union values returning for lateral straight_join outer as select default partition use force
    ignore""".split()  # noqa: SIM905
)


@dataclasses.dataclass(frozen=True, slots=True)
class Ref:
    """A column reference: ``qualifier.column``, what wraps it (a function name or ``::type``), its clause."""

    qualifier: str | None
    column: str
    wrapper: str | None
    clause: str
    start: int = dataclasses.field(default=0, compare=False)
    end: int = dataclasses.field(default=0, compare=False)
    other: Ref | None = dataclasses.field(default=None, compare=False)  # the column of a join condition


#: Texts up to this length are memoised (plan conditions, most statements); longer ones are read afresh each
#: time, so that the cache never holds the tokens of a bulk statement (about 50 bytes per character).
CACHED_CHARS: Final = 2048


def tokenize(text: str, *, vendor: str = "") -> tuple[Token, ...]:
    """The tokens of ``text`` without comments, read with the string rules of ``vendor``."""
    if len(text) > CACHED_CHARS:
        return _tokenize(text, vendor)
    return _cached(text, vendor)


#: The tolerant reader of the SQL package (a name of its own here, so that a test can watch it).
_tokenize = _lexer.tokens


_cached = functools.lru_cache(maxsize=256)(_tokenize)


def _name_at(tokens: tuple[Token, ...], i: int) -> tuple[list[str], int]:
    """A dotted name starting at ``i`` (``schema.table``): its parts and the index after it."""
    parts: list[str] = []
    while i < len(tokens) and tokens[i].kind in ("w", "q"):
        parts.append(tokens[i].value)
        if i + 2 < len(tokens) and tokens[i + 1].text == "." and tokens[i + 2].kind in ("w", "q"):
            i += 2
        else:
            return parts, i + 1
    return parts, i


def aliases(tokens: tuple[Token, ...]) -> dict[str, tuple[str, ...]]:
    """Every table of the statement by the names it goes by (alias and name): ``{"b": ("shop", "book")}``."""
    found: dict[str, tuple[str, ...]] = {}
    clause: dict[int, str] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "w" and tok.value in _CLAUSES:
            clause[tok.depth] = tok.value
        starts = tok.kind == "w" and tok.value in ("from", "join", "update", "into", "using")
        if starts or (tok.text == "," and clause.get(tok.depth) == "from"):
            i = _table_after(tokens, i + 1, found)
        else:
            i += 1
    return found


def _table_after(tokens: tuple[Token, ...], i: int, found: dict[str, tuple[str, ...]]) -> int:
    while i < len(tokens) and tokens[i].kind == "w" and tokens[i].value in ("only", "lateral", "table"):
        i += 1
    if i >= len(tokens) or tokens[i].kind not in ("w", "q") or tokens[i].value in _NAME_STOP:
        return i
    parts, i = _name_at(tokens, i)
    found.setdefault(parts[-1].lower(), tuple(parts))
    if i < len(tokens) and tokens[i].text == "(":
        return i  # INSERT INTO t (columns), or a table function
    alias = parts[-1]
    if i < len(tokens) and tokens[i].kind == "w" and tokens[i].value == "as":
        i += 1
    if i < len(tokens) and tokens[i].kind in ("w", "q") and tokens[i].value not in _NAME_STOP:
        alias = tokens[i].value
        i += 1
    found.setdefault(alias.lower(), tuple(parts))
    return i


def column_refs(tokens: tuple[Token, ...]) -> list[Ref]:
    """Every column reference with its clause and wrapper; ``a.x = b.y`` pairs point at each other."""
    refs: list[Ref] = []
    clause_by_depth: dict[int, str] = {}
    types = _cast_type_positions(tokens)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "w" and tok.value in _CLAUSES:
            clause_by_depth[tok.depth] = tok.value
        elif tok.text == "(":
            clause_by_depth[tok.depth + 1] = clause_by_depth.get(tok.depth, "")
        elif tok.kind in ("w", "q") and i not in types and _may_be_column(tokens, i):
            parts, end = _name_at(tokens, i)
            if end >= len(tokens) or tokens[end].text != "(":
                qualifier = parts[-2] if len(parts) > 1 else None
                clause = clause_by_depth.get(tok.depth, "")
                refs.append(Ref(qualifier, parts[-1], _wrapper(tokens, i, end), clause, i, end))
            i = end
            continue
        i += 1
    return _pair_joins(tokens, refs)


def _cast_type_positions(tokens: tuple[Token, ...]) -> set[int]:
    positions: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok.text == "::":
            j = i + 1
            while (
                j < len(tokens)
                and tokens[j].kind in ("w", "q")
                and (j == i + 1 or tokens[j].value in _TYPE_WORDS)
            ):
                positions.add(j)
                j += 1
    return positions


def _may_be_column(tokens: tuple[Token, ...], i: int) -> bool:
    tok = tokens[i]
    if tok.kind == "w" and tok.value in _NOT_COLUMNS | _CLAUSES:
        return False
    if i and (tokens[i - 1].text == "." or tokens[i - 1].value == "as"):
        return False
    return not (tok.kind == "w" and i + 1 < len(tokens) and tokens[i + 1].kind == "s")  # DATE '2024-01-01'


def _is_function(tokens: tuple[Token, ...], index: int) -> bool:
    if index < 0:
        return False
    tok = tokens[index]
    return tok.kind in ("w", "q") and tok.value not in _NOT_COLUMNS | _CLAUSES | COMPARISONS | {"and", "or"}


def _wrapper(tokens: tuple[Token, ...], start: int, end: int) -> str | None:
    """``::type`` on the name (or its parentheses), else the function or CAST whose call holds it."""
    k, j = start - 1, end
    while k >= 0 and j < len(tokens) and tokens[k].text == "(" and tokens[j].text == ")":
        if _is_function(tokens, k - 1) or (k and tokens[k - 1].value == "cast"):
            break
        k, j = k - 1, j + 1
    if j + 1 < len(tokens) and tokens[j].text == "::" and tokens[j + 1].value not in _TEXT_TYPES:
        return "::" + tokens[j + 1].value
    open_at = _enclosing_open(tokens, k + 1)
    if open_at is not None and open_at > 0:
        before = tokens[open_at - 1]
        if before.kind == "w" and before.value == "cast":
            return "cast"
        if _is_function(tokens, open_at - 1):
            return before.value
    return None


def _enclosing_open(tokens: tuple[Token, ...], index: int) -> int | None:
    """The index of the ``(`` that opens the parentheses around ``tokens[index]`` (looking back 64 tokens)."""
    if index >= len(tokens) or index < 0:
        return None
    target = tokens[index].depth - 1
    for k in range(index - 1, max(index - 64, -1), -1):
        tok = tokens[k]
        if tok.depth < target:
            return None
        if tok.text == "(" and tok.depth == target:
            return k
    return None


def _pair_joins(tokens: tuple[Token, ...], refs: list[Ref]) -> list[Ref]:
    """Mark ``a.x = b.y`` (columns of two tables) as a join condition on both sides."""
    out = list(refs)
    for index in range(len(refs) - 1):
        left, right = refs[index], refs[index + 1]
        if left.qualifier == right.qualifier or not (left.qualifier or right.qualifier):
            continue  # a.x = b.y, or x = b.y in a plan's scan filter (b is the outer side)
        between = [t.text for t in tokens[left.end : right.start] if t.text not in ("(", ")")]
        if between == ["="]:
            out[index] = dataclasses.replace(out[index], other=right)
            out[index + 1] = dataclasses.replace(out[index + 1], other=left)
    return out


def clause_refs(refs: list[Ref], *clauses: str) -> list[Ref]:
    """The references in the given clauses (``"where"``, ``"on"``), in order, without repeats."""
    seen: set[tuple[str | None, str]] = set()
    out = []
    for ref in refs:
        key = (ref.qualifier, ref.column)
        if ref.clause in clauses and key not in seen:
            seen.add(key)
            out.append(ref)
    return out


def by_list(tokens: tuple[Token, ...], keyword: str = "order") -> list[tuple[str | None, str, bool]]:
    """The top-level ``ORDER BY`` (or ``GROUP BY``) columns: ``(qualifier, column, descending)``.

    The list stops at the first expression that is not a plain column.
    """
    out: list[tuple[str | None, str, bool]] = []
    for i in range(len(tokens) - 1):
        if tokens[i].value == keyword and tokens[i + 1].value == "by" and tokens[i].depth == 0:
            j = i + 2
            while j < len(tokens) and tokens[j].kind in ("w", "q") and tokens[j].value not in _CLAUSES:
                parts, j = _name_at(tokens, j)
                desc = j < len(tokens) and tokens[j].value == "desc"
                while j < len(tokens) and tokens[j].value in ("asc", "desc", "nulls", "first", "last"):
                    j += 1
                out.append((parts[-2] if len(parts) > 1 else None, parts[-1], desc))
                if j >= len(tokens) or tokens[j].text != ",":
                    break
                j += 1
    return out


def spans(text: str, *, vendor: str = "") -> list[re.Match[str]]:
    """The raw token matches of ``text`` (comments included) with positions, for rewriting it."""
    return _lexer.spans(text, vendor)

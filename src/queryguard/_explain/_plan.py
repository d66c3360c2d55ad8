"""What the backends share: the facts of the explained statement, table facts, and the smells they find."""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .._sql._lexer import Token
from . import _lex

#: Below this many rows a full scan is cheap and an index not worth its upkeep.
MIN_ROWS: Final = 1_000
#: An OFFSET at least this large reads and throws away enough rows to call for keyset pagination.
LARGE_OFFSET: Final = 1_000
#: Estimated and actual rows this many times apart make a misestimate.
MISESTIMATE_RATIO: Final = 10.0
#: The smells whose fix is an index on their columns, in the order their columns lead a combined index.
INDEX_KINDS: Final = ("full_scan", "unindexed_join", "temp_sort", "sort_spill")
#: The most columns one suggested index has.
INDEX_COLUMNS: Final = 3


class Unusable(Exception):
    """The statement's own connection cannot run anything now: explain on a new connection instead."""


@dataclasses.dataclass(frozen=True)
class TableInfo:
    """Catalog facts about one table: estimated rows, the leading columns of its indexes, its foreign keys."""

    rows: float | None = None
    indexed: frozenset[str] = frozenset()
    foreign_keys: frozenset[str] = frozenset()


@dataclasses.dataclass
class Smell:
    """One problem a plan shows, on one table, before it is worded for a framework."""

    kind: str
    table: str
    columns: tuple[str, ...]
    summary: str  # what the plan shows, without literals: "Seq Scan on book"
    node: Any = None
    rows: float | None = None  # rows the node reads
    kept: float | None = None  # rows it keeps
    schema: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Outcome:
    """The plan of one statement and the smells found in it."""

    vendor: str
    plan: Any
    analyzed: bool
    smells: list[Smell]
    connection: str = "new"  # "session" when it ran on the statement's own connection
    hypopg: bool | None = None  # PostgreSQL only: whether suggestions were verified with HypoPG
    index: Smell | None = None  # the one index for the statement (see one_index), verified where it can be


@dataclasses.dataclass
class Request:
    """What a backend needs to explain one statement."""

    sql: str
    params: Any
    analyze: bool
    timeout_ms: int
    session: bool
    facts: Facts
    #: What the text-level safety check found (a ``_safety.Proof``): names for the database's own check.
    proof: Any = None


class Facts:
    """What the statement's own text says: its tables by alias, filtered, joined and sorted columns."""

    def __init__(self, sql: str, params: Any, vendor: str) -> None:
        self.sql = sql
        self.params = params
        self.vendor = vendor
        self.tokens = _lex.tokenize(sql, vendor=vendor)
        self.aliases = _lex.aliases(self.tokens)
        self.refs = _lex.column_refs(self.tokens)

    def table(self, name: str) -> tuple[str | None, str]:
        """``(schema, table)`` of a table name or alias as the plan shows it."""
        parts = self.aliases.get(name.lower())
        if not parts:
            return None, name
        return (parts[-2] if len(parts) > 1 else None), parts[-1]

    def _names(self, name: str) -> set[str]:
        table = self.table(name)[1].lower()
        return {alias for alias, parts in self.aliases.items() if parts[-1].lower() == table} | {name.lower()}

    def mine(self, qualifier: str | None, name: str) -> bool:
        """Whether a column with this qualifier belongs to table (or alias) ``name``."""
        if qualifier is None:
            return len({parts[-1].lower() for parts in self.aliases.values()}) <= 1
        return qualifier.lower() in self._names(name)

    def filters(self, name: str) -> list[_lex.Ref]:
        """Columns of table ``name`` compared in WHERE/ON/HAVING with something else than another table."""
        refs = _lex.clause_refs(self.refs, "where", "on", "having")
        return [ref for ref in refs if ref.other is None and self.mine(ref.qualifier, name)]

    def joins(self, name: str) -> list[_lex.Ref]:
        """Columns of table ``name`` compared with a column of another table (join conditions)."""
        return [ref for ref in self.refs if ref.other is not None and self.mine(ref.qualifier, name)]

    @functools.cached_property
    def order(self) -> list[tuple[str | None, str, bool]]:
        """The top-level ORDER BY columns (qualifier, column, descending)."""
        return _lex.by_list(self.tokens, "order")

    @functools.cached_property
    def group(self) -> list[tuple[str | None, str, bool]]:
        """The top-level GROUP BY columns (qualifier, column, descending)."""
        return _lex.by_list(self.tokens, "group")

    @functools.cached_property
    def wildcard_columns(self) -> frozenset[str]:
        """Columns matched with LIKE or ILIKE against a pattern that starts with a wildcard (``'%42%'``).

        No B-tree index serves such a match; the pattern is read from the literal or the parameter.
        """
        return _wildcard_columns(self.tokens, self.refs, self.params)

    @functools.cached_property
    def offset(self) -> int | None:
        """The OFFSET (or MySQL ``LIMIT offset, n``) of the statement, literal or parameter, if any."""
        return _offset(self.tokens, self.params)


def _offset(tokens: Sequence[Token], params: Any) -> int | None:
    position = 0
    found: int | None = None
    for i, tok in enumerate(tokens):
        if tok.kind == "p":
            position += 1
        if tok.depth or tok.kind != "w" or i + 1 >= len(tokens):
            continue
        if tok.value == "offset" or (
            tok.value == "limit" and i + 2 < len(tokens) and tokens[i + 2].text == ","
        ):
            value = _value(tokens[i + 1], params, position)
            if value is not None:
                found = max(found or 0, value)
    return found


def _value(tok: Token, params: Any, position: int) -> int | None:
    """The integer a number token or placeholder stands for (``position``: placeholders before it)."""
    try:
        if tok.kind == "n":
            return int(float(tok.text))
        if tok.kind != "p":
            return None
        value = _param(tok, params, position)
        return int(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
    except (LookupError, TypeError, ValueError):
        return None


def _param(tok: Token, params: Any, position: int) -> Any:
    # The parameter of placeholder ``tok``; LookupError or TypeError when there is none.
    if isinstance(params, Mapping):
        return params[tok.text[2:-2] if tok.text.startswith("%(") else tok.text[1:]]
    if tok.text[1:].isdigit():
        return params[int(tok.text[1:]) - 1]
    return params[position]


def _pattern(tok: Token, params: Any, position: int) -> str | None:
    """The text a string literal or placeholder stands for, if it is text."""
    if tok.kind == "s" and len(tok.text) >= 2:
        return tok.text[1:-1]
    if tok.kind != "p":
        return None
    try:
        value = _param(tok, params, position)
    except (LookupError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _wildcard_columns(tokens: Sequence[Token], refs: Sequence[_lex.Ref], params: Any) -> frozenset[str]:
    found: set[str] = set()
    by_end = {ref.end: ref for ref in refs}
    placeholders = [i for i, tok in enumerate(tokens) if tok.kind == "p"]
    for i, tok in enumerate(tokens):
        if tok.kind != "w" or tok.value not in ("like", "ilike"):
            continue
        j = i - 2 if i >= 2 and tokens[i - 1].value == "not" else i - 1
        while j >= 0 and tokens[j].text == ")":  # UPPER(title) LIKE ...
            j -= 1
        ref = by_end.get(j + 1)
        k = i + 1  # the pattern, maybe inside UPPER(...)
        while k + 1 < len(tokens) and (tokens[k].text == "(" or tokens[k + 1].text == "("):
            k += 1
        if ref is None or k >= len(tokens):
            continue
        pattern = _pattern(tokens[k], params, bisect.bisect_left(placeholders, k))
        if pattern is not None and pattern[:1] in ("%", "_"):
            found.add(ref.column.lower())
    return frozenset(found)


def large_offset(facts: Facts, table: str | None) -> list[Smell]:
    """``large_offset``: the statement skips many rows with OFFSET before returning any (any database)."""
    offset = facts.offset
    if offset is None or offset < LARGE_OFFSET:
        return []
    name = table or next(iter(facts.aliases.values()), ("?",))[-1]
    order = tuple(column for _, column, _ in facts.order)
    return [Smell("large_offset", name, order, "OFFSET", rows=float(offset), details={"offset": offset})]


def index_columns(refs: Sequence[_lex.Ref], info: TableInfo, *, limit: int = 3) -> tuple[str, ...]:
    """The unindexed, unwrapped columns of ``refs`` to index, in order, at most ``limit``."""
    out: list[str] = []
    for ref in refs:
        if ref.wrapper is None and ref.column not in out:
            out.append(ref.column)
    if any(column in info.indexed for column in out):
        return ()  # an index on one of them exists: the planner chose the scan for another reason
    return tuple(out[:limit])


def pattern_searched(refs: Sequence[_lex.Ref], facts: Facts) -> tuple[str, ...]:
    """The columns of ``refs`` that :attr:`Facts.wildcard_columns` names, in order."""
    searched = facts.wildcard_columns
    return tuple(dict.fromkeys(ref.column for ref in refs if ref.column.lower() in searched))


def scan_smell(
    table: str,
    columns: tuple[str, ...],
    searched: tuple[str, ...],
    summary: str,
    node: Any,
    info: TableInfo,
    rows: float | None,
    *,
    schema: str | None = None,
) -> Smell:
    """A ``full_scan``: the columns to index, or when none is left the columns a wildcard pattern searches."""
    if columns:
        smell = Smell("full_scan", table, columns, summary, node, rows, schema=schema)
        smell.details["foreign_keys"] = sorted(set(columns) & info.foreign_keys)
    else:
        smell = Smell("full_scan", table, searched[:1], summary, node, rows, schema=schema)
        smell.details["pattern_search"] = True
    return smell


def suggests_index(smell: Smell) -> bool:
    """Whether ``smell``'s fix is an index on its columns (a wildcard pattern search's is not)."""
    return smell.kind in INDEX_KINDS and bool(smell.columns) and not smell.details.get("pattern_search")


def one_index(smells: Sequence[Smell]) -> Smell | None:
    """The one index a statement needs: what its filter and its order ask of the table of its worst smell.

    The smells that an index would fix on that table lend their columns in turn (the filter's first, then a
    join's, then the sort's, each column once, at most :data:`INDEX_COLUMNS`), so that a filter and an
    ORDER BY are served by one index. None when no smell asks for an index.
    """
    candidates = sorted((s for s in smells if suggests_index(s)), key=lambda s: INDEX_KINDS.index(s.kind))
    if not candidates:
        return None
    lead = candidates[0]
    flags: dict[str, bool] = {}
    for smell in candidates:
        if (smell.schema, smell.table) != (lead.schema, lead.table):
            continue
        desc = smell.details.get("descending") or ()
        for i, column in enumerate(smell.columns):
            flags.setdefault(column, bool(i < len(desc) and desc[i]))
    columns = tuple(flags)[:INDEX_COLUMNS]
    index = Smell(lead.kind, lead.table, columns, lead.summary, lead.node, lead.rows, lead.kept, lead.schema)
    index.details["descending"] = tuple(flags[column] for column in columns)
    return index


def wrapped_indexed(refs: Sequence[_lex.Ref], info: TableInfo) -> list[_lex.Ref]:
    """References to an indexed column wrapped in a function or cast (which keeps the index unused)."""
    return [ref for ref in refs if ref.wrapper is not None and ref.column in info.indexed]


def misestimated(estimated: float, actual: float) -> bool:
    """Rows off by ``MISESTIMATE_RATIO`` or more where it matters: an underestimate of 100+ actual rows (it
    picks nested loops), or an overestimate of 1,000+ rows (it picks full scans)."""
    if actual >= MISESTIMATE_RATIO * max(estimated, 1.0):
        return actual >= 100
    if estimated >= MISESTIMATE_RATIO * max(actual, 1.0):
        return estimated >= MIN_ROWS
    return False


def worth_indexing(rows: float | None) -> bool:
    """A table big enough for an index to matter (unknown size counts: the statement was slow)."""
    return rows is None or rows >= MIN_ROWS


InfoLookup = Callable[[str, "str | None"], TableInfo]

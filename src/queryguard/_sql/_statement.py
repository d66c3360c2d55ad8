"""What queryguard knows about one SQL text (:class:`Statement`), memoised, and the key and kind of a text
past the memory cap.

A text longer than :data:`MAX_CHARS` (a bulk INSERT of thousands of rows) is known by its first
:data:`MAX_CHARS` characters: its analysis costs no more than theirs, its shape is the same whatever its
row count, and no cache keeps the whole text (the long texts' own few slots are keyed by that first part).
"""

from __future__ import annotations

import functools
import re
from typing import Final

from . import _facts, _lexer, _shape, _tokens
from ._facts import ShapeFacts

__all__ = ["MAX_CHARS", "Statement", "analyze", "literal_key", "rough_kind"]

#: The longest text that is read whole; the EXPLAIN stage reads no longer statement either.
MAX_CHARS: Final = 32_768
_CACHE_SIZE: Final = 4096
# The first parts of long statements would pin megabytes in the main cache: they get a few slots of their own.
_LONG_CACHE_SIZE: Final = 4


class Statement:
    """What queryguard knows about one SQL text, whatever its parameters (read-only).

    The shape, fingerprint and kind are known at once; the other facts about the shape are worked out on
    first use and then shared by every statement of that shape: most statements are only grouped by
    fingerprint, and a fresh shape's scan would otherwise double the cost of analysing it. Of a text longer
    than :data:`MAX_CHARS`, every fact is that of its first part: ``values_rows`` and ``in_list_max`` count
    the rows and items found there.
    """

    __slots__ = ("_facts", "_rows", "fingerprint", "in_list_max", "kind", "offset", "shape")

    shape: str
    fingerprint: str
    kind: str
    in_list_max: int
    offset: int | None

    def __init__(self, facts: ShapeFacts, rows: int, in_list_max: int, offset: int | None) -> None:
        self.shape = facts.shape
        self.fingerprint = facts.fingerprint
        self.kind = facts.kind
        self._facts = facts
        self._rows = rows
        self.in_list_max = in_list_max
        self.offset = offset

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables named, in order of appearance, without CTE names."""
        return self._facts.scanned()[0]

    @property
    def select_star(self) -> bool:
        """Whether a SELECT's select list holds a ``*`` or ``name.*`` over a table's columns (``_stars``)."""
        return self._facts.scanned()[1]

    @property
    def values_rows(self) -> int:
        """The rows of the first VALUES list of an INSERT; 0 for any other kind."""
        return self._rows if self.kind == "insert" else 0

    @property
    def has_limit(self) -> bool:
        """Whether the statement has a LIMIT, FETCH or TOP."""
        return self._facts.scanned()[2]

    @property
    def writes(self) -> bool:
        """Whether the statement (or any part of it) writes."""
        return self._facts.scanned()[3]

    @property
    def locking(self) -> bool:
        """Whether the statement takes row or table locks (FOR UPDATE, LOCK IN SHARE MODE, LOCK TABLE)."""
        return self._facts.scanned()[4]

    @property
    def volatile_calls(self) -> bool:
        """Whether the statement calls a sequence, advisory-lock, sleep or dblink function."""
        return self._facts.scanned()[5]

    @property
    def read_only(self) -> bool:
        """True when running the statement again (or under EXPLAIN ANALYZE) changes and locks nothing."""
        return self.kind == "select" and not (self.writes or self.locking or self.volatile_calls)

    @property
    def is_single_row_write(self) -> bool:
        """True for a one-row INSERT, and for any UPDATE or DELETE: the statements a loop repeats."""
        if self.kind == "insert":
            return self.values_rows <= 1 and _facts.INSERT_SELECT_RE.search(self.shape) is None
        return self.kind in ("update", "delete")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Statement):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "Statement(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS) + ")"


_FIELDS: Final = (
    "shape",
    "fingerprint",
    "kind",
    "tables",
    "select_star",
    "values_rows",
    "in_list_max",
    "has_limit",
    "offset",
    "writes",
    "locking",
    "volatile_calls",
)


def analyze_text(text: str, *, cut: bool = False) -> Statement:
    """Analyse ``text`` (not memoised; may raise on a bug); ``cut``: it is the first part of a longer text."""
    shape, lexed, in_max, rows = _shape.shape(text, cut=cut)
    facts = _facts.known(shape)
    offset = _shape.offset(text, shape, lexed) if _shape.may_offset(shape) else None
    return Statement(facts, rows, in_max, offset)


def _analyze_safely(text: str, cut: bool = False) -> Statement:
    try:
        return analyze_text(text, cut=cut)
    except Exception:  # never let an odd statement break the host application
        return Statement(ShapeFacts(text, _facts.fingerprint(text), "other", _facts.NOTHING), 0, 0, None)


def _analyze_first_part(first: str) -> Statement:
    return _analyze_safely(first, cut=True)


_cached = functools.lru_cache(maxsize=_CACHE_SIZE - _LONG_CACHE_SIZE)(_analyze_safely)
_cached_long = functools.lru_cache(maxsize=_LONG_CACHE_SIZE)(_analyze_first_part)


def analyze(sql: str | bytes) -> Statement:
    """Analyse one SQL text (memoised: a repeated text costs a dictionary lookup). Never raises.

    A text longer than :data:`MAX_CHARS` is analysed by its first :data:`MAX_CHARS` characters.
    """
    if not isinstance(sql, str):
        sql = _decoded(sql)
    if len(sql) > MAX_CHARS:
        return _cached_long(sql[:MAX_CHARS])
    return _cached(sql)


def _decoded(sql: object) -> str:
    if isinstance(sql, (bytes, bytearray)):
        # enough bytes for more than MAX_CHARS characters: the rest would not be read
        return bytes(sql[: 4 * MAX_CHARS + 4]).decode("utf-8", "replace")
    return str(sql)


def cache_clear(*, memos: bool = True) -> None:
    """Forget every cached analysis (benchmarks measure cache misses with it)."""
    _cached.cache_clear()
    _cached_long.cache_clear()
    if memos:
        _tokens.clear_memos()
        _shape.clear_memos()
        _facts.clear_memos()
        _LITERAL_KEYS.clear()


# --- keys of statements past the memory cap -------------------------------------------------------------

# A string, or a number that starts a word (not the 1 of t1): one pass, with a literal or a digit first so
# that the engine jumps from candidate to candidate.
_LITERAL_RE: Final = re.compile(rf"{_lexer.any_string()}|\d(?<!\w\d)[\w.]*")
_LITERAL_KEYS: dict[str, str] = {}
_LITERAL_MEMO_CHARS: Final = 512


def literal_key(sql: object) -> str:
    """The text with its strings and numbers replaced by ``?``: equal for statements that differ only in
    literal values, and a few times cheaper than a shape (the key past ``max_events``). Never raises.

    Statements of one shape may get different keys (an IN list of another length, other blanks); two
    shapes share a key only where a name is quoted like a literal. A text longer than :data:`MAX_CHARS` is
    keyed by its shape, which is read from its first part only.
    """
    if type(sql) is not str:
        return repr(sql)
    if len(sql) > MAX_CHARS:
        return analyze(sql).shape
    key = _LITERAL_KEYS.get(sql)
    if key is None:
        key = _LITERAL_RE.sub("?", sql)
        if len(sql) <= _LITERAL_MEMO_CHARS:  # the repeated texts of ORM loops; long texts stay out
            if len(_LITERAL_KEYS) >= _CACHE_SIZE:
                _LITERAL_KEYS.clear()
            _LITERAL_KEYS[sql] = key
    return key


def rough_kind(sql: object) -> str:
    """The kind named by the first word, without analysis ("with" when a WITH clause hides it)."""
    return _facts.first_word_kind(sql[:MAX_CHARS]) if isinstance(sql, str) else "other"


def cache_size() -> int:
    """How many statements are memoised (at most 4096)."""
    return _cached.cache_info().currsize + _cached_long.cache_info().currsize

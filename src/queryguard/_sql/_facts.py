"""The facts of a shape: its kind, fingerprint, tables, select star, LIMIT, writes, locks, volatile calls.

Whether a star is a ``select_star`` is the rule of :mod:`._stars`; the scan only notes that a select list
holds one, and a SELECT that does is read again, once per shape, by that rule.

The shape is scanned once, by a pattern whose alternatives all start with a literal, for the few keywords
the analysis needs. A new shape pays only for its fingerprint and its kind: the scan runs when a detector
first asks for another fact, once per shape, so statements that are only grouped by fingerprint never pay
for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Final

from ._stars import NAME as _NAME
from ._stars import is_select_star, reads_stored_columns

_CACHE_SIZE: Final = 4096

_KIND_BY_WORD: Final = {
    **dict.fromkeys(("SELECT", "VALUES", "TABLE"), "select"),
    **dict.fromkeys(("INSERT", "REPLACE", "UPSERT"), "insert"),
    "UPDATE": "update",
    "DELETE": "delete",
    "MERGE": "merge",
    **dict.fromkeys(
        ("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "ABORT"), "transaction"
    ),
    **dict.fromkeys(("CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE", "RENAME"), "ddl"),
}
_WRITE_KINDS: Final = frozenset(("insert", "update", "delete", "merge", "ddl"))
_FIRST_RE: Final = re.compile(r"\(*(\w*)")
_SET_TRANSACTION_RE: Final = re.compile(r"SET (?:SESSION |LOCAL |GLOBAL )?TRANSACTION\b")
# Keywords are the only upper-case words of a shape, so a keyword needs no left boundary; every
# alternative starts with a literal character, which lets the engine skip to candidates in C.
_SCAN_WORDS: Final = "FROM JOIN INTO UPDATE DELETE INSERT MERGE UPSERT USING LIMIT OFFSET FETCH TOP FOR LOCK"
# Parentheses, SELECT, WITH and VALUES matter only to a shape with a WITH clause or a FROM inside a call:
# every other shape is scanned without them.
_FLAT_SCAN_RE: Final = re.compile(r"\*|" + "|".join(word + r"\b" for word in _SCAN_WORDS.split()))
_SCAN_RE: Final = re.compile(r"\(|\)|SELECT\b|WITH\b|VALUES\b|" + _FLAT_SCAN_RE.pattern)
_CALL_FROM_RE: Final = re.compile(r'\((?<=[\w"]\()[^()]* FROM\b')
_VOLATILE_NAMES: Final = """nextval setval sleep pg_sleep pg_sleep_for pg_sleep_until get_lock release_lock
    dblink dblink_exec pg_advisory_lock pg_advisory_lock_shared pg_advisory_xact_lock
    pg_advisory_xact_lock_shared pg_try_advisory_lock pg_try_advisory_lock_shared pg_try_advisory_xact_lock
    pg_try_advisory_xact_lock_shared pg_advisory_unlock pg_advisory_unlock_shared pg_advisory_unlock_all"""
# "(" first, name after: the engine jumps from one "(" to the next.
_VOLATILE_RE: Final = re.compile(
    r"\((?:" + "|".join(rf"(?<=[ (.]{name}\()" for name in _VOLATILE_NAMES.split()) + ")"
)
# The name, then what follows it: "(" (a call), or "," / an alias (maybe more tables after FROM).
_TABLE_RE: Final = re.compile(rf' (?:ONLY |LATERAL )?({_NAME})(\(|,| [a-z_"]| AS )?')
_NEXT_TABLE_RE: Final = re.compile(r'(?: AS)?(?: (?:"[^"]*"|[a-z_][\w$]*))?,(?= )')
_CTE_RE: Final = re.compile(
    rf"(?:\bWITH(?: RECURSIVE)?|\),) ({_NAME})(?:\([^()]*\))? AS (?:NOT )?(?:MATERIALIZED )?\("
)
INSERT_SELECT_RE: Final = re.compile(rf"INTO {_NAME}(?:\([^()]*\))? \(*(?:SELECT|WITH)\b")
_LOCKS: Final = (" UPDATE", " NO KEY UPDATE", " SHARE", " KEY SHARE")
_NOT_WRITE_UPDATE: Final = ("FOR ", "NO KEY ")
_NOT_TABLE_UPDATE: Final = ("FOR ", "KEY ", "DO ", "ON ")
_PLAIN, _CALL = 0, 1
# tables, select_star, has_limit, writes, locking, volatile_calls
_Scanned = tuple[tuple[str, ...], bool, bool, bool, bool, bool]
NOTHING: Final[_Scanned] = ((), False, False, False, False, False)
# Many texts share a shape (IN lists of every length, a new savepoint name per atomic block).
_SHAPE_FACTS: dict[str, ShapeFacts] = {}


class _Scan:
    """The facts gathered in one pass over the shape."""

    __slots__ = ("kind", "limit", "locking", "offset", "star", "tables", "writes")

    def __init__(self) -> None:
        self.kind = ""
        self.tables: dict[str, None] = {}  # a dict keeps the order and finds a name in one step
        self.star = self.limit = self.offset = self.writes = self.locking = False


def scan(shape: str, pending_kind: bool) -> _Scan:
    """Walk the parentheses, stars and structural keywords of the shape, knowing what each paren opens."""
    facts = _Scan()
    stack: list[int] = []
    with_depth = len(shape) - len(shape.lstrip("(")) if pending_kind else -1
    flat = not pending_kind and (" FROM " not in shape or _CALL_FROM_RE.search(shape) is None)
    tables = facts.tables
    for m in (_FLAT_SCAN_RE if flat else _SCAN_RE).finditer(shape):
        word = m.group()
        start = m.start()
        if word == "FROM" or word == "JOIN":  # by far the commonest: no call for the dispatch
            # FROM inside a call is EXTRACT(YEAR FROM x), SUBSTRING(x FROM 2), TRIM(x FROM y): no table
            if (not stack or stack[-1] != _CALL) and not shape.endswith("DISTINCT ", 0, start):
                _tables(tables, shape, m.end(), word == "FROM", False)
        elif word == "(":
            stack.append(_CALL if start and shape[start - 1] not in " (" else _PLAIN)
        elif word == ")":
            if stack:
                stack.pop()
        elif word == "*":
            facts.star = facts.star or is_select_star(shape, start)
        else:
            if with_depth == len(stack) and word in _KIND_BY_WORD:
                facts.kind, with_depth = _KIND_BY_WORD[word], -1
            _keyword(facts, shape, word, start, m.end(), stack)
    return facts


def _keyword(facts: _Scan, shape: str, word: str, start: int, end: int, stack: list[int]) -> None:
    """Record what one structural keyword says about the statement."""
    if word == "SELECT":
        if stack and stack[-1] == _CALL:
            stack[-1] = _PLAIN  # a subquery as a function argument: array(SELECT ...)
    elif word == "USING":
        if not stack or stack[-1] != _CALL:
            _tables(facts.tables, shape, end, False, False)
    elif word == "INTO":
        facts.writes = True
        _tables(facts.tables, shape, end, False, True)
    elif word == "UPDATE":
        if not shape.endswith(_NOT_WRITE_UPDATE, 0, start):
            facts.writes = True
        if not shape.endswith(_NOT_TABLE_UPDATE, 0, start):
            _tables(facts.tables, shape, end, False, False)
    elif word in ("DELETE", "INSERT", "MERGE", "UPSERT"):
        facts.writes = True
    elif word == "OFFSET":
        facts.offset = True
    elif word in ("LIMIT", "FETCH") or (word == "TOP" and shape.startswith((" ?", " ("), end)):
        facts.limit = True
        facts.offset = facts.offset or (word == "LIMIT" and shape.startswith(" ?, ?", end))
    elif word == "FOR":
        facts.locking = facts.locking or shape.startswith(_LOCKS, end)
    elif word == "LOCK":
        facts.locking = facts.locking or start == 0 or shape.startswith(" IN SHARE MODE", end)


def _tables(tables: dict[str, None], shape: str, pos: int, many: bool, call_ok: bool) -> None:
    """Append the table (or, after FROM, the comma-separated tables) named at ``pos``."""
    m = _TABLE_RE.match(shape, pos)
    while m is not None:
        name, after = m.groups()
        if after == "(" and not call_ok:
            return  # a table function: generate_series(...), unnest(...)
        name = name.lower()
        if '"' in name:
            name = name.replace('"', "")
        tables.setdefault(name)
        if not many or after is None or after == "(":
            return
        comma = _NEXT_TABLE_RE.match(shape, m.end(1))
        m = _TABLE_RE.match(shape, comma.end()) if comma is not None else None


def kind_of(shape: str) -> str:
    """The kind named by the first word; "" when a WITH clause hides it."""
    if shape.startswith("SELECT "):
        return "select"
    m = _FIRST_RE.match(shape)
    word = m.group(1).upper() if m is not None else ""
    if word == "WITH":
        return ""
    if word == "SET" and _SET_TRANSACTION_RE.match(shape):
        return "transaction"
    return _KIND_BY_WORD.get(word, "other")


def _calls_volatile(shape: str) -> bool:
    """Whether the shape calls a sequence, advisory-lock, sleep or dblink function."""
    if "val(" in shape or "lock" in shape or "sleep" in shape or "dblink" in shape:
        return _VOLATILE_RE.search(shape) is not None
    return False  # without a regex that would stop at every "("


def fingerprint(shape: str) -> str:
    """A digest of the shape: the same in every run and on every machine."""
    return hashlib.blake2b(shape.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class ShapeFacts:
    """The facts of one shape: its fingerprint and kind at once, the scan's on first use (memoised)."""

    __slots__ = ("_scanned", "fingerprint", "kind", "shape")

    def __init__(self, shape: str, fingerprint: str, kind: str, scanned: _Scanned | None) -> None:
        self.shape = shape
        self.fingerprint = fingerprint
        self.kind = kind
        self._scanned = scanned

    def scanned(self) -> _Scanned:
        scanned = self._scanned
        if scanned is None:  # two threads may both scan: they find the same facts
            try:
                scanned = scan_facts(self.shape, self.kind, scan(self.shape, pending_kind=False))
            except Exception:  # never let an odd statement break the host application
                scanned = NOTHING
            self._scanned = scanned
        return scanned


def facts_of(shape: str) -> ShapeFacts:
    """The memoised facts of a shape. Only a WITH clause, which hides the kind, needs the scan at once."""
    kind = kind_of(shape)
    scanned = None
    if not kind:
        found = scan(shape, pending_kind=True)
        kind = found.kind or "other"
        scanned = scan_facts(shape, kind, found)
    facts = ShapeFacts(shape, fingerprint(shape), kind, scanned)
    if len(_SHAPE_FACTS) >= _CACHE_SIZE:
        _SHAPE_FACTS.clear()
    _SHAPE_FACTS[shape] = facts
    return facts


def scan_facts(shape: str, kind: str, found: _Scan) -> _Scanned:
    """Everything else about a shape that does not depend on the literals it was made from."""
    tables: Iterable[str] = found.tables
    ctes: frozenset[str] = frozenset()
    if "WITH" in shape and (found.tables or found.star):
        ctes = frozenset(name.replace('"', "").lower() for name in _CTE_RE.findall(shape))
        tables = [table for table in found.tables if table not in ctes]
    writes = found.writes or kind in _WRITE_KINDS
    # Only a SELECT's rows reach the application: INSERT ... SELECT * fills a table
    star = found.star and kind == "select" and not writes and reads_stored_columns(shape, ctes)
    return (tuple(tables), star, found.limit, writes, found.locking, _calls_volatile(shape))


def known(shape: str) -> ShapeFacts:
    """The facts of ``shape``, memoised."""
    return _SHAPE_FACTS.get(shape) or facts_of(shape)


def first_word_kind(sql: str) -> str:
    """The kind named by the first word ("with" when a WITH clause hides it)."""
    m = _FIRST_RE.match(sql.lstrip())
    word = m.group(1).upper() if m is not None else ""
    return "with" if word == "WITH" else _KIND_BY_WORD.get(word, "other")


def clear_memos() -> None:
    """Forget the facts of every shape."""
    _SHAPE_FACTS.clear()

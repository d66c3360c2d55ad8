"""What may be explained, and what may be explained with ANALYZE (which runs the statement).

The principle: when queryguard cannot prove that explaining a statement changes nothing, it does not explain
it, and the finding says why. Planning alone can run code: PostgreSQL folds IMMUTABLE and STABLE functions
(mislabelled ones too) while it plans, MariaDB's EXPLAIN runs DETERMINISTIC stored functions and
``NEXTVAL(s)``, and a hidden second statement would run for real. So a statement is explained only when

* it is at most :data:`MAX_CHARS` long (longer ones are never read on the request path, nor cached),
* it is one SELECT, INSERT, UPDATE or DELETE that :mod:`._strict` reads completely (no construct it does not
  fully understand, nothing after a ``;``),
* every function it calls is a built-in of :mod:`._allowed` (no stored or user function, no sequence, lock,
  sleep or other connection), and it names no sequence (``NEXT VALUE FOR``).

The backends add the database's own proof (no user function reached through a view, a default or an operator
of the same name) and the last walls: a read-only transaction (or savepoint) that is always rolled back, and
statement and lock timeouts. ANALYZE runs the statement, so it also needs a proof that running it again
changes and locks nothing: :func:`queryguard._sql.analyze` must find a read-only SELECT (no write anywhere,
CTEs included; no ``FOR UPDATE``/``FOR SHARE``), the statement must not be an ``executemany``, and the
tokens must hold none of the words below.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Final

from .._sql import MAX_CHARS
from .._sql import analyze as analyze_sql
from .._sql._lexer import Token
from . import _allowed, _strict

EXPLAINABLE_KINDS: Final = frozenset(("select", "insert", "update", "delete"))
_STATEMENT_START: Final = frozenset(("select", "insert", "update", "delete", "with", "values", "replace"))
#: Words that are followed by "(" without calling a function.
_NOT_CALLS: Final = frozenset(
    """all and any array as between by case conflict distinct else except exists filter from group having
    ilike in index intersect is join key lateral like limit not offset on only or order over partition range
    returning row rows select set some then union using values when where window with within""".split()  # noqa: SIM905
)
#: Words that disqualify a statement from ANALYZE even when the statement analysis missed them.
_WRITE_WORDS: Final = frozenset(
    """insert update delete merge into upsert truncate drop alter create grant revoke copy call do
    lock nextval setval execute prepare load handler rename comment vacuum reindex cluster refresh notify
    listen unlisten set_config get_lock release_lock release_all_locks is_free_lock sleep pg_sleep
    pg_sleep_for pg_sleep_until benchmark""".split()  # noqa: SIM905
)
_LOCKING_PAIRS: Final = frozenset(
    (("for", "share"), ("for", "key"), ("for", "no"), ("for", "update"), ("in", "share"))
)
_SEQUENCE_PAIRS: Final = frozenset((("next", "value"), ("previous", "value")))


class Refused(Exception):
    """The statement is not explained; the message says why ("not explained: ...")."""


@dataclasses.dataclass(frozen=True)
class Proof:
    """What the text-level check found, for the database's own check: called names and operators."""

    tokens: tuple[Token, ...]
    calls: frozenset[str]
    operators: frozenset[str]


def explainable_kind(sql: str) -> bool:
    """Whether EXPLAIN takes statements of this kind (the statement analysis, already memoised)."""
    return analyze_sql(sql).kind in EXPLAINABLE_KINDS


def is_select(sql: str) -> bool:
    """Whether ``sql`` is a SELECT (the statement analysis, already memoised)."""
    return analyze_sql(sql).kind == "select"


def too_long(sql: str) -> str | None:
    """The reason a statement is too long to be read at all (a length test only), or None."""
    if len(sql) <= MAX_CHARS:
        return None
    return (
        f"not explained: the statement has {len(sql):,} characters, more than the {MAX_CHARS:,} "
        "that queryguard reads to prove an EXPLAIN safe"
    )


def check(sql: str, vendor: str) -> Proof:
    """The proof that planning ``sql`` calls only built-ins; :class:`Refused` says why there is none."""
    reason = too_long(sql)
    if reason:
        raise Refused(reason)
    if not explainable_kind(sql):
        raise Refused("not explained: not a single SELECT, INSERT, UPDATE or DELETE statement")
    try:
        tokens = _strict.read(sql, vendor=vendor)
    except _strict.Unclear as exc:
        raise Refused(f"not explained: holds what queryguard cannot read for sure: {exc}") from None
    first = next((tok for tok in tokens if tok.text != "("), None)
    if first is None or first.kind != "w" or first.value not in _STATEMENT_START:
        raise Refused("not explained: not a single SELECT, INSERT, UPDATE or DELETE statement")
    words = [tok.value for tok in tokens if tok.kind == "w"]
    if set(itertools.pairwise(words)) & _SEQUENCE_PAIRS:
        raise Refused("not explained: uses a sequence (NEXT VALUE FOR)")
    calls = _calls(tokens)
    for name in calls:
        if not _allowed.allowed(name, vendor):  # also every quoted or schema-qualified name
            raise Refused(f"not explained: calls a function queryguard cannot prove read-only: {name}()")
    operators = frozenset(tok.text for tok in tokens if tok.kind == "o" and tok.text not in "(),.;[]")
    return Proof(tokens, frozenset(calls), operators)


def _calls(tokens: tuple[Token, ...]) -> list[str]:
    """The names called as functions (``schema.name`` and ``"quoted"`` as written), in order."""
    closing = _closing(tokens)
    found: list[str] = []
    for i, tok in enumerate(tokens):
        if tok.kind not in ("w", "q") or i + 1 >= len(tokens) or tokens[i + 1].text != "(":
            continue
        start = i
        while start >= 2 and tokens[start - 1].text == "." and tokens[start - 2].kind in ("w", "q"):
            start -= 2
        before = tokens[start - 1].value if start else ""
        if before in ("::", "as", "into") or (tok.kind == "w" and start == i and tok.value in _NOT_CALLS):
            continue  # a type's modifier, an alias's or a table's column list, a keyword
        after = closing.get(i + 1, len(tokens)) + 1
        if after < len(tokens) and tokens[after].value == "as" and _cte_body(tokens, after + 1):
            continue  # WITH name (columns) AS (...)
        written = ".".join(t.text for t in tokens[start : i + 1 : 2])
        found.append(tok.value if start == i and tok.kind == "w" else written)
    return found


def _cte_body(tokens: tuple[Token, ...], i: int) -> bool:
    return i < len(tokens) and (tokens[i].text == "(" or tokens[i].value in ("materialized", "not"))


def _closing(tokens: tuple[Token, ...]) -> dict[int, int]:
    """The index of the ``)`` that closes each ``(``."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, tok in enumerate(tokens):
        if tok.text == "(":
            stack.append(i)
        elif tok.text == ")" and stack:
            pairs[stack.pop()] = i
    return pairs


def refusal(sql: str, vendor: str) -> str | None:
    """Why ``sql`` is not explained ("not explained: ..."), or None when the text-level check passes."""
    try:
        check(sql, vendor)
    except Refused as exc:
        return str(exc)
    return None


def analyze_allowed(sql: str, vendor: str, *, executemany: bool, proof: Proof | None = None) -> bool:
    """True only when running ``sql`` again is proven to change and lock nothing (``proof``: its check)."""
    if executemany:
        return False
    if proof is None:
        try:
            proof = check(sql, vendor)
        except Refused:
            return False
    stmt: Any = analyze_sql(sql)
    facts = (stmt.kind, stmt.read_only, stmt.writes, stmt.locking, stmt.volatile_calls)
    if facts != ("select", True, False, False, False):
        return False
    words = [tok.value for tok in proof.tokens if tok.kind == "w"]
    if any(word in _WRITE_WORDS for word in words) or proof.calls & _WRITE_WORDS:
        return False
    return not set(itertools.pairwise(words)) & _LOCKING_PAIRS

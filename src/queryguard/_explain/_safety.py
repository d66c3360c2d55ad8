"""What may be explained, and what may be explained with ANALYZE (which runs the statement).

Plain EXPLAIN plans a statement without running it; it is allowed for one SELECT, INSERT, UPDATE or DELETE
statement that ran without error. ANALYZE runs the statement, so it also needs a proof that running it again
changes and locks nothing: :func:`queryguard._sql.analyze` must find a read-only SELECT (no write anywhere,
CTEs included; no ``FOR UPDATE``/``FOR SHARE``; no ``nextval`` or other volatile call), the statement must
not be an ``executemany``, and a second, independent scan of its tokens must find none of the words below.
The backends add the last two walls: a read-only transaction (or savepoint) that is always rolled back.
"""

from __future__ import annotations

import itertools
from typing import Any, Final

from .._sql import analyze as analyze_sql
from . import _lex

EXPLAINABLE_KINDS: Final = frozenset(("select", "insert", "update", "delete"))
#: Words that disqualify a statement from ANALYZE even when the statement analysis missed them.
_WRITE_WORDS: Final = frozenset(
    """insert update delete merge into upsert truncate drop alter create grant revoke copy call do
    lock nextval setval execute prepare load handler rename comment vacuum reindex cluster refresh notify
    listen unlisten set_config get_lock release_lock release_all_locks is_free_lock sleep pg_sleep
    pg_sleep_for pg_sleep_until benchmark""".split()  # noqa: SIM905
)
_WRITE_PREFIXES: Final = (
    "pg_advisory",
    "pg_try_advisory",
    "lo_",
    "dblink",
    "pg_terminate",
    "pg_cancel",
    "pg_reload",
    "pg_rotate",
    "pg_file",
    "pg_write",
    "pg_read",
    "pg_notify",
)


def explainable(sql: str, vendor: str) -> bool:
    """One SELECT/INSERT/UPDATE/DELETE statement, as both the statement analysis and our tokens see it."""
    if analyze_sql(sql).kind not in EXPLAINABLE_KINDS:
        return False
    return _lex.explainable(_lex.tokenize(sql, vendor=vendor))


def analyze_allowed(sql: str, vendor: str, *, executemany: bool) -> bool:
    """True only when running ``sql`` again is proven to change and lock nothing."""
    if executemany or not explainable(sql, vendor):
        return False
    stmt: Any = analyze_sql(sql)
    facts = (stmt.kind, stmt.read_only, stmt.writes, stmt.locking, stmt.volatile_calls)
    if facts != ("select", True, False, False, False):
        return False
    tokens = _lex.tokenize(sql, vendor=vendor)
    words = [tok.value for tok in tokens if tok.kind == "w"]
    if any(word in _WRITE_WORDS or word.startswith(_WRITE_PREFIXES) for word in words):
        return False
    # MariaDB's NEXT VALUE FOR seq, and every locking clause (FOR UPDATE/SHARE, LOCK IN SHARE MODE).
    pairs = set(itertools.pairwise(words))
    return not pairs & {
        ("next", "value"),
        ("previous", "value"),
        ("for", "share"),
        ("for", "key"),
        ("for", "no"),
        ("in", "share"),
    }

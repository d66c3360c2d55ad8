"""SQLite: ``EXPLAIN QUERY PLAN`` and its smells.

EXPLAIN QUERY PLAN compiles the statement and never runs it, and SQLite has no EXPLAIN ANALYZE. On the
statement's own connection it runs inside a savepoint when a transaction is open; on a new connection a
progress handler aborts it past the timeout and the busy timeout bounds the wait for the schema lock. The
user's connection gets no handler: sqlite3 cannot tell which one it would replace.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any, Final

from . import _plan
from ._plan import Outcome, Request, Smell, TableInfo

VENDOR: Final = "sqlite"
_SAVEPOINT: Final = "queryguard_explain"
_SCAN_RE: Final = re.compile(r"SCAN (?:TABLE )?(?P<name>[^\s()]+)(?: AS (?P<alias>\S+))?(?P<rest>.*)")
_AUTO_RE: Final = re.compile(
    r"SEARCH (?:TABLE )?(?P<name>[^\s()]+)(?: AS (?P<alias>\S+))?"
    r" USING AUTOMATIC [A-Z ]*INDEX \((?P<cols>[^)]*)\)"
)
_TEMP_RE: Final = re.compile(
    r"USE TEMP B-TREE FOR (?:(?:LAST TERM|RIGHT PART) OF )?(?P<what>ORDER BY|GROUP BY)"
)
_COLUMN_RE: Final = re.compile(r"(\w+)\s*[=<>]")
_INDEXED_SQL: Final = (
    "SELECT ii.name FROM pragma_index_list(?) AS il JOIN pragma_index_info(il.name) AS ii WHERE ii.seqno = 0 "
    "UNION SELECT name FROM pragma_table_info(?) WHERE pk = 1"
)
_FK_SQL: Final = 'SELECT "from" FROM pragma_foreign_key_list(?) WHERE seq = 0'


def run(conn: Any, req: Request) -> Outcome:
    """Explain ``req.sql`` on ``conn`` and find the smells of its plan; the connection's state is kept."""
    with _scope(conn, req) as cur:
        cur.execute("EXPLAIN QUERY PLAN " + req.sql, () if req.params is None else req.params)
        plan = [{"id": row[0], "parent": row[1], "detail": row[3]} for row in cur.fetchall()]
        infos: dict[str, TableInfo] = {}

        def info(table: str, schema: str | None) -> TableInfo:
            if table not in infos:
                infos[table] = _table_info(cur, table)
            return infos[table]

        smells = find_smells(plan, req.facts, info)
    return Outcome("sqlite", plan, False, smells, "session" if req.session else "new")


@contextlib.contextmanager
def _scope(conn: Any, req: Request) -> Iterator[Any]:
    in_transaction = bool(getattr(conn, "in_transaction", False))
    own = not req.session
    if own:
        deadline = time.monotonic() + req.timeout_ms / 1000.0
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
    cur = conn.cursor()
    busy = None
    try:
        if own:
            busy = cur.execute("PRAGMA busy_timeout").fetchone()[0]
            cur.execute(f"PRAGMA busy_timeout = {max(int(req.timeout_ms), 1)}")
        if in_transaction:
            cur.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            yield cur
        finally:
            if in_transaction:
                cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                cur.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    finally:
        if own:
            conn.set_progress_handler(None, 0)
            if busy is not None:
                cur.execute(f"PRAGMA busy_timeout = {int(busy)}")
        cur.close()


def _table_info(cur: Any, table: str) -> TableInfo:
    indexed = frozenset(row[0] for row in cur.execute(_INDEXED_SQL, (table, table)).fetchall())
    fks = frozenset(row[0] for row in cur.execute(_FK_SQL, (table,)).fetchall())
    rows: float | None = None
    try:  # rowid tables: the largest rowid, found in the B-tree without a scan
        found = cur.execute(f'SELECT max(rowid) FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchone()
        rows = float(found[0]) if found and found[0] is not None else 0.0
    except Exception:  # a WITHOUT ROWID table or a view: size unknown
        rows = None
    return TableInfo(rows, indexed, fks)


# -- smells ---------------------------------------------------------------------------------------------


def find_smells(plan: list[dict[str, Any]], facts: _plan.Facts, info: _plan.InfoLookup) -> list[Smell]:
    """Every smell of an EXPLAIN QUERY PLAN, plus a large OFFSET."""
    smells: list[Smell] = []
    for row in plan:
        detail = str(row.get("detail", ""))
        scan, auto, temp = _SCAN_RE.fullmatch(detail), _AUTO_RE.match(detail), _TEMP_RE.match(detail)
        if scan is not None and (scan.group("alias") or scan.group("name")).lower() in facts.aliases:
            smells.extend(_scan(scan.group("alias") or scan.group("name"), row, plan, facts, info))
        elif auto is not None:
            smells.extend(_automatic(auto, row, facts))
        elif temp is not None:
            smells.extend(_temp(temp.group("what"), row, facts, info))
    first = next((s.table for s in smells), None)
    main = next(iter(facts.aliases.values()), (None,))[-1]
    return smells + _plan.large_offset(facts, first or main)


def _scan(
    name: str, row: Any, plan: list[dict[str, Any]], facts: _plan.Facts, info: _plan.InfoLookup
) -> list[Smell]:
    schema, table = facts.table(name)
    table_info = info(table, schema)
    filters = facts.filters(name)
    summary = f"SCAN {table}"
    searched = _plan.pattern_searched(filters, facts)
    filters = [ref for ref in filters if ref.column not in searched]  # no B-tree index serves them
    found = [_function(table, ref, row, table_info) for ref in _plan.wrapped_indexed(filters, table_info)]
    columns = _plan.index_columns(filters, table_info)
    if found or not _plan.worth_indexing(table_info.rows):
        return found
    if columns or searched:
        rows = table_info.rows
        return [_plan.scan_smell(table, columns, searched, summary, row, table_info, rows, schema=schema)]
    joins = _plan.index_columns(facts.joins(name), table_info, limit=1)
    others_filtered = any(facts.filters(alias) for alias in facts.aliases if not facts.mine(alias, name))
    if joins and others_filtered and len(plan) > 1:
        smell = Smell(
            "unindexed_join", table, joins, f"SCAN {table} in a join", row, table_info.rows, schema=schema
        )
        smell.details["foreign_key"] = joins[0] in table_info.foreign_keys
        return [smell]
    return []


def _function(table: str, ref: Any, row: Any, table_info: TableInfo) -> Smell:
    smell = Smell("function_on_column", table, (ref.column,), f"SCAN {table}", row, table_info.rows)
    smell.details["wrapper"] = ref.wrapper
    return smell


def _automatic(match: re.Match[str], row: Any, facts: _plan.Facts) -> list[Smell]:
    name = match.group("alias") or match.group("name")
    schema, table = facts.table(name)
    columns = tuple(dict.fromkeys(_COLUMN_RE.findall(match.group("cols"))))
    if not columns:
        return []
    kind = "unindexed_join" if facts.joins(name) else "full_scan"
    summary = f"an AUTOMATIC INDEX on {table} built for this statement"
    smell = Smell(kind, table, columns, summary, row, schema=schema)
    if kind == "unindexed_join":
        smell.details["foreign_key"] = False
    return [smell]


def _temp(what: str, row: Any, facts: _plan.Facts, info: _plan.InfoLookup) -> list[Smell]:
    listed = facts.order if what == "ORDER BY" else facts.group
    names = {qualifier for qualifier, _, _ in listed}
    owner = next(iter(names)) if len(names) == 1 else None
    name = owner or (
        next(iter(facts.aliases.values()))[-1] if len(set(facts.aliases.values())) == 1 else None
    )
    if not listed or name is None:
        return []
    schema, table = facts.table(name)
    if not _plan.worth_indexing(info(table, schema).rows):
        return []
    flags: dict[str, bool] = {}
    for ref in facts.filters(name):
        if ref.wrapper is None:
            flags.setdefault(ref.column, False)
    for _, column, descending in listed:
        flags.setdefault(column, descending)
    columns = tuple(flags)[:3]
    desc = tuple(flags[column] for column in columns)
    smell = Smell("temp_sort", table, columns, f"USE TEMP B-TREE FOR {what} on {table}", row, schema=schema)
    smell.details["descending"] = desc
    smell.details["ordering"] = tuple(dict.fromkeys(column for _, column, _ in listed))
    return [smell]

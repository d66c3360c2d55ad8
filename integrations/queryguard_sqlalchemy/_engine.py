"""Engine listeners: every statement sent to the driver becomes one :class:`queryguard.QueryEvent`.

The dialect's ``do_execute``/``do_executemany``/``do_execute_no_params`` events hand over each statement
just before the driver gets it. With no capture active the listener reads one ContextVar and declines, and
the dialect executes the statement as always. With a capture active it calls the dialect's own method
itself between two clock readings, records the statement (also when it fails, re-raising the very same
exception) and tells SQLAlchemy that the statement ran. Dialect events leave the ``Connection`` on its
fast path: ``before_cursor_execute`` listeners would make every execution dispatch its events.
"""

from __future__ import annotations

import os
import weakref
from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine, ExecutionContext

from queryguard import QueryEvent, record
from queryguard._capture import _active
from queryguard._guard import internal_error

from . import _eager, _sites
from ._explain import EngineSource, bound
from ._orm import _EAGER, counting, flush_batch

#: Vendors under the names the core's EXPLAIN backends and suggestions know.
_VENDORS = {"postgresql": "postgresql", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}
#: ``(vendor, alias, is_async, EXPLAIN source)`` of an engine's dialect.
Facts = tuple[str, str, bool, EngineSource | None]
_facts: weakref.WeakKeyDictionary[Dialect, Facts] = weakref.WeakKeyDictionary()
#: The dialect seen last and its facts: one identity test per statement in the common one-engine case.
_last: tuple[Any, Facts] = (None, ("", "", False, None))


def engine_facts(engine: Engine) -> tuple[str, str, bool]:
    """``(vendor, alias, is_async)`` of an engine; the alias is its database name, never its URL."""
    return _engine_facts(engine)[:3]


def _engine_facts(engine: Engine) -> Facts:
    dialect = engine.dialect
    facts = _facts.get(dialect)
    if facts is None:
        database = engine.url.database or ""
        if dialect.name == "sqlite":
            database = "memory" if database in ("", ":memory:") else os.path.basename(database)
        vendor, alias = _VENDORS.get(dialect.name, dialect.name), database or "default"
        source = EngineSource(engine, vendor, alias) if vendor in ("postgresql", "sqlite", "mysql") else None
        facts = (vendor, alias, bool(dialect.is_async), source)
        _facts[dialect] = facts
    return facts


def _facts_of(dialect: Dialect, context: ExecutionContext) -> Facts:
    global _last
    facts = _facts.get(dialect) or _engine_facts(context.root_connection.engine)
    _last = (dialect, facts)
    return facts


def do_execute(cursor: Any, statement: str, parameters: Any, context: ExecutionContext | None) -> bool:
    """Run and record one statement while a capture is active (else let the dialect run it)."""
    if not _active.get() or context is None:
        return False
    started = perf_counter()
    try:
        context.dialect.do_execute(cursor, statement, parameters, context)
    except BaseException as exc:
        _record(cursor, statement, parameters, context, False, started, exc)
        raise
    _record(cursor, statement, parameters, context, False, started, None)
    return True


def do_executemany(cursor: Any, statement: str, parameters: Any, context: ExecutionContext | None) -> bool:
    """Run and record one ``executemany`` while a capture is active (else let the dialect run it)."""
    if not _active.get() or context is None:
        return False
    started = perf_counter()
    try:
        context.dialect.do_executemany(cursor, statement, parameters, context)
    except BaseException as exc:
        _record(cursor, statement, parameters, context, True, started, exc)
        raise
    _record(cursor, statement, parameters, context, True, started, None)
    return True


def do_execute_no_params(cursor: Any, statement: str, context: ExecutionContext | None) -> bool:
    """Run and record one statement without parameters while a capture is active."""
    if not _active.get() or context is None:
        return False
    started = perf_counter()
    try:
        context.dialect.do_execute_no_params(cursor, statement, context)
    except BaseException as exc:
        _record(cursor, statement, None, context, False, started, exc)
        raise
    _record(cursor, statement, None, context, False, started, None)
    return True


def _record(
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext,
    many: bool,
    started: float,
    error: BaseException | None,
) -> None:
    ended = perf_counter()
    try:
        # One execute() of many parameter sets that SQLAlchemy sends in batches (insertmanyvalues, one row per
        # batch where RETURNING must keep their order) is one call of the user's: an executemany.
        many = many or context.executemany is True
        dialect = context.dialect
        vendor, alias, is_async, source = _last[1] if _last[0] is dialect else _facts_of(dialect, context)
        # A sync engine's events name their Connection too: the foreground explains on it (see _explain).
        explainer = source if is_async or source is None else bound(source, context.root_connection)
        rowcount = -1 if error is not None else cursor.rowcount
        found = _sites.facts(statement, 2)  # the walk starts above do_execute
        query = QueryEvent(
            statement,
            parameters,
            (ended - started) * 1000.0,
            vendor=vendor,
            alias=alias,
            rowcount=rowcount if type(rowcount) is int else -1,
            executemany=many,
            is_async=is_async,
            orm=found.orm,
            relation=None if found.relation == _EAGER else found.relation,
            relation_kind=found.relation_kind,
            relation_path=found.relation_path,
            relation_root=found.relation_root,
            error=None if error is None else type(error).__name__,
            started=started,
            explainer=explainer,
            callsite=found.site,
            batch=flush_batch() if not many else None,
        )
        captures = _active.get()
        if captures is not _eager._seen:  # a unit began or ended here: eager-load hooks on or off
            _eager.check(captures)
        record(query)
        if (
            query.rowcount < 0
            and query.orm is not None
            and error is None
            and not getattr(context, "is_crud", True)
        ):
            query.rowcount = 0
            counting.set(query)
        elif counting.get() is not None:
            counting.set(None)
    except Exception as exc:
        internal_error("sqlalchemy statement listener", exc)


_LISTENERS = (
    ("do_execute", do_execute),
    ("do_executemany", do_executemany),
    ("do_execute_no_params", do_execute_no_params),
)


def listen(target: Engine | type[Engine]) -> None:
    """Add the statement listeners to an engine's dialect, or to every dialect (the ``Engine`` class)."""
    for name, fn in _LISTENERS:
        if not event.contains(target, name, fn):
            event.listen(target, name, fn)


def remove(target: Engine | type[Engine]) -> None:
    """Remove what :func:`listen` added."""
    for name, fn in _LISTENERS:
        if event.contains(target, name, fn):
            event.remove(target, name, fn)


def listening(target: Engine | type[Engine]) -> bool:
    """True when any statement listener of queryguard is on ``target``."""
    return any(event.contains(target, name, fn) for name, fn in _LISTENERS)

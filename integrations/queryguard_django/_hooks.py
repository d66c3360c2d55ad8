"""Connection hooks: every statement of every Django connection goes through one execute wrapper.

The wrapper is inserted *first* in ``connection.execute_wrappers`` of every connection, of every alias
and in every thread, as the connection is created (``connection_created``) and, for connections that
exist already, when the app is ready. The user's ``connection.execute_wrapper(...)`` blocks append and pop
at the end of the list, so they never remove it. ORM statements, raw ``connection.cursor()`` SQL and
``executemany`` all pass through it.

With no capture active the wrapper costs one ContextVar read. With one, it times the statement, builds a
:class:`queryguard.QueryEvent` (references only) and records it; statements that Django runs to set up a
connection (``SET`` on connect, feature probes) are not the user's and are left out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.utils.functional import cached_property

from queryguard import _callsite, _repeat
from queryguard._capture import _active, deliver, enter_request
from queryguard._guard import internal_error

from . import _eager, _relations, _rows, _sources, _state

_perf_counter = time.perf_counter
_SKIP = 2  # execute_wrapper <- CursorWrapper._execute_with_wrappers <- CursorWrapper.execute
_explainers = _sources._sources
_rows_local = _rows._local
_Event = _state.Event
_QUERYSET = _relations.QUERYSET
#: Methods of database backends (and their features) that run SQL of their own to set a connection up.
_SETUP_METHODS = frozenset(
    {
        "connect",
        "init_connection_state",
        "get_new_connection",
        "ensure_timezone",
        "check_database_version_supported",
        "get_database_version",
    }
)
_setup_classes: set[type] = set()


def execute_wrapper(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """The ``execute_wrappers`` entry: records the statement into the active captures.

    Recording is written out in the ``finally`` block rather than in a function of its own: this runs once
    per statement.
    """
    captures = _active.get()
    if not captures:
        return execute(sql, params, many, context)
    if captures is not _eager._seen:  # a unit began or ended here: eager-load hooks on or off
        _eager.check(captures)
    error: str | None = None
    started = _perf_counter()
    try:
        return execute(sql, params, many, context)
    except BaseException as exc:
        error = type(exc).__name__
        raise
    finally:
        elapsed = _perf_counter() - started
        try:
            connection = context["connection"]
            alias = connection.alias
            rowcount = -1 if error else getattr(context["cursor"].cursor, "rowcount", -1)
            event = _Event(
                sql if isinstance(sql, str) else str(sql),
                params,
                elapsed * 1000.0,
                connection.vendor,
                alias,
                rowcount if type(rowcount) is int else -1,
                many,
                error,
                started,
                _explainers.get(alias) or _sources.source(alias, connection.vendor),
            )
            pending = _rows_local.pending
            if pending is not None:  # the previous statement's instances exist now: their origins may name it
                _rows.resolve(pending)
            # Start above this function, _execute_with_wrappers and execute(): Django's, never the user's.
            # The statements of a loop repeat their SQL and their frames: the walk is then repeated by depth.
            # The hooks write what they find on the event (see _state.Event).
            site = _repeat.capture_repeated(hash(event.sql), event, _SKIP)
            held = None
            if not event.setup:
                if event.level < _QUERYSET:
                    _relations.infer(event, event)
                event._site = site if site is not None else ()
                deliver(captures, event)
                if event.queryset is not None or event.holder is not None:
                    if event.rowcount < 0 or event.tag is not None:
                        held = event  # pending until its rows are loaded: see _rows
                    else:
                        event.queryset = event.holder = None  # the event outlives the request's objects
            if held is not pending:
                _rows_local.pending = held
        except Exception as exc:
            internal_error("django execute wrapper", exc)


def _setup(frame: FrameType, event: Any) -> None:
    walk = _state.current(event)
    if walk is not None:
        walk.setup = True
    return None


def _register_setup(connection: Any) -> None:
    """Mark the backend's own connection-setup code (once per backend class)."""
    classes = [*type(connection).__mro__, *type(connection.features).__mro__]
    for klass in classes:
        if klass in _setup_classes or klass is object:
            continue
        _setup_classes.add(klass)
        for name, value in vars(klass).items():
            func = (
                value.func
                if isinstance(value, cached_property)
                else value
                if name in _SETUP_METHODS
                else None
            )
            code = getattr(func, "__code__", None)
            if code is not None:
                _callsite.register_frame_hook(code, _setup)


def hook(connection: Any) -> None:
    """Put the wrapper first in ``connection.execute_wrappers`` (idempotent)."""
    try:
        _register_setup(connection)
        wrappers = connection.execute_wrappers
        if execute_wrapper not in wrappers:
            wrappers.insert(0, execute_wrapper)
    except Exception as exc:
        internal_error("hooking a database connection", exc)


def unhook(connection: Any) -> None:
    """Take the wrapper out of ``connection.execute_wrappers`` (benchmarks compare with and without)."""
    while execute_wrapper in connection.execute_wrappers:
        connection.execute_wrappers.remove(execute_wrapper)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    hook(connection)


def _on_request_started(sender: Any, **kwargs: Any) -> None:
    try:
        enter_request()
    except Exception as exc:  # never let a signal receiver break a request
        internal_error("django request_started", exc)


def install() -> None:
    """Hook every connection from now on, and those that exist already in this thread."""
    from django.core.signals import request_started
    from django.db import connections
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection_created, dispatch_uid="queryguard_django.hooks")
    # Each request is a place of its own: two requests of one test are never one loop.
    request_started.connect(_on_request_started, dispatch_uid="queryguard_django.requests")
    for connection in connections.all(initialized_only=True):
        hook(connection)

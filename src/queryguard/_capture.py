"""Captures as data: the statements of a unit of work, its scope and totals, and ``record()``, the hot path.

This module knows nothing of detection, EXPLAIN or actions: :mod:`._unit` holds the public
:class:`~queryguard.Capture`, whose end runs :mod:`._pipeline`.
"""

from __future__ import annotations

import contextvars
import itertools
import operator
import sys
import time

# The C accelerated function where there is one: a single call, no exception when no loop runs. Never
# ``from _asyncio import ...`` first: on 3.11 importing _asyncio before asyncio leaves two copies of its
# task table, and asyncio.current_task() returns None in every task of the process.
from asyncio import current_task as _current_task
from asyncio.events import _get_running_loop
from collections.abc import Callable
from typing import Any

from . import _callsite, _repeat
from ._config import Config
from ._events import QueryEvent
from ._plural import plural

_DURATION = operator.attrgetter("duration_ms")

_active: contextvars.ContextVar[tuple[BaseCapture, ...]] = contextvars.ContextVar(
    "queryguard_active", default=()
)
# Captures entered again where they were active already (``with cap: with cap:``), innermost last: such an
# entry nests and its exit is a no-op. Per context, so that a task re-entering a capture whose context it
# copied cannot keep the outer block from ending it.
_reentered: contextvars.ContextVar[tuple[BaseCapture, ...]] = contextvars.ContextVar(
    "queryguard_reentered", default=()
)


#: Called with each capture that stops recording, in the context it stops in (see _eager: the adapters restore
#: what they wrapped for the capture). Each callback swallows its own errors.
stopped: list[Callable[[BaseCapture], None]] = []


def record(event: QueryEvent) -> None:
    """Hand one statement to every capture active in the current context (integrations call this)."""
    captures = _active.get()
    if not captures:
        return
    if event._site is None:
        # A loop sends one text again and again, from frames whose walk is then repeated (by the text). A
        # text seen for the first time is walked plainly: most never come back, and a repeatable walk costs
        # more to note than it saves then.
        sql = event.sql
        if type(sql) is not str:  # composed SQL objects, bytes: walked plainly, never hashed
            event._site = _callsite.capture(event, sys._getframe(1))
        elif sql in _texts_seen:
            event._site = _repeat.capture_repeated(sql, event, 1)
        else:
            if len(_texts_seen) >= _MAX_TEXTS_SEEN:
                _texts_seen.clear()
            _texts_seen.add(sql)
            event._site = _callsite.capture(event, sys._getframe(1))
    deliver(captures, event)


#: Texts recorded before, by any unit: their next statements take the repeatable walk.
_texts_seen: set[str] = set()
_MAX_TEXTS_SEEN = 4096


#: The request (one entry into the application) running in this context, numbered; 0: none. Two requests
#: are never one loop, even when one unit (a test) holds both.
_entry: contextvars.ContextVar[int] = contextvars.ContextVar("queryguard_entry", default=0)
_entries = itertools.count(1)


def enter_request() -> None:
    """Mark the start of a request in the current context (middleware and framework signals call it)."""
    _entry.set(next(_entries))


def deliver(captures: tuple[BaseCapture, ...], event: QueryEvent) -> None:
    """:func:`record` for an adapter that read the active captures already and set the call site."""
    event.entry = _entry.get()
    loop = _get_running_loop()
    if loop is not None:
        if event.is_async:  # the task tells which statements one task awaited one after another
            event.task = id(_current_task(loop))
        else:
            event.blocking = True
    for cap in captures:
        cap._add(event)


class suppressed:
    """Context manager: statements run inside it are not recorded (queryguard's own EXPLAINs)."""

    def __enter__(self) -> None:
        self._token = _active.set(())

    def __exit__(self, *exc: object) -> None:
        _active.reset(self._token)


#: Entries past ``max_events`` with a shape of their own; later shapes share one entry per kind.
MAX_OVERFLOW_ENTRIES = 1024


class _Other:
    """The first part of the key of an entry of shapes past the cap (equal to no text)."""

    def __repr__(self) -> str:
        return "<other statements>"


OTHER = _Other()


class Overflow:
    """Statements past ``max_events``, aggregated per (literal-free text, raw call site).

    Keeps what the detectors need: counts, times, row counts, and up to 256 distinct (text, parameters)
    keys with how often each ran (an N+1 of literal SQL, a duplicate), with one example event of each key
    that repeated. An ``other`` entry holds the statements of shapes past :data:`MAX_OVERFLOW_ENTRIES`:
    counted and timed, not analysed.
    """

    __slots__ = ("count", "example", "examples", "keys", "other", "rows", "rows_known", "total_ms")
    _MAX_KEYS = 256
    _MAX_EXAMPLES = 8

    def __init__(self, event: QueryEvent, *, other: bool = False) -> None:
        self.example = event
        self.other = other
        self.count = 0
        self.total_ms = 0.0
        self.rows = 0
        self.rows_known = 0
        #: (hash of the SQL text, parameter key) -> how many statements ran with it
        self.keys: dict[tuple[int, Any], int] = {}
        self.examples: dict[tuple[int, Any], QueryEvent] = {}

    def add(self, event: QueryEvent, params_key: Callable[[object], Any]) -> None:
        self.count += 1
        self.total_ms += event.duration_ms
        if event.rowcount >= 0:
            self.rows += event.rowcount
            self.rows_known += 1
        if self.other:
            return
        key = (hash(event.sql), params_key(event.params))
        keys = self.keys
        n = keys.get(key, 0)
        if n or len(keys) < self._MAX_KEYS:
            keys[key] = n + 1
            if n == 1 and len(self.examples) < self._MAX_EXAMPLES:
                self.examples[key] = event  # the first repeat: a duplicate's example, with its own text


class _Keys:
    """The key functions of :meth:`BaseCapture._aggregate`, imported on first use (``_sql`` loads slowly)."""

    params: Callable[[object], Any] = None  # type: ignore[assignment]
    literal: Callable[[object], str]
    kind: Callable[[object], str]

    def load(self) -> _Keys:
        from ._sql import literal_key, params_key, rough_kind

        self.literal, self.kind, self.params = literal_key, rough_kind, params_key
        return self


_keys = _Keys()


class BaseCapture:
    """The statements of one unit of work: where ``record()`` puts them, with the unit's scope and totals.

    :class:`~queryguard.Capture` adds what happens when the unit ends.
    """

    def __init__(self, config: Config | None = None, *, name: str = "") -> None:
        self.config = config or Config()
        self.name = name
        self.queries: list[QueryEvent] = []
        self.overflow: dict[tuple[object, Any], Overflow] = {}
        self.started = 0.0
        self.ended: float | None = None
        self._tokens: list[contextvars.Token[tuple[BaseCapture, ...]]] = []
        self._max = self.config.max_events
        self._shapes = 0  # overflow entries with a shape of their own
        self._last: tuple[object, object, Overflow] | None = None  # text, site and entry of the last one

    # -- hot path ---------------------------------------------------------------------------------
    def _add(self, event: QueryEvent) -> None:
        if self.ended is not None:  # stopped from another context that could not reset ours
            return
        if len(self.queries) < self._max:
            self.queries.append(event)
        else:
            self._aggregate(event)

    def _aggregate(self, event: QueryEvent) -> None:
        sql, site = event.sql, event._site
        last = self._last
        if last is not None and last[0] is sql and last[1] is site:  # the next statement of a loop
            last[2].add(event, _keys.params)
            return
        keys = _keys if _keys.params is not None else _keys.load()
        key: tuple[object, Any] = (keys.literal(sql), site)
        entry = self.overflow.get(key)
        if entry is None:
            if self._shapes < MAX_OVERFLOW_ENTRIES:
                self._shapes += 1
                entry = self.overflow[key] = Overflow(event)
            else:  # a unit of endless distinct shapes: count them without a key each
                key = (OTHER, keys.kind(sql))
                entry = self.overflow.get(key)
                if entry is None:
                    entry = self.overflow[key] = Overflow(event, other=True)
        self._last = (sql, site, entry)
        entry.add(event, keys.params)

    # -- totals -----------------------------------------------------------------------------------
    @property
    def query_count(self) -> int:
        """Statements captured, including those aggregated past ``max_events``."""
        return len(self.queries) + sum(entry.count for entry in self.overflow.values())

    @property
    def db_time_ms(self) -> float:
        """Database time of every captured statement, in milliseconds."""
        stored: float = sum(map(_DURATION, self.queries))
        return stored + sum(entry.total_ms for entry in self.overflow.values())

    # -- scope ------------------------------------------------------------------------------------
    def start(self) -> BaseCapture:
        """Make this capture receive statements in the current context.

        Started again where it is active already, it only nests: it still receives each statement once,
        and the matching :meth:`leave_reentry` ends nothing.
        """
        if self.ended is None and self in _active.get():
            _reentered.set((*_reentered.get(), self))
            return self
        self.started = time.perf_counter()
        self.ended = None
        self._tokens.append(_active.set((*_active.get(), self)))
        return self

    def leave_reentry(self) -> bool:
        """True when this ends a nested start of an active capture (see :meth:`start`): nothing to stop."""
        entered = _reentered.get()
        if self not in entered:
            return False
        index = len(entered) - 1 - entered[::-1].index(self)
        _reentered.set(entered[:index] + entered[index + 1 :])
        return True

    def stop_recording(self) -> None:
        """Stop receiving statements, in whatever context it ends."""
        token = self._tokens.pop() if self._tokens else None
        try:
            if token is not None:
                _active.reset(token)
        except ValueError:  # ended in another context than it started in (a task switched)
            _active.set(tuple(cap for cap in _active.get() if cap is not self))
        self.ended = time.perf_counter()
        _repeat.release_anchors()
        for callback in stopped:
            callback(self)

    def __repr__(self) -> str:
        return f"<Capture {self.name or 'unnamed'}: {plural(self.query_count, 'query', 'queries')}>"

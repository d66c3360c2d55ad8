"""Eager loads and their reads: what an ORM adapter tells about ``select_related``, ``joinedload``...

An adapter that sees a queryset or a ``select()`` eager-load a relation calls :func:`loaded`: the load goes
to the log of every active capture whose ``unused_eager_load`` setting is on. When code reads the relation
on one of the loaded instances, the adapter sets the load's ``used``. When such a capture stops, the
adapters are told (:func:`on_release`): they restore what they wrapped once no capture needs it. The
``unused_eager_load`` detector reads the log when the unit ends (:func:`collect`). Nothing here runs per
statement.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _capture
from ._capture import _active
from ._guard import internal_error

if TYPE_CHECKING:
    from ._callsite import RawSite
    from ._capture import BaseCapture


class EagerLoad:
    """One eager load of one relation path, asked by one queryset or ``select()``."""

    __slots__ = ("method", "orm", "parent", "path", "relation", "root", "rows", "site", "used")

    def __init__(
        self,
        *,
        orm: str,
        method: str,
        path: str,
        relation: str,
        root: str,
        rows: int,
        site: RawSite | str | None,
        parent: EagerLoad | None = None,
    ) -> None:
        self.orm = orm  # "django" | "sqlalchemy"
        self.method = method  # select_related, prefetch_related, joinedload, selectinload...
        self.path = path  # the lookup from the root: "author__publisher", "Book.author"
        self.relation = relation  # "Author.publisher": the relation its last step loads
        self.root = root  # the model the queryset or select() loads
        self.rows = rows  # the parent rows it loaded the relation for
        self.site = site  # where the user's code asked for it
        self.parent = parent  # the load of the path one step shorter, for nested paths
        self.used = False

    def __repr__(self) -> str:
        return f"<EagerLoad {self.method}({self.path!r}) {self.relation} rows={self.rows} used={self.used}>"


class EagerLog:
    """The eager loads of one unit, in the order they ran."""

    __slots__ = ("__weakref__", "loads", "pending")

    def __init__(self) -> None:
        self.loads: list[EagerLoad] = []
        #: completions an adapter could not run yet (rows still being built): run before the log is read
        self.pending: list[Callable[[], None]] = []


_logs: weakref.WeakKeyDictionary[BaseCapture, EagerLog] = weakref.WeakKeyDictionary()
#: called with no argument whenever a capture with a log stops: adapters restore what no capture needs
_released: list[Callable[[], None]] = []


def wanted(captures: tuple[BaseCapture, ...] | None = None) -> list[EagerLog]:
    """The logs of the active captures that have the detector on (created on first use)."""
    found = []
    for cap in _active.get() if captures is None else captures:
        if cap.ended is None and cap.config.unused_eager_load:
            log = _logs.get(cap)
            if log is None:
                log = _logs[cap] = EagerLog()
            found.append(log)
    return found


def watching() -> bool:
    """Whether a capture with the detector on has not ended yet, in any context."""
    return any(cap.ended is None for cap in list(_logs))


def loaded(logs: list[EagerLog], load: EagerLoad) -> None:
    """Add ``load`` to each of ``logs`` (from :func:`wanted`)."""
    for log in logs:
        log.loads.append(load)


def defer(logs: list[EagerLog], complete: Callable[[], None]) -> None:
    """Run ``complete`` before the logs are read (or sooner, by the adapter)."""
    for log in logs:
        log.pending.append(complete)


def on_release(callback: Callable[[], None]) -> None:
    """Call ``callback`` when a capture with a log stops: the adapter unwraps when no capture needs it."""
    if callback not in _released:
        _released.append(callback)


def collect(cap: BaseCapture) -> list[EagerLoad]:
    """The eager loads of ``cap``'s unit, completed."""
    log = _logs.get(cap)
    if log is None:
        return []
    _complete(log)
    return list(log.loads)


def _complete(log: EagerLog) -> None:
    pending, log.pending = log.pending, []
    for complete in pending:
        try:
            complete()
        except Exception as exc:
            internal_error("completing an eager load", exc)


def _stopped(cap: BaseCapture) -> None:
    """A capture stopped: complete its log, and let the adapters restore what no capture needs any more."""
    log = _logs.get(cap)
    if log is None:
        return
    _complete(log)
    for callback in list(_released):
        try:
            callback()
        except Exception as exc:
            internal_error("restoring eager-load hooks", exc)


_capture.stopped.append(_stopped)


def _forget(cap: Any) -> None:  # tests: a capture's log, dropped
    _logs.pop(cap, None)

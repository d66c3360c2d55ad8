"""Rows of a SELECT, counted from the queryset Django filled; and the origins of the instances it built.

SQLite reports ``rowcount == -1`` for a SELECT, yet the N+1 detector needs the row count of the statement
whose rows a loop walks (to name the parent query). The statement's queryset is *pending* until the next
statement of the same thread is recorded, or the request that ran it ends (:func:`flush`): by then Django
has filled its result cache, whose length is the row count, and whose instances receive the origin their
relation gives them (see :mod:`queryguard_django._state`). A to-one relation's load (``book.author``) keeps
the instance it was read from instead, its *holder*: Django caches the loaded instance there, and the
queryset the descriptor built is freed as soon as Django is done with it. No signal, no per-instance cost.
"""

from __future__ import annotations

import threading

from queryguard._guard import internal_error

from . import _state


class _Local(threading.local):
    #: Set by the execute wrapper when its queryset's result cache can tell more (``Event.queryset``).
    pending: _state.Event | None = None


_local = _Local()
_ORIGIN = _state.ORIGIN_ATTRIBUTE


def resolve(event: _state.Event) -> None:
    """Complete ``event``, a pending statement, from the rows it loaded, and forget them.

    The caller clears or replaces ``_local.pending`` (the execute wrapper does it once per statement).
    """
    queryset, holder, tag = event.queryset, event.holder, event.tag
    event.queryset = event.holder = None
    try:
        if holder is not None:  # a to-one relation's load: Django cached the instance (or None) on its holder
            loaded = holder._state.fields_cache.get(event.cache)
            if event.rowcount < 0:
                event.rowcount = 0 if loaded is None else 1
            if tag is not None and loaded is not None:
                setattr(loaded._state, _ORIGIN, tag)
            return
        rows = queryset._result_cache if queryset is not None else None
        if rows is None:  # .iterator(), not evaluated, or completed already: nothing to learn
            return
        if event.rowcount < 0:
            event.rowcount = len(rows)
        if tag is not None:
            for instance in rows:  # _state.tag(), inlined: it runs for every instance of a related load
                state = getattr(instance, "_state", None)
                if state is not None:
                    setattr(state, _ORIGIN, tag)
    except Exception as exc:
        internal_error("counting rows", exc)


def flush() -> None:
    """Complete this thread's pending statement now: the request that ran it is ending."""
    pending = _local.pending
    if pending is not None:
        _local.pending = None
        resolve(pending)

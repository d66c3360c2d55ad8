"""SQLAlchemy integration of queryguard: engine and session listeners, sync and async.

``instrument(engine)`` records every statement of an ``Engine`` or ``AsyncEngine`` into the active captures;
``instrument(SessionLocal)`` does the same for every engine that the sessions of a ``Session`` class,
``sessionmaker`` or ``async_sessionmaker`` use; ``instrument()`` covers every engine of the process. ORM lazy
loads, deferred and expired column loads are named (``Book.author``) whichever way it was turned on.
Listeners are public SQLAlchemy events only, nothing is monkeypatched, and ``uninstrument(target)`` removes
every listener it added. (The ORM names come from frame hooks that read a few SQLAlchemy functions'
frames during queryguard's own call-site walk; they cost nothing when no capture is active.)
"""

from __future__ import annotations

import os

try:
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # say which extra brings it, not only the missing module
    raise ImportError(
        'queryguard_sqlalchemy needs SQLAlchemy: pip install "queryguard-perf[sqlalchemy]"', name=exc.name
    ) from exc

from queryguard._callsite import add_library_path

from . import _names
from ._instrument import instrument, uninstrument

__all__ = ["instrument", "uninstrument"]

add_library_path(os.path.dirname(os.path.abspath(__file__)))
_names.register()

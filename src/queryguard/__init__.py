"""queryguard: find the database mistakes that make Python web applications slow.

Capture the statements of a unit of work, detect N+1 loops, duplicates, write loops, ``SELECT *``, slow and
unindexed statements and synchronous calls on an event loop, and say where they come from and how to fix them.
"""

from __future__ import annotations

import importlib

from ._actions import act
from ._capture import record
from ._config import KINDS, Config
from ._errors import ConfigurationError, QueryGuardError, QueryGuardViolation, QueryGuardWarning
from ._events import Finding, QueryEvent
from ._ignore import ignore
from ._unit import Capture, active_captures, capture, unit
from ._version import __version__ as __version__

__all__ = [
    "KINDS",
    "Capture",
    "Config",
    "ConfigurationError",
    "Finding",
    "QueryEvent",
    "QueryGuardError",
    "QueryGuardViolation",
    "QueryGuardWarning",
    "Report",
    "act",
    "active_captures",
    "capture",
    "ignore",
    "record",
    "unit",
]


#: Public submodules, reachable as attributes (``queryguard.dbapi.instrument``) without importing them first.
_SUBMODULES = frozenset(("asgi", "dbapi", "testing", "wsgi"))


def __getattr__(name: str) -> object:
    # Report pulls in the renderers, the submodules their own code: load them on first use, not at import.
    if name == "Report":
        from ._report import Report

        return Report
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'queryguard' has no attribute {name!r}")

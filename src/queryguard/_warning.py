"""The "warn" action's :class:`~queryguard.QueryGuardWarning`, attributed to the line a finding points to.

``warnings.warn`` can only name a frame of the running stack, and a unit ends far from its statements: in a
middleware, a SQLAlchemy session's commit, the exit of a ``with`` block. A finding knows its own line, so the
warning names that file, line and module (:func:`warnings.warn_explicit`): ``-W`` and ``filterwarnings``
match it by the user's module, and the "default" action shows it once per line, as for a warning raised
there.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from types import ModuleType
from typing import Any

from . import _callsite
from ._errors import QueryGuardWarning
from ._events import Finding

# "path:line" or "path:line in function", as _callsite.describe and the frame hooks write them.
_PLACE = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?: in \S+)?$", re.S)
# Registries of the "default" and "module" actions for files that are no imported module's (a template).
_registries: dict[str, dict[Any, Any]] = {}


class _Modules:
    """Imported modules by their source file: the map is rebuilt on a miss, except for a file missed
    already while ``sys.modules`` kept its size (a template's file is no module's)."""

    def __init__(self) -> None:
        self.size = -1
        self.by_file: dict[str, str] = {}
        self.missed: set[str] = set()

    def module_of(self, filename: str) -> tuple[str, ModuleType] | None:
        key = _key(filename)
        found = self._lookup(key)
        if found is None and not (key in self.missed and len(sys.modules) == self.size):
            self._build()
            found = self._lookup(key)
            if found is None and len(self.missed) < 1024:
                self.missed.add(key)
        return found

    def _lookup(self, key: str) -> tuple[str, ModuleType] | None:
        name = self.by_file.get(key)
        module = sys.modules.get(name) if name is not None else None
        return (name, module) if name is not None and module is not None and _file(module) == key else None

    def _build(self) -> None:
        self.size = len(sys.modules)
        self.missed = set()
        by_file: dict[str, str] = {}
        for name, module in list(sys.modules.items()):
            file = _file(module)
            if file is not None:
                by_file.setdefault(file, name)
        self.by_file = by_file


def _file(module: object) -> str | None:
    file = getattr(module, "__dict__", {}).get("__file__")
    return _key(file) if isinstance(file, str) else None


_modules = _Modules()


def _key(filename: str) -> str:
    return os.path.normcase(os.path.abspath(filename))


def warn(finding: Finding) -> None:
    """Issue the finding's warning at its call site; at the caller's caller's block when it has none."""
    place = origin(finding)
    if place is None:
        # Past this function, act(), the pipeline's finish(), stop() and the capture's exit: the user's block.
        warnings.warn(QueryGuardWarning(finding.message), stacklevel=6)
        return
    filename, lineno = place
    found = _modules.module_of(filename) if not filename.startswith("<") else None
    if found is not None:
        name, module = found
        namespace = vars(module)
        registry = namespace.setdefault("__warningregistry__", {})
        warnings.warn_explicit(
            QueryGuardWarning(finding.message),
            QueryGuardWarning,
            filename,
            lineno,
            module=name,
            registry=registry,
            module_globals=namespace,
        )
        return
    # No module argument at all: CPython's warn_explicit(module=None) shows nothing.
    registry = _registries.setdefault(filename, {}) if len(_registries) < 1024 else {}
    warnings.warn_explicit(
        QueryGuardWarning(finding.message), QueryGuardWarning, filename, lineno, registry=registry
    )


def origin(finding: Finding) -> tuple[str, int] | None:
    """The file (as the code names it) and line of the finding's call site, or None without one."""
    site = finding.callsite
    if not site:
        return None
    raw = finding.event._site if finding.event is not None else None
    if raw and not isinstance(raw, str):
        for entry in raw:
            if not isinstance(entry, str) and _callsite.describe((entry,)) == site:
                code, lasti = entry
                return code.co_filename, _callsite.line_of(code, lasti)
    match = _PLACE.match(site)
    return (match["path"], int(match["line"])) if match else None

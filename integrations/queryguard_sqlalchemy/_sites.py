"""Call sites of repeated statements, remembered so that a loop does not walk the whole stack each time.

SQLAlchemy compiles each statement shape once and sends the very same SQL string object every time
(its compiled cache). The first time a string is sent from a call site, queryguard's call-site walk runs
as usual (frame hooks included) and the depth of each user frame it found is remembered with the result.
The next time the same string object is sent, those user frames are looked up directly by depth
(``sys._getframe`` skips the frames in between without building frame objects for them); if each is
the same code at the same instruction, the remembered call site and ORM facts are reused, otherwise the
walk runs again. In an N+1 loop this replaces a walk through ~15 SQLAlchemy frames (each turned into a
frame object on Python 3.11) with up to three look-ups. Statements whose user frames are in a parent
greenlet (the asyncio layer) are walked every time.
"""

from __future__ import annotations

import sys
from types import CodeType, FrameType
from typing import Any

from queryguard import _repeat
from queryguard._callsite import capture_ended

_MAX_STATEMENTS = 4096
_PER_STATEMENT = 4


class Facts:
    """What the call-site walk learnt about one statement: its site and what the frame hooks said."""

    __slots__ = (
        "anchor",
        "checks",
        "exact",
        "orm",
        "relation",
        "relation_kind",
        "relation_path",
        "relation_root",
        "site",
        "sql",
    )

    def __init__(self, sql: str) -> None:
        self.sql = sql  # frame hooks read it
        self.site: Any = ""
        self.orm: str | None = None
        self.relation: str | None = None
        self.relation_kind: str | None = None
        self.relation_path: str | None = None
        self.relation_root: str | None = None
        self.checks: tuple[tuple[int, CodeType, int], ...] = ()
        # A walk that stopped short of the unit's entry (see _callsite.capture_ended) is reused only from
        # the same live innermost user frame (its anchor), whose callers cannot have changed.
        self.exact = True
        self.anchor: FrameType | None = None


_known: dict[int, tuple[str, list[Facts]]] = {}


def facts(statement: str, depth: int) -> Facts:
    """The facts of ``statement``, the walk starting ``depth`` frames above the caller (1: its caller)."""
    entry = _known.get(id(statement))
    if entry is not None and entry[0] is statement:
        base = depth + 1
        for known in entry[1]:
            try:
                if not known.exact and sys._getframe(base + known.checks[0][0]) is not known.anchor:
                    continue
                for offset, code, lasti in known.checks:
                    frame = sys._getframe(base + offset)
                    if frame.f_code is not code or frame.f_lasti != lasti:
                        break
                else:
                    return known
            except ValueError:  # the stack is shallower now
                continue
    frame = sys._getframe(depth + 1)
    found = Facts(statement)
    site, found.exact = capture_ended(found, frame)
    found.site = site or ""
    _remember(statement, found, frame)
    return found


def _remember(statement: str, found: Facts, frame: FrameType) -> None:
    site = found.site
    if not site or any(type(entry) is not tuple for entry in site):
        return  # no user frame, or a label from a hook: walk every time
    checks = []
    offset = 0  # from ``frame``
    current: FrameType | None = frame
    wanted = list(site)
    while current is not None and wanted:
        code, lasti = wanted[0]
        if current.f_code is code and current.f_lasti == lasti:
            checks.append((offset, code, lasti))
            wanted.pop(0)
        current = current.f_back
        offset += 1
    if wanted:
        return  # found in a parent greenlet (asyncio): not reachable by depth
    if not found.exact:
        anchor = frame
        for _ in range(checks[0][0]):
            anchor = anchor.f_back  # type: ignore[assignment]  # checks[0] was found on this chain
        if anchor.f_code.co_flags & _repeat.RESUMABLE:
            return  # a generator's or coroutine's frame: another caller can resume it
        found.anchor = anchor
        _repeat.keep_anchor(found)  # let go when the capture stops (release_anchors)
    if len(_known) >= _MAX_STATEMENTS:
        _known.clear()
    found.checks = tuple(checks)
    entry = _known.get(id(statement))
    if entry is None or entry[0] is not statement:
        _known[id(statement)] = (statement, [found])
    else:
        entry[1].insert(0, found)
        del entry[1][_PER_STATEMENT:]

"""Repeated call-site walks: the statements of a loop come from the same frames, so their walk is repeated.

See :func:`capture_repeated`. The walk itself, the frame hooks and the description of a call site are in
:mod:`queryguard._callsite`.
"""

from __future__ import annotations

import inspect
import operator
import sys
from collections.abc import Hashable
from types import CodeType, FrameType
from typing import Any

from ._callsite import (
    _BOUNDARY,
    _END_BOUNDARY,
    _END_THIRD,
    Check,
    RawSite,
    SiteEntry,
    _parent_greenlet_frame,
    _shadows,
    _trails,
    _walk,
    capture,
)

_MAX_TRAIL_KEYS = 4096
_TRAILS_PER_KEY = 4


def capture_repeated(key: Hashable, event: Any = None, depth: int = 1) -> RawSite | None:
    """The call site of a statement that may repeat (a loop's), from the caller's ``sys._getframe(depth)``.

    ``key`` is what the caller knows of the statement (a hash of its SQL will do: it only picks which
    earlier walks to try). A walk notes the depth of each frame it counted: user frames, frames with a hook,
    the boundary. When a statement with the same key comes from frames running the same code at the same
    instructions at those depths, only those frames are looked up, with ``sys._getframe``, which skips the
    frames in between without building frame objects for them (on Python 3.11, most of a walk's cost); the
    hooks run on them as in a walk, but for those an outer hooked frame shadows (see ``shadows`` in
    :func:`~queryguard._callsite.register_frame_hook`): such a frame is then one of the frames in between,
    which are, as they were then, neither user code nor hooked. Otherwise the stack is walked.
    """
    known: list[Trail] | None = _trails.get(key)
    if known is not None:
        for trail in known:
            site = trail.repeat(depth + 2, event)
            if site is not None:
                if trail is not known[0]:  # most recent first: a loop's trail is tried first
                    _to_front(known, trail)
                return site
    checks: list[Check] = []
    found, end = _walk(sys._getframe(depth + 1), event, checks)
    if not found:
        parent = _parent_greenlet_frame()
        return None if parent is None else capture(event, parent)
    # Repeatable if a user frame keeps the site non-empty and a hook's label (which may be missing next
    # time) did not end it. A walk that ended at a boundary or at the last user frame kept is exact: the
    # frames it checked decide the site. One that ran off the stack or past the frame limit is not: another
    # caller, further out, could be user code next time; it is repeated only from the same live innermost
    # user frame (its anchor), whose callers cannot have changed.
    labels = any(type(entry) is str for entry in found)
    if len(found) > labels and not (labels and end == _END_THIRD):
        hooked = [(index, check[3]) for index, check in enumerate(checks) if check[3] is not None]
        first_user = next(index for index, check in enumerate(checks) if check[3] is None)
        # Only the usual trail: its hooks (the boundary aside) run before its first user frame, all of
        # them, whatever they return, as in a walk.
        if all(index < first_user or hook is _BOUNDARY for index, hook in hooked):
            trail = Trail(_unshadowed(checks), exact=end in (_END_BOUNDARY, _END_THIRD))
            if not trail.exact:
                if not trail.anchorable:
                    return tuple(found)
                trail.anchor = sys._getframe(depth + 1 + trail.offsets[trail.near - 1])
                keep_anchor(trail)
            _remember(key, trail)
    return tuple(found)


def _unshadowed(checks: list[Check]) -> list[Check]:
    # The frames a repeat checks: not a frame whose hook an outer hooked frame shadows. Its hook would not
    # run; it is then one of the frames in between.
    kept: list[Check] = []
    shadowed: frozenset[CodeType] = frozenset()
    for check in reversed(checks):  # outermost first
        hook, code = check[3], check[1]
        if hook is not None:
            if code in shadowed:
                continue
            shadowed |= _shadows.get(id(code), frozenset())
        kept.append(check)
    kept.reverse()
    return kept


class Trail:
    """The frames a walk counted, to look up again by depth, and how to repeat the walk over them.

    While a loop runs, its statements come from the same user frame: the innermost user frame of the last
    match (the *anchor*) is kept until the capture stops. A live frame keeps its callers, each stopped at the
    same instruction, so when the anchor is found again at its depth and instruction only the frames under it
    are checked. A generator's or coroutine's frame is never an anchor: another caller can resume it.
    """

    __slots__ = (
        "_at",
        "anchor",
        "anchorable",
        "codes",
        "exact",
        "hooks",
        "lastis",
        "near",
        "offsets",
        "site",
    )

    def __init__(self, checks: list[Check], *, exact: bool = True) -> None:
        self.exact = exact  # False: repeated only from its anchor (see capture_repeated)
        self.offsets = tuple(depth for depth, _, _, _ in checks)
        self.codes = tuple(code for _, code, _, _ in checks)
        self.lastis = [lasti for _, _, lasti, _ in checks]
        self.hooks = tuple(
            (index, hook) for index, (_, _, _, hook) in enumerate(checks) if hook not in (None, _BOUNDARY)
        )
        self.site: RawSite = tuple((code, lasti) for _, code, lasti, hook in checks if hook is None)
        # The checks up to the first user frame (a repeat's hooks all run on frames under it).
        self.near = next(index for index, check in enumerate(checks) if check[3] is None) + 1
        self.anchorable = not self.codes[self.near - 1].co_flags & RESUMABLE
        self.anchor: FrameType | None = None
        # The depths of the checks from the last caller's frame (callers pass the same depth every time).
        self._at: tuple[int, tuple[int, ...], tuple[int, ...]] = (-1, (), ())

    def repeat(self, depth: int, event: Any) -> RawSite | None:
        """The walk's result from ``sys._getframe(depth)``, or None if the frames are not the same."""
        at = self._at
        if at[0] != depth:
            depths = tuple(depth + offset for offset in self.offsets)
            at = self._at = (depth, depths, depths[: self.near])
        codes, lastis = self.codes, self.lastis
        anchor = self.anchor
        try:
            if anchor is not None:
                near = at[2]
                last = len(near) - 1
                if _getframe(near[last]) is anchor and anchor.f_lasti == lastis[last]:
                    # Its callers are those of the last match: only the hooked frames under it are checked.
                    frames = []
                    for index in range(last):
                        frame = _getframe(near[index])
                        if frame.f_code is not codes[index] or frame.f_lasti != lastis[index]:
                            return None
                        frames.append(frame)
                    return self._hooked(frames, event)
            if not self.exact:
                return None
            frames = list(map(_getframe, at[1]))  # loops in C: this runs for every statement of a loop
        except ValueError:  # the stack is shallower
            return None
        if not all(map(operator.is_, map(_F_CODE, frames), codes)):
            return None
        if list(map(_F_LASTI, frames)) != lastis:
            return None
        if self.anchorable:
            if self.anchor is None:
                keep_anchor(self)
            self.anchor = frames[self.near - 1]
        return self._hooked(frames, event)

    def _hooked(self, frames: list[FrameType], event: Any) -> RawSite:
        # The hooks, on the frames of the checks (in order, the hooked ones all under the first user frame).
        labels: list[SiteEntry] | None = None
        for index, hook in self.hooks:
            try:
                label = hook(frames[index], event)
            except Exception:  # a hook must never break recording
                continue
            if label:
                if labels is None:
                    labels = [label]
                else:
                    labels.append(label)
        if labels is None:
            return self.site
        # As in a walk: the labels of the frames under the first user frame, then the user frames.
        return (*labels, *self.site)


#: Trails (and integrations' cached sites) holding an anchor: :func:`release_anchors` lets the frames go.
_anchored: list[Any] = []
#: Frames another caller can resume (generators, coroutines): never an anchor.
RESUMABLE = (
    inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
)


def keep_anchor(holder: Any) -> None:
    """Note ``holder`` (its ``anchor`` set) for :func:`release_anchors`; past a cap, let every anchor go
    first (a unit of a million distinct statements keeps no million frames: the statements are walked)."""
    if len(_anchored) >= _MAX_TRAIL_KEYS:
        release_anchors()
    _anchored.append(holder)


def release_anchors() -> None:
    """Forget the frames the trails hold (a capture stopping calls it: its loops are over)."""
    while True:
        try:
            trail = _anchored.pop()
        except IndexError:  # empty, or emptied by another thread's capture meanwhile
            return
        trail.anchor = None


_getframe = sys._getframe
_F_CODE = operator.attrgetter("f_code")
_F_LASTI = operator.attrgetter("f_lasti")


def _to_front(known: list[Trail], trail: Trail) -> None:
    try:
        known.remove(trail)
    except ValueError:  # another thread moved it
        return
    known.insert(0, trail)


def _remember(key: Hashable, trail: Trail) -> None:
    known = _trails.get(key)
    if known is None:
        if len(_trails) >= _MAX_TRAIL_KEYS:
            _trails.clear()
        _trails[key] = [trail]
    else:
        known.insert(0, trail)
        del known[_TRAILS_PER_KEY:]

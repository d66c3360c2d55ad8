"""Call sites: a cheap raw key on the hot path, turned into ``path:line in function`` only when needed.

The raw key is a tuple of up to three entries, innermost first: ``(code, lasti)`` for a frame of the
user's own code, or a string returned by a *frame hook*. Integrations register hooks on the code objects of
their framework's functions: the Django integration names the template file and line that triggered a query,
and the relation (``Book.author``) whose descriptor ran it, by reading the frames already being walked.
Everything under the standard library, site-packages and queryguard's own packages is library code and
skipped.
"""

from __future__ import annotations

import inspect
import operator
import os
import sys
import sysconfig
from collections.abc import Callable, Hashable, Iterable
from types import CodeType, FrameType
from typing import Any

SiteEntry = tuple[CodeType, int] | str
RawSite = tuple[SiteEntry, ...]
#: ``hook(frame, event)`` may fill the event's ORM facts (``relation``...) and may return a call-site label.
FrameHook = Callable[[FrameType, Any], "str | None"]

#: A frame a walk counted: its depth from the first frame, code, instruction offset, hook (None: user code).
Check = tuple[int, CodeType, int, "FrameHook | None"]

_LIBRARY, _USER, _HOOKED = 0, 1, 2
# Keyed by file name, whose hash the string caches: a code object's hash is recomputed on every call.
_files: dict[str, int] = {}
# Keyed by id(code); the code object is kept alive beside its hook so that the id cannot be reused.
_hooks: dict[int, tuple[CodeType, FrameHook]] = {}
# The codes whose hooks a hooked frame takes over from, further in (see register_frame_hook); by id(code).
_shadows: dict[int, frozenset[CodeType]] = {}
_described: dict[tuple[int, int], tuple[CodeType, str]] = {}
_library_prefixes: list[str] = []
# Walks of statements that may repeat, by the caller's key, most recent first (see capture_repeated).
_trails: dict[Hashable, list[Trail]] = {}
_MAX_TRAIL_KEYS = 4096
_TRAILS_PER_KEY = 4
# Frames walked past the first user frame while looking for the next two (a server's stack is deep).
_EXTRA_FRAMES = 12
# Why a walk stopped: the top of the stack, the third user frame, a boundary, the frame limit.
_END_STACK, _END_THIRD, _END_BOUNDARY, _END_LIMIT = 0, 1, 2, 3


def _initial_prefixes() -> list[str]:
    paths = sysconfig.get_paths()
    found = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    found.add(os.path.dirname(os.path.abspath(__file__)))
    return sorted({os.path.normcase(os.path.abspath(p)) + os.sep for p in found})


_library_prefixes.extend(_initial_prefixes())


def add_library_path(path: str) -> None:
    """Treat every file under ``path`` as library code (integrations register their own folder)."""
    prefix = os.path.normcase(os.path.abspath(path)) + os.sep
    if prefix not in _library_prefixes:
        _library_prefixes.append(prefix)
        _files.clear()
        _trails.clear()
        for code, _ in _hooks.values():
            _files[code.co_filename] = _HOOKED


def register_frame_hook(code: CodeType, hook: FrameHook, *, shadows: Iterable[CodeType] = ()) -> None:
    """Call ``hook(frame, event)`` for frames running ``code`` while a statement is recorded.

    A non-empty string it returns becomes an entry of the call site (innermost first). The file of ``code``
    is library code. ``shadows``: codes whose hooks ``hook`` makes moot when their frames run further in
    than a frame of ``code`` (it overrides whatever they note, and they label nothing there): a walk still
    calls them; a repeated walk (see :func:`capture_repeated`) neither calls them nor looks their frames up.
    """
    _hooks[id(code)] = (code, hook)
    _files[code.co_filename] = _HOOKED
    _shadows[id(code)] = frozenset(shadows)
    _trails.clear()


def _BOUNDARY(frame: FrameType, event: Any) -> None:  # a marker, compared by identity
    """Marks a frame past which no user code of the statement's own unit can be."""


def register_boundary(code: CodeType) -> None:
    """Stop the call-site walk at frames running ``code`` (a framework's request entry point)."""
    register_frame_hook(code, _BOUNDARY)


def _classify(name: str) -> int:
    if name.startswith("<") or "site-packages" in name or "dist-packages" in name:
        kind = _LIBRARY
    else:
        path = os.path.normcase(os.path.abspath(name))
        kind = _LIBRARY if path.startswith(tuple(_library_prefixes)) else _USER
    _files[name] = kind
    return kind


def capture(event: Any = None, frame: FrameType | None = None) -> RawSite | None:
    """Return the raw call-site key of the current stack (hot path: dict look-ups only).

    Entries hold ``(code, f_lasti)``: the instruction offset is free to read, the line number is computed
    only when a finding is described.
    """
    f: FrameType | None = frame if frame is not None else sys._getframe(1)
    while True:
        found, _ = _walk(f, event, None)
        if found:
            return tuple(found)
        f = _parent_greenlet_frame()
        if f is None:
            return None


def _walk(f: FrameType | None, event: Any, trail: list[Check] | None) -> tuple[list[SiteEntry], int]:
    # Returns what it found and why it stopped (_END_*). With a trail, it notes every frame that counts
    # (user, hooked, the boundary) with its depth from the first frame.
    files = _files
    found: list[SiteEntry] = []
    left = -1  # frames still allowed once the first user frame is found
    depth = 0
    while f is not None and left:
        code = f.f_code
        kind = files.get(code.co_filename)
        if kind is None:
            kind = _classify(code.co_filename)
        if kind == 1:  # _USER, inlined: this loop runs for every frame of every statement
            found.append((code, f.f_lasti))
            if trail is not None:
                trail.append((depth, code, f.f_lasti, None))
            if len(found) >= 3:
                return found, _END_THIRD
            if left < 0:
                left = _EXTRA_FRAMES
        elif kind == 2:
            hooked = _hooks.get(id(code))
            if hooked is not None:
                if trail is not None:
                    trail.append((depth, code, f.f_lasti, hooked[1]))
                if hooked[1] is _BOUNDARY:
                    return found, _END_BOUNDARY
                label = _call_hook(hooked[1], f, event)
                if label:
                    found.append(label)
        f = f.f_back
        left -= 1 if left > 0 else 0
        depth += 1
    return found, _END_STACK if f is None else _END_LIMIT


def capture_repeated(key: Hashable, event: Any = None, depth: int = 1) -> RawSite | None:
    """:func:`capture` from the caller's ``sys._getframe(depth)``, for a statement that may repeat (a loop's).

    ``key`` is what the caller knows of the statement (a hash of its SQL will do: it only picks which
    earlier walks to try). A walk notes the depth of each frame it counted: user frames, frames with a hook,
    the boundary. When a statement with the same key comes from frames running the same code at the same
    instructions at those depths, only those frames are looked up, with ``sys._getframe``, which skips the
    frames in between without building frame objects for them (on Python 3.11, most of a walk's cost); the
    hooks run on them as in a walk, but for those an outer hooked frame shadows (see
    :func:`register_frame_hook`): such a frame is then one of the frames in between, which are, as they were
    then, neither user code nor hooked. Otherwise the stack is walked.
    """
    known = _trails.get(key)
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
    # Repeatable if a repeat cannot stop elsewhere: the walk did not run off the stack, a user frame
    # keeps the site non-empty, and a hook's label (which may be missing next time) did not end it.
    labels = any(type(entry) is str for entry in found)
    if end != _END_STACK and len(found) > labels and not (labels and end == _END_THIRD):
        hooked = [(index, check[3]) for index, check in enumerate(checks) if check[3] is not None]
        first_user = next(index for index, check in enumerate(checks) if check[3] is None)
        # Only the usual trail: its hooks (the boundary aside) run before its first user frame, all of
        # them, whatever they return, as in a walk.
        if all(index < first_user or hook is _BOUNDARY for index, hook in hooked):
            _remember(key, Trail(_unshadowed(checks)))
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

    __slots__ = ("_at", "anchor", "anchorable", "codes", "hooks", "lastis", "near", "offsets", "site")

    def __init__(self, checks: list[Check]) -> None:
        self.offsets = tuple(depth for depth, _, _, _ in checks)
        self.codes = tuple(code for _, code, _, _ in checks)
        self.lastis = [lasti for _, _, lasti, _ in checks]
        self.hooks = tuple(
            (index, hook) for index, (_, _, _, hook) in enumerate(checks) if hook not in (None, _BOUNDARY)
        )
        self.site: RawSite = tuple((code, lasti) for _, code, lasti, hook in checks if hook is None)
        # The checks up to the first user frame (a repeat's hooks all run on frames under it).
        self.near = next(index for index, check in enumerate(checks) if check[3] is None) + 1
        self.anchorable = not self.codes[self.near - 1].co_flags & _RESUMABLE
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
            frames = list(map(_getframe, at[1]))  # loops in C: this runs for every statement of a loop
        except ValueError:  # the stack is shallower
            return None
        if not all(map(operator.is_, map(_F_CODE, frames), codes)):
            return None
        if list(map(_F_LASTI, frames)) != lastis:
            return None
        if self.anchorable:
            if self.anchor is None:
                _anchored.append(self)
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
        # As in a walk: the user frame that makes three entries (or the first one) ends the site.
        return (*labels, *self.site[: max(1, 3 - len(labels))])


#: Trails holding an anchor: :func:`release_anchors` lets the frames go.
_anchored: list[Trail] = []
_RESUMABLE = (
    inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
)


def release_anchors() -> None:
    """Forget the frames the trails hold (a capture stopping calls it: its loops are over)."""
    while _anchored:
        _anchored.pop().anchor = None


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


def _call_hook(hook: FrameHook, frame: FrameType, event: Any) -> str | None:
    try:
        return hook(frame, event)
    except Exception:  # a hook must never break recording
        return None


def _parent_greenlet_frame() -> FrameType | None:
    # SQLAlchemy's asyncio layer runs the sync engine in a child greenlet: the user's ``await`` line is in
    # the suspended parent greenlet's frames, not in this one's.
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return None
    current = greenlet.getcurrent()
    parent = getattr(current, "parent", None)
    frame: Any = getattr(parent, "gr_frame", None) if parent is not None else None
    return frame if isinstance(frame, FrameType) else None


def describe(site: RawSite | str | None, ignore: Iterable[str] = ()) -> str:
    """``"path:line in function"`` of the first entry of ``site`` not matching a fragment of ``ignore``."""
    if not site:
        return ""
    if isinstance(site, str):
        return site
    ignore = tuple(ignore)
    for entry in site:
        text = entry if isinstance(entry, str) else _describe_frame(*entry)
        if not ignore or not any(fragment in text for fragment in ignore):
            return text
    first = site[0]
    return first if isinstance(first, str) else _describe_frame(*first)


def line_of(code: CodeType, lasti: int) -> int:
    """The source line of the instruction at offset ``lasti`` of ``code``."""
    line = code.co_firstlineno
    for start, end, lineno in code.co_lines():
        if start <= lasti < end:
            return lineno if lineno is not None else line
        if lineno is not None:
            line = lineno
    return line


def _describe_frame(code: CodeType, lasti: int) -> str:
    # Keyed by id: hashing a code object is slow. The code is kept beside the text, and compared.
    known = _described.get((id(code), lasti))
    if known is not None and known[0] is code:
        return known[1]
    text = f"{relative_path(code.co_filename)}:{line_of(code, lasti)} in {code.co_name}"
    if len(_described) > 50_000:
        _described.clear()
    _described[(id(code), lasti)] = (code, text)
    return text


def relative_path(filename: str) -> str:
    """``filename`` relative to the working directory when it is under it, with forward slashes."""
    try:
        rel = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename.replace(os.sep, "/")
    if rel.startswith(".."):
        return filename.replace(os.sep, "/")
    return rel.replace(os.sep, "/")

"""Call sites: a cheap raw key on the hot path, turned into ``path:line in function`` only when needed.

The raw key is a tuple of entries, innermost first: ``(code, lasti)`` for a frame of the user's own code
(up to eight of them: the user-code stack that a loop is told apart by), or a string returned by a *frame
hook*. Integrations register hooks on the code objects of
their framework's functions: the Django integration names the template file and line that triggered a query,
and the relation (``Book.author``) whose descriptor ran it, by reading the frames already being walked.
Everything under the standard library, site-packages and queryguard's own packages is library code and
skipped.
"""

from __future__ import annotations

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

_LIBRARY, _USER, _HOOKED, _SCRIPT = 0, 1, 2, 3
#: Pseudo file names of code typed by the user: piped to the interpreter (``python - < script``) or typed at
#: a prompt (Python's REPL, ``code.interact`` and Django's shell, IDLE, IPython).
_TYPED = ("<stdin>", "<console>", "<python-input-", "<pyshell#", "<ipython-input-")
# Keyed by file name, whose hash the string caches: a code object's hash is recomputed on every call.
_files: dict[str, int] = {}
# Keyed by id(code); the code object is kept alive beside its hook so that the id cannot be reused.
_hooks: dict[int, tuple[CodeType, FrameHook]] = {}
# The codes whose hooks a hooked frame takes over from, further in (see register_frame_hook); by id(code).
_shadows: dict[int, frozenset[CodeType]] = {}
_described: dict[tuple[int, int], tuple[CodeType, str]] = {}
_library_prefixes: list[str] = []
# Walks of statements that may repeat, by the caller's key, most recent first (see _repeat): registering a
# hook or a library path forgets them.
_trails: dict[Hashable, list[Any]] = {}
# User frames a walk keeps: the stack that tells one place in the program from another (see _index).
_MAX_USER_FRAMES = 8
# Library frames walked past a user frame while looking for the next (a test client's or server's stack
# between a view and the test that called it is about ten).
_EXTRA_FRAMES = 16
# Why a walk stopped: the top of the stack, the last user frame kept, a boundary, the frame limit.
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
    calls them; a repeated walk (:func:`queryguard._repeat.capture_repeated`) neither calls them nor looks
    their frames up.
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
    if name.startswith("<"):
        # Code compiled from a string. Typed or piped to the interpreter: the user's. "<string>" is both
        # python -c (and exec of a script's text) and what libraries generate (dataclass and namedtuple
        # methods): _in_script tells them apart frame by frame. Frozen modules, a library's own "<...>"
        # names and templates are not the user's.
        kind = _USER if name.startswith(_TYPED) else _SCRIPT if name == "<string>" else _LIBRARY
    elif "site-packages" in name or "dist-packages" in name:
        kind = _LIBRARY
    else:
        path = os.path.normcase(os.path.abspath(name))
        kind = _LIBRARY if path.startswith(tuple(_library_prefixes)) else _USER
    _files[name] = kind
    return kind


def _in_script(frame: FrameType) -> bool:
    """A ``<string>`` frame that is the user's: the top level of ``python -c`` or of ``exec(text)``
    (``manage.py shell -c``), or a function it defined in ``__main__``; not a method that a library
    generated in its own module's namespace."""
    return frame.f_code.co_name == "<module>" or frame.f_globals.get("__name__") == "__main__"


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


def capture_ended(event: Any, frame: FrameType) -> tuple[RawSite | None, bool]:
    """:func:`capture` from ``frame``, and whether the walk was exact: it ended at a boundary or at the last
    user frame kept, so the frames it found decide the site (not a caller beyond its reach)."""
    f: FrameType | None = frame
    while True:
        found, end = _walk(f, event, None)
        if found:
            return tuple(found), end in (_END_BOUNDARY, _END_THIRD)
        f = _parent_greenlet_frame()
        if f is None:
            return None, False


def _walk(f: FrameType | None, event: Any, trail: list[Check] | None) -> tuple[list[SiteEntry], int]:
    # Returns what it found and why it stopped (_END_*). With a trail, it notes every frame that counts
    # (user, hooked, the boundary) with its depth from the first frame.
    files = _files
    found: list[SiteEntry] = []
    left = -1  # frames still allowed since the last user frame, once one is found
    users = 0
    depth = 0
    while f is not None and left:
        code = f.f_code
        kind = files.get(code.co_filename)
        if kind is None:
            kind = _classify(code.co_filename)
        if not kind:  # _LIBRARY, most frames of a walk: one test (this loop runs for every frame)
            pass
        elif kind == 1 or (kind == 3 and _in_script(f)):  # _USER, inlined, or a script's own frame
            found.append((code, f.f_lasti))
            if trail is not None:
                trail.append((depth, code, f.f_lasti, None))
            users += 1
            if users >= _MAX_USER_FRAMES:
                return found, _END_THIRD
            left = _EXTRA_FRAMES + 1  # the decrement below counts this frame
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


def describe_stack(site: RawSite | str | None) -> tuple[str, ...]:
    """Every entry of ``site`` described, innermost first: the user-code stack that ran a statement."""
    if not site:
        return ()
    if isinstance(site, str):
        return (site,)
    return tuple(entry if isinstance(entry, str) else _describe_frame(*entry) for entry in site)


def place_of(site: RawSite | str | None) -> tuple[Any, ...]:
    """What tells one place in the program from another: each entry of ``site`` as its file, line and
    function, with the columns of the expression a user frame was running (two calls on one line are two
    places). Not the instruction itself: the interpreter may run one call from either of two instructions."""
    if not site:
        return ()
    if isinstance(site, str):
        return (site,)
    return tuple(entry if isinstance(entry, str) else _place_of_frame(*entry) for entry in site)


_places: dict[tuple[int, int], tuple[CodeType, tuple[str, int | None, int | None]]] = {}


def _place_of_frame(code: CodeType, lasti: int) -> tuple[str, int | None, int | None]:
    known = _places.get((id(code), lasti))
    if known is not None and known[0] is code:
        return known[1]
    positions = getattr(code, "co_positions", None)  # Python 3.11+
    # Before 3.11 an instruction is never specialised into another: the instruction itself tells calls apart.
    columns: tuple[int | None, int | None] = (lasti, None)
    if positions is not None:
        columns = (None, None)
        for index, position in enumerate(positions()):
            if index == lasti // 2:
                columns = (position[2], position[3])
                break
    place = (_describe_frame(code, lasti), *columns)
    if len(_places) > 50_000:
        _places.clear()
    _places[(id(code), lasti)] = (code, place)
    return place


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

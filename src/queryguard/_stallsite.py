"""What a stalled event loop was doing: the user's frame that held it and the blocking call under it.

Read from the loop thread's frames as the watchdog sampled them (:mod:`._loopwatch`): the user-code stack
(as :mod:`._callsite` keys it), the call the innermost user frame was making, and the library it went into
(its modules, or the object the call started from when it went straight into C: ``time.sleep``,
``sqlite3.Connection.execute``, a file's ``read``). No frame hook runs here: the frames belong to another
thread.
"""

from __future__ import annotations

import linecache
import re
from types import CodeType, FrameType
from typing import Any

from . import _callsite

_MAX_FRAMES = 8
_OWN = frozenset({"queryguard", "queryguard_django", "queryguard_sqlalchemy", "queryguard_pytest"})
_MAX_DEPTH = 200
_CALL = re.compile(r"\s*([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(")

#: Module prefixes that tell what a blocking call was, checked in this order.
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sleep", ("time.sleep",)),
    (
        "database",
        (
            "sqlite3",
            "_sqlite3",
            "psycopg",
            "psycopg2",
            "pymysql",
            "MySQLdb",
            "mysql.connector",
            "django.db",
            "sqlalchemy.engine",
            "sqlalchemy.orm",
        ),
    ),
    (
        "network",
        (
            "requests",
            "urllib3",
            "urllib.request",
            "http.client",
            "httpx",
            "socket",
            "_socket",
            "ssl",
            "smtplib",
        ),
    ),
    ("file", ("_io", "io", "pathlib", "builtins.open", "shutil", "gzip", "os", "posix", "json.load")),
)


def describe(frame: FrameType) -> tuple[_callsite.RawSite, str, str, str]:
    """(user frames innermost first, the call text, the kind of blocking, the library API) of a stack."""
    site: list[tuple[CodeType, int]] = []
    modules: list[str] = []  # library modules inside the innermost user frame, innermost first
    called = ""  # the library function the user's frame called: module.function
    f: FrameType | None = frame
    depth = 0
    while f is not None and len(site) < _MAX_FRAMES and depth < _MAX_DEPTH:
        if _is_user(f):
            site.append((f.f_code, f.f_lasti))
        elif not site:
            module = str(f.f_globals.get("__name__", ""))
            if module.partition(".")[0] in _OWN:
                return (), "", "cpu", ""  # queryguard's own work (the end of a unit): not the user's stall
            modules.append(module)
            called = f"{module}.{f.f_code.co_name}"
        f = f.f_back
        depth += 1
    if not site:
        return (), "", "cpu", ""
    code, lasti = site[0]
    call = _call_text(code, lasti)
    if not modules and call:
        called = _callee(frame if _is_user(frame) else None, call)
    kind = _kind([called, *modules]) if (called or modules) else "cpu"
    if not call and modules:
        call = called
    return tuple(site), call, kind, called if kind != "cpu" else ""


def _is_user(f: FrameType) -> bool:
    name = f.f_code.co_filename
    kind = _callsite._files.get(name)
    if kind is None:
        kind = _callsite._classify(name)
    return kind == _callsite._USER or (kind == _callsite._SCRIPT and _callsite._in_script(f))


def _call_text(code: CodeType, lasti: int) -> str:
    """The source of the call the instruction at ``lasti`` makes ("time.sleep(0.2)"), or ""."""
    positions = getattr(code, "co_positions", None)  # Python 3.11+
    if positions is None:
        return _first_call(linecache.getline(code.co_filename, _callsite.line_of(code, lasti)))
    for index, position in enumerate(positions()):
        if index == lasti // 2:
            line, end_line, start, end = position
            break
    else:
        return ""
    if line is None or start is None:
        return ""
    text = linecache.getline(code.co_filename, line)
    if not text:
        return ""
    stop = end if end_line == line and end is not None else len(text.rstrip())
    snippet = text[start:stop].strip()
    return snippet if "(" in snippet else ""


_CALL_START = re.compile(r"[A-Za-z_][\w.]*\s*\(")


def _first_call(text: str) -> str:
    """The first call written on a source line, up to its closing parenthesis (Python 3.10: no columns)."""
    match = _CALL_START.search(text)
    if match is None:
        return ""
    depth = 0
    for index in range(match.end() - 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[match.start() : index + 1]
    return ""


def _callee(frame: FrameType | None, call: str) -> str:
    """``module.name`` of what ``call`` starts from, looked up by name in the frame (no attribute access
    but a module's and a type's own names)."""
    match = _CALL.match(call)
    if frame is None or match is None:
        return ""
    root, rest = match.group(1), re.sub(r"\s+", "", match.group(2))
    try:
        scope: Any = frame.f_locals
        obj = scope[root] if root in scope else frame.f_globals.get(root)
        if obj is None:
            builtins = frame.f_builtins
            return f"builtins.{root}" if root in builtins else ""
        if isinstance(obj, type(re)):  # a module: time.sleep(...)
            return f"{obj.__name__}{rest}"
        module = getattr(obj, "__module__", None)
        if isinstance(module, str) and callable(obj) and not rest:  # from time import sleep
            return f"{module}.{getattr(obj, '__qualname__', root)}"
        return f"{type(obj).__module__}.{type(obj).__qualname__}{rest}"
    except Exception:  # a frame whose locals cannot be read: no library to name
        return ""


def _kind(names: list[str]) -> str:
    for kind, prefixes in _KINDS:
        for name in names:
            if any(name == p or name.startswith(p + ".") for p in prefixes):
                return kind
    return "cpu"

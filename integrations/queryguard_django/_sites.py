"""Call sites that no Python frame of the user's shows: a template line, and the coroutine awaiting the ORM.

* While a template renders, the innermost ``Node.render_annotated`` frame names the template file and line
  (``shop/templates/shop/book_list.html:12``): that is where the developer wrote the access.
* Django's async ORM (``await Book.objects.aget(...)``) runs the query in a ``sync_to_async`` worker thread,
  whose stack holds no frame of the user's. The coroutine that awaits it does: the hook on asgiref's
  ``thread_handler`` follows the chain of awaits down from the request's coroutine (which the middleware
  remembers), or else from each task of the event loop, and names the user's line in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import os
import threading
import time
import weakref
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any

from queryguard import _callsite

from . import _state

_template_labels: dict[tuple[str, int], str | None] = {}
_UNKNOWN = "<unknown source>"
_MAX_CHAIN = 200
_WAIT_S = 0.002

#: The coroutine serving the request (set by the middleware in async mode): the top of the chain of awaits.
request_coroutine: contextvars.ContextVar[weakref.ref[Any] | None] = contextvars.ContextVar(
    "queryguard_django_request_coroutine", default=None
)
_call_code: CodeType | None = None
_last = threading.local()


def _template(frame: FrameType, event: Any) -> str | None:
    walk = _state.current(event)
    if walk is None or walk.template:
        return None
    node = frame.f_locals.get("self")
    origin, token = getattr(node, "origin", None), getattr(node, "token", None)
    if origin is None or token is None:
        return None
    label = template_label(origin, token.lineno)
    if label is not None:
        walk.template = True
    return label


def template_label(origin: Any, lineno: int) -> str | None:
    """``"path/to/template.html:12"`` (relative to the working directory when under it)."""
    name = str(origin.name)
    key = (name, lineno)
    if key in _template_labels:
        return _template_labels[key]
    if name == _UNKNOWN:
        label = None
    elif origin.loader is not None and os.path.isabs(name):
        label = f"{_callsite.relative_path(name)}:{lineno}"
    else:
        label = f"{origin.template_name or name}:{lineno}"
    if len(_template_labels) > 10_000:
        _template_labels.clear()
    _template_labels[key] = label
    return label


def _thread_handler(frame: FrameType, event: Any) -> str | None:
    walk = _state.current(event)
    if walk is None or walk.awaited:
        return None
    walk.awaited = True
    local = frame.f_locals
    args = local.get("args") or ()
    if not args:
        return None
    child = args[0]
    last = getattr(_last, "entry", None)
    if last is not None and last[0]() is child:
        label: str | None = last[1]
        return label
    label = awaiting_site(local.get("loop"), child)
    with contextlib.suppress(TypeError):  # not weak-referenceable: not cached
        _last.entry = (weakref.ref(child), label)
    return label


def awaiting_site(loop: Any, child: object) -> str | None:
    """The user's line in the coroutine that awaits ``sync_to_async`` running ``child``."""
    ref = request_coroutine.get()
    root = ref() if ref is not None else None
    roots = itertools.chain([root] if root is not None else [], _task_coroutines(loop))
    running = []
    for coro in roots:
        frames = _chain(coro)
        if frames is None:
            running.append(coro)
        elif _awaits(frames, child):
            return _user_site(frames)
    # The loop's thread may have handed the call over without having suspended at its ``await`` yet: let it.
    deadline = time.perf_counter() + _WAIT_S
    while running and time.perf_counter() < deadline:
        time.sleep(0)
        for coro in list(running):
            frames = _chain(coro)
            if frames is not None:
                running.remove(coro)
                if _awaits(frames, child):
                    return _user_site(frames)
    return None


def _task_coroutines(loop: Any) -> Iterator[Any]:
    # Only read when the request's own coroutine does not await the call (a task the view started).
    if loop is None:
        return
    with contextlib.suppress(RuntimeError):  # the set changed while this thread copied it
        yield from [task.get_coro() for task in asyncio.all_tasks(loop)]


def _awaits(frames: list[FrameType], child: object) -> bool:
    return bool(frames) and frames[-1].f_code is _call_code and frames[-1].f_locals.get("child") is child


def _user_site(frames: list[FrameType]) -> str | None:
    for frame in reversed(frames):
        site = _callsite.capture(None, frame=frame)
        if site:
            return _callsite.describe(site)
    return None


def _chain(coro: Any) -> list[FrameType] | None:
    """The frames of the chain of awaits from ``coro`` down; None while one of them is still running."""
    frames: list[FrameType] = []
    while coro is not None and len(frames) < _MAX_CHAIN:
        if getattr(coro, "cr_running", False) or getattr(coro, "ag_running", False):
            return None
        frame = (
            getattr(coro, "cr_frame", None)
            or getattr(coro, "ag_frame", None)
            or getattr(coro, "gi_frame", None)
        )
        if frame is None:
            break
        frames.append(frame)
        coro = (
            getattr(coro, "cr_await", None)
            or getattr(coro, "ag_await", None)
            or getattr(coro, "gi_yieldfrom", None)
        )
    return frames


def install() -> None:
    """Register the template and async hooks."""
    global _call_code
    from asgiref.sync import SyncToAsync
    from django.core.handlers.base import BaseHandler
    from django.template.base import Node

    _call_code = SyncToAsync.__call__.__code__
    _callsite.register_frame_hook(Node.render_annotated.__code__, _template)
    # Nothing above the view's handler is the user's code for this statement: stop walking there.
    for name in ("_get_response", "_get_response_async"):
        _callsite.register_boundary(getattr(BaseHandler, name).__code__)
    _callsite.register_frame_hook(SyncToAsync.thread_handler.__code__, _thread_handler)

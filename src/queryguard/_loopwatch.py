"""Event-loop stalls: one step of an asyncio loop that held it longer than ``loop_stall_ms``.

Cost: a step that does not overrun pays nothing. While units with the setting on run on a loop, a timer
callback on that loop notes the time (a *beat*) every ``period`` (an eighth of the smallest limit, at
least 1 ms): one cheap callback per period, whatever the number of steps. One daemon thread per process
(started with the first watching unit, asleep while none runs) compares the last beat with the clock each
period. Only once a beat is late does it look at the loop thread's stack (``sys._current_frames()``): the
frame of ``Handle._run`` there is one object per step, so seeing the same one again tells one long step
from many short ones in one iteration of the loop. When that one step has held the loop for the limit, it
samples what the step is doing and the loop's current task, whose captures the stall is given to (never
another request's). The loop thread completes the stall when its next beat runs (or when the unit ends
during the stall) with the time the loop was held.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import threading
import time
import weakref
from asyncio.events import _get_running_loop
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import _callsite, _stallsite
from ._capture import _active

if TYPE_CHECKING:
    from ._capture import BaseCapture

_clock = time.perf_counter
_MIN_PERIOD_S = 0.001


@dataclasses.dataclass
class Stall:
    """One step that held the event loop: where, what it was doing, and for how long."""

    #: user frames of the loop thread when the stall was seen, innermost first (a raw call site)
    site: _callsite.RawSite
    #: the call the innermost user frame was running ("time.sleep(0.2)"), or "" (pure computation)
    call: str
    #: "sleep", "network", "database", "file" or "cpu"
    blocking: str
    #: the library API under it when one was recognised ("time.sleep", "requests", "sqlite3")
    api: str
    #: the last beat before the stall: the step began after it
    since: float
    #: how long the loop was held (to the next beat, or to the end of the unit if that came first)
    duration_ms: float = 0.0
    captures: tuple[BaseCapture, ...] = ()


class _Beat:
    """The heartbeat of one event loop while units watching it run."""

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float) -> None:
        self.loop = loop
        self.thread = threading.get_ident()
        self.period = period
        self.last = _clock()
        self.limits: dict[float, int] = {}  # limit in seconds -> watching units with it
        self.pending: Stall | None = None
        self.step: tuple[FrameType, float] | None = None  # the step seen running late, and when first
        self.sampled: FrameType | None = None  # the step sampled already

    def limit(self) -> float:
        return min(self.limits) if self.limits else 0.0

    def tick(self) -> None:
        """On the loop thread: complete a stall seen since the last beat, note the time, beat again."""
        now = _clock()
        with _lock:
            stall, self.pending = self.pending, None
            self.last = now
            self.step = self.sampled = None  # that step is over: hold none of its frames
        if stall is not None:
            _complete(stall, now)
        if self.limits:
            self.loop.call_later(self.period, self.tick)
        else:
            with _lock:
                if _beats.get(self.loop) is self and not self.limits:
                    del _beats[self.loop]

    def check(self, now: float) -> None:
        """On the watchdog thread: once the beat is late, find the step the loop is in; when that one
        step has held the loop for the limit, sample what it is doing."""
        last = self.last
        if now - last < 2 * self.period:  # beating on time: nothing overran (the usual case)
            self.step = None
            return
        if not self.loop.is_running():
            self._forget_if_idle()
            return
        frame = sys._current_frames().get(self.thread)
        step = _step_frame(frame)
        if step is None:  # uvloop, or between steps: no step to tell
            self.step = None
            return
        if self.step is None or self.step[0] is not step:
            self.step = (step, now)  # first seen: the step began at most a period before
            return
        began = max(last, self.step[1] - self.period)
        limit = self.limit()
        if not limit or now - began < limit or self.sampled is step or self.pending is not None:
            return
        self.sampled = step
        task = asyncio.current_task(self.loop)
        captures = _captures_of(task) if task is not None else ()
        if not captures or frame is None:
            return  # a plain callback, or a task of no watching unit
        site, call, blocking, api = _stallsite.describe(frame)
        if not site:
            return
        stall = Stall(site, call, blocking, api, since=began, captures=captures)
        with _lock:
            if self.last == last:  # still the same step: the loop thread has not beaten since
                self.pending = stall

    def _forget_if_idle(self) -> None:
        if self.loop.is_closed() or not self.limits:
            with _lock:
                if _beats.get(self.loop) is self:
                    del _beats[self.loop]


def _step_frame(frame: FrameType | None) -> FrameType | None:
    """The frame of the callback the loop is running (``Handle._run``): one frame object per step."""
    while frame is not None:
        if frame.f_code is _HANDLE_RUN:
            return frame
        frame = frame.f_back
    return None


_HANDLE_RUN = asyncio.Handle._run.__code__


_lock = threading.Lock()
_beats: dict[asyncio.AbstractEventLoop, _Beat] = {}
# The captures active in each task that started one: asyncio before 3.12 cannot give a task's context.
_NO_TASK_CONTEXT = not hasattr(asyncio.Task, "get_context")
_tasks: weakref.WeakKeyDictionary[asyncio.Task[Any], tuple[BaseCapture, ...]] = weakref.WeakKeyDictionary()
_wake = threading.Event()
_thread: threading.Thread | None = None
# Attributes of a watching capture: its beat and limit (seconds) while active, and the stalls it was given.
_WATCH, _STALLS = "_loop_watch", "_loop_stalls"


def begin(cap: BaseCapture, limit_ms: float) -> None:
    """``cap`` starts in the current context: watch the running loop, if any, while it is active."""
    loop = _get_running_loop()
    if loop is None or getattr(cap, _WATCH, None) is not None:  # no loop, or a nested start
        return
    limit = limit_ms / 1000.0
    beat = _beats.get(loop)
    if beat is None:
        with _lock:
            beat = _beats[loop] = _Beat(loop, max(limit / 8, _MIN_PERIOD_S))
        loop.call_later(beat.period, beat.tick)
        _start_thread()
    elif limit not in beat.limits:
        beat.period = min(beat.period, max(limit / 8, _MIN_PERIOD_S))
    beat.limits[limit] = beat.limits.get(limit, 0) + 1
    setattr(cap, _WATCH, (beat, limit))
    if _NO_TASK_CONTEXT:
        task = asyncio.current_task(loop)
        if task is not None:
            _tasks[task] = _active.get()


def end(cap: BaseCapture) -> None:
    """``cap`` has stopped: a stall it is still in is complete now; its loop no longer needs it."""
    watched: tuple[_Beat, float] | None = getattr(cap, _WATCH, None)
    if watched is None:
        return
    setattr(cap, _WATCH, None)
    beat, limit = watched
    left = beat.limits.get(limit, 0) - 1
    if left > 0:
        beat.limits[limit] = left
    else:
        beat.limits.pop(limit, None)
    _complete_now(beat, cap)


def collect(cap: BaseCapture) -> list[Stall]:
    """The stalls given to ``cap`` so far, in the order they happened (one it is in counts until now:
    the findings of a response's headers, computed in the step that stalls)."""
    watched: tuple[_Beat, float] | None = getattr(cap, _WATCH, None)
    if watched is not None:
        _complete_now(watched[0], cap)
    return list(getattr(cap, _STALLS, ()))


def _complete_now(beat: _Beat, cap: BaseCapture) -> None:
    """Complete the stall ``cap`` is in, if any, with the time until now (on the loop's thread only)."""
    pending = beat.pending
    if pending is not None and cap in pending.captures and threading.get_ident() == beat.thread:
        now = _clock()
        with _lock:
            stall, beat.pending = beat.pending, None
            # The step goes on: what it holds the loop for from now on is a stall of its own (of the
            # units still running in it, or started later in it).
            beat.sampled = None
            if beat.step is not None:
                beat.step = (beat.step[0], now + beat.period)
        if stall is not None:
            _complete(stall, now)


def _complete(stall: Stall, now: float) -> None:
    stall.duration_ms = (now - stall.since) * 1000.0
    for cap in stall.captures:
        limit = cap.config.loop_stall_ms or 0.0
        if limit and stall.duration_ms >= limit:
            stalls: list[Stall] | None = getattr(cap, _STALLS, None)
            if stalls is None:
                setattr(cap, _STALLS, [stall])
            else:
                stalls.append(stall)


def _captures_of(task: asyncio.Task[Any]) -> tuple[BaseCapture, ...]:
    """The watching captures of ``task``'s context: its own when it started one, else (a child task of
    ``gather`` or a TaskGroup) those of the context its parent handed over with its done-callbacks."""
    found = _tasks.get(task) if _NO_TASK_CONTEXT else task.get_context().get(_active, ())  # type: ignore[attr-defined]
    if found is None:
        found = ()
        with contextlib.suppress(Exception):
            for _callback, context in getattr(task, "_callbacks", None) or ():
                found = context.get(_active, ()) if context is not None else ()
                if found:
                    break
    return tuple(cap for cap in found if getattr(cap, _WATCH, None) is not None and cap.ended is None)


def _after_fork_in_child() -> None:
    """A forked worker (gunicorn, multiprocessing) has no watchdog and none of its parent's loops; the
    parent's lock may have been held at the fork."""
    global _lock, _thread, _wake
    _lock, _thread, _wake = threading.Lock(), None, threading.Event()
    _beats.clear()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _start_thread() -> None:
    """Start the watchdog if it is not running (the first loop, or a fork), and wake it."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_watch, name="queryguard-loop-watch", daemon=True)
            _thread.start()
    _wake.set()


def _watch() -> None:
    while True:
        with _lock:
            beats = list(_beats.values())
        if not beats:
            _wake.wait()
            _wake.clear()
            continue
        time.sleep(min(beat.period for beat in beats))
        now = _clock()
        for beat in beats:
            try:
                beat.check(now)
            except Exception:  # a loop closing under the watchdog: nothing to report about it
                continue

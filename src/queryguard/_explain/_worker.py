"""One background thread with a bounded queue: EXPLAIN after the response, never on the request path.

When the queue is full a unit's EXPLAIN work is dropped (and counted) rather than queued without bound. A
job starts no earlier than ``GRACE_S`` after it was submitted: the thread that submitted it (a request
whose unit just ended) finishes sending its response before the worker competes for the interpreter.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Final

from .._guard import internal_error

QUEUE_SIZE: Final = 64
GRACE_S: Final = 0.02


class Worker:
    """Runs submitted jobs one at a time on a daemon thread started on first use."""

    def __init__(self, maxsize: int = QUEUE_SIZE, *, grace_s: float = GRACE_S) -> None:
        self._maxsize = maxsize
        self._grace_s = grace_s
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.queue: queue.Queue[tuple[float, Callable[[], None]]] = queue.Queue(self._maxsize)
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue ``job``; False (and counted in ``dropped``) when the queue is full."""
        self._ensure_thread()
        try:
            self.queue.put_nowait((time.monotonic(), job))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="queryguard-explain", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            submitted, job = self.queue.get()
            try:
                delay = submitted + self._grace_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                job()
            except Exception as exc:  # a job already guards itself; this is the last wall
                internal_error("explain worker", exc)
            finally:
                self.queue.task_done()

    def wait(self, timeout: float) -> bool:
        """Block until every submitted job has finished; False if ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.queue.all_tasks_done.wait(remaining)
        return True


WORKER = Worker()
# A forked child (a pre-forking server) inherits the queue but not the thread: start afresh.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WORKER._reset)

"""Celery's public task signals open and close one capture per task execution.

``task_prerun`` starts a capture named after the task; ``task_failure`` notes that the task raised;
``task_postrun`` ends the capture, which runs detection and the configured action in the worker, in the
thread that ran the task. A retry is an execution of its own, and so is an eager call (``task.apply()``,
``task_always_eager``). Signals are process-wide: each handler looks only at the tasks of the app it
instruments.
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery, signals

from queryguard import Capture, Config, QueryGuardViolation
from queryguard._guard import internal_error

_UID = "queryguard_celery"


class _Instrumentation:
    """The handlers of one app, and the captures of its running tasks (by task id and thread)."""

    def __init__(self, app: Celery, config: Config) -> None:
        self.app = app
        self.config = config
        # A stack per key: an eager retry runs the same task id again inside the first execution.
        self.running: dict[tuple[str, int], list[Capture]] = {}
        self.failed: set[tuple[str, int]] = set()

    def _mine(self, task: Any) -> bool:
        return task is not None and getattr(task, "app", None) is self.app

    def prerun(self, sender: Any = None, task_id: str = "", task: Any = None, **_: Any) -> None:
        if not self._mine(task):
            return
        try:
            cap = Capture(self.config, name=str(getattr(task, "name", "") or task_id))
            cap.start()
            self.running.setdefault((task_id, threading.get_ident()), []).append(cap)
        except Exception as exc:
            internal_error("celery task_prerun", exc)

    def failure(self, sender: Any = None, task_id: str = "", **_: Any) -> None:
        if self._mine(sender):
            self.failed.add((task_id, threading.get_ident()))

    def postrun(self, sender: Any = None, task_id: str = "", task: Any = None, **_: Any) -> None:
        key = (task_id, threading.get_ident())
        stack = self.running.get(key)
        if not stack:
            return
        cap = stack.pop()
        if not stack:
            del self.running[key]
        failed = key in self.failed
        self.failed.discard(key)
        try:
            cap.stop(failed=failed)
        except QueryGuardViolation:
            # The task has returned already: its result stands, and the violation is the worker's error log.
            raise
        except Exception as exc:
            internal_error("celery task_postrun", exc)


_installed: dict[int, _Instrumentation] = {}


def instrument(app: Celery, config: Config | None = None, **settings: Any) -> None:
    """Make each execution of ``app``'s tasks a unit: ``instrument(celery_app, action="warn")``.

    Every :class:`queryguard.Config` field is accepted as a keyword. Instrumenting an app again replaces
    its settings.
    """
    base = config or Config()
    resolved = base.replace(**settings) if settings else base
    uninstrument(app)
    hooks = _Instrumentation(app, resolved)
    uid = f"{_UID}:{id(app)}"
    signals.task_prerun.connect(hooks.prerun, weak=False, dispatch_uid=f"{uid}:prerun")
    signals.task_failure.connect(hooks.failure, weak=False, dispatch_uid=f"{uid}:failure")
    signals.task_postrun.connect(hooks.postrun, weak=False, dispatch_uid=f"{uid}:postrun")
    _installed[id(app)] = hooks


def uninstrument(app: Celery) -> None:
    """Disconnect ``app``'s handlers (the captures of tasks still running end with nothing reported)."""
    hooks = _installed.pop(id(app), None)
    if hooks is None:
        return
    uid = f"{_UID}:{id(app)}"
    signals.task_prerun.disconnect(hooks.prerun, dispatch_uid=f"{uid}:prerun")
    signals.task_failure.disconnect(hooks.failure, dispatch_uid=f"{uid}:failure")
    signals.task_postrun.disconnect(hooks.postrun, dispatch_uid=f"{uid}:postrun")
    for stack in hooks.running.values():
        for cap in stack:
            cap.stop(act=False)
    hooks.running.clear()

"""Celery integration of queryguard: each task execution is a unit of work, named after the task.

``from queryguard_celery import instrument; instrument(celery_app)``. Only Celery's public task signals are
used (``task_prerun``, ``task_failure``, ``task_postrun``); nothing is monkeypatched, and
``uninstrument(celery_app)`` disconnects them.
"""

from __future__ import annotations

import os

try:
    import celery  # noqa: F401
except ImportError as exc:  # say which extra brings it, not only the missing module
    raise ImportError(
        'queryguard_celery needs Celery: pip install "queryguard-perf[celery]"', name=exc.name
    ) from exc

from queryguard._callsite import add_library_path

from ._instrument import instrument, uninstrument

__all__ = ["instrument", "uninstrument"]

add_library_path(os.path.dirname(os.path.abspath(__file__)))

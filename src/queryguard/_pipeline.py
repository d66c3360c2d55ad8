"""The end of a unit, in order: the index and the detectors, then EXPLAIN, then the action and its sinks.

This is the one module that knows the order; the stages do not know each other, and none of them imports
this module (only :mod:`._unit` and the middleware above it do). Detection and EXPLAIN are imported on
first use: the SQL analysis loads slowly, and a process that never ends a unit never needs them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import _ignore
from ._actions import act, log_added
from ._guard import internal_error

if TYPE_CHECKING:
    from ._capture import BaseCapture
    from ._events import Finding
    from ._unit import Capture


def detect(cap: BaseCapture) -> list[Finding]:
    """The findings of the unit's statements: the index is built once, then every detector reads it; the
    findings a suppression silences (:mod:`._ignore`) go to ``cap.suppressed`` instead."""
    from ._detectors import detect as run_detectors

    findings = run_detectors(cap)
    cap.suppressed = []  # type: ignore[attr-defined]
    return suppress(cap, findings)


def suppress(cap: BaseCapture, findings: list[Finding]) -> list[Finding]:
    """``findings`` without the suppressed ones; a failure here suppresses nothing."""
    try:
        return _ignore.apply(cap, findings, final=cap.ended is not None)
    except Exception as exc:
        internal_error("suppressions", exc)
        return findings


def finish(cap: Capture, *, background: bool = False, failed: bool = False) -> None:
    """Detect, explain what needs it, and act; queryguard's own failures never reach the application.

    In the foreground EXPLAIN completes the findings before the action. With ``background`` the action
    runs on the findings as they are, and the EXPLAIN work left goes to the worker thread afterwards: the
    plan findings it adds then are logged by :func:`._actions.log_added`. ``failed`` says the unit ended
    with an exception of its own: then nothing here raises (see :func:`._actions.act`).
    """
    try:
        findings = cap.findings
    except Exception as exc:
        internal_error("detection", exc)
        return
    job = None
    if cap.config.explain:
        try:
            from ._explain import run as explain

            late = functools.partial(log_added, cap.config, unit=cap.name)
            job = explain(cap, findings, background=background, late=late)
        except Exception as exc:
            internal_error("explain", exc)
        else:
            if job is None:  # the plan findings EXPLAIN added in the foreground are suppressed as well
                findings[:] = suppress(cap, findings)
    try:
        act(
            cap.config,
            findings,
            unit=cap.name,
            query_count=cap.query_count,
            db_time_ms=cap.db_time_ms,
            capture=cap,
            failed=failed,
        )
    finally:
        if job is not None:
            job.submit()

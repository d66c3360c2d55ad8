"""The EXPLAIN stage: plans for a unit's slow statements, and the plan findings that name the index to add.

When a capture ends, :func:`run` picks the statements to explain (those of ``slow_query`` findings, and with
``explain_n_plus_one`` the repeated statement of an N+1), at most ``explain_max_per_unit`` per unit and once
per statement shape and database per ``explain_ttl_s`` (a plan seen within that time is reused, not asked
again), never queryguard's own statements (they run under :class:`queryguard._capture.suppressed`).

* In the foreground (``Capture.stop()``, a plain ``capture()`` block, the pytest helpers) it explains now,
  on the statement's own connection when the source offers it, so the findings are complete before the
  action runs and a test can assert on plans.
* In the background (``Capture.stop(background=True)``, what middleware uses) only reused plans are applied
  now; the rest goes to one worker thread with a bounded queue (full: dropped and counted). When a plan
  arrives the capture's findings list is completed in place: the finding gets ``plan``, the plan findings
  are inserted after it, and they go to the ``late`` function the caller passed (the pipeline logs them
  unless the action is ``"none"``). Listeners registered with :func:`add_listener` are then called, e.g.
  to refresh a report page.

A statement whose safety queryguard cannot prove is not explained, and its finding says why (see
:mod:`._safety`). A database whose EXPLAINs fail three times in a row is left alone for 30 s, doubling up to
10 min. Each failure is logged once per database and error type; none reaches the application.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._events import Finding
from . import _safety, _stage, _worker
from ._stage import STATE, Item, Listener

if TYPE_CHECKING:
    from .._capture import BaseCapture
    from .._config import Config

__all__ = ["ExplainSource", "Job", "add_listener", "is_pending", "remove_listener", "run", "stats", "wait"]


@runtime_checkable
class ExplainSource(Protocol):
    """How the EXPLAIN stage reaches the database a statement ran on. Integrations implement it.

    Create one per engine or connection alias and set it as ``QueryEvent.explainer`` on every event of that
    database: the events share it, so setting it costs one attribute store. Only the EXPLAIN stage calls it,
    after the unit ended, and only for the few statements it explains.

    * ``vendor``: ``"postgresql"``, ``"sqlite"`` or ``"mysql"`` (MariaDB too).
    * ``paramstyle``: the DB-API paramstyle of the captured SQL text (``"format"``, ``"pyformat"``,
      ``"qmark"``, ``"named"``, ``"numeric"``, or ``"numeric_dollar"`` for ``$1``); placeholders are
      rewritten when the connection's driver takes another style.
    * ``connect()``: a context manager giving a new, short-lived DB-API connection to the same database
      (not recorded; not from the application's pool where avoidable), closed on exit. It may be called from
      any thread (the background worker), so it must not use the application's thread-bound connection.
    * ``session_connection()``: the live DB-API connection the statement ran on, or None. Called only in
      the foreground, on the thread that ran the unit, right after it ended; return it only if that thread
      may use it now. It is used inside a savepoint (or a transaction of its own, rolled back), so temporary
      tables and uncommitted rows are seen and the user's transaction is left exactly as it was.
    * Optional ``model_fields(table, columns) -> (model name, field names) | None``: lets plan findings name
      the model (``Book.Meta.indexes``) and fields instead of the table and columns.
    """

    vendor: str
    paramstyle: str

    def connect(self) -> AbstractContextManager[Any]: ...

    def session_connection(self) -> Any | None: ...


#: Called on the worker with the plan findings a background job added once the action had run.
Late = Callable[[list[Finding]], None]


class Job:
    """The background part of one capture's EXPLAIN work: submit it after the action ran."""

    def __init__(
        self, capture: BaseCapture, findings: list[Finding], items: list[Item], late: Late | None = None
    ) -> None:
        self.capture = capture
        self.findings = findings
        self.items = items
        self.late = late

    def submit(self) -> bool:
        """Queue this job on the worker; False when the queue was full (the work is dropped and counted)."""
        STATE.pending.add(self.capture)
        if _worker.WORKER.submit(self):
            return True
        STATE.pending.discard(self.capture)
        return False

    def __call__(self) -> None:
        config = self.capture.config
        added: list[Finding] = []
        done = False
        try:
            for item in self.items:
                outcome = STATE.cached(item.key, config.explain_ttl_s) or _stage.explain_item(
                    item, config, use_session=False
                )
                if outcome is not None:
                    added += _stage.apply(self.findings, item, outcome, config)
                    done = True
        finally:
            STATE.pending.discard(self.capture)
        if added and self.late is not None:
            self.late(added)
        if done:
            _stage.notify(self.capture, added)


def run(
    capture: BaseCapture, findings: list[Finding], *, background: bool = False, late: Late | None = None
) -> Job | None:
    """Explain the statements ``findings`` point at and complete ``findings`` in place.

    Returns the :class:`Job` still to submit in the background, or None when everything is done. ``late``
    receives the plan findings that the background job adds (the caller's action has run by then).
    """
    config = capture.config
    if not config.explain:
        return None
    todo: list[Item] = []
    added: list[Finding] = []
    applied = False
    for item in select(findings, config):
        outcome = STATE.cached(item.key, config.explain_ttl_s)
        if outcome is not None:
            added += _stage.apply(findings, item, outcome, config)
            applied = True
        elif STATE.backing_off(item.key[0]):
            STATE.count("skipped_backoff")
        elif len(todo) < config.explain_max_per_unit:
            todo.append(item)
    if background and todo:
        if applied:
            _stage.notify(capture, added)
        return Job(capture, findings, todo, late)
    for item in todo:
        outcome = _stage.explain_item(item, config, use_session=True)
        if outcome is not None:
            added += _stage.apply(findings, item, outcome, config)
            applied = True
    if applied:
        _stage.notify(capture, added)
    return None


def select(findings: list[Finding], config: Config) -> list[Item]:
    """The findings whose statement to explain, worst first, one per statement shape and database.

    This runs before the response: it reads no statement (the safety check runs where the EXPLAIN runs, on
    the worker in the background), it only skips kinds EXPLAIN does not take and statements too long to read.
    """
    kinds = ("slow_query", "n_plus_one") if config.explain_n_plus_one else ("slow_query",)
    chosen: list[Item] = []
    seen: set[tuple[Any, ...]] = set()
    for finding in findings:
        event = finding.event
        if finding.kind not in kinds or event is None or event.explainer is None or event.error is not None:
            continue
        key = (_stage.db_key(event), finding.fingerprint, config.explain_analyze)
        if key in seen or not _safety.explainable_kind(event.sql):
            continue
        seen.add(key)
        reason = _safety.too_long(event.sql)
        if reason:
            _stage.refused(finding, reason)
            continue
        chosen.append(Item(finding, key))
    return chosen


def add_listener(listener: Listener) -> None:
    """Call ``listener(capture, added_findings)`` whenever EXPLAIN completed a capture's findings.

    For background captures it runs on the worker thread once the plans arrived; ``added_findings`` are the
    plan findings inserted into ``capture.findings`` (the explained findings also got ``plan`` set).
    """
    if listener not in STATE.listeners:
        STATE.listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    """Stop calling ``listener`` (no error if it was not registered)."""
    if listener in STATE.listeners:
        STATE.listeners.remove(listener)


def is_pending(capture: Any) -> bool:
    """True while the capture's EXPLAIN work waits in, or runs on, the background worker."""
    return capture in STATE.pending


def wait(timeout: float = 10.0) -> bool:
    """Block until the background worker has finished everything submitted; False on timeout."""
    return _worker.WORKER.wait(timeout)


def stats() -> dict[str, int]:
    """Counters: explained, cache_hits, failures, refused, skipped_backoff, dropped (queue full), queued."""
    counts = dict(STATE.counts)
    counts.update(dropped=_worker.WORKER.dropped, queued=_worker.WORKER.queue.qsize())
    return counts


def _reset() -> None:
    """Forget cached plans, back-off, warnings and counters (tests)."""
    with STATE.lock:
        STATE.cache.clear()
        STATE.backoff.clear()
        STATE.warned.clear()
        STATE.counts.clear()
    _worker.WORKER.dropped = 0

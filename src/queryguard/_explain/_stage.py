"""The EXPLAIN stage's memory: plans per statement shape (TTL), back-off per database, counters, and the
work of explaining one capture's selected findings and completing its findings list in place."""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final

from .._config import Config
from .._events import Finding
from .._guard import internal_error
from . import _findings, _redact, _run, _safety, _verdict
from ._plan import Outcome

logger = logging.getLogger("queryguard")

_CACHE_SIZE: Final = 256
_FAILURES_BEFORE_BACKOFF: Final = 3
_BACKOFF_S: Final = 30.0
_BACKOFF_MAX_S: Final = 600.0
_WARNED_MAX: Final = 1024

Listener = Callable[[Any, list[Finding]], None]


@dataclasses.dataclass
class Item:
    """One finding whose statement needs a plan, and the cache key of that plan."""

    parent: Finding
    key: tuple[Any, ...]


class State:
    """Process-wide: the plan cache, the back-off per database, the counters and the listeners."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cache: collections.OrderedDict[tuple[Any, ...], tuple[float, Outcome]] = (
            collections.OrderedDict()
        )
        self.backoff: dict[Any, tuple[int, float]] = {}
        self.warned: set[tuple[Any, str]] = set()
        self.listeners: list[Listener] = []
        self.pending: weakref.WeakSet[Any] = weakref.WeakSet()
        self.counts = collections.Counter[str]()

    def cached(self, key: tuple[Any, ...], ttl_s: float) -> Outcome | None:
        """The plan of ``key`` if it was made less than ``ttl_s`` seconds ago."""
        with self.lock:
            entry = self.cache.get(key)
            if entry is None:
                return None
            if entry[0] + ttl_s <= time.monotonic():
                del self.cache[key]
                return None
            self.cache.move_to_end(key)
            self.counts["cache_hits"] += 1
            return entry[1]

    def remember(self, key: tuple[Any, ...], outcome: Outcome) -> None:
        with self.lock:
            self.cache[key] = (time.monotonic(), outcome)
            self.cache.move_to_end(key)
            while len(self.cache) > _CACHE_SIZE:
                self.cache.popitem(last=False)

    def count(self, name: str) -> None:
        with self.lock:
            self.counts[name] += 1

    def backing_off(self, db: Any) -> bool:
        with self.lock:
            entry = self.backoff.get(db)
            return entry is not None and entry[0] >= _FAILURES_BEFORE_BACKOFF and entry[1] > time.monotonic()

    def failed(self, db: Any) -> None:
        with self.lock:
            failures = self.backoff.get(db, (0, 0.0))[0] + 1
            delay = min(_BACKOFF_S * 2 ** max(failures - _FAILURES_BEFORE_BACKOFF, 0), _BACKOFF_MAX_S)
            self.backoff[db] = (failures, time.monotonic() + delay)
            self.counts["failures"] += 1

    def succeeded(self, db: Any) -> None:
        with self.lock:
            self.backoff.pop(db, None)
            self.counts["explained"] += 1

    def warn_once(self, db: Any, event: Any, exc: BaseException, show_params: bool) -> None:
        key = (db, type(exc).__name__)
        with self.lock:
            if key in self.warned:
                return
            if len(self.warned) >= _WARNED_MAX:
                self.warned.clear()
            self.warned.add(key)
        logger.warning(
            "queryguard: EXPLAIN failed on the %s database %r (the application is unaffected; after %d "
            "failures in a row EXPLAIN pauses for that database): %s",
            _run.vendor_of(event),
            getattr(event, "alias", ""),
            _FAILURES_BEFORE_BACKOFF,
            _redact.error(exc, show_params=show_params),
        )


STATE = State()


def db_key(event: Any) -> tuple[Any, ...]:
    """The database an event ran on: its source (one per engine or alias) and alias."""
    source = event.explainer
    try:
        hash(source)
        ident: Any = source
    except TypeError:
        ident = id(source)
    return (_run.vendor_of(event), event.alias, ident)


def explain_item(item: Item, config: Config, *, use_session: bool) -> Outcome | None:
    """The plan of one item's statement, or None after a failure (logged once, counted for back-off)."""
    event = item.parent.event
    db = item.key[0]
    if event is None:
        return None
    if STATE.backing_off(db):
        STATE.count("skipped_backoff")
        return None
    try:
        outcome = _run.explain(
            event,
            analyze=config.explain_analyze,
            timeout_ms=config.explain_timeout_ms,
            use_session=use_session,
        )
    except _safety.Refused as exc:
        refused(item.parent, str(exc))
        return None
    except Exception as exc:
        STATE.failed(db)
        STATE.warn_once(db, event, exc, config.show_params)
        return None
    STATE.succeeded(db)
    STATE.remember(item.key, outcome)
    return outcome


def refused(finding: Finding, reason: str) -> None:
    """Say on ``finding`` that its statement is not explained, and why (``reason``: "not explained: ...")."""
    STATE.count("refused")
    finding.details = {**finding.details, "explained": False, "not_explained": reason}
    if reason not in finding.message:
        finding.message = f"{finding.message} ({reason})"


def apply(findings: list[Finding], item: Item, outcome: Outcome, config: Config) -> list[Finding]:
    """Complete the item's finding with the plan, its smells and the one fix (in place; see :mod:`._verdict`).

    Returns the finding when the plan changed its verdict (the caller reports it again), else nothing.
    """
    parent = item.parent
    event = parent.event
    source = getattr(event, "explainer", None)
    namer = getattr(source, "model_fields", None)
    orm = getattr(event, "orm", None) or getattr(source, "orm", None)
    ctx = _findings.Context(parent, outcome, orm, config.show_params, namer if callable(namer) else None)
    smells = [smell for smell in outcome.smells if smell.kind not in config.ignore_kinds]
    changed = _verdict.complete(ctx, smells, slow_query_ms=config.slow_query_ms)
    return [parent] if changed and any(f is parent for f in findings) else []


def notify(capture: Any, added: list[Finding]) -> None:
    """Tell every listener that ``capture``'s findings were completed (errors are logged, swallowed)."""
    for listener in list(STATE.listeners):
        try:
            listener(capture, added)
        except Exception as exc:
            internal_error("explain listener", exc)

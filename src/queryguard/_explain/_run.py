"""Explain one captured statement: pick the connection, adapt the placeholders, run the backend."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from .._capture import suppressed
from .._events import QueryEvent
from . import _paramstyle, _plan, _safety
from ._plan import Outcome, Request


def backend(vendor: str) -> ModuleType | None:
    """The backend module of ``vendor`` (imported on first use), or None when there is none."""
    if vendor == "postgresql":
        from . import _postgres

        return _postgres
    if vendor == "sqlite":
        from . import _sqlite

        return _sqlite
    if vendor in ("mysql", "mariadb"):
        from . import _mysql

        return _mysql
    return None


def vendor_of(event: QueryEvent) -> str:
    """The source's vendor, else the event's."""
    return str(getattr(event.explainer, "vendor", "") or event.vendor)


def first_params(event: QueryEvent) -> Any:
    """The parameters of the statement (the first set of an ``executemany``)."""
    params = event.params
    if not event.executemany:
        return params
    if isinstance(params, Sequence) and not isinstance(params, (str, bytes)) and params:
        return params[0]
    try:
        return next(iter(params))  # an iterator would have been consumed by the driver: then no EXPLAIN
    except (TypeError, StopIteration):
        raise ValueError("executemany parameters are no longer available") from None


def explain(event: QueryEvent, *, analyze: bool, timeout_ms: int, use_session: bool) -> Outcome:
    """Explain ``event``; on its own connection when ``use_session`` and the source offers it, else a new one.

    :class:`._safety.Refused` when safety cannot be proven. ``analyze`` is a wish: it is honoured only for
    statements :mod:`._safety` proves read-only, and only on a connection of queryguard's own (closed after),
    never on the statement's own session; without one the session gets a plain EXPLAIN.
    """
    source: Any = event.explainer  # an ExplainSource (QueryEvent types the slot loosely)
    vendor = vendor_of(event)
    module = backend(vendor)
    if module is None or source is None:
        raise LookupError(f"no EXPLAIN backend for {vendor!r}")
    sql, params = event.sql, first_params(event)
    proof = _safety.check(sql, vendor)
    analyze = (
        analyze
        and vendor != "sqlite"  # SQLite has no EXPLAIN ANALYZE
        and _safety.analyze_allowed(sql, vendor, executemany=event.executemany, proof=proof)
    )
    run = functools.partial(
        _on, module, source=source, sql=sql, params=params, timeout_ms=timeout_ms, proof=proof
    )
    with suppressed(), contextlib.ExitStack() as stack:
        own = None
        if analyze or not use_session:
            try:
                own = stack.enter_context(source.connect())
            except LookupError:
                if not use_session:
                    raise
        if own is not None and analyze:
            return run(_unwrap(own), analyze=True, session=False)
        session = source.session_connection() if use_session else None
        if session is not None:
            try:
                return run(_unwrap(session), analyze=False, session=True)
            except _plan.Unusable:
                pass
        if own is None:
            own = stack.enter_context(source.connect())
        return run(_unwrap(own), analyze=analyze, session=False)


def _on(
    module: ModuleType,
    conn: Any,
    *,
    source: Any,
    sql: str,
    params: Any,
    analyze: bool,
    timeout_ms: int,
    session: bool,
    proof: _safety.Proof,
) -> Outcome:
    vendor = str(module.VENDOR)
    target = _paramstyle.driver_style(conn)
    sql, params = _paramstyle.adapt(
        sql, params, str(getattr(source, "paramstyle", target)), target, vendor=vendor
    )
    if isinstance(params, Mapping):
        params = dict(params)
    facts = _plan.Facts(sql, params, vendor)
    request = Request(sql, params, analyze, timeout_ms, session, facts, proof)
    outcome: Outcome = module.run(conn, request)
    return outcome


def _unwrap(conn: Any) -> Any:
    # queryguard.dbapi.Connection proxies a DB-API connection: explain on the driver's own connection.
    if type(conn).__module__ == "queryguard.dbapi":
        return getattr(conn, "_connection", conn)
    return conn

"""The boundary between queryguard and the host application: internal errors are logged once, swallowed.

This is the last wall: nothing here may raise. The ``queryguard`` logger is the application's to configure,
and its filters and handlers may raise (a filter written for ``django.request`` records that reads
``record.request``, a handler whose sink is down); such a failure is swallowed too, and said once on
``sys.stderr``, itself written defensively.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

logger = logging.getLogger("queryguard")
_reported: set[tuple[str, type[BaseException]]] = set()
_fallback_used = False


def internal_error(where: str, exc: BaseException) -> None:
    """Log an error of queryguard's own (once per place and type) without disturbing the application."""
    try:
        key = (where, type(exc))
        if key in _reported:
            logger.debug("queryguard internal error in %s again: %s", where, _describe(exc))
            return
        _reported.add(key)
        logger.error(
            "queryguard internal error in %s (the application is unaffected): %s",
            where,
            _describe(exc),
            exc_info=exc,
        )
    except Exception as failure:
        _fallback(where, exc, failure)


class guard:
    """``with guard("where"):`` runs a helper at a boundary; its error is logged once and swallowed.

    A :class:`~queryguard.QueryGuardViolation` passes: the "raise" action is the one thing meant to reach
    the application. ``failed`` is True after the block raised (the caller then uses its fallback).
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.failed = False

    def __enter__(self) -> guard:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        from ._errors import QueryGuardViolation

        if exc is None or not isinstance(exc, Exception) or isinstance(exc, QueryGuardViolation):
            return False
        self.failed = True
        internal_error(self.where, exc)
        return True


def _describe(exc: BaseException) -> str:
    """``repr(exc)``, or its type's name when its ``__repr__`` fails too."""
    try:
        return repr(exc)
    except Exception:
        return f"<{type(exc).__name__}>"


def _fallback(where: str, exc: BaseException, failure: BaseException) -> None:
    """Logging itself failed: one line on ``sys.stderr`` for the whole process, then silence."""
    global _fallback_used
    if _fallback_used:
        return
    _fallback_used = True
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(
                f"queryguard internal error in {where} (the application is unaffected): "
                f"{_describe(exc)}; logging it failed too: {_describe(failure)}\n"
            )
    except Exception:  # stderr closed or replaced by something broken: nothing is left to tell
        return

"""The boundary between queryguard and the host application: internal errors are logged once, swallowed."""

from __future__ import annotations

import logging

logger = logging.getLogger("queryguard")
_reported: set[tuple[str, type[BaseException]]] = set()


def internal_error(where: str, exc: BaseException) -> None:
    """Log an error of queryguard's own (once per place and type) without disturbing the application."""
    key = (where, type(exc))
    if key in _reported:
        logger.debug("queryguard internal error in %s again: %r", where, exc)
        return
    _reported.add(key)
    logger.error(
        "queryguard internal error in %s (the application is unaffected): %r", where, exc, exc_info=exc
    )

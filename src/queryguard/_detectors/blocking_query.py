"""``blocking_query``: synchronous statements run on the thread of a running asyncio event loop."""

from __future__ import annotations

import operator

from .. import _suggest
from .._config import Config
from .._events import Finding, QueryEvent
from .._plural import plural
from .._sql import analyze
from ._finding import of_event
from ._index import Index, site_of

_BLOCKING = operator.attrgetter("blocking")


def find(index: Index, config: Config) -> list[Finding]:
    """A finding per call site that ran statements synchronously on an event loop's thread."""
    events = index.events
    if not any(map(_BLOCKING, events)):
        return []
    by_site: dict[str, list[QueryEvent]] = {}
    for event in events:
        if event.blocking:
            by_site.setdefault(site_of(event, config), []).append(event)
    found = []
    for site, items in by_site.items():
        first = items[0]
        fix = _suggest.blocking(first.orm)
        message = (
            f"blocking: {plural(len(items), 'synchronous database call')} on the event loop's thread "
            f"from {site}; every other request waits meanwhile; " + fix
        )
        total = sum(e.duration_ms for e in items)
        found.append(
            of_event(
                first,
                analyze(first.sql),
                "blocking_query",
                "error",
                message,
                fix,
                callsite=site,
                count=len(items),
                total_duration_ms=total,
            )
        )
    return found

"""``loop_stall``: one step of the event loop held it longer than ``loop_stall_ms``.

The stalls are the watchdog's (:mod:`queryguard._loopwatch`), not statements: :func:`find` reads those the
unit's capture collected. A synchronous database call that queryguard recorded is ``blocking_query``'s,
which names the statement: its call site is left out here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import _callsite, _suggest
from .._config import Config
from .._events import Finding
from .._loopwatch import Stall
from .._plural import plural

_WHAT = {
    "sleep": "a sleep",
    "network": "blocking network I/O",
    "database": "a synchronous database call",
    "file": "blocking file I/O",
    "cpu": "CPU work",
}


def find(stalls: Sequence[Stall], config: Config, explained: Iterable[Finding] = ()) -> list[Finding]:
    """A finding per (user frame, call) that held the loop; ``explained``: findings already made, whose
    ``blocking_query`` call sites are not reported again."""
    limit = config.loop_stall_ms
    if not stalls or not limit:
        return []
    blocking_sites = {f.callsite for f in explained if f.kind == "blocking_query"}
    groups: dict[tuple[str, str], list[Stall]] = {}
    for stall in stalls:
        site = _callsite.describe(stall.site, config.callsite_ignore)
        if stall.duration_ms >= limit and site not in blocking_sites:
            groups.setdefault((site, stall.call), []).append(stall)
    return [_finding(site, items, limit) for (site, _), items in groups.items()]


def _finding(site: str, items: list[Stall], limit: float) -> Finding:
    first = items[0]
    longest = max(stall.duration_ms for stall in items)
    total = sum(stall.duration_ms for stall in items)
    what = f"{first.call} ({_WHAT[first.blocking]})" if first.call else _WHAT[first.blocking]
    times = "" if len(items) == 1 else f", {plural(len(items), 'time')} ({total:.0f} ms in all)"
    fix = _suggest.loop_stall(first.blocking, first.call)
    message = (
        f"loop stall: {what} held the event loop for {longest:.0f} ms (limit {limit:g} ms) at {site}"
        f"{times}; every other task and request waited meanwhile; {fix}"
    )
    return Finding(
        kind="loop_stall",
        severity="warning",
        message=message,
        count=len(items),
        total_duration_ms=total,
        fingerprint=f"stall:{first.blocking}:{first.call}",
        callsite=site,
        suggestion=fix,
        details={
            "blocking": first.blocking,
            "call": first.call,
            "api": first.api,
            "max_ms": longest,
            "stack": list(_callsite.describe_stack(first.site)),
        },
    )

"""What the ASGI and WSGI middleware share: the unit name of a request and the opt-in response headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._guard import internal_error

if TYPE_CHECKING:
    from ._unit import Capture

_RANK = {"info": 0, "warning": 1, "error": 2}
SERVER_TIMING = "Server-Timing"
FINDINGS = "X-QueryGuard-Findings"


def unit_name(method: str, path: str) -> str:
    """``"GET /books/"``: the request line without the query string (which may hold secrets)."""
    return f"{method.upper()} {path or '/'}"


#: Who may see the headers: ``allow_client(ip) -> bool``; by default only this machine (DESIGN 5.5).
AllowClient = Callable[[str], bool]


def loopback(host: str) -> bool:
    """True for a client on this machine (the default audience of the headers)."""
    return host.startswith("127.") or host in ("::1", "localhost")


def shows_headers(enabled: bool, allow_client: AllowClient | None, host: str | None) -> bool:
    """Whether this request's response gets the headers: opted in, and the client is allowed."""
    if not enabled or not host:
        return False
    try:
        return bool((allow_client or loopback)(host))
    except Exception as exc:
        internal_error("allow_client", exc)
        return False


def settings(config: dict[str, Any]) -> Any:
    """A validated :class:`~queryguard.Config` from middleware keyword arguments."""
    from ._config import Config

    base = config.pop("config", None) or Config()
    if not isinstance(base, Config):
        from ._errors import ConfigurationError

        raise ConfigurationError(f"config must be a queryguard.Config, got {base!r}")
    return base.replace(**config) if config else base


def headers(cap: Capture) -> list[tuple[str, str]]:
    """``Server-Timing`` (database time and statement count so far) and ``X-QueryGuard-Findings``.

    Counted when the response starts: statements a streaming body runs later are not in them (the
    configured action still gets every finding when the request ends). ``[]`` if anything goes wrong.
    """
    try:
        count = cap.query_count
        plural = "query" if count == 1 else "queries"
        return [
            (SERVER_TIMING, f'db;dur={cap.db_time_ms:.1f};desc="{count} {plural}"'),
            (FINDINGS, findings_value(cap)),
        ]
    except Exception as exc:
        internal_error("response headers", exc)
        return []


def findings_value(cap: Capture) -> str:
    """``X-QueryGuard-Findings`` (the same in every middleware): the findings the action acts on (at or above
    ``action_min_severity``) and their count per kind, ``"2; n_plus_one=1, write_loop=1"``, or ``"0"``."""
    minimum = _RANK[cap.config.action_min_severity]
    kinds: dict[str, int] = {}
    for finding in cap.findings:
        if _RANK.get(finding.severity, 0) >= minimum:
            kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    detail = ", ".join(f"{kind}={count}" for kind, count in kinds.items())
    return f"{sum(kinds.values())}; {detail}" if detail else "0"

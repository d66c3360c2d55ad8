"""ASGI middleware: each HTTP request runs in a capture of its own (FastAPI, Starlette, Litestar, ...).

``app = queryguard.asgi.QueryGuardMiddleware(app, action="log", server_timing=True)`` takes every
:class:`~queryguard.Config` field as a keyword (or ``config=Config(...)``). Lifespan and websocket
connections pass through untouched, and so does every message of a response: with ``server_timing``
(off by default: development only) ``Server-Timing`` and ``X-QueryGuard-Findings`` are added to
``http.response.start`` for clients on this machine, or those ``allow_client(ip)`` accepts. They count
the statements that ran before the response started; a streaming body's later statements reach the
action, which runs when the request ends, with EXPLAIN off the request path. "raise" raises once the
response is complete. An exception from the application propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import _http
from ._capture import enter_request
from ._guard import guard, internal_error
from ._unit import Capture

# Loose on purpose, as in the ASGI servers and frameworks: any of their apps and callables fit.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Any, Receive, Send], Awaitable[None]]

__all__ = ["QueryGuardMiddleware"]


class QueryGuardMiddleware:
    """Wrap an ASGI application: one capture per HTTP request, named ``"GET /path"``."""

    def __init__(
        self, app: ASGIApp, /, *, allow_client: _http.AllowClient | None = None, **config: Any
    ) -> None:
        self.app = app
        self.allow_client = allow_client
        self.config = _http.settings(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        try:
            client = scope.get("client") or (None,)
            headers = _http.shows_headers(self.config.server_timing, self.allow_client, client[0])
            cap = Capture(
                self.config, name=_http.unit_name(scope.get("method", "GET"), scope.get("path", ""))
            )
            cap.start()
            enter_request()
        except Exception as exc:
            internal_error("asgi middleware", exc)
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, self._sender(cap, send) if headers else send)
        except BaseException:
            self._stop(cap, failed=True)  # the application's exception wins over every action
            raise
        self._stop(cap, failed=False)

    @staticmethod
    def _sender(cap: Capture, send: Send) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message.get("type") == "http.response.start":
                message = _with_headers(cap, message)
            await send(message)

        return send_with_headers

    @staticmethod
    def _stop(cap: Capture, *, failed: bool) -> None:
        with guard("asgi middleware"):
            cap.stop(background=True, failed=failed)


def _with_headers(cap: Capture, message: Message) -> Message:
    """``message`` with the findings headers added; the very same message if building them fails."""
    with guard("asgi response headers"):
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in _http.headers(cap)
        ]
        if extra:
            return {**message, "headers": [*message.get("headers", ()), *extra]}
    return message

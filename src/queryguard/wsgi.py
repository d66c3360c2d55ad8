"""WSGI middleware: each request runs in a capture of its own (Flask, Bottle, Falcon, Pyramid, ...).

``app.wsgi_app = queryguard.wsgi.QueryGuardMiddleware(app.wsgi_app, action="log")`` takes every
:class:`~queryguard.Config` field as a keyword (or ``config=Config(...)``). The capture is active while the
application runs. A response whose body is already made (a list, or one that declares its
``Content-Length``, as Flask's and Werkzeug's non-streaming responses do) ends its unit when the application
returns, so a client that never reads the body still gets the findings. Otherwise (a streamed body) the
capture is active again while the server iterates and closes the body, so the statements of a streamed body
belong to the request too; it ends when the server closes the body (or the body runs out, or, for a client
that does neither, when the next request starts in the same thread). The action runs
then, with EXPLAIN off the request path; "raise" raises after the last chunk of the body. With
``server_timing`` (off by default: development only) ``Server-Timing`` and ``X-QueryGuard-Findings`` are
added to the headers the application starts its response with, for clients on this machine or those
``allow_client(ip)`` accepts. Body and exceptions pass through unchanged.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from . import _http, _pipeline
from ._capture import BaseCapture, _active, enter_request
from ._guard import guard, internal_error
from ._unit import Capture

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
_Token = contextvars.Token[tuple[BaseCapture, ...]]

__all__ = ["QueryGuardMiddleware"]


class QueryGuardMiddleware:
    """Wrap a WSGI application: one capture per request, named ``"GET /path"``."""

    def __init__(
        self, app: WSGIApp, /, *, allow_client: _http.AllowClient | None = None, **config: Any
    ) -> None:
        self.app = app
        self.allow_client = allow_client
        self.config = _http.settings(config)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            _finish_pending()
            remote = environ.get("REMOTE_ADDR")
            shown = _http.shows_headers(self.config.server_timing, self.allow_client, remote)
            cap = Capture(
                self.config, name=_http.unit_name(environ.get("REQUEST_METHOD", "GET"), _path(environ))
            )
            cap.started = time.perf_counter()
            token = _enter(cap)
            enter_request()
        except Exception as exc:
            internal_error("wsgi middleware", exc)
            return self.app(environ, start_response)
        if shown:
            start_response = _with_headers(cap, start_response)
        started = _Started(start_response)
        try:
            body = self.app(environ, started)
        except BaseException:
            _leave(cap, token)
            _end(cap, failed=True)  # the application's exception wins over every action
            raise
        _leave(cap, token)
        if started.sized or isinstance(body, (list, tuple)):
            return _complete(body, cap)
        return _Body(body, cap)


class _Started:
    """``start_response``, passed through; remembers whether the response declared its length."""

    __slots__ = ("sized", "start_response")

    def __init__(self, start_response: StartResponse) -> None:
        self.start_response = start_response
        self.sized = False

    def __call__(self, status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        self.sized = any(name.lower() == "content-length" for name, _ in headers)
        return self.start_response(status, headers, *exc_info)


def _complete(body: Iterable[bytes], cap: Capture) -> Iterable[bytes]:
    """End the unit of a response whose body is already made (a list, or a declared Content-Length).

    Such a body runs no statement while it is sent, and a client that never reads or closes it (a test
    that checks only the status code) must still get the unit's findings now. The "raise" action's
    violation closes the body first.
    """
    try:
        _end(cap, failed=False)
    except BaseException:
        with guard("wsgi response close"):
            close = getattr(body, "close", None)
            if close is not None:
                close()
        raise
    return body


def _with_headers(cap: Capture, start_response: StartResponse) -> StartResponse:
    def start_with_headers(
        status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Any:
        extra: list[tuple[str, str]] = []
        with guard("wsgi response headers"):
            extra = _http.headers(cap)
        return start_response(status, [*headers, *extra], *(() if exc_info is None else (exc_info,)))

    return start_with_headers


class _Body:
    """The application's response body, passed through; the request's capture is active around each step."""

    def __init__(self, body: Iterable[bytes], cap: Capture) -> None:
        self._body = body
        self._iterator: Iterator[bytes] | None = None
        self._cap: Capture | None = cap
        self._failed = False
        _pending.set((*_pending.get(), self))

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        cap = self._cap
        if cap is None:
            raise StopIteration
        token: _Token | None = _enter(cap)
        try:
            if self._iterator is None:
                self._iterator = iter(self._body)
            return next(self._iterator)
        except StopIteration:
            if token is not None:
                _leave(cap, token)
            token = None
            self.finish()
            raise
        except BaseException:
            self._failed = True  # the body's exception wins over every action
            raise
        finally:
            if token is not None:
                _leave(cap, token)

    def close(self) -> None:
        cap = self._cap
        token = _enter(cap) if cap is not None else None
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if cap is not None and token is not None:
                _leave(cap, token)
            self.finish()

    def finish(self) -> None:
        """End the capture and act on its findings (once)."""
        cap, self._cap = self._cap, None
        if cap is not None:
            _pending.set(tuple(body for body in _pending.get() if body is not self))
            _end(cap, failed=self._failed)


#: Bodies returned in this context whose capture has not ended yet.
_pending: contextvars.ContextVar[tuple[_Body, ...]] = contextvars.ContextVar(
    "queryguard_wsgi_pending", default=()
)


def _finish_pending() -> None:
    for body in _pending.get():
        body.finish()


def _enter(cap: Capture) -> _Token:
    return _active.set((*_active.get(), cap))


def _leave(cap: Capture, token: _Token) -> None:
    try:
        _active.reset(token)
    except ValueError:  # reached from another context: drop just this capture
        _active.set(tuple(c for c in _active.get() if c is not cap))


def _end(cap: Capture, *, failed: bool) -> None:
    cap.ended = time.perf_counter()
    with guard("wsgi middleware"):
        _pipeline.finish(cap, background=True, failed=failed)


def _path(environ: Environ) -> str:
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    try:  # PEP 3333 strings are latin-1 decoded bytes
        return str(path.encode("latin-1").decode("utf-8"))
    except UnicodeError:
        return str(path)

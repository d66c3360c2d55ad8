"""``QueryGuardMiddleware``: one capture per request, under WSGI and ASGI, for sync and async views.

The capture covers what runs inside the middleware while the response is produced: the middleware below it,
the view, the templates it renders (``TemplateResponse`` included) and the ORM's ``sync_to_async`` threads.
A streaming response's body is produced later, while the server sends it: statements its iterator runs are
not part of the request's capture, and the middleware never consumes the stream.

When the capture ends its findings go to the configured action (``ACTION``: log, warn, raise or none);
EXPLAIN runs off the request path. Nothing else about the response, the exception or the transaction changes;
the ``Server-Timing`` and ``X-QueryGuard-*`` headers are added only when enabled and the client is allowed.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.apps import apps
from django.http import HttpRequest, HttpResponseBase
from django.urls import NoReverseMatch, reverse

from queryguard import Capture, ConfigurationError, QueryGuardViolation, _http
from queryguard._capture import enter_request
from queryguard._guard import guard, internal_error

from . import _ring, _rows, _sites, _state, conf

GetResponse = Callable[[HttpRequest], Any]
APP_NAME = "queryguard_django"
logger = logging.getLogger("queryguard")


class QueryGuardMiddleware:
    """Capture the statements of each request and act on their findings."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        with guard("QueryGuardMiddleware setup"):
            _without_the_app()

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        cap = _start(request)
        if cap is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except BaseException:
            _finish(cap, request, None)
            raise
        return _finish(cap, request, response)

    async def __acall__(self, request: HttpRequest) -> Any:
        get_response: Callable[[HttpRequest], Awaitable[Any]] = self.get_response
        cap = _start(request)
        if cap is None:
            return await get_response(request)
        awaited = get_response(request)
        token = _sites.request_coroutine.set(_weak(awaited))
        try:
            response = await awaited
        except BaseException:
            _finish(cap, request, None)
            raise
        finally:
            _sites.request_coroutine.reset(token)
        return _finish(cap, request, response)


def _weak(awaitable: object) -> weakref.ref[Any] | None:
    try:
        return weakref.ref(awaitable)
    except TypeError:  # not a coroutine: the async call sites are then searched among the loop's tasks
        return None


def _without_the_app() -> None:
    """Without the app in INSTALLED_APPS no hook would record anything: install them, and say so once.

    The app's ``ready()`` installs the connection and relation hooks; the report page, the system checks and
    ``queryguard_audit`` need the app itself, so the warning stays until it is added.
    """
    global _hooks_installed
    if _hooks_installed or apps.is_installed(APP_NAME):
        return
    _hooks_installed = True
    from . import _hooks, _relations

    conf.connect()
    _relations.install()
    _hooks.install()
    _say(
        logging.WARNING,
        f'queryguard: QueryGuardMiddleware is in MIDDLEWARE but "{APP_NAME}" is not in INSTALLED_APPS: '
        f'requests are captured, but add "{APP_NAME}" to INSTALLED_APPS for the report page, the system '
        "checks and queryguard_audit",
    )


_hooks_installed = False
_config_errors: set[str] = set()


def _start(request: HttpRequest) -> Capture | None:
    if _state.auditing.get():  # queryguard_audit captures the request itself
        return None
    try:
        # A request of its own (the request_started signal says so too, but under ASGI it runs in a
        # context of its own, whose changes are lost): two requests of one test are never one loop.
        enter_request()
        return Capture(conf.get().config, name=f"{request.method} {request.path}").start()
    except ConfigurationError as exc:  # the user's setting, not a defect: say what to fix, once per problem
        if str(exc) not in _config_errors:
            _config_errors.add(str(exc))
            _say(
                logging.ERROR,
                f"queryguard is off: the QUERYGUARD setting is invalid (ConfigurationError: {exc}); "
                "fix it (manage.py check lists every problem)",
            )
        return None
    except Exception as exc:
        internal_error("QueryGuardMiddleware", exc)
        return None


def _say(level: int, message: str) -> None:
    """Log ``message`` on the queryguard logger; a failure of logging itself is swallowed."""
    try:
        logger.log(level, "%s", message)
    except Exception as exc:
        internal_error("QueryGuardMiddleware logging", exc)


def _finish(cap: Capture, request: HttpRequest, response: HttpResponseBase | None) -> Any:
    """End the request's capture and act; nothing but the "raise" action's violation leaves it."""
    # The view's last statement in this thread has its rows now (a sync view's; an async view's statements
    # ran in sync_to_async threads, where they complete on their thread's next statement).
    with guard("QueryGuardMiddleware row count"):
        _rows.flush()
    report_page = False
    with guard("QueryGuardMiddleware"):
        report_page = _is_report_page(request)
    violation: QueryGuardViolation | None = None
    try:
        # The view's exception (no response) wins over every action.
        cap.stop(act=not report_page, background=True, failed=response is None)
    except QueryGuardViolation as exc:  # the "raise" action: the one thing allowed to reach the app
        violation = exc
    except Exception as exc:
        internal_error("QueryGuardMiddleware", exc)
    if not report_page:
        _publish(cap, request, response)
    if violation is not None:
        raise violation
    return response


def _is_report_page(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and APP_NAME in match.app_names


def _publish(cap: Capture, request: HttpRequest, response: HttpResponseBase | None) -> None:
    """Keep the capture for the report page and add the headers, where enabled and allowed."""
    with guard("QueryGuardMiddleware headers"):
        settings = conf.get()
        entry = None
        if settings.page_enabled():
            status = response.status_code if response is not None else None
            method = request.method or ""
            entry = _ring.add(cap, method=method, path=request.path, status=status, size=settings.ring_size)
        if response is None:
            return
        full = settings.headers_enabled()
        if (full or cap.config.server_timing) and settings.client_allowed(request):
            # Built in full first: a failure half-way leaves the response as it was.
            for name, value in _headers(response, cap, entry if full else None, full=full).items():
                response.headers[name] = value


def _headers(
    response: HttpResponseBase, cap: Capture, entry: _ring.Entry | None, *, full: bool
) -> dict[str, str]:
    count = cap.query_count
    # The same metric as the ASGI/WSGI middleware's: "db", with the statement count as its description.
    timing = f'db;dur={cap.db_time_ms:.1f};desc="{count} {"query" if count == 1 else "queries"}"'
    previous = response.headers.get("Server-Timing")
    headers = {"Server-Timing": f"{previous}, {timing}" if previous else timing}
    if not full:
        return headers
    headers[_http.FINDINGS] = _http.findings_value(cap)
    if entry is not None:
        with contextlib.suppress(NoReverseMatch):  # the report page's URLs may not be included
            headers["X-QueryGuard-Report"] = reverse(f"{APP_NAME}:detail", args=[entry.id])
    return headers

"""System checks: an invalid ``QUERYGUARD`` setting is reported by ``manage.py check`` with an id and a hint.

* ``queryguard.E001`` ``QUERYGUARD`` is not a dict
* ``queryguard.E002`` an unknown key
* ``queryguard.E003`` an invalid value for a ``Config`` key (``ACTION``, ``N_PLUS_ONE_THRESHOLD``...)
* ``queryguard.E004`` ``REPORT_PAGE`` / ``HEADERS`` is not True, False or None
* ``queryguard.E005`` ``ALLOWED`` / ``CALLBACK`` is neither a callable nor the dotted path of one
* ``queryguard.E006`` ``RING_SIZE`` is not an integer >= 0
* ``queryguard.E007`` ``AUDIT_FAIL_SEVERITY`` is not a severity
* ``queryguard.W001`` the app is installed but the middleware is not: requests are not captured
* ``queryguard.W002`` DEBUG is on and the report page is wired, but no client may see it (``INTERNAL_IPS`` is
  empty and there is no ``ALLOWED`` callback): the page answers 404 and responses carry no headers
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, reverse

from . import conf

MIDDLEWARE_PATH = "queryguard_django.middleware.QueryGuardMiddleware"


def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Report every problem of the ``QUERYGUARD`` setting."""
    raw = getattr(settings, "QUERYGUARD", None)
    return [checks.Error(p.message, hint=p.hint, id=p.id) for p in conf.problems(raw)]


def check_middleware(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the middleware that captures requests is missing."""
    if MIDDLEWARE_PATH in (getattr(settings, "MIDDLEWARE", None) or ()):
        return []
    return [
        checks.Warning(
            "queryguard_django is installed but its middleware is not: requests are not captured",
            hint=f'add "{MIDDLEWARE_PATH}" to MIDDLEWARE',
            id="queryguard.W001",
        )
    ]


def check_internal_ips(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the report page is wired and on, but no client is allowed to see it."""
    try:
        current = conf.get()
    except Exception:  # an invalid setting is check_settings' error already
        return []
    if not current.page_enabled() or current.allowed is not None or getattr(settings, "INTERNAL_IPS", None):
        return []
    try:
        reverse("queryguard_django:index")
    except NoReverseMatch:
        return []  # the page is not in the URLconf: nothing to see
    return [
        checks.Warning(
            "the queryguard report page is on, but INTERNAL_IPS is empty: it answers 404 to every client, "
            "and responses carry no queryguard headers",
            hint='set INTERNAL_IPS = ["127.0.0.1"] in settings (or QUERYGUARD["ALLOWED"] to a callback)',
            id="queryguard.W002",
        )
    ]


def register() -> None:
    """Register the checks (called once from ``AppConfig.ready``)."""
    checks.register(check_settings, "queryguard")
    checks.register(check_middleware, "queryguard")
    checks.register(check_internal_ips, "queryguard", "urls")

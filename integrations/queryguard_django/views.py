"""The dev report page: recent requests with their findings and statements, read from the ring buffer.

The page exists only when ``REPORT_PAGE`` is on (by default: when ``DEBUG`` is) and the client is allowed
(``INTERNAL_IPS`` or the ``ALLOWED`` callback); otherwise it answers 404. It never runs SQL, escapes every
value, and shows parameter values only with ``SHOW_PARAMS``.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from django.conf import settings as django_settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template import Context, Engine
from django.urls import reverse
from django.utils.html import escape

from queryguard._report import label

from . import _ring, conf

_engine = Engine(
    dirs=[os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")], autoescape=True
)


def _allow(request: HttpRequest) -> conf.DjangoSettings:
    settings = conf.get()
    if not settings.page_enabled():
        why = "QUERYGUARD['REPORT_PAGE'] is False" if settings.report_page is False else "DEBUG is off"
        raise Http404(
            f"queryguard's report page is off: {why} (set QUERYGUARD['REPORT_PAGE'] = True to force it)"
        )
    if not settings.client_allowed(request):
        raise Http404(f"queryguard's report page is off for this client: {_refusal(request, settings)}")
    return settings


def _refusal(request: HttpRequest, settings: conf.DjangoSettings) -> str:
    """Why ``request``'s client may not see the page, and what to set."""
    if settings.allowed is not None:
        return "the QUERYGUARD['ALLOWED'] callback said no"
    internal = list(getattr(django_settings, "INTERNAL_IPS", None) or ())
    address = request.META.get("REMOTE_ADDR")
    listed = f"INTERNAL_IPS is {internal!r}" if internal else "INTERNAL_IPS is empty"
    return f"its address {address!r} is not in INTERNAL_IPS ({listed}); add it to INTERNAL_IPS"


def index(request: HttpRequest) -> HttpResponse:
    """The recent requests, newest first."""
    _allow(request)
    rows = [_row(entry) for entry in _ring.recent()]
    html = _engine.get_template("queryguard_django/index.html").render(Context({"rows": rows}))
    return _private(HttpResponse(html))


def _row(entry: _ring.Entry) -> dict[str, Any]:
    cap = entry.capture
    kinds: dict[str, int] = {}
    for finding in cap.findings:
        kinds[label(finding.kind)] = kinds.get(label(finding.kind), 0) + 1
    return {
        "entry": entry,
        # Formatted here: the template's time filter would show it in TIME_ZONE under a "UTC" heading.
        "at_utc": entry.at.astimezone(datetime.timezone.utc).strftime("%H:%M:%S"),
        "url": reverse("queryguard_django:detail", args=[entry.id]),
        "queries": cap.query_count,
        "db_time_ms": f"{cap.db_time_ms:.1f}",
        "findings": len(cap.findings),
        "kinds": sorted(kinds.items()),
        "worst": max((f.severity for f in cap.findings), key=("info", "warning", "error").index, default=""),
    }


def detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    """One request's report: its findings with their fixes, and its statements."""
    entry = _entry(request, entry_id)
    back = f'<body>\n<p><a href="{escape(reverse("queryguard_django:index"))}">&larr; recent requests</a></p>'
    return _private(HttpResponse(entry.capture.report.to_html().replace("<body>", back, 1)))


#: ``<``, ``>`` and ``&`` only occur inside JSON strings, where their escapes mean the same: the JSON is
#: unchanged for a parser, and a browser that reads it as HTML (sniffed, or embedded) finds no markup.
_JSON_HTML_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def detail_json(request: HttpRequest, entry_id: int) -> HttpResponse:
    """One request's report as JSON, escaped for HTML contexts too."""
    entry = _entry(request, entry_id)
    text = entry.capture.report.to_json().translate(_JSON_HTML_ESCAPES)
    return _private(HttpResponse(text, content_type="application/json"))


def _entry(request: HttpRequest, entry_id: int) -> _ring.Entry:
    _allow(request)
    entry = _ring.get(entry_id)
    if entry is None:
        raise Http404("this request is no longer kept (RING_SIZE)")
    return entry


def _private(response: HttpResponse) -> HttpResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["X-Content-Type-Options"] = "nosniff"  # the JSON is never read as HTML
    return response

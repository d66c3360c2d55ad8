"""Rule 1 under Django: a raising logger or a failing helper of queryguard never changes a response."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client, override_settings

# The same fixtures as the core tests: a raising filter or handler, and no internal error logged yet.
from tests.core.test_host import broken_logging, fresh_errors  # noqa: F401

from ._client import asgi_get
from ._data import seed

RESPONSE_HEADERS = ("X-QueryGuard-Findings", "X-QueryGuard-Report", "Server-Timing")


def get(path: str, *, asgi: bool) -> Any:
    """One request through Django's test client: WSGI (``Client``) or ASGI (``AsyncClient``)."""
    if asgi:
        return asgi_get(path)
    return Client().get(path)


def assert_as_without_queryguard(path: str, *, asgi: bool, **queryguard: Any) -> list[Any]:
    """Two requests with ``QUERYGUARD`` answer exactly as without the middleware; return them."""
    with override_settings(MIDDLEWARE=[]):
        bare = get(path, asgi=asgi)
    with override_settings(QUERYGUARD={"EXPLAIN": False, **queryguard}):
        guarded = [get(path, asgi=asgi) for _ in range(2)]
    for response in guarded:
        assert (response.status_code, response.content) == (bare.status_code, bare.content)
        assert {k: v for k, v in response.headers.items() if k not in RESPONSE_HEADERS} == dict(bare.headers)
    return guarded


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "asgi"), [("/books/3/", False), ("/books/3/", True), ("/async/books/4/", True)]
)
@pytest.mark.parametrize("action", ["log", "warn"])
@pytest.mark.usefixtures("broken_logging")
def test_a_raising_logger_leaves_the_response_as_django_alone_makes_it(
    path: str, asgi: bool, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule 1: a finding logged through a raising filter or handler: the same response, no 500."""
    seed()
    assert_as_without_queryguard(path, asgi=asgi, ACTION=action)
    if action == "log":
        assert capsys.readouterr().err.count("queryguard internal error in logging") == 1


HELPERS = [
    "queryguard_django._rows.flush",
    "queryguard_django.middleware._is_report_page",
    "queryguard_django._ring.add",
    "queryguard_django.middleware._headers",
    "queryguard._pipeline.finish",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("helper", HELPERS)
@pytest.mark.usefixtures("fresh_errors")
def test_a_failing_helper_leaves_the_response_unchanged_and_is_logged_once(
    helper: str,
    asgi: bool,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rule 1: each helper at the middleware's boundary, made to raise, costs the response nothing."""
    seed()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{helper} is broken")

    monkeypatch.setattr(helper, broken)
    with override_settings(DEBUG=True), caplog.at_level(logging.ERROR, logger="queryguard"):
        assert_as_without_queryguard("/books/3/", asgi=asgi, ACTION="log")
    errors = [r for r in caplog.records if "queryguard internal error" in r.getMessage()]
    assert len(errors) == 1, [r.getMessage() for r in errors]


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_errors")
def test_the_headers_are_all_added_or_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while the headers are built leaves none of them half-added."""
    seed()
    monkeypatch.setattr("queryguard_django.middleware.reverse", lambda *a, **k: 1 / 0)
    with override_settings(DEBUG=True, QUERYGUARD={"ACTION": "none", "EXPLAIN": False}):
        response = Client().get("/books/3/")
    assert response.status_code == 200
    assert not [name for name in RESPONSE_HEADERS if name in response.headers]

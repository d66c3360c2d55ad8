"""Two requests are never one loop, even when one unit (a test's capture) holds both."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import AsyncClient, Client, override_settings

import queryguard

from ._data import seed

pytestmark = pytest.mark.django_db


def kinds(cap: queryguard.Capture) -> list[tuple[str, int]]:
    """(kind, count) of each finding of ``cap``."""
    return sorted((f.kind, f.count) for f in cap.findings)


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    """The middleware's own per-request units act on nothing; the tests read their own capture."""
    with override_settings(QUERYGUARD={"ACTION": "none", "EXPLAIN": False}):
        yield


def test_one_lookup_in_each_of_two_requests_is_no_n_plus_one() -> None:
    """The same view line runs once per request, for two requests of one test: two units, no loop."""
    seed()
    client = Client()
    with queryguard.capture(action="none", explain=False) as cap:
        assert client.get("/authors/1/").status_code == 200
        assert client.get("/authors/2/").status_code == 200
    assert [kind for kind, _ in kinds(cap)] == []


def test_without_the_middleware_two_requests_are_still_two_units() -> None:
    """The request signal, not the middleware, tells requests apart."""
    seed()
    client = Client()
    with override_settings(MIDDLEWARE=[]), queryguard.capture(action="none", explain=False) as cap:
        client.get("/authors/1/")
        client.get("/authors/2/")
        client.get("/authors/3/")
    assert cap.findings == []


def test_a_loop_inside_one_request_is_still_an_n_plus_one() -> None:
    """A view's own loop is an N+1 in the test's capture as in the request's."""
    seed()
    with queryguard.capture(action="none", explain=False) as cap:
        Client().get("/books/3/")
    assert [f.relation for f in cap.findings if f.kind == "n_plus_one"] == ["Book.author"]


@pytest.mark.django_db(transaction=True)  # the async client's thread writes outside the test's transaction
async def test_two_async_requests_are_two_units() -> None:
    """Under ASGI (Django's async handler) too."""
    from asgiref.sync import sync_to_async

    from .testapp.models import Author

    await sync_to_async(seed)()
    first, second = [a.pk async for a in Author.objects.order_by("pk")[:2]]
    client = AsyncClient()
    with queryguard.capture(action="none", explain=False) as cap:
        assert (await client.get(f"/authors/{first}/")).status_code == 200
        assert (await client.get(f"/authors/{second}/")).status_code == 200
    assert cap.findings == []

"""The dev report page: recent requests and their findings, only for allowed clients, never running SQL."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings
from queryguard_django import _ring

import queryguard
from queryguard import QueryEvent

from ._data import seed

PAGE = "/__queryguard__/"


@pytest.fixture
def debug() -> Iterator[None]:
    """DEBUG on (the page's default switch), findings not logged."""
    with override_settings(DEBUG=True, QUERYGUARD={"ACTION": "none", "EXPLAIN": False}):
        yield


@pytest.mark.django_db
def test_lists_recent_requests_newest_first_with_their_findings(debug: None) -> None:
    """Each request is a row with its method, path, status, queries and finding kinds."""
    seed()
    client = Client()
    client.get("/clean/")
    client.get("/books/3/")
    page = client.get(PAGE).content.decode()
    assert page.index("GET /books/3/") < page.index("GET /clean/")
    assert "N+1 &times;1" in page
    assert f"GET {PAGE}" not in page, "the page's own requests are not listed"
    client.get(PAGE)
    assert f"GET {PAGE}" not in client.get(PAGE).content.decode()


@pytest.mark.django_db
def test_the_time_column_is_utc_whatever_the_time_zone(debug: None) -> None:
    """The "time (UTC)" column shows UTC, not the project's TIME_ZONE."""
    with override_settings(TIME_ZONE="Pacific/Kiritimati"):  # UTC+14: never the same hour as UTC
        Client().get("/clean/")
        page = Client().get(PAGE).content.decode()
    shown = re.findall(r"<td>(\d\d):\d\d:\d\d</td>", page)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert shown and int(shown[0]) in {now.hour, (now.hour - 1) % 24}


@pytest.mark.django_db
def test_detail_shows_findings_and_statements(debug: None) -> None:
    """A request's report: the finding with its fix, every statement; also as JSON."""
    seed()
    client = Client()
    link = client.get("/books/3/").headers["X-QueryGuard-Report"]
    html = client.get(link).content.decode()
    assert "Book.author" in html and "select_related(&quot;author&quot;)" in html
    data = json.loads(client.get(link.rstrip("/") + ".json").content)
    (unit,) = data["units"]
    assert unit["unit"] == "GET /books/3/" and len(unit["statements"]) == 4
    assert unit["findings"][0]["relation"] == "Book.author"


@pytest.mark.django_db
def test_off_without_debug_and_for_other_clients() -> None:
    """Rule 5: DEBUG off, or a client outside INTERNAL_IPS: the page does not exist (404)."""
    with override_settings(DEBUG=False):
        assert Client().get(PAGE).status_code == 404
    with override_settings(DEBUG=True):
        assert Client(REMOTE_ADDR="192.0.2.7").get(PAGE).status_code == 404
        assert Client().get(PAGE).status_code == 200
    with override_settings(DEBUG=False, QUERYGUARD={"REPORT_PAGE": True}):
        assert Client().get(PAGE).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "client", "reason"),
    [
        (
            {"INTERNAL_IPS": []},
            {},
            "its address &#x27;127.0.0.1&#x27; is not in INTERNAL_IPS (INTERNAL_IPS is empty)",
        ),
        ({}, {"REMOTE_ADDR": "192.0.2.7"}, "its address &#x27;192.0.2.7&#x27; is not in INTERNAL_IPS"),
        (
            {"QUERYGUARD": {"ALLOWED": "builtins.callable"}},
            {},
            "the QUERYGUARD[&#x27;ALLOWED&#x27;] callback",
        ),
        ({"QUERYGUARD": {"REPORT_PAGE": False}}, {}, "QUERYGUARD[&#x27;REPORT_PAGE&#x27;] is False"),
    ],
)
def test_the_404_says_why_the_page_is_off(
    overrides: dict[str, object], client: dict[str, str], reason: str
) -> None:
    """With DEBUG on, Django's 404 page tells the developer why queryguard's page is off and what to set."""
    with override_settings(DEBUG=True, **overrides):
        response = Client(**client).get(PAGE)
    assert response.status_code == 404
    assert reason in response.content.decode()


@pytest.mark.django_db
def test_the_page_runs_no_sql(debug: None) -> None:
    """Rule 2: the list, a report and its JSON read memory only, whatever SQL a request sends them."""
    seed()
    client = Client()
    link = client.get("/books/3/").headers["X-QueryGuard-Report"]
    sent = {"sql": "DELETE FROM testapp_book", "explain": "SELECT 1"}
    with queryguard.capture(action="none") as cap:
        assert client.get(PAGE, sent).status_code == 200
        assert client.get(link, sent).status_code == 200
        assert client.get(link.rstrip("/") + ".json", sent).status_code == 200
        assert client.post(link, sent).status_code == 200
    assert cap.query_count == 0


@pytest.mark.django_db
def test_everything_is_escaped(debug: None) -> None:
    """A request path with markup is shown as text."""
    client = Client()
    client.get("/<script>alert(1)</script>/")
    page = client.get(PAGE).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
@pytest.mark.parametrize("show", [False, True])
def test_parameter_values_only_with_show_params(show: bool) -> None:
    """Rule 4: the text a user searched for appears only when SHOW_PARAMS is on."""
    with override_settings(DEBUG=True, QUERYGUARD={"ACTION": "none", "EXPLAIN": False, "SHOW_PARAMS": show}):
        client = Client()
        link = client.get("/search/", {"q": "needle-7f3a"}).headers["X-QueryGuard-Report"]
        html = client.get(link).content.decode()
        raw = client.get(link.rstrip("/") + ".json").content.decode()
        listing = client.get(PAGE).content.decode()
    assert "duplicate" in html
    assert ("needle-7f3a" in html) is show and ("needle-7f3a" in raw) is show
    assert "needle-7f3a" not in listing


@pytest.mark.django_db
def test_the_ring_keeps_the_last_ring_size_requests() -> None:
    """RING_SIZE bounds the memory: older requests are dropped, and their links answer 404."""
    with override_settings(DEBUG=True, QUERYGUARD={"ACTION": "none", "RING_SIZE": 2}):
        client = Client()
        links = [client.get(f"/books/{n}/").headers["X-QueryGuard-Report"] for n in (3, 4, 5)]
        assert [client.get(link).status_code for link in links] == [404, 200, 200]
        page = client.get(PAGE).content.decode()
    assert "GET /books/3/" not in page and "GET /books/5/" in page


MARKUP = "</script><script>alert(1)</script>"


@pytest.mark.django_db
def test_the_json_is_never_read_as_html(debug: None) -> None:
    """Markup in a unit name, call site and relation: the JSON escapes it, and is sent with nosniff."""
    with queryguard.capture(name=f"GET /{MARKUP}", action="none", explain=False) as cap:
        for n in range(3):
            event = QueryEvent(
                "SELECT name FROM author WHERE id = ?",
                (n,),
                vendor="sqlite",
                relation=f"Book.{MARKUP}",
                callsite=f"shop/{MARKUP}.py:7 in view",
            )
            queryguard.record(event)
    entry = _ring.add(cap, method="GET", path=f"/{MARKUP}", status=200, size=10)
    response = Client().get(f"{PAGE}{entry.id}.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = response.content.decode()
    assert not {"<", ">", "&"} & set(text)
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in text
    (unit,) = json.loads(text)["units"]
    (finding,) = unit["findings"]
    assert unit["unit"] == f"GET /{MARKUP}"
    assert (finding["relation"], finding["callsite"]) == (f"Book.{MARKUP}", f"shop/{MARKUP}.py:7 in view")


@pytest.mark.django_db
def test_every_page_is_sent_with_nosniff(debug: None) -> None:
    """The list, a report and its JSON all forbid content sniffing."""
    client = Client()
    link = client.get("/clean/").headers["X-QueryGuard-Report"]
    for path in (PAGE, link, link.rstrip("/") + ".json"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path

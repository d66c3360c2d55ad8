"""Overhead of the Django integration: one view running 100 queries, with and without queryguard.

The bookshop's models on an SQLite file; the view lists 99 books and reads ``book.author`` for each (an N+1:
1 + 99 = 100 queries). Bare: Django without the middleware and without the connection hook. Instrumented:
``QueryGuardMiddleware`` and the hook, with the default settings (findings logged, to a null handler here).
Both run in one process through Django's WSGI handler, on a server thread, in rounds of four requests ordered
bare, instrumented, instrumented, bare: a drift of the machine's speed then weighs on both sides of a round
alike. A round's ratio compares the CPU time of the process its two sides took (wall time on a shared machine
measures the neighbours too); the result is the median of the rounds' ratios, with a 95% confidence
interval of that median and the rounds' quartiles.

A second row measures the ``unused_eager_load`` detector alone: the middleware and the hook on both sides, the
detector off (its "bare" side) and on, in rounds of four requests ordered off, on, on, off.
"""

from __future__ import annotations

import gc
import io
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in ("src", "integrations", "example_projects/django_bookshop"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

BOOKS = 99
ROUNDS = 300
WARM_UP = 10
URL = "/bench/books/"


def _setup(path: Path) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="bench",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=["django.contrib.contenttypes", "queryguard_django", "shop"],
            DATABASES={
                "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "CONN_MAX_AGE": None}
            },
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
            MIDDLEWARE=[],
            USE_TZ=True,
        )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shop.models import Author, Book

    authors = Author.objects.bulk_create([Author(name=f"author {i}", country="x") for i in range(BOOKS)])
    Book.objects.bulk_create(
        [Book(title=f"book {i}", author=authors[i], price_cents=1000, stock=1) for i in range(BOOKS)]
    )


def book_authors(request: Any) -> Any:
    """The measured view: 1 query for the books, 99 for their authors."""
    from django.http import HttpResponse
    from shop.models import Book

    names = [book.author.name for book in Book.objects.order_by("id")[:BOOKS]]
    return HttpResponse(", ".join(names))


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path(URL.strip("/") + "/", book_authors)]


def __getattr__(name: str) -> Any:
    # ROOT_URLCONF points at this module; its patterns are built on first use, after django.setup().
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def _environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": URL,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }


Handler = Callable[[dict[str, Any], Any], Any]


def _handler(middleware: list[str]) -> Handler:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def _start_response(status: str, headers: list[tuple[str, str]]) -> None:
    assert status.startswith("200")


def _request(handler: Handler) -> float:
    started = time.process_time()
    response = handler(_environ(), _start_response)
    assert b"author" in b"".join(response)
    response.close()
    return time.process_time() - started


def _rounds(
    bare: Callable[..., Any], instrumented: Callable[..., Any], count: int
) -> list[tuple[float, ...]]:
    # Runs on the server thread, as requests do under a real server: no frame of this module's above the view
    # but this one (the call-site walk goes all the way up, as it does under runserver or gunicorn). The
    # connection hook is switched on and off around the instrumented requests: bare requests run bare.
    from django.db import connections
    from queryguard_django import _hooks

    connection = connections["default"]
    rounds = []
    for _ in range(count):
        _hooks.unhook(connection)
        first_bare = _request(bare)
        _hooks.hook(connection)
        first, second = _request(instrumented), _request(instrumented)
        _hooks.unhook(connection)
        rounds.append((first_bare, first, second, _request(bare)))
    return rounds


def _detector_rounds(instrumented: Callable[..., Any], count: int) -> list[tuple[float, ...]]:
    # The middleware and the hook on both sides; the ``unused_eager_load`` detector off, on, on, off. With it
    # on, the first statement of each request wraps Django's related-object descriptors (the view reads
    # book.author 99 times through them) and the end of the request restores them.
    from django.db import connections
    from queryguard_django import _hooks, conf

    off = conf.parse({"UNUSED_EAGER_LOAD": False})
    on = conf.parse({"UNUSED_EAGER_LOAD": True})
    _hooks.hook(connections["default"])
    rounds = []
    try:
        for _ in range(count):
            conf._cached = off
            first_off = _request(instrumented)
            conf._cached = on
            first, second = _request(instrumented), _request(instrumented)
            conf._cached = off
            rounds.append((first_off, first, second, _request(instrumented)))
    finally:
        conf._cached = None
        _hooks.unhook(connections["default"])
    return rounds


def _row(name: str, rounds: list[tuple[float, ...]], target: str) -> dict[str, Any]:
    ratios = sorted(
        (first + second) / (first_bare + second_bare) for first_bare, first, second, second_bare in rounds
    )
    quartiles = statistics.quantiles(ratios, n=4)[::2]
    low, high = median_interval(ratios)
    median = statistics.median(ratios)
    return {
        "name": name,
        "bare_s": statistics.median([r[0] for r in rounds] + [r[3] for r in rounds]),
        "instrumented_s": statistics.median([r[1] for r in rounds] + [r[2] for r in rounds]),
        "ratio": median,
        "target": target,
        "ratio_quartiles": quartiles,
        "ratio_interval": (low, high),
        "value": (
            f"median {median:.3f} of {len(rounds)} rounds (95% interval {low:.3f}-{high:.3f}); "
            f"rounds' quartiles {quartiles[0]:.2f}-{quartiles[1]:.2f}"
        ),
    }


def run() -> list[dict[str, Any]]:
    """Measure; one row."""
    folder = tempfile.TemporaryDirectory()
    _setup(Path(folder.name) / "bench.sqlite3")
    logger = logging.getLogger("queryguard")
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [logging.NullHandler()], False
    bare = _handler([])
    instrumented = _handler(["queryguard_django.middleware.QueryGuardMiddleware"])
    server = ThreadPoolExecutor(1)
    try:
        server.submit(_rounds, bare, instrumented, WARM_UP).result()
        gc.collect()
        rounds = server.submit(_rounds, bare, instrumented, ROUNDS).result()
        gc.collect()
        detector = server.submit(_detector_rounds, instrumented, ROUNDS).result()
    finally:
        server.shutdown()
        logger.handlers, logger.propagate = saved
        folder.cleanup()
    return [
        _row("Django view, 100 queries", rounds, "at most 1.10"),
        _row(
            "Django view, 100 queries: unused_eager_load on (instrumented) against off (bare)",
            detector,
            "at most 1.02",
        ),
    ]


def median_interval(ordered: list[float]) -> tuple[float, float]:
    """A 95% confidence interval of the median of ``ordered`` (sorted), from its order statistics.

    The number of samples below the true median is binomial(n, 1/2): the interval runs between the ranks
    n/2 -/+ 1.96 * sqrt(n)/2. It says how well the median is known; the quartiles say how far rounds spread.
    """
    n = len(ordered)
    spread = 0.98 * math.sqrt(n)
    low = max(0, math.floor(n / 2 - spread) - 1)
    high = min(n - 1, math.ceil(n / 2 + spread))
    return ordered[low], ordered[high]


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['name']}: bare {row['bare_s'] * 1000:.2f} ms, with queryguard "
            f"{row['instrumented_s'] * 1000:.2f} ms per request, "
            f"ratio {row['ratio']:.3f} (95% interval of the median: {row['ratio_interval'][0]:.3f}-"
            f"{row['ratio_interval'][1]:.3f}; quartiles of the rounds: {row['ratio_quartiles'][0]:.3f}, "
            f"{row['ratio_quartiles'][1]:.3f}; target: {row['target']})"
        )

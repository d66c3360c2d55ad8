"""Views of the test project, each a known pattern of queries."""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from .models import Author, Book


def book_list(request: HttpRequest) -> HttpResponse:
    """Forward N+1 from a template: ``{{ book.author.name }}``."""
    return render(request, "testapp/book_list.html", {"books": Book.objects.order_by("id")})


def first_books(request: HttpRequest, n: int) -> HttpResponse:
    """Forward N+1 over the first ``n`` books, from this view."""
    books = list(Book.objects.order_by("id")[:n])
    names = [book.author.name for book in books]
    return HttpResponse(",".join(names))


def clean(request: HttpRequest) -> HttpResponse:
    """No finding: one query with select_related."""
    names = [book.author.name for book in Book.objects.select_related("author").order_by("id")]
    return HttpResponse(",".join(names))


async def async_books(request: HttpRequest, n: int) -> HttpResponse:
    """Async view, async ORM: one ``aget()`` per book (an N+1 named ``Author.get()``)."""
    names = []
    async for book in Book.objects.order_by("id")[:n]:
        author = await Author.objects.aget(pk=book.author_id)
        names.append(author.name)
    await asyncio.sleep(0)
    return HttpResponse(",".join(names))


def streaming(request: HttpRequest) -> StreamingHttpResponse:
    """Streams rows that a generator queries while the server sends them."""

    def rows():  # type: ignore[no-untyped-def]
        for book in Book.objects.order_by("id"):
            yield f"{book.title}\n"

    return StreamingHttpResponse(rows())


def failing(request: HttpRequest) -> HttpResponse:
    """Runs a query, then raises."""
    Book.objects.count()
    raise ValueError("the view failed")


def two_databases(request: HttpRequest) -> HttpResponse:
    """Queries on the default database and on the ``other`` alias."""
    here = Book.objects.count()
    there = Book.objects.using("other").count()
    return HttpResponse(f"{here},{there}")


def in_a_thread(request: HttpRequest) -> HttpResponse:
    """Runs queries in a worker thread that carries the request's context."""
    from . import closing  # here, not above: tests name the lines of the views above

    def work() -> int:
        try:
            return sum(1 for book in Book.objects.all() if book.author.name)
        finally:
            closing.close_all()

    with ThreadPoolExecutor(1) as pool:
        count = pool.submit(contextvars.copy_context().run, work).result()
    return HttpResponse(str(count))


async def async_in_thread(request: HttpRequest) -> HttpResponse:
    """An async view that runs sync ORM code through sync_to_async."""

    def work() -> int:
        return sum(1 for book in Book.objects.all() if book.author.name)

    return HttpResponse(str(await sync_to_async(work)()))


def raw_sql(request: HttpRequest) -> HttpResponse:
    """Raw SQL through connection.cursor()."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM testapp_tag")
        rows = cursor.fetchall()
    return HttpResponse(str(len(rows)))


def search(request: HttpRequest) -> HttpResponse:
    """Looks a title up twice (a duplicate), with the user's text as the parameter."""
    title = request.GET.get("q", "")
    first = Book.objects.filter(title=title).count()
    again = Book.objects.filter(title=title).count()
    return HttpResponse(str(first + again))


def author_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One lookup per request, from this view."""
    return HttpResponse(Author.objects.get(pk=pk).name)

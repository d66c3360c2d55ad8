"""Django: pages, duplicates, helpers called from several places, two databases, raw SQL through Django's
cursor and ``SELECT *``."""

from __future__ import annotations

from typing import Any

from _corpus import cases_for
from corpus_app.models import Author, Book, Counter, Event, Tag
from django.core.paginator import Paginator
from django.db import connection, connections

case = cases_for("django")


def _events_table() -> str:
    return Event._meta.db_table


@case()
def page_loop_limit_offset() -> int:
    """A real page loop: 100 rows per page over 1,000 events (LIMIT/OFFSET); no finding (item 4)."""
    seen, start = 0, 0
    while True:
        page = list(Event.objects.order_by("id")[start : start + 100])
        if not page:
            break
        seen += len(page)
        start += 100
    return seen


@case()
def paginator_every_page() -> int:
    """django.core.paginator over every page of 250 events: no finding (item 4)."""
    paginator = Paginator(Event.objects.order_by("id"), 250)
    return sum(len(paginator.page(n).object_list) for n in paginator.page_range)


@case()
def keyset_page_loop() -> int:
    """Keyset pagination: WHERE id > last ORDER BY id LIMIT 200 until empty; no finding (item 4)."""
    last, seen = 0, 0
    while True:
        page = list(Event.objects.filter(id__gt=last).order_by("id")[:200])
        if not page:
            break
        seen += len(page)
        last = page[-1].id
    return seen


@case()
def first_per_item_in_loop() -> list[str]:
    """.first() for each author (LIMIT 1 per iteration): an N+1, not a page (item 4)."""
    titles = []
    for author in Author.objects.order_by("id"):
        book = Book.objects.filter(author=author).order_by("id").first()  # expect: n_plus_one
        titles.append(book.title if book else "")
    return titles


@case()
def last_per_item_in_loop() -> list[str]:
    """.last() for each author: an N+1 (item 4)."""
    titles = []
    for author in Author.objects.order_by("id"):
        book = author.books.order_by("id").last()  # expect: n_plus_one Author.books
        titles.append(book.title if book else "")
    return titles


@case()
def slice_one_per_item_in_loop() -> list[int]:
    """[:1] for each tag: an N+1 (item 4)."""
    newest = []
    for tag in Tag.objects.all():
        newest += Book.objects.filter(tags=tag).order_by("-id")[:1]  # expect: n_plus_one
    return [b.id for b in newest]


@case()
def second_row_per_item_in_loop() -> list[str]:
    """[1:2] for each author (OFFSET 1 LIMIT 1): still an N+1, an OFFSET is no page (item 4)."""
    titles = []
    for author in Author.objects.filter(id__lte=10):
        second = Book.objects.filter(author=author).order_by("id")[1:2]
        titles += [b.title for b in second]  # expect: n_plus_one
    return titles


@case()
def latest_per_item_in_loop() -> list[int]:
    """.latest("id") for each publisher's authors: an N+1 (item 4)."""
    ids = []
    for name in ("publisher 1", "publisher 2", "publisher 3"):
        ids.append(Author.objects.filter(publisher__name=name).latest("id").id)  # expect: n_plus_one
    return ids


@case()
def same_get_twice() -> str:
    """Author 1 fetched twice, on two lines, with the same parameters: a duplicate."""
    first = Author.objects.get(pk=1)  # expect: duplicate_query
    again = Author.objects.get(pk=1)
    return first.name + again.name


@case()
def same_count_twice() -> int:
    """The same .count() run twice: a duplicate."""
    books = Book.objects.filter(price__gt=8)
    total = books.count()  # expect: duplicate_query
    return total + books.count()


@case()
def loop_invariant_lookup_in_loop() -> list[int]:
    """A lookup that does not depend on the loop, repeated in it with the same parameters: a duplicate."""
    prices = []
    for book in Book.objects.filter(id__lte=6):
        low = Book.objects.values_list("price", flat=True).order_by("price")[0]  # expect: duplicate_query
        prices.append(book.price - low)
    return prices


@case()
def evaluated_queryset_reused() -> int:
    """A queryset evaluated once and reused: one query."""
    books = list(Book.objects.filter(price__gt=8))
    return len(books) + sum(b.price for b in books)


@case()
def cached_relation_reread() -> str:
    """book.author read twice on one instance: Django caches it, one load only."""
    book = Book.objects.get(pk=5)
    return book.author.name + book.author.name


@case()
def helper_from_two_callers() -> str:
    """A lookup helper called once by an auth step and once by a service, two users: none (item 1)."""

    def load_author(author_id: int) -> Author:
        return Author.objects.get(pk=author_id)

    def authenticate() -> Author:
        return load_author(1)

    def service() -> Author:
        return load_author(2)

    return authenticate().name + service().name


@case()
def helper_from_two_callers_same_row() -> str:
    """The same helper loading the same row for both callers: a duplicate, reuse the first (item 1)."""

    def load_author(author_id: int) -> Author:
        return Author.objects.get(pk=author_id)  # expect: duplicate_query

    def authenticate() -> Author:
        return load_author(3)

    def service() -> Author:
        return load_author(3)

    return authenticate().name + service().name


@case()
def helper_called_in_loop() -> list[str]:
    """The lookup helper called in a loop: an N+1 at the helper's line (item 1)."""

    def load_author(author_id: int) -> Author:
        return Author.objects.get(pk=author_id)  # expect: n_plus_one

    return [load_author(book.author_id).name for book in Book.objects.filter(id__lte=12)]


@case()
def helper_called_in_two_loops() -> list[str]:
    """The helper called in two loops: two N+1s, one per loop, the stack tells them apart (item 1)."""

    def load_author(author_id: int) -> Author:
        return Author.objects.get(pk=author_id)  # expect: n_plus_one; n_plus_one

    names = [load_author(i).name for i in (1, 2, 3)]
    names += [load_author(i).name for i in (4, 5, 6)]
    return names


@case()
def same_select_on_two_aliases() -> str:
    """The same SELECT on aliases default and other: neither a duplicate nor an N+1 (item 6)."""
    here = Author.objects.using("default").get(pk=1)
    there = Author.objects.using("other").get(pk=1)
    return here.name + there.name


@case()
def each_alias_in_loop() -> list[str]:
    """The same lookup once per database in a loop over aliases: no finding (item 6)."""
    return [Author.objects.using(alias).get(pk=2).name for alias in ("default", "other")]


@case()
def raw_cursor_loop_with_params() -> list[Any]:
    """connection.cursor() with bound parameters in a loop: an N+1."""
    rows = []
    with connection.cursor() as cursor:
        for book_id in range(1, 8):
            cursor.execute("SELECT title FROM corpus_book WHERE id = %s", [book_id])  # expect: n_plus_one
            rows.append(cursor.fetchone())
    return rows


@case()
def raw_cursor_loop_with_literals() -> list[Any]:
    """connection.cursor() with the id formatted into the SQL text in a loop: an N+1 (item 5)."""
    rows = []
    with connection.cursor() as cursor:
        for book_id in range(1, 8):
            cursor.execute(f"SELECT title FROM corpus_book WHERE id = {book_id}")  # expect: n_plus_one
            rows.append(cursor.fetchone())
    return rows


@case()
def raw_cursor_write_loop_with_literals() -> None:
    """UPDATEs with literal values formatted into the text, one per row: a write loop (item 5)."""
    with connection.cursor() as cursor:
        for counter_id in range(1, 6):
            sql = f"UPDATE corpus_counter SET value = {counter_id} WHERE id = {counter_id}"
            cursor.execute(sql)  # expect: write_loop


@case()
def raw_cursor_executemany() -> None:
    """cursor.executemany() of twenty rows: one batch, no finding."""
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO corpus_counter (name, value) VALUES (%s, %s)", [(f"many {i}", i) for i in range(20)]
        )


@case()
def raw_cursor_none_and_empty_params() -> int:
    """The same statement with params None and params []: equal statements, a duplicate (item 6)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(id) FROM corpus_book WHERE price > 8")  # expect: duplicate_query
        first = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(id) FROM corpus_book WHERE price > 8", [])
        return int(first) + int(cursor.fetchone()[0])


@case()
def raw_cursor_select_star() -> list[Any]:
    """SELECT * written by the user through Django's cursor: select_star (item 7)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM corpus_tag ORDER BY name")  # expect: select_star
        return cursor.fetchall()


@case()
def raw_queryset_select_star() -> list[str]:
    """Model.objects.raw("SELECT * ..."): the user wrote the select list, select_star (item 7)."""
    return [t.name for t in Tag.objects.raw("SELECT * FROM corpus_tag WHERE id < 4")]  # expect: select_star


@case()
def raw_queryset_named_columns() -> list[str]:
    """Model.objects.raw() with named columns: no finding."""
    return [t.name for t in Tag.objects.raw("SELECT id, name FROM corpus_tag WHERE id < 4")]


@case()
def count_star_and_exists() -> int:
    """COUNT(*) and EXISTS (SELECT * ...) written by hand: not a select list, no finding (item 7)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM corpus_book")
        books = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT COUNT(*) FROM corpus_author a WHERE EXISTS (SELECT * FROM corpus_book b "
            "WHERE b.author_id = a.id)"
        )
        return books + int(cursor.fetchone()[0])


@case()
def insert_select_star_by_hand() -> None:
    """INSERT ... SELECT * from a table of the same columns: not a select list anyone reads (item 7)."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO corpus_counter SELECT * FROM corpus_counter WHERE 1 = 0")


@case()
def other_alias_cursor_select_star() -> list[Any]:
    """SELECT * on the other database's cursor: select_star there too (item 7)."""
    with connections["other"].cursor() as cursor:
        cursor.execute("SELECT * FROM corpus_counter WHERE id < 3")  # expect: select_star
        return cursor.fetchall()


@case()
def count_then_page() -> int:
    """A list view: a COUNT and one page, once each; no finding."""
    total = Counter.objects.count()
    page = list(Counter.objects.order_by("id")[:5])
    return total + len(page)


@case()
def table_name_from_meta() -> int:
    """Raw SQL on a table named through the model's Meta, once: no finding."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(n) FROM {_events_table()}")
        return int(cursor.fetchone()[0])


class _AuthorUrls:
    """A URLconf of one generic view (Django's own code loads the object: no frame of the user's)."""

    @property
    def urlpatterns(self) -> list[Any]:
        from django.http import HttpResponse
        from django.urls import path
        from django.views.generic import DetailView

        class AuthorDetail(DetailView):  # type: ignore[type-arg]
            model = Author

            def render_to_response(self, context: Any, **kwargs: Any) -> HttpResponse:
                return HttpResponse(self.object.name)

        return [path("authors/<int:pk>/", AuthorDetail.as_view())]


@case()
def two_requests_to_a_generic_view() -> list[int]:
    """A test sends two requests to a generic DetailView; each loads its author once, in Django's code:
    two units of work in one test, not a loop (seen in a Django tutorial's test suite)."""
    from django.test import Client, override_settings

    with override_settings(ROOT_URLCONF=_AuthorUrls(), ALLOWED_HOSTS=["testserver"]):
        client = Client()
        first = client.get("/authors/1/")
        second = client.get("/authors/2/")
    return [first.status_code, second.status_code]


@case()
def same_row_created_from_two_lines() -> int:
    """Two Counter rows with the same values, created from two lines: two rows written, not a read asked
    twice; no finding."""
    first = Counter.objects.create(name="visit", value=1)
    second = Counter.objects.create(name="visit", value=1)
    return first.pk + second.pk

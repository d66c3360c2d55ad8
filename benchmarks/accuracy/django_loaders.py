"""Django: loader strategies (Prefetch objects, prefetch_related_objects, .only()/.defer(), .iterator())
and the lookups a loop repeats without any relation (.get(), .filter(), aggregates)."""

from __future__ import annotations

from _corpus import cases_for
from corpus_app.models import Author, Book, Event, Post, Review, Tag
from django.db.models import Avg, Prefetch, prefetch_related_objects

case = cases_for("django")


@case()
def prefetch_object_to_attr() -> list[int]:
    """Prefetch("books", queryset=..., to_attr="cheap") and reading the attribute: two queries."""
    cheap = Prefetch("books", queryset=Book.objects.filter(price__lt=9), to_attr="cheap")
    return [len(a.cheap) for a in Author.objects.prefetch_related(cheap)]


@case()
def prefetch_object_to_attr_unused() -> list[int]:
    """A Prefetch to_attr="cheap", then the loop reads author.books instead: Author.books is the N+1."""
    cheap = Prefetch("books", queryset=Book.objects.filter(price__lt=9), to_attr="cheap")
    sizes = []
    for author in Author.objects.prefetch_related(cheap):
        sizes.append(len(author.books.all()))  # expect: n_plus_one Author.books
    return sizes


@case()
def prefetch_object_with_select_related() -> list[str]:
    """Prefetch("books", queryset=Book.objects.select_related("editor")): two queries."""
    books = Prefetch("books", queryset=Book.objects.select_related("editor"))
    return [b.editor.name for a in Author.objects.prefetch_related(books) for b in a.books.all()]


@case()
def prefetch_related_objects_once() -> list[int]:
    """prefetch_related_objects() on the whole list: one query for all books' tags."""
    books = list(Book.objects.filter(id__lte=12))
    prefetch_related_objects(books, "tags")
    return [len(b.tags.all()) for b in books]


@case()
def prefetch_related_objects_per_object() -> list[int]:
    """prefetch_related_objects() called for each book in turn: one query per book."""
    sizes = []
    for book in Book.objects.filter(id__lte=8):
        prefetch_related_objects([book], "tags")  # expect: n_plus_one Book.tags
        sizes.append(len(book.tags.all()))
    return sizes


@case()
def only_then_deferred_field_in_loop() -> list[str]:
    """.only("id", "title") then book.summary read in the loop: one load of Book.summary per book."""
    out = []
    for book in Book.objects.only("id", "title").filter(id__lte=10):
        out.append(book.summary[:3])  # expect: n_plus_one Book.summary
    return out


@case()
def defer_then_deferred_field_in_loop() -> list[int]:
    """.defer("price") then book.price read in the loop."""
    return [b.price for b in Book.objects.defer("price").filter(id__lte=7)]  # expect: n_plus_one Book.price


@case()
def deferred_field_same_row_repeated() -> list[str]:
    """A join repeats each book once per tag; its deferred title loads twice per book: an N+1 (item 3)."""
    titles = []
    for book in Book.objects.filter(tags__id__in=[1, 2]).only("id").order_by("id")[:10]:
        titles.append(book.title)  # expect: n_plus_one Book.title
    return titles


@case()
def only_with_every_field_read() -> list[str]:
    """.only() naming every field the loop reads: one query."""
    return [f"{b.title} {b.price}" for b in Book.objects.only("id", "title", "price")]


@case()
def deferred_field_read_once() -> str:
    """One deferred field read once: two queries, no loop."""
    book = Book.objects.only("id").get(pk=3)
    return book.summary


@case()
def iterator_forward_fk_in_loop() -> list[str]:
    """.iterator() does not prefetch; book.author for each book is an N+1."""
    names = []
    for book in Book.objects.filter(id__lte=9).iterator():
        names.append(book.author.name)  # expect: n_plus_one Book.author
    return names


@case()
def iterator_with_select_related() -> list[str]:
    """.iterator() with select_related("author"): one query."""
    return [b.author.name for b in Book.objects.select_related("author").iterator(chunk_size=100)]


@case()
def get_by_pk_in_loop() -> list[str]:
    """Book.objects.get(pk=...) for each id: an N+1 to replace with in_bulk()."""
    titles = []
    for book_id in range(1, 9):
        titles.append(Book.objects.get(pk=book_id).title)  # expect: n_plus_one
    return titles


@case()
def in_bulk_instead_of_get() -> list[str]:
    """in_bulk(ids): one query."""
    found = Book.objects.in_bulk(list(range(1, 9)))
    return [found[i].title for i in range(1, 9)]


@case()
def filter_by_foreign_key_in_loop() -> list[int]:
    """Book.objects.filter(author=author) written out for each author."""
    counts = []
    for author in Author.objects.order_by("id"):
        counts.append(len(Book.objects.filter(author=author)))  # expect: n_plus_one
    return counts


@case()
def aggregate_per_object_in_loop() -> list[float]:
    """An aggregate over each book's reviews, one query per book."""
    means = []
    for book in Book.objects.filter(id__lte=6):
        means.append(Review.objects.filter(book=book).aggregate(m=Avg("rating"))["m"])  # expect: n_plus_one
    return means


@case()
def values_lookup_in_loop() -> list[str]:
    """A .values_list() lookup of each book's author name, one query per book."""
    names = []
    for book in Book.objects.filter(id__lte=6):
        names += Author.objects.filter(pk=book.author_id).values_list("name", flat=True)  # expect: n_plus_one
    return names


@case()
def refresh_from_db_in_loop() -> list[str]:
    """refresh_from_db() for each object: one SELECT per object."""
    books = list(Book.objects.filter(id__lte=6))
    for book in books:
        book.refresh_from_db()  # expect: n_plus_one
    return [b.title for b in books]


@case()
def filter_exists_in_loop() -> list[bool]:
    """An .exists() written with filter() for each tag."""
    return [Book.objects.filter(tags=t).exists() for t in Tag.objects.all()]  # expect: n_plus_one


@case()
def one_query_with_in_list() -> list[str]:
    """One query with an IN list of thirty ids: no finding."""
    return [b.title for b in Book.objects.filter(id__in=list(range(1, 31)))]


@case()
def union_of_two_querysets() -> int:
    """Two different querysets, each run once: no finding."""
    return len(Book.objects.filter(price__lt=8)) + len(Post.objects.filter(featured=True))


@case()
def values_and_count_once() -> int:
    """A page's usual handful of distinct queries, each once: no finding."""
    total = Event.objects.count()
    kinds = list(Event.objects.values_list("kind", flat=True).distinct())
    first = Event.objects.order_by("id").first()
    return total + len(kinds) + (first.n if first else 0)

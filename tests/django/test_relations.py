"""Every relation kind is named, with its fix in Django's words; correct code yields no finding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.template import Context, Engine

import queryguard
from queryguard import Capture

from ._data import seed
from .testapp.models import Author, Book, Comment, Profile, Publisher, Review, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> dict[str, Any]:
    """The test data on the default database."""
    return seed()


def captured(work: Callable[[], object]) -> Capture:
    """Run ``work`` inside a capture that only collects."""
    with queryguard.capture(action="none", explain=False) as cap:
        work()
    return cap


def n_plus_one(cap: Capture) -> queryguard.Finding:
    """The one N+1 finding of ``cap``."""
    found = [f for f in cap.findings if f.kind == "n_plus_one"]
    assert len(found) == 1, [f.message for f in cap.findings]
    return found[0]


CASES = [
    (
        "forward",
        lambda: [b.author.name for b in Book.objects.all()],
        "Book.author",
        "many_to_one",
        "author",
        'select_related("author")',
    ),
    (
        "forward_one_to_one",
        lambda: [p.author.name for p in Profile.objects.all()],
        "Profile.author",
        "many_to_one",
        "author",
        'select_related("author")',
    ),
    (
        "reverse_fk",
        lambda: [list(a.books.all()) for a in Author.objects.all()],
        "Author.books",
        "one_to_many",
        "books",
        'prefetch_related("books")',
    ),
    (
        "many_to_many",
        lambda: [list(b.tags.all()) for b in Book.objects.all()],
        "Book.tags",
        "many_to_many",
        "tags",
        'prefetch_related("tags")',
    ),
    (
        "many_to_many_reverse",
        lambda: [list(t.book_set.all()) for t in Tag.objects.all()],
        "Tag.book_set",
        "many_to_many",
        "book_set",
        'prefetch_related("book_set")',
    ),
    (
        "reverse_one_to_one",
        lambda: [a.profile.bio for a in Author.objects.all()],
        "Author.profile",
        "one_to_one_reverse",
        "profile",
        'prefetch_related("profile")',
    ),
    (
        "generic_foreign_key",
        lambda: [c.content_object for c in Comment.objects.all()],
        "Comment.content_object",
        "generic",
        "content_object",
        'prefetch_related("content_object")',
    ),
    (
        "generic_relation",
        lambda: [list(b.comments.all()) for b in Book.objects.all()],
        "Book.comments",
        "generic",
        "comments",
        'prefetch_related("comments")',
    ),
    (
        "deferred",
        lambda: [b.price for b in Book.objects.only("title")],
        "Book.price",
        "deferred",
        "price",
        "add it to .only()",
    ),
    (
        "get",
        lambda: [Book.objects.get(title=f"book {i}.0") for i in range(3)],
        "Book.get()",
        "get",
        None,
        "in_bulk(ids)",
    ),
    (
        "count",
        lambda: [a.books.count() for a in Author.objects.all()],
        "Author.books",
        "count",
        "books",
        'annotate(n=Count("books"))',
    ),
    (
        "exists",
        lambda: [a.books.exists() for a in Author.objects.all()],
        "Author.books",
        "exists",
        "books",
        'annotate(n=Count("books"))',
    ),
    (
        "many_to_many_count",
        lambda: [b.tags.count() for b in Book.objects.all()],
        "Book.tags",
        "count",
        "tags",
        'annotate(n=Count("tags"))',
    ),
    (
        "filter_count",
        lambda: [Review.objects.filter(book=b).count() for b in Book.objects.all()],
        "Book.reviews",
        "count",
        "reviews",
        'annotate(n=Count("reviews"))',
    ),
    (
        "filter_reverse",
        lambda: [list(Book.objects.filter(author=a)) for a in Author.objects.all()],
        "Author.books",
        "one_to_many",
        "books",
        'prefetch_related("books")',
    ),
    (
        "values_list",
        lambda: [list(a.books.values_list("title", flat=True)) for a in Author.objects.all()],
        "Author.books",
        "one_to_many",
        "books",
        'prefetch_related("books")',
    ),
    (
        "prefetch_objects",
        lambda: [prefetch_related_objects([a], "books") for a in Author.objects.all()],
        "Author.books",
        "prefetch_objects",
        "books",
        "call prefetch_related_objects() once",
    ),
]


@pytest.mark.parametrize(
    ("work", "relation", "kind", "path", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_relation_is_named_with_its_fix(
    data: dict[str, Any], work: Callable[[], object], relation: str, kind: str, path: str | None, fix: str
) -> None:
    """The N+1 names the relation, its kind, the lookup to add, and the fix in Django's words."""
    finding = n_plus_one(captured(work))
    assert finding.relation == relation
    assert finding.details["relation_kind"] == kind
    assert finding.event is not None and finding.event.relation_path == path
    assert fix in finding.suggestion
    assert finding.callsite.startswith("tests/django/test_relations.py:")


def test_nested_prefetch_names_the_full_lookup(data: dict[str, Any]) -> None:
    """Reviews of prefetched books: the lookup to add is the full path from the outer queryset."""
    cap = captured(
        lambda: [
            list(b.reviews.all()) for a in Author.objects.prefetch_related("books") for b in a.books.all()
        ]
    )
    finding = n_plus_one(cap)
    assert finding.relation == "Book.reviews"
    assert finding.event is not None and finding.event.relation_path == "books__reviews"
    assert 'prefetch_related("books__reviews")' in finding.suggestion


def test_nested_fix_names_the_outer_queryset(data: dict[str, Any]) -> None:
    """The full lookup goes on the queryset the loop started from (Author), not on the inner model's."""
    cap = captured(
        lambda: [
            list(b.reviews.all()) for a in Author.objects.prefetch_related("books") for b in a.books.all()
        ]
    )
    finding = n_plus_one(cap)
    assert finding.suggestion == 'add .prefetch_related("books__reviews") to the queryset that loads Author'


def test_nested_foreign_keys_name_the_select_related_chain(data: dict[str, Any]) -> None:
    """book.author.publisher: the publisher's lookup from the books is author__publisher."""
    cap = captured(lambda: [b.author.publisher.name for b in Book.objects.all()])
    paths = {e.relation: e.relation_path for e in cap.queries if e.relation}
    assert paths == {"Book.author": "author", "Author.publisher": "author__publisher"}


def test_to_one_under_a_to_many_relation_keeps_the_inner_lookup(data: dict[str, Any]) -> None:
    """select_related() cannot cross book_set (to-many): the fix for book.author names only "author"."""
    cap = captured(
        lambda: [b.author.name for t in Tag.objects.prefetch_related("book_set") for b in t.book_set.all()]
    )
    finding = n_plus_one(cap)
    assert finding.relation == "Book.author"
    assert finding.event is not None and finding.event.relation_path == "author"
    assert 'select_related("author")' in finding.suggestion


def test_to_one_reverse_under_a_to_many_relation_names_the_full_lookup(data: dict[str, Any]) -> None:
    """prefetch_related() crosses anything: author.profile under publishers' authors is authors__profile."""
    cap = captured(
        lambda: [
            a.profile.bio for p in Publisher.objects.prefetch_related("authors") for a in p.authors.all()
        ]
    )
    finding = n_plus_one(cap)
    assert finding.relation == "Author.profile"
    assert finding.event is not None and finding.event.relation_path == "authors__profile"


def test_the_parent_query_is_named(data: dict[str, Any]) -> None:
    """The N+1 points at the statement whose rows the loop walks (row counts work on SQLite too)."""
    finding = n_plus_one(captured(lambda: [b.author.name for b in Book.objects.all()]))
    assert finding.parent_callsite is not None
    assert finding.parent_callsite.startswith("tests/django/test_relations.py:")
    assert finding.count == 6


def test_to_one_loads_count_their_row_where_django_cached_it(data: dict[str, Any]) -> None:
    """book.author, author.profile: a load's row count is read from the instance Django cached it on."""
    lonely = Author.objects.create(name="no profile", publisher=data["publishers"][0])

    def work() -> None:
        names = [b.author.name for b in Book.objects.order_by("id")]
        assert len(names) == 6
        with pytest.raises(Profile.DoesNotExist):
            lonely.profile  # noqa: B018 - the access runs the statement
        Tag.objects.count()  # a last statement: the loads before it are complete

    cap = captured(work)
    authors = [e for e in cap.queries if e.relation == "Book.author"]
    (profile,) = [e for e in cap.queries if e.relation == "Author.profile"]
    assert [e.rowcount for e in authors] == [1] * 6 and profile.rowcount == 0
    assert all(e.holder is None and e.queryset is None for e in [*authors, profile])  # type: ignore[attr-defined]


def test_template_line_is_the_call_site(data: dict[str, Any]) -> None:
    """A query run while a template renders is reported at the template file and line."""
    engine = Engine(app_dirs=True)
    template = engine.get_template("testapp/book_list.html")
    finding = n_plus_one(captured(lambda: template.render(Context({"books": Book.objects.order_by("id")}))))
    assert finding.relation == "Book.author"
    assert finding.callsite.endswith("testapp/templates/testapp/book_list.html:4")
    assert finding.parent_callsite is not None and finding.parent_callsite.endswith("book_list.html:2")


def _two_lines() -> None:
    first = Book.objects.get(pk=1)
    second = Book.objects.get(pk=2)
    assert first != second


FINE = [
    ("separate_lines", _two_lines),
    ("cached_queryset_twice", lambda: (lambda qs: (list(qs), list(qs), len(qs)))(Book.objects.all())),
    ("prefetch_related", lambda: [list(a.books.all()) for a in Author.objects.prefetch_related("books")]),
    ("select_related", lambda: [b.author.name for b in Book.objects.select_related("author")]),
    (
        "nested_prefetch",
        lambda: [
            list(b.reviews.all())
            for a in Author.objects.prefetch_related("books__reviews")
            for b in a.books.all()
        ],
    ),
    (
        "prefetch_object",
        lambda: [
            [b.author.name for b in a.selected]
            for a in Author.objects.prefetch_related(
                Prefetch("books", queryset=Book.objects.select_related("author"), to_attr="selected")
            )
        ],
    ),
    ("annotate_count", lambda: [a.n for a in Author.objects.annotate(n=Count("books"))]),
    (
        "generic_prefetch",
        lambda: [c.content_object for c in Comment.objects.prefetch_related("content_object")],
    ),
]


@pytest.mark.parametrize("work", [c[1] for c in FINE], ids=[c[0] for c in FINE])
def test_correct_code_has_no_finding(data: dict[str, Any], work: Callable[[], object]) -> None:
    """Objects loaded on separate lines, a cached queryset, and prefetching done right: no finding."""
    cap = captured(work)
    assert cap.query_count >= 1
    assert cap.findings == []


def test_every_statement_is_marked_django(data: dict[str, Any]) -> None:
    """Statements with no relation still carry orm="django" (the fixes speak Django)."""
    cap = captured(lambda: list(Book.objects.all()))
    assert [e.orm for e in cap.queries] == ["django"]
    assert cap.queries[0].relation is None

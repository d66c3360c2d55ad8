"""``unused_eager_load`` on Django: select_related and prefetch_related paths that no code read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Prefetch
from django.db.models import query as django_query
from django.db.models.fields import related_descriptors as rd
from django.template import Context, Engine

import queryguard
from queryguard import Capture

from ._data import seed
from .conftest import ALL_DATABASES, backend_params
from .testapp.models import Author, Book, Profile

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def captured(work: Callable[[], object], **settings: Any) -> Capture:
    """Run ``work`` inside a capture that only collects."""
    with queryguard.capture(action="none", explain=False, **settings) as cap:
        work()
    return cap


def unused(cap: Capture) -> list[queryguard.Finding]:
    """The unused_eager_load findings of ``cap``."""
    return [f for f in cap.findings if f.kind == "unused_eager_load"]


@pytest.fixture(params=backend_params())
def alias(request: pytest.FixtureRequest) -> str:
    """A database alias with the test data on it."""
    seed(request.param)
    return str(request.param)


def test_select_related_never_read(alias: str) -> None:
    """A select_related path no code reads is one finding at the line that evaluated the queryset."""
    cap = captured(lambda: [b.title for b in Book.objects.using(alias).select_related("author")])
    [finding] = unused(cap)
    assert finding.severity == "info"
    assert finding.relation == "Book.author"
    assert finding.callsite.startswith("tests/django/test_unused_eager_load.py:")
    assert finding.details["rows"] == 6
    assert finding.message.startswith('select_related("author") at tests/django/test_unused_eager_load.py:')
    assert "loaded Book.author for 6 rows, and no code read it" in finding.message
    assert 'remove "author" from .select_related(...)' in finding.suggestion


def test_select_related_read_on_some_rows_is_used(alias: str) -> None:
    """A path read on only one row of six is used: no finding."""

    def work() -> None:
        books = list(Book.objects.using(alias).select_related("author").order_by("id"))
        assert books[0].author.name

    assert unused(captured(work)) == []


def test_nested_path_names_the_unread_leaf(alias: str) -> None:
    """author__publisher with author read and publisher not: the finding names Author.publisher."""

    def work() -> None:
        for book in Book.objects.using(alias).select_related("author__publisher"):
            assert book.author.name

    [finding] = unused(captured(work))
    assert finding.relation == "Author.publisher"
    assert finding.details["path"] == "author__publisher"


def test_nested_path_nothing_read_names_the_first_step(alias: str) -> None:
    """author__publisher with nothing read: one finding, on Book.author (removing it drops both)."""
    [finding] = unused(captured(lambda: list(Book.objects.using(alias).select_related("author__publisher"))))
    assert finding.relation == "Book.author"


def test_nested_path_fully_read(alias: str) -> None:
    """Every step read: no finding."""
    qs = Book.objects.using(alias).select_related("author__publisher")
    assert unused(captured(lambda: [b.author.publisher.name for b in qs])) == []


def test_reverse_one_to_one_select_related(alias: str) -> None:
    """select_related of a reverse one-to-one, unread, is a finding on Author.profile; read, none."""
    [finding] = unused(captured(lambda: list(Author.objects.using(alias).select_related("profile"))))
    assert finding.relation == "Author.profile"
    qs = Author.objects.using(alias).select_related("profile")
    assert unused(captured(lambda: [a.profile.bio for a in qs])) == []


def test_prefetch_never_read(alias: str) -> None:
    """A prefetch_related lookup no code reads is a finding naming the relation and the rows."""
    [finding] = unused(
        captured(lambda: [a.name for a in Author.objects.using(alias).prefetch_related("books")])
    )
    assert finding.relation == "Author.books"
    assert finding.details == {"method": "prefetch_related", "path": "books", "rows": 3, "root": "Author"}
    assert 'remove "books" from .prefetch_related(...)' in finding.suggestion


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda a: list(a.books.all()), id="all"),
        pytest.param(lambda a: a.books.count(), id="count"),
        pytest.param(lambda a: a.books.exists(), id="exists"),
    ],
)
def test_prefetch_read_through_its_cache_is_used(alias: str, read: Callable[[Any], object]) -> None:
    """A prefetch read only through .all()/.count()/.exists() served from its cache is no finding."""

    def work() -> None:
        for author in Author.objects.using(alias).prefetch_related("books"):
            read(author)

    cap = captured(work)
    assert unused(cap) == []
    assert cap.query_count == 2  # the cache served every read


def test_nested_prefetch_names_the_unread_leaf(alias: str) -> None:
    """books__reviews with books read and reviews not: the finding names Book.reviews."""

    def work() -> None:
        for author in Author.objects.using(alias).prefetch_related("books__reviews"):
            assert [b.title for b in author.books.all()]

    [finding] = unused(captured(work))
    assert finding.relation == "Book.reviews"
    assert finding.details["path"] == "books__reviews"


def test_prefetch_object_with_queryset(alias: str) -> None:
    """Prefetch("books", queryset=...) unread is a finding; read, none."""
    lookup = Prefetch("books", queryset=Book.objects.using(alias).order_by("title"))
    [finding] = unused(captured(lambda: list(Author.objects.using(alias).prefetch_related(lookup))))
    assert finding.relation == "Author.books"
    qs = Author.objects.using(alias).prefetch_related(lookup)
    assert unused(captured(lambda: [list(a.books.all()) for a in qs])) == []


def test_many_to_many_prefetch(alias: str) -> None:
    """A many-to-many prefetch read through its manager is used; unread it is a finding."""
    [finding] = unused(captured(lambda: list(Book.objects.using(alias).prefetch_related("tags"))))
    assert finding.relation == "Book.tags"
    qs = Book.objects.using(alias).prefetch_related("tags")
    assert unused(captured(lambda: [t.name for b in qs for t in b.tags.all()])) == []


def test_no_parent_rows_is_no_finding(alias: str) -> None:
    """An eager load over no rows loaded nothing: never a finding."""

    def work() -> None:
        list(Book.objects.using(alias).filter(title="nothing").select_related("author"))
        list(Author.objects.using(alias).filter(name="nothing").prefetch_related("books"))

    assert unused(captured(work)) == []


def test_read_after_the_last_statement_is_used(alias: str) -> None:
    """A template that reads the relation after the unit's last statement, before it ends: no finding."""
    template = Engine().from_string("{% for b in books %}{{ b.author.name }}{% endfor %}")

    def work() -> None:
        books = list(Book.objects.using(alias).select_related("author"))
        assert "author" in template.render(Context({"books": books}))

    assert unused(captured(work)) == []


def test_queryset_evaluated_by_the_first_statement(alias: str) -> None:
    """The wrappers install on the first statement of a unit: that very queryset is still seen."""
    with queryguard.capture(action="none", explain=False) as cap:
        books = list(Book.objects.using(alias).select_related("author"))
        assert books
    [finding] = unused(cap)
    assert finding.relation == "Book.author"
    assert finding.callsite.endswith("in test_queryset_evaluated_by_the_first_statement")
    with queryguard.capture(action="none", explain=False) as cap:
        books = list(Book.objects.using(alias).select_related("author"))
        assert books[0].author
    assert unused(cap) == []


def test_setting_off(alias: str) -> None:
    """unused_eager_load=False: no finding, and nothing of Django is wrapped."""
    cap = captured(lambda: list(Book.objects.using(alias).select_related("author")), unused_eager_load=False)
    assert unused(cap) == []


def test_django_is_restored_exactly(alias: str) -> None:
    """While a capture runs the functions are wrapped; after it, Django's own functions are back."""
    before = (
        vars(django_query.QuerySet)["_fetch_all"],
        vars(django_query.QuerySet)["_prefetch_related_objects"],
        vars(rd.ForwardManyToOneDescriptor)["__get__"],
        vars(rd.ReverseOneToOneDescriptor)["__get__"],
        vars(rd.ReverseManyToOneDescriptor)["__get__"],
    )
    inside: list[object] = []

    def work() -> None:
        list(Book.objects.using(alias).select_related("author"))
        inside.append(vars(django_query.QuerySet)["_fetch_all"])

    captured(work)
    assert inside[0] is not before[0]
    after = (
        vars(django_query.QuerySet)["_fetch_all"],
        vars(django_query.QuerySet)["_prefetch_related_objects"],
        vars(rd.ForwardManyToOneDescriptor)["__get__"],
        vars(rd.ReverseOneToOneDescriptor)["__get__"],
        vars(rd.ReverseManyToOneDescriptor)["__get__"],
    )
    assert all(a is b for a, b in zip(after, before, strict=True))
    assert "__get__" not in vars(rd.ForwardOneToOneDescriptor)


def test_instances_are_unchanged(alias: str) -> None:
    """Identity, isinstance, pickling and refresh_from_db behave as without the detector."""
    import pickle

    def work() -> None:
        book = Book.objects.using(alias).select_related("author").get(title="book 0.0")
        author = book.author
        assert book.author is author and isinstance(author, Author)
        copy = pickle.loads(pickle.dumps(book))
        assert copy.author.name == author.name
        assert set(copy.__dict__) - {"_django_version"} == set(book.__dict__)
        assert "queryguard" not in repr(vars(book._state)) + repr(vars(author._state))
        book.refresh_from_db()
        assert book.author.name == author.name

    captured(work)


def test_profile_prefetch_forward_one_to_one(alias: str) -> None:
    """prefetch_related of a forward one-to-one lands in the field cache: read, it is used."""
    qs = Profile.objects.using(alias).prefetch_related("author")
    assert unused(captured(lambda: [p.author.name for p in qs])) == []
    [finding] = unused(captured(lambda: list(Profile.objects.using(alias).prefetch_related("author"))))
    assert finding.relation == "Profile.author"


def test_generic_foreign_key_prefetch(alias: str) -> None:
    """A generic foreign key's prefetch, read through its descriptor, is used; unread, a finding."""
    from .testapp.models import Comment

    qs = Comment.objects.using(alias).prefetch_related("content_object")
    assert unused(captured(lambda: [c.content_object for c in qs])) == []
    [finding] = unused(
        captured(lambda: list(Comment.objects.using(alias).prefetch_related("content_object")))
    )
    assert finding.relation == "Comment.content_object"


def test_prefetch_to_attr_is_never_a_finding(alias: str) -> None:
    """Prefetch(to_attr=...) fills a plain attribute whose reads cannot be seen: never reported."""
    lookup = Prefetch("books", to_attr="book_list")
    assert unused(captured(lambda: list(Author.objects.using(alias).prefetch_related(lookup)))) == []


def test_save_is_no_read(alias: str) -> None:
    """Django's own check in save() reads the relation; that is not the code using it."""

    def work() -> None:
        for book in Book.objects.using(alias).select_related("author"):
            book.price += 1
            book.save(update_fields=["price"])

    [finding] = unused(captured(work))
    assert finding.relation == "Book.author"


def test_restored_when_a_capture_stops_without_detection(alias: str) -> None:
    """A capture stopped with act=False (no findings computed) still gives Django its functions back."""
    original = vars(django_query.QuerySet)["_fetch_all"]
    cap = queryguard.capture(action="none", explain=False).start()
    try:
        list(Book.objects.using(alias).select_related("author"))
        assert vars(django_query.QuerySet)["_fetch_all"] is not original
    finally:
        cap.stop(act=False)
    assert vars(django_query.QuerySet)["_fetch_all"] is original


def test_prefetch_related_objects(alias: str) -> None:
    """prefetch_related_objects() on a list: unread, a finding at the line that called it; read, none."""
    from django.db.models import prefetch_related_objects

    def unread() -> None:
        authors = list(Author.objects.using(alias).order_by("id"))
        prefetch_related_objects(authors, "books")

    [finding] = unused(captured(unread))
    assert finding.relation == "Author.books" and finding.details["rows"] == 3
    assert finding.callsite.endswith(" in unread")

    def read() -> None:
        authors = list(Author.objects.using(alias).order_by("id"))
        prefetch_related_objects(authors, "books")
        assert [b.title for a in authors for b in a.books.all()]

    assert unused(captured(read)) == []

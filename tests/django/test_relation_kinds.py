"""Every relation kind is named on every backend, and the fix it names removes the N+1 (or write loop)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db.models import Count

import queryguard
from queryguard import Capture, _suggest

from .conftest import ALL_DATABASES, backend_params
from .kinds.models import (
    Club,
    DraftPost,
    FeaturedPost,
    Label,
    Member,
    Membership,
    Note,
    Passport,
    Place,
    Post,
    Reply,
    Restaurant,
)

pytestmark = [
    pytest.mark.parametrize("alias", backend_params()),
    pytest.mark.django_db(databases=ALL_DATABASES),
]
LOOPS = ("n_plus_one", "write_loop")


@pytest.fixture
def data(alias: str) -> None:
    """Four members following each other, friends, clubs, passports; posts with labels, notes, replies."""
    db = alias
    members = [Member.objects.using(db).create(name=f"member {i}") for i in range(4)]
    clubs = [Club.objects.using(db).create(name=f"club {i}") for i in range(3)]
    labels = [Label.objects.using(db).create(name=f"label {i}") for i in range(3)]
    for i, member in enumerate(members):
        member.follows.add(members[(i + 1) % 4], members[(i + 2) % 4])
        member.friends.add(members[(i + 1) % 4])
        Passport.objects.using(db).create(member=member, number=f"P{i}")
        Membership.objects.using(db).create(member=member, club=clubs[i % 3])
    for i in range(4):
        post = Post.objects.using(db).create(title=f"post {i}")
        post.labels.add(*labels[:2])
        Note.objects.using(db).create(content_object=post, text=f"note {i}")
        Reply.objects.using(db).create(post_id=post.pk, text=f"reply {i}")
        Restaurant.objects.using(db).create(name=f"place {i}", serves_pizza=i % 2 == 0)


def captured(work: Callable[[], object]) -> Capture:
    """Run ``work`` inside a capture that only collects."""
    with queryguard.capture(action="none", explain=False) as cap:
        work()
    return cap


def loops(cap: Capture) -> list[queryguard.Finding]:
    """The N+1 and write-loop findings of ``cap``."""
    return [f for f in cap.findings if f.kind in LOOPS]


Work = Callable[[str], object]
#: (id, the loop, relation, relation kind, a piece of the fix, the loop with that fix applied)
CASES: list[tuple[str, Work, str, str, str, Work]] = [
    (
        "self_m2m_follows",
        lambda db: [len(m.follows.all()) for m in Member.objects.using(db)],
        "Member.follows",
        "many_to_many",
        'prefetch_related("follows")',
        lambda db: [len(m.follows.all()) for m in Member.objects.using(db).prefetch_related("follows")],
    ),
    (
        "self_m2m_followers",
        lambda db: [len(m.followers.all()) for m in Member.objects.using(db)],
        "Member.followers",
        "many_to_many",
        'prefetch_related("followers")',
        lambda db: [len(m.followers.all()) for m in Member.objects.using(db).prefetch_related("followers")],
    ),
    (
        "self_m2m_symmetrical",
        lambda db: [len(m.friends.all()) for m in Member.objects.using(db)],
        "Member.friends",
        "many_to_many",
        'prefetch_related("friends")',
        lambda db: [len(m.friends.all()) for m in Member.objects.using(db).prefetch_related("friends")],
    ),
    (
        "self_m2m_count",
        lambda db: [m.follows.count() for m in Member.objects.using(db)],
        "Member.follows",
        "count",
        'annotate(n=Count("follows"))',
        lambda db: [m.n for m in Member.objects.using(db).annotate(n=Count("follows"))],
    ),
    (
        "self_m2m_reverse_exists",
        lambda db: [m.followers.exists() for m in Member.objects.using(db)],
        "Member.followers",
        "exists",
        'prefetch_related("followers") and test bool(obj.followers.all())',
        lambda db: [bool(m.followers.all()) for m in Member.objects.using(db).prefetch_related("followers")],
    ),
    (
        "m2m_reverse_count_prefetched",
        lambda db: [label.posts.count() for label in Label.objects.using(db)],
        "Label.posts",
        "count",
        'prefetch_related("posts") and len(obj.posts.all())',
        lambda db: [len(label.posts.all()) for label in Label.objects.using(db).prefetch_related("posts")],
    ),
    (
        "generic_relation_on_proxy",
        lambda db: [len(p.notes.all()) for p in FeaturedPost.objects.using(db)],
        "Post.notes",
        "generic",
        'prefetch_related("notes")',
        lambda db: [len(p.notes.all()) for p in FeaturedPost.objects.using(db).prefetch_related("notes")],
    ),
    (
        "generic_relation_count_on_proxy",
        lambda db: [p.notes.count() for p in DraftPost.objects.using(db)],
        "Post.notes",
        "count",
        'annotate(n=Count("notes"))',
        lambda db: [p.n for p in DraftPost.objects.using(db).annotate(n=Count("notes"))],
    ),
    (
        "generic_foreign_key",
        lambda db: [n.content_object for n in Note.objects.using(db)],
        "Note.content_object",
        "generic",
        'prefetch_related("content_object")',
        lambda db: [n.content_object for n in Note.objects.using(db).prefetch_related("content_object")],
    ),
    (
        "m2m_through_model",
        lambda db: [len(c.members.all()) for c in Club.objects.using(db)],
        "Club.members",
        "many_to_many",
        'prefetch_related("members")',
        lambda db: [len(c.members.all()) for c in Club.objects.using(db).prefetch_related("members")],
    ),
    (
        "m2m_through_model_reverse",
        lambda db: [len(m.clubs.all()) for m in Member.objects.using(db)],
        "Member.clubs",
        "many_to_many",
        'prefetch_related("clubs")',
        lambda db: [len(m.clubs.all()) for m in Member.objects.using(db).prefetch_related("clubs")],
    ),
    (
        "reverse_one_to_one",
        lambda db: [m.passport.number for m in Member.objects.using(db)],
        "Member.passport",
        "one_to_one_reverse",
        'prefetch_related("passport")',
        lambda db: [m.passport.number for m in Member.objects.using(db).prefetch_related("passport")],
    ),
    (
        "fk_to_proxy",
        lambda db: [r.post.title for r in Reply.objects.using(db)],
        "Reply.post",
        "many_to_one",
        'select_related("post")',
        lambda db: [r.post.title for r in Reply.objects.using(db).select_related("post")],
    ),
    (
        "reverse_fk_of_proxy",
        lambda db: [len(p.replies.all()) for p in FeaturedPost.objects.using(db)],
        "FeaturedPost.replies",
        "one_to_many",
        'prefetch_related("replies")',
        lambda db: [len(p.replies.all()) for p in FeaturedPost.objects.using(db).prefetch_related("replies")],
    ),
    (
        "inheritance_parent_to_child",
        lambda db: [p.restaurant.name for p in Place.objects.using(db)],
        "Place.restaurant",
        "one_to_one_reverse",
        'prefetch_related("restaurant")',
        lambda db: [p.restaurant.name for p in Place.objects.using(db).prefetch_related("restaurant")],
    ),
]


@pytest.mark.parametrize(
    ("work", "relation", "kind", "fix", "fixed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_kind_is_named_and_its_fix_works(
    alias: str, data: None, work: Work, relation: str, kind: str, fix: str, fixed: Work
) -> None:
    """The N+1 names the relation, its kind and a fix; the loop with that fix applied has no finding."""
    (finding,) = loops(captured(lambda: work(alias)))
    assert (finding.kind, finding.relation) == ("n_plus_one", relation)
    assert finding.details["relation_kind"] == kind
    assert fix in finding.suggestion
    assert finding.callsite.startswith("tests/django/test_relation_kinds.py:")
    cap = captured(lambda: fixed(alias))
    assert cap.query_count >= 1
    assert cap.findings == []


def test_child_to_parent_link_runs_no_query(alias: str, data: None) -> None:
    """restaurant.place_ptr is built from the row the child's query joined: no query, no finding."""
    cap = captured(lambda: [r.place_ptr.name for r in Restaurant.objects.using(alias)])
    assert cap.query_count == 1
    assert cap.findings == []


def _add_one_by_one(db: str) -> None:
    post = Post.objects.using(db).order_by("pk")[0]
    for label in Label.objects.using(db):
        post.labels.add(label)


def _remove_one_by_one(db: str) -> None:
    post = Post.objects.using(db).order_by("pk")[0]
    for label in list(post.labels.all()):
        post.labels.remove(label)


def _befriend_one_by_one(db: str) -> None:
    first, *others = Member.objects.using(db).order_by("pk")
    for other in others:
        first.friends.add(other)


WRITES = [
    ("m2m_add", _add_one_by_one, "Post.labels", "add"),
    ("m2m_remove", _remove_one_by_one, "Post.labels", "remove"),
    ("symmetrical_add", _befriend_one_by_one, "Member.friends", "add"),
]


@pytest.mark.parametrize(("work", "relation", "kind"), [c[1:] for c in WRITES], ids=[c[0] for c in WRITES])
def test_m2m_writes_in_a_loop_name_the_relation(
    alias: str, data: None, work: Work, relation: str, kind: str
) -> None:
    """.add()/.remove() one object at a time: a write loop on the join table, named by the relation."""
    found = loops(captured(lambda: work(alias)))
    assert [(f.kind, f.relation) for f in found] == [("write_loop", relation)]
    assert found[0].event is not None and found[0].event.relation_kind == kind
    fix = _suggest.write_loop("django", "insert", "t", found[0].event)
    assert f"{relation}.through.objects" in fix and f".{kind}(*objs)" in fix


def test_m2m_add_fixes_work(alias: str, data: None) -> None:
    """The fixes of a write loop of .add(): .add(*objs) once, or through.objects.bulk_create()."""
    post, other = Post.objects.using(alias).order_by("pk")[:2]
    labels = list(Label.objects.using(alias))
    through = Post.labels.through

    def fixed() -> None:
        post.labels.add(*labels)
        rows = [through(post_id=other.pk, label_id=label.pk) for label in labels[2:]]
        through.objects.using(alias).bulk_create(rows)

    cap = captured(fixed)
    assert [f for f in cap.findings if f.kind in LOOPS] == []
    assert post.labels.count() == 3 and other.labels.count() == 3


def test_a_foreign_key_without_a_reverse_accessor_is_not_named_by_one(alias: str, data: None) -> None:
    """related_name="+": the loop is an N+1 of Stamp rows, never "Label.+" with a prefetch of "+"."""
    from .kinds.models import Stamp

    for label in Label.objects.using(alias):
        Stamp.objects.using(alias).create(label=label)
    stamps = Stamp.objects.using(alias)
    (finding,) = loops(captured(lambda: [list(stamps.filter(label=lb)) for lb in Label.objects.using(alias)]))
    assert finding.kind == "n_plus_one"
    assert "+" not in (finding.relation or "") and '"+"' not in finding.suggestion

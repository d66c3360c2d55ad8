"""Every relationship kind is named on every backend, and the fix it names removes the N+1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy
from queryguard_sqlalchemy import instrument
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import (
    Session,
    aliased,
    defer,
    immediateload,
    joinedload,
    selectinload,
    undefer,
    with_parent,
)

import queryguard
from queryguard import Capture

from ._kinds import Item, Member, Node, Order, OrderLine, Shelf, seed

_seeded: set[str] = set()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on an instrumented engine whose database holds the ``qgk_*`` tables (seeded once)."""
    key = engine.url.render_as_string(hide_password=False)
    if key not in _seeded:
        with engine.begin() as conn:
            seed(conn)
        _seeded.add(key)
    instrument(engine)
    with Session(engine) as session:
        yield session


def captured(work: Callable[[], object]) -> Capture:
    """Run ``work`` inside a capture that only collects."""
    with queryguard.capture(action="none", explain=False) as cap:
        work()
    return cap


def n_plus_ones(cap: Capture) -> list[queryguard.Finding]:
    """The N+1 findings of ``cap``."""
    return [f for f in cap.findings if f.kind == "n_plus_one"]


def _shelves(s: Session) -> list[Shelf]:
    return list(s.scalars(select(Shelf).order_by(Shelf.id)))


def _wo_count(s: Session, shelf: Shelf) -> int | None:
    return s.scalar(select(func.count()).select_from(shelf.wo_items.select().subquery()))


Work = Callable[[Session], object]
#: (id, the loop, relation, relation kind, a piece of the fix, the loop with that fix applied)
CASES: list[tuple[str, Work, str, str, str, Work]] = [
    (
        "dynamic",
        lambda s: [len(shelf.dyn_items.all()) for shelf in _shelves(s)],
        "Shelf.dyn_items",
        "dynamic",
        "session.execute(select(Shelf, Item).join(Shelf.dyn_items))",
        lambda s: s.execute(select(Shelf, Item).join(Shelf.dyn_items)).all(),
    ),
    (
        "dynamic_count",
        lambda s: [shelf.dyn_items.count() for shelf in _shelves(s)],
        "Shelf.dyn_items",
        "count",
        "session.execute(select(Shelf, func.count()).join(Shelf.dyn_items).group_by(Shelf))",
        lambda s: s.execute(select(Shelf, func.count()).join(Shelf.dyn_items).group_by(Shelf)).all(),
    ),
    (
        "write_only_select",
        lambda s: [s.scalars(shelf.wo_items.select()).all() for shelf in _shelves(s)],
        "Shelf.wo_items",
        "write_only",
        "session.execute(select(Shelf, Item).join(Shelf.wo_items))",
        lambda s: s.execute(select(Shelf, Item).join(Shelf.wo_items)).all(),
    ),
    (
        "write_only_count",
        lambda s: [_wo_count(s, shelf) for shelf in _shelves(s)],
        "Shelf.wo_items",
        "count",
        "session.execute(select(Shelf, func.count()).join(Shelf.wo_items).group_by(Shelf))",
        lambda s: s.execute(select(Shelf, func.count()).join(Shelf.wo_items).group_by(Shelf)).all(),
    ),
    (
        "write_only_self_referential",
        lambda s: [s.scalars(m.wo_follows.select()).all() for m in s.scalars(select(Member))],
        "Member.wo_follows",
        "write_only",
        "select(Member, other).join(Member.wo_follows.of_type(other)))",
        lambda s: s.execute(
            select(Member, other := aliased(Member)).join(Member.wo_follows.of_type(other))
        ).all(),
    ),
    (
        "with_parent",
        lambda s: [s.scalars(select(Node).where(with_parent(n, Node.children))).all() for n in _roots(s)],
        "Node.children",
        "one_to_many",
        "selectinload(Node.children)",
        lambda s: [n.children for n in s.scalars(select(Node).options(selectinload(Node.children)))],
    ),
    (
        "adjacency_children",
        lambda s: [len(n.children) for n in s.scalars(select(Node).order_by(Node.id))],
        "Node.children",
        "one_to_many",
        "selectinload(Node.children)",
        lambda s: [len(n.children) for n in s.scalars(select(Node).options(selectinload(Node.children)))],
    ),
    (
        "adjacency_parent_remote_side",
        lambda s: [n.parent.name for n in s.scalars(select(Node).where(Node.id > 4))],  # type: ignore[union-attr]
        "Node.parent",
        "many_to_one",
        "joinedload(Node.parent)",
        lambda s: [
            n.parent.name  # type: ignore[union-attr]
            for n in s.scalars(select(Node).where(Node.id > 4).options(joinedload(Node.parent)))
        ],
    ),
    (
        "secondary_self_referential",
        lambda s: [len(m.followers) for m in s.scalars(select(Member))],
        "Member.followers",
        "many_to_many",
        "selectinload(Member.followers)",
        lambda s: [
            len(m.followers) for m in s.scalars(select(Member).options(selectinload(Member.followers)))
        ],
    ),
    (
        "association_object",
        lambda s: [len(o.lines) for o in s.scalars(select(Order))],
        "Order.lines",
        "one_to_many",
        "selectinload(Order.lines)",
        lambda s: [len(o.lines) for o in s.scalars(select(Order).options(selectinload(Order.lines)))],
    ),
    (
        "association_object_target",
        lambda s: [line.product.name for line in s.scalars(select(OrderLine))],
        "OrderLine.product",
        "many_to_one",
        "joinedload(OrderLine.product)",
        lambda s: [
            line.product.name for line in s.scalars(select(OrderLine).options(joinedload(OrderLine.product)))
        ],
    ),
    (
        "viewonly_primaryjoin",
        lambda s: [len(shelf.cheap_items) for shelf in _shelves(s)],
        "Shelf.cheap_items",
        "one_to_many",
        "selectinload(Shelf.cheap_items)",
        lambda s: [
            len(x.cheap_items) for x in s.scalars(select(Shelf).options(selectinload(Shelf.cheap_items)))
        ],
    ),
    (
        "immediateload",
        lambda s: s.scalars(select(Shelf).options(immediateload(Shelf.cheap_items))).all(),
        "Shelf.cheap_items",
        "one_to_many",
        "selectinload(Shelf.cheap_items)",
        lambda s: s.scalars(select(Shelf).options(selectinload(Shelf.cheap_items))).all(),
    ),
    (
        "deferred_column",
        lambda s: [item.notes for item in s.scalars(select(Item).where(Item.id < 8))],
        "Item.notes",
        "deferred",
        "undefer(Item.notes)",
        lambda s: [
            item.notes for item in s.scalars(select(Item).where(Item.id < 8).options(undefer(Item.notes)))
        ],
    ),
    (
        "defer_option",
        lambda s: [i.price for i in s.scalars(select(Item).where(Item.id < 8).options(defer(Item.price)))],
        "Item.price",
        "deferred",
        "drop it from defer()",
        lambda s: [i.price for i in s.scalars(select(Item).where(Item.id < 8))],
    ),
]


def _roots(s: Session) -> list[Node]:
    return list(s.scalars(select(Node).where(Node.id < 5)))


#: SQLAlchemy 2.0's immediateload loads through a path whose statements carry no lazy clause to read.
_SA20 = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2]) < (2, 1)
_KNOWN_GAPS = {"immediateload": "SQLAlchemy 2.0's immediateload is not named (2.1's is)"} if _SA20 else {}


@pytest.mark.parametrize(
    ("work", "relation", "kind", "fix", "fixed"),
    [
        pytest.param(
            *c[1:],
            id=c[0],
            marks=[pytest.mark.xfail(strict=True, reason=_KNOWN_GAPS[c[0]])] if c[0] in _KNOWN_GAPS else [],
        )
        for c in CASES
    ],
)
def test_kind_is_named_and_its_fix_works(
    session: Session, work: Work, relation: str, kind: str, fix: str, fixed: Work
) -> None:
    """The N+1 names the relationship, its kind and a fix; the loop with that fix applied has none."""
    (finding,) = n_plus_ones(captured(lambda: work(session)))
    assert finding.relation == relation
    assert finding.details["relation_kind"] == kind
    assert fix in finding.suggestion
    assert finding.callsite.startswith("tests/sqlalchemy/test_relation_kinds.py:")
    session.expunge_all()
    cap = captured(lambda: fixed(session))
    assert cap.query_count >= 1
    assert n_plus_ones(cap) == []


def test_expired_columns_name_the_fix(session: Session, engine: Engine) -> None:
    """Columns expired by commit() read in a loop: named, and expire_on_commit=False removes the loads."""
    items = list(session.scalars(select(Item).where(Item.id < 8)))
    session.commit()
    (finding,) = n_plus_ones(captured(lambda: [item.title for item in items]))
    assert (finding.relation, finding.details["relation_kind"]) == ("Item.title", "expired")
    assert "expire_on_commit=False" in finding.suggestion
    with Session(engine, expire_on_commit=False) as kept:
        items = list(kept.scalars(select(Item).where(Item.id < 8)))
        kept.commit()
        cap = captured(lambda: [item.title for item in items])
    assert cap.query_count == 0


def test_a_filter_that_is_no_relationship_is_not_named(session: Session) -> None:
    """A hand-written WHERE on the foreign key is no relationship's load: not named (nor misnamed)."""
    cap = captured(
        lambda: [session.scalars(select(Item).where(Item.shelf_id == i)).all() for i in range(1, 5)]
    )
    (finding,) = n_plus_ones(cap)
    assert finding.relation is None


async def test_write_only_in_async_session(async_engine: Any) -> None:
    """An awaited write-only select() per parent in an AsyncSession: named, with the one-query fix."""
    from sqlalchemy.ext.asyncio import AsyncSession

    async with async_engine.begin() as conn:
        await conn.run_sync(seed)
    _seeded.clear()  # the sync tests' databases may be this one: they seed again
    instrument(async_engine)
    async with AsyncSession(async_engine) as session, queryguard.capture(action="none", explain=False) as cap:
        for shelf in (await session.scalars(select(Shelf).order_by(Shelf.id))).all():
            (await session.scalars(shelf.wo_items.select())).all()
    (finding,) = n_plus_ones(cap)
    assert (finding.relation, finding.details["relation_kind"]) == ("Shelf.wo_items", "write_only")
    assert "join(Shelf.wo_items)" in finding.suggestion

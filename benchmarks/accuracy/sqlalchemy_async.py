"""SQLAlchemy with asyncio: AsyncSession, awaitable_attrs, eager loaders, bulk APIs and their loops."""

from __future__ import annotations

from _corpus import cases_for
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy_models import Author, Book, Counter, Event, Member

case = cases_for("sqlalchemy")


@case()
async def async_awaitable_attrs_collection(session: AsyncSession) -> list[int]:
    """await author.awaitable_attrs.books for each author: an N+1 of Author.books."""
    sizes = []
    for author in (await session.scalars(select(Author).order_by(Author.id))).all():
        books = await author.awaitable_attrs.books  # expect: n_plus_one Author.books
        sizes.append(len(books))
    return sizes


@case()
async def async_awaitable_attrs_many_to_one(session: AsyncSession) -> list[str]:
    """await book.awaitable_attrs.author for books of ten authors: an N+1 of Book.author."""
    names = []
    for book in (await session.scalars(select(Book).where(Book.id <= 30))).all():
        author = await book.awaitable_attrs.author  # expect: n_plus_one Book.author
        names.append(author.name)
    return names


@case()
async def async_awaitable_attrs_self_referential(session: AsyncSession) -> list[int]:
    """await member.awaitable_attrs.followers for each member (item 8)."""
    sizes = []
    for member in (await session.scalars(select(Member))).all():
        sizes.append(len(await member.awaitable_attrs.followers))  # expect: n_plus_one Member.followers
    return sizes


@case()
async def async_awaitable_attrs_deferred(session: AsyncSession) -> list[str]:
    """await book.awaitable_attrs.summary (a deferred column) for each book."""
    out = []
    for book in (await session.scalars(select(Book).where(Book.id <= 8))).all():
        out.append(await book.awaitable_attrs.summary)  # expect: n_plus_one Book.summary
    return out


@case()
async def async_selectinload(session: AsyncSession) -> list[int]:
    """selectinload(Author.books) under asyncio: two queries."""
    authors = (await session.scalars(select(Author).options(selectinload(Author.books)))).all()
    return [len(a.books) for a in authors]


@case()
async def async_joinedload(session: AsyncSession) -> list[str]:
    """joinedload(Book.author) under asyncio: one query."""
    books = (await session.scalars(select(Book).options(joinedload(Book.author)))).all()
    return [b.author.name for b in books]


@case()
async def async_get_in_loop(session: AsyncSession) -> list[str]:
    """await session.get(Author, i) for each id: an N+1."""
    names = []
    for author_id in range(1, 8):
        author = await session.get(Author, author_id)  # expect: n_plus_one
        names.append(author.name if author else "")
    return names


@case()
async def async_limit_one_in_loop(session: AsyncSession) -> list[str]:
    """.limit(1) awaited for each author: an N+1 (item 4)."""
    titles = []
    for author_id in range(1, 9):
        query = select(Book.title).where(Book.author_id == author_id).order_by(Book.id).limit(1)
        titles.append(await session.scalar(query) or "")  # expect: n_plus_one
    return titles


@case()
async def async_page_loop(session: AsyncSession) -> int:
    """A real page loop under asyncio, 200 events per page: no finding (item 4)."""
    seen, start = 0, 0
    while True:
        page = (await session.scalars(select(Event).order_by(Event.id).limit(200).offset(start))).all()
        if not page:
            break
        seen, start = seen + len(page), start + 200
    return seen


@case()
async def async_same_select_twice(session: AsyncSession) -> int:
    """The same awaited select twice: a duplicate."""
    query = select(func.count()).select_from(Event).where(Event.kind == "view")
    first = await session.scalar(query)  # expect: duplicate_query
    return (first or 0) + (await session.scalar(query) or 0)


@case()
async def async_helper_from_two_callers(session: AsyncSession) -> str:
    """An async repository method awaited by an auth dependency and by a service: none (item 1)."""

    async def find_author(author_id: int) -> str:
        return await session.scalar(select(Author.name).where(Author.id == author_id)) or ""

    async def current_user() -> str:
        return await find_author(1)

    async def service() -> str:
        return await find_author(2)

    return await current_user() + await service()


@case()
async def async_helper_called_in_loop(session: AsyncSession) -> list[str]:
    """The async repository method awaited in a loop: an N+1 at its line (item 1)."""

    async def find_author(author_id: int) -> str:
        query = select(Author.name).where(Author.id == author_id)
        return await session.scalar(query) or ""  # expect: n_plus_one

    return [await find_author(i) for i in range(1, 8)]


@case()
async def async_add_and_flush_in_loop(session: AsyncSession) -> None:
    """session.add() and await flush() for each row: a write loop."""
    for i in range(4):
        session.add(Counter(id=800 + i, name=f"async {i}"))
        await session.flush()  # expect: write_loop


@case()
async def async_add_all_flush_once(session: AsyncSession) -> None:
    """session.add_all() and one await flush(): batched, no finding."""
    session.add_all([Counter(id=900 + i, name=f"async many {i}") for i in range(20)])
    await session.flush()


@case()
async def async_insert_values_list(session: AsyncSession) -> None:
    """insert().values([...]) awaited once: no finding."""
    await session.execute(insert(Counter).values([{"id": 950 + i, "name": f"v {i}"} for i in range(20)]))


@case()
async def async_update_per_row_in_loop(session: AsyncSession) -> None:
    """update(...).where(id == i) awaited for each row: a write loop."""
    for counter_id in range(1, 6):
        statement = update(Counter).where(Counter.id == counter_id).values(value=1)
        await session.execute(statement)  # expect: write_loop


@case()
async def async_text_literal_loop(session: AsyncSession) -> list[str]:
    """text() with literal ids in a loop, awaited: an N+1 (item 5)."""
    names = []
    for author_id in range(1, 6):
        statement = text(f"SELECT name FROM acc_author WHERE id = {author_id}")
        names.append(await session.scalar(statement))  # expect: n_plus_one
    return names


@case()
async def async_same_select_on_two_engines(session: AsyncSession, other_session: AsyncSession) -> str:
    """The same awaited SELECT on two engines: neither a duplicate nor an N+1 (item 6)."""
    query = select(Author.name).where(Author.id == 4)
    return (await session.scalar(query) or "") + (await other_session.scalar(query) or "")

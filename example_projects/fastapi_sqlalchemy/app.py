"""A small async bookshop API with eight deliberate mistakes for queryguard to find.

Run it with ``uvicorn app:app`` from this folder, then open http://127.0.0.1:8000/books. Each request
is a unit of work: queryguard logs its findings when the request ends, and (enabled here for the demo)
adds ``Server-Timing`` and ``X-QueryGuard-Findings`` to the response.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import _paths  # noqa: F401  (queryguard from this checkout when it is not installed)
from fastapi import FastAPI
from models import Author, Book, Review
from pydantic import BaseModel
from queryguard_sqlalchemy import instrument
from seed import database_url, seed, sync_url
from sqlalchemy import create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, selectinload

from queryguard.asgi import QueryGuardMiddleware

logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")

engine = create_async_engine(database_url())
sync_engine = create_engine(sync_url(database_url()))  # only for the deliberate blocking call in /stats
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
instrument(engine)
instrument(sync_engine)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.to_thread(seed, sync_engine)
    yield
    await engine.dispose()
    sync_engine.dispose()


app = FastAPI(title="bookshop", lifespan=lifespan)
# Findings in response headers are for development only: never turn server_timing on in production.
app.add_middleware(
    QueryGuardMiddleware,
    server_timing=True,
    action_min_severity="info",  # a demo: show the info findings too (the unused eager load)
    slow_query_ms=float(os.environ.get("QUERYGUARD_SLOW_QUERY_MS", "100")),
    # Awaited reads count when each takes 30 ms and running them together saves 100 ms; a small SQLite
    # database answers faster: set all three to 0 to see GET /books/1/page reported. A load test that raises
    # the slow-query limit (statements wait for a busy loop then) raises this one with it.
    sequential_awaits_min_ms=float(
        os.environ.get("QUERYGUARD_SEQUENTIAL_MIN_MS", os.environ.get("QUERYGUARD_SLOW_QUERY_MS", "30"))
    ),
    sequential_awaits_min_saved_ms=float(os.environ.get("QUERYGUARD_SEQUENTIAL_MIN_SAVED_MS", "100")),
    sequential_awaits_min_share=float(os.environ.get("QUERYGUARD_SEQUENTIAL_MIN_SHARE", "0.1")),
)


class BookOut(BaseModel):
    title: str
    author: str


class ReviewOut(BaseModel):
    book_id: int
    stars: int


class BookPageOut(BaseModel):
    title: str
    reviews: int
    stars: float


class AuthorOut(BaseModel):
    name: str
    books: int
    prolific: bool


@app.get("/books")
async def books() -> list[BookOut]:
    """Mistake 1, N+1: each book's author is lazy-loaded on its own."""
    async with SessionLocal() as session:
        result = []
        for book in (await session.scalars(select(Book).order_by(Book.id))).all():
            author = await book.awaitable_attrs.author
            result.append(BookOut(title=book.title, author=author.name))
        return result


@app.get("/books/eager")
async def books_eager() -> list[BookOut]:
    """The fix for /books: the authors come with the books, in one more statement."""
    async with SessionLocal() as session:
        rows = (
            await session.scalars(select(Book).options(selectinload(Book.author)).order_by(Book.id))
        ).all()
        return [BookOut(title=book.title, author=book.author.name) for book in rows]


async def book_count(session: AsyncSession, author_id: int) -> int:
    return await session.scalar(select(func.count(Book.id)).where(Book.author_id == author_id)) or 0


@app.get("/authors/{author_id}")
async def author(author_id: int) -> AuthorOut:
    """Mistake 2, duplicate query: the same count is asked for twice. Mistake 6, unused eager load: the
    author's books are loaded with it and never read (the counts ask the database)."""
    async with SessionLocal() as session:
        found = await session.get_one(Author, author_id, options=[selectinload(Author.books)])
        return AuthorOut(
            name=found.name,
            books=await book_count(session, author_id),
            prolific=await book_count(session, author_id) > 2,
        )


@app.get("/books/{book_id}/page")
async def book_page(book_id: int) -> BookPageOut:
    """Mistake 8, sequential awaits: three reads that need only book_id, awaited one after another."""
    async with SessionLocal() as session:
        title = await session.scalar(select(Book.title).where(Book.id == book_id))
        reviews = await session.scalar(select(func.count(Review.id)).where(Review.book_id == book_id))
        stars = await session.scalar(select(func.avg(Review.stars)).where(Review.book_id == book_id))
        return BookPageOut(title=title or "", reviews=reviews or 0, stars=float(stars or 0))


@app.post("/books/{book_id}/reviews")
async def add_reviews(book_id: int, stars: list[int]) -> dict[str, int]:
    """Mistake 3, write loop: one INSERT per review (flushed one by one to get each id)."""
    async with SessionLocal() as session:
        ids = []
        for value in stars:
            review = Review(book_id=book_id, stars=value)
            session.add(review)
            await session.flush()
            ids.append(review.id)
        await session.commit()
        return {"created": len(ids)}


@app.get("/reviews")
async def reviews(reviewer: str) -> list[ReviewOut]:
    """Mistake 5, slow query: a filter on a column with no index reads every review (EXPLAIN says which)."""
    async with SessionLocal() as session:
        found = await session.scalars(select(Review).where(Review.reviewer == reviewer))
        return [ReviewOut(book_id=review.book_id, stars=review.stars) for review in found]


@app.get("/stats")
async def stats() -> dict[str, int]:
    """Mistake 4, blocking call: a sync Session inside an async route stalls every other request."""
    with Session(sync_engine) as session:
        return {"books": session.scalar(select(func.count(Book.id))) or 0}


def render_cover(book_id: int) -> bytes:
    """Stands for a synchronous client of a cover service (or an image resize): it takes 200 ms."""
    time.sleep(0.2)
    return f"cover of book {book_id}".encode()


@app.get("/covers/{book_id}")
async def cover(book_id: int) -> dict[str, int]:
    """Mistake 7, loop stall: sync work in an async route holds the event loop; no other request runs."""
    return {"bytes": len(render_cover(book_id))}

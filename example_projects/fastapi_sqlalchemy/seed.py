"""Create the bookshop's tables and fill them: ``python seed.py`` (the app also does it on startup).

The database comes from ``DATABASE_URL`` (default: ``bookshop.sqlite3`` next to this file, through aiosqlite).
"""

from __future__ import annotations

import os
from pathlib import Path

from models import Author, Base, Book, Review
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

HERE = Path(__file__).resolve().parent
DEFAULT_URL = f"sqlite+aiosqlite:///{HERE / 'bookshop.sqlite3'}"
AUTHORS = 10
BOOKS_PER_AUTHOR = 3
REVIEWS = 5_000
#: The sync driver for each async one (the deliberate blocking call, and seeding).
SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "mysql+aiomysql": "mysql+pymysql",
}


def database_url() -> str:
    """The async database URL the app uses."""
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (psycopg 3 serves both)."""
    parsed = make_url(url)
    return parsed.set(drivername=SYNC_DRIVERS.get(parsed.drivername, parsed.drivername)).render_as_string(
        hide_password=False
    )


def seed(engine: Engine, *, reset: bool = False) -> None:
    """Create the tables and, when they are empty (or ``reset``), 10 authors with 3 books each and 5,000
    reviews."""
    if reset:
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        if session.scalar(select(func.count(Author.id))):
            return
        for a in range(1, AUTHORS + 1):
            author = Author(id=a, name=f"Author {a}")
            author.books = [Book(title=f"Book {a}.{n}") for n in range(1, BOOKS_PER_AUTHOR + 1)]
            session.add(author)
        session.flush()
        session.execute(
            insert(Review),
            [{"book_id": 1 + i % 30, "stars": 1 + i % 5, "reviewer": f"reader{i}"} for i in range(REVIEWS)],
        )
        session.commit()
    if engine.dialect.name == "postgresql":  # fresh statistics, as autovacuum would soon give them
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


if __name__ == "__main__":
    engine = create_engine(sync_url(database_url()))
    seed(engine, reset=True)
    engine.dispose()
    print(f"seeded {AUTHORS} authors, {AUTHORS * BOOKS_PER_AUTHOR} books and {REVIEWS:,} reviews")

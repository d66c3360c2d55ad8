"""SQLAlchemy 2.0 models of the corpus: every relationship loader and collection kind (tables ``acc_*``)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text, insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import (
    DeclarativeBase,
    DynamicMapped,
    Mapped,
    WriteOnlyMapped,
    mapped_column,
    relationship,
)

EVENTS = 1000


class Base(AsyncAttrs, DeclarativeBase):
    pass


book_tag = Table(
    "acc_book_tag",
    Base.metadata,
    Column("book_id", ForeignKey("acc_book.id"), primary_key=True),
    Column("tag_id", ForeignKey("acc_tag.id"), primary_key=True),
)
follow = Table(
    "acc_follow",
    Base.metadata,
    Column("follower_id", ForeignKey("acc_member.id"), primary_key=True),
    Column("followed_id", ForeignKey("acc_member.id"), primary_key=True),
)


class Publisher(Base):
    __tablename__ = "acc_publisher"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    authors: Mapped[list[Author]] = relationship(back_populates="publisher")


class Author(Base):
    __tablename__ = "acc_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("acc_publisher.id"))
    publisher: Mapped[Publisher | None] = relationship(back_populates="authors")
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.id")
    profile: Mapped[Profile | None] = relationship(back_populates="author")
    # The same rows as ``books``, through the two collection kinds that query instead of loading.
    dyn_books: DynamicMapped[Book] = relationship(viewonly=True, order_by="Book.id")
    wo_books: WriteOnlyMapped[Book] = relationship(overlaps="books,author", order_by="Book.id")


class Profile(Base):
    __tablename__ = "acc_profile"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("acc_author.id"), unique=True)
    bio: Mapped[str] = mapped_column(String(200))
    author: Mapped[Author] = relationship(back_populates="profile")


class Book(Base):
    __tablename__ = "acc_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, deferred=True)
    price: Mapped[int] = mapped_column(default=10)
    author_id: Mapped[int] = mapped_column(ForeignKey("acc_author.id"))
    author: Mapped[Author] = relationship(back_populates="books", overlaps="wo_books")
    reviews: Mapped[list[Review]] = relationship(back_populates="book", order_by="Review.id")
    tags: Mapped[list[Tag]] = relationship(secondary=book_tag, back_populates="books", order_by="Tag.id")


class Review(Base):
    __tablename__ = "acc_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("acc_book.id"))
    stars: Mapped[int]
    book: Mapped[Book] = relationship(back_populates="reviews")


class Tag(Base):
    __tablename__ = "acc_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list[Book]] = relationship(secondary=book_tag, back_populates="tags", order_by="Book.id")


class Member(Base):
    """``follows`` and ``followers``: both sides of one self-referential join table."""

    __tablename__ = "acc_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    follows: Mapped[list[Member]] = relationship(
        secondary=follow,
        primaryjoin=id == follow.c.follower_id,
        secondaryjoin=id == follow.c.followed_id,
        back_populates="followers",
        order_by="Member.id",
    )
    followers: Mapped[list[Member]] = relationship(
        secondary=follow,
        primaryjoin=id == follow.c.followed_id,
        secondaryjoin=id == follow.c.follower_id,
        back_populates="follows",
        order_by="Member.id",
    )


class Event(Base):
    __tablename__ = "acc_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))


class Counter(Base):
    __tablename__ = "acc_counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    value: Mapped[int] = mapped_column(default=0)


def seed(engine: Engine) -> None:
    """Create the tables afresh with the rows every case reads (the same shape as the Django corpus)."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Publisher), [{"id": i, "name": f"publisher {i}"} for i in range(1, 4)])
        conn.execute(
            insert(Author),
            [{"id": i, "name": f"author {i}", "publisher_id": 1 + i % 3} for i in range(1, 12)],
        )
        conn.execute(insert(Profile), [{"id": i, "author_id": i, "bio": f"bio {i}"} for i in range(1, 12)])
        conn.execute(insert(Tag), [{"id": i, "name": f"tag {i}"} for i in range(1, 6)])
        books = [
            {
                "id": i,
                "title": f"book {i}",
                "summary": f"summary {i}",
                "price": 5 + i % 10,
                "author_id": (i - 1) // 3 + 1 if i <= 30 else 11,
            }
            for i in range(1, 41)
        ]
        conn.execute(insert(Book), books)
        links = [{"book_id": b, "tag_id": 1 + (b + k) % 5} for b in range(1, 41) for k in (0, 1)]
        conn.execute(insert(book_tag), links)
        conn.execute(
            insert(Review), [{"id": i, "book_id": (i + 1) // 2, "stars": 1 + i % 5} for i in range(1, 61)]
        )
        conn.execute(insert(Member), [{"id": i, "name": f"member {i}"} for i in range(1, 9)])
        conn.execute(
            insert(follow),
            [{"follower_id": i, "followed_id": 1 + (i + k) % 8} for i in range(1, 9) for k in (0, 1)],
        )
        conn.execute(
            insert(Event),
            [{"id": i, "n": i, "kind": ("click", "view", "buy")[i % 3]} for i in range(1, EVENTS + 1)],
        )
        conn.execute(insert(Counter), [{"id": i, "name": f"counter {i}"} for i in range(1, 11)])

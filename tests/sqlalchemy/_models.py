"""A small bookshop mapped with the SQLAlchemy 2.0 declarative API (tables prefixed to share databases)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    pass


book_tag = Table(
    "qgsa_book_tag",
    Base.metadata,
    Column("book_id", ForeignKey("qgsa_book.id"), primary_key=True),
    Column("tag_id", ForeignKey("qgsa_tag.id"), primary_key=True),
)


class Author(Base):
    __tablename__ = "qgsa_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[Book]] = relationship(back_populates="author", order_by="Book.id")
    profile: Mapped[Profile | None] = relationship(back_populates="author")


class Profile(Base):
    __tablename__ = "qgsa_profile"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("qgsa_author.id"), unique=True)
    bio: Mapped[str] = mapped_column(String(200))
    author: Mapped[Author] = relationship(back_populates="profile")


class Book(Base):
    __tablename__ = "qgsa_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, deferred=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("qgsa_author.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    reviews: Mapped[list[Review]] = relationship(back_populates="book", order_by="Review.id")
    tags: Mapped[list[Tag]] = relationship(secondary=book_tag, order_by="Tag.id")


class Review(Base):
    __tablename__ = "qgsa_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("qgsa_book.id"))
    stars: Mapped[int]
    book: Mapped[Book] = relationship(back_populates="reviews")


class Tag(Base):
    __tablename__ = "qgsa_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


AUTHORS = 10
BOOKS_PER_AUTHOR = 3


def seed(bind: Engine | Connection) -> None:
    """Create the tables afresh: 10 authors with a profile, 30 books with 2 reviews each, 5 tags."""
    Base.metadata.drop_all(bind)
    Base.metadata.create_all(bind)
    with Session(bind) as session:
        tags = [Tag(id=i, name=f"tag {i}") for i in range(1, 6)]
        for a in range(1, AUTHORS + 1):
            author = Author(id=a, name=f"author {a}", profile=Profile(id=a, bio=f"bio {a}"))
            for n in range(BOOKS_PER_AUTHOR):
                book_id = (a - 1) * BOOKS_PER_AUTHOR + n + 1
                book = Book(id=book_id, title=f"book {book_id}", summary=f"summary {book_id}", author=author)
                book.reviews = [Review(id=book_id * 2 - 1, stars=4), Review(id=book_id * 2, stars=5)]
                book.tags = [tags[book_id % 5], tags[(book_id + 1) % 5]]
                session.add(book)
        session.commit()

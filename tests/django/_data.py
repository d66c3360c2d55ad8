"""The test data: 3 authors with a profile, 6 books with 2 tags, 2 reviews and 1 comment each."""

from __future__ import annotations

from typing import Any

from .testapp.models import Author, Book, Comment, Profile, Publisher, Review, Tag


def seed(alias: str = "default") -> dict[str, Any]:
    """Create the test data on ``alias`` and return its objects."""
    db = alias
    publishers = [Publisher.objects.using(db).create(name=f"publisher {i}") for i in range(3)]
    tags = [Tag.objects.using(db).create(name=f"tag {i}") for i in range(3)]
    authors, books = [], []
    for i in range(3):
        author = Author.objects.using(db).create(name=f"author {i}", publisher=publishers[i])
        Profile.objects.using(db).create(author=author, bio=f"bio {i}")
        authors.append(author)
        for j in range(2):
            book = Book.objects.using(db).create(title=f"book {i}.{j}", author=author, price=10 + j)
            book.tags.set(tags[:2])
            for k in range(2):
                Review.objects.using(db).create(book=book, rating=k + 1, body=f"review {k}")
            Comment.objects.using(db).create(content_object=book, text="nice")
            books.append(book)
    return {"authors": authors, "books": books, "tags": tags, "publishers": publishers}

"""A deterministic shop: 20 authors, 100 books, 6 tags and 50,000 reviews (the same every time)."""

from __future__ import annotations

import random

from django.db import transaction

from .models import Author, Book, Review, Tag

FIRST = ["Ada", "Boris", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Castillo"]
COUNTRIES = ["Nigeria", "Sweden", "France", "Japan", "Mexico"]
TAGS = ["classic", "crime", "fantasy", "history", "poetry", "science"]
WORDS = [
    "story",
    "plot",
    "pacing",
    "prose",
    "ending",
    "characters",
    "voice",
    "chapter",
    "slow",
    "gripping",
    "dull",
    "moving",
    "clever",
    "predictable",
    "charming",
    "dense",
    "light",
    "dark",
    "funny",
    "tender",
    "bold",
    "quiet",
    "sharp",
    "long",
    "short",
    "uneven",
]
REVIEWS_PER_BOOK = 500


def run() -> bool:
    """Fill an empty database; return False when it already holds the shop."""
    if Author.objects.exists():
        return False
    rng = random.Random(1234)
    with transaction.atomic():
        tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
        authors = Author.objects.bulk_create(
            [Author(name=f"{FIRST[i % 10]} {LAST[i % 5]}", country=COUNTRIES[i % 5]) for i in range(20)]
        )
        books = Book.objects.bulk_create(
            [
                Book(
                    title=f"The {rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i + 1}",
                    author=authors[i % 20],
                    price_cents=rng.randrange(500, 4000),
                    stock=rng.randrange(0, 30),
                )
                for i in range(100)
            ]
        )
        links = [
            Book.tags.through(book=book, tag=tags[(i + k) % 6])
            for i, book in enumerate(books)
            for k in (0, 2)
        ]
        Book.tags.through.objects.bulk_create(links)
        Review.objects.bulk_create(
            (_review(rng, book) for book in books for _ in range(REVIEWS_PER_BOOK)), batch_size=5000
        )
    return True


def _review(rng: random.Random, book: Book) -> Review:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(12, 30)))
    reviewer = f"{rng.choice(FIRST)} {rng.choice(LAST)[0]}."
    return Review(book=book, reviewer=reviewer, rating=rng.randrange(1, 6), body=body)

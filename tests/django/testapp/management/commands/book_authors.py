"""``manage.py book_authors``: prints each book with its author, one query per author (an N+1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...models import Book


class Command(BaseCommand):
    help = "Print every book with its author."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet-loop", action="store_true", help="the loop with an inline suppression")

    def handle(self, *args: Any, **options: Any) -> None:
        books = Book.objects.order_by("id")
        if options["quiet_loop"]:
            for book in books:
                self.stdout.write(f"{book.title}: {book.author.name}")  # queryguard: ignore[n_plus_one]
            return
        for book in books:
            self.stdout.write(f"{book.title}: {book.author.name}")

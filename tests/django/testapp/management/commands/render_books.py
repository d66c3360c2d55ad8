"""``manage.py render_books TEMPLATE``: renders a book list template, whose author access is an N+1."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.template.loader import render_to_string

from ...models import Book


class Command(BaseCommand):
    help = "Render a book list template."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("template", help="testapp/book_list.html or testapp/quiet_list.html")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(render_to_string(options["template"], {"books": Book.objects.order_by("id")}))

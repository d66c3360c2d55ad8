"""The shop's views. Each page but the index makes one classic database mistake, on purpose."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Author, Book, Review

PAGES = [
    ("books/", "Books", "forward and many-to-many N+1: book.author and book.tags in the template"),
    ("authors/", "Authors", "reverse N+1: author.books in the template"),
    ("authors/reviews/", "Authors' reviews", "nested N+1: book.reviews under prefetched books"),
    ("books/1/", "One book", "duplicate query: the review count, in the view and again in the template"),
    ("restock/", "Restock", 'write loop: one UPDATE per book; and select_related("author") never read'),
    ("stats/", "Stats", "raw SELECT * through connection.cursor()"),
    ("reviews/?by=Ada+O.", "A reader's reviews", "slow query: a filter on an unindexed column, 50,000 rows"),
]


def index(request: HttpRequest) -> HttpResponse:
    """Links to every page."""
    return render(request, "shop/index.html", {"pages": PAGES})


def book_list(request: HttpRequest) -> HttpResponse:
    """Forward N+1 (fix: .select_related("author")) and many-to-many N+1 (fix: .prefetch_related("tags"))."""
    books = Book.objects.order_by("title")[:40]
    return render(request, "shop/book_list.html", {"books": books})


def author_list(request: HttpRequest) -> HttpResponse:
    """Reverse N+1 (fix: .prefetch_related("books"))."""
    authors = Author.objects.order_by("name")
    return render(request, "shop/author_list.html", {"authors": authors})


def author_reviews(request: HttpRequest) -> HttpResponse:
    """Nested N+1: the books are prefetched, their reviews are not (fix: "books__reviews")."""
    authors = Author.objects.order_by("id").prefetch_related("books")[:4]
    return render(request, "shop/author_reviews.html", {"authors": authors})


def book_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Duplicate: the view counts the reviews, and the template counts them again."""
    book = get_object_or_404(Book.objects.select_related("author"), pk=pk)
    review_count = book.reviews.count()
    return render(request, "shop/book_detail.html", {"book": book, "review_count": review_count})


def restock(request: HttpRequest) -> HttpResponse:
    """Write loop: one UPDATE per book (fix: Book.objects.bulk_update(books, ["stock"])); and an eager load
    that no code reads: the page never shows the authors (fix: drop .select_related("author"))."""
    books = list(Book.objects.select_related("author").order_by("id")[:10])
    for book in books:
        book.stock = 10
        book.save(update_fields=["stock"])
    return render(request, "shop/restock.html", {"books": books})


def stats(request: HttpRequest) -> HttpResponse:
    """Raw SQL with SELECT *."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shop_tag ORDER BY name")
        tags = cursor.fetchall()
        cursor.execute("SELECT COUNT(*) FROM shop_book")
        (books,) = cursor.fetchone()
    return render(request, "shop/stats.html", {"tags": tags, "books": books})


def reader_reviews(request: HttpRequest) -> HttpResponse:
    """Slow: a reader's best reviews, found by scanning every review (fix: an index on Review.reviewer)."""
    reader = request.GET.get("by", "Ada O.")
    reviews = Review.objects.filter(reviewer=reader).order_by("-rating", "id")[:20]
    return render(request, "shop/reader_reviews.html", {"reader": reader, "reviews": reviews})

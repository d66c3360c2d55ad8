"""The shop's pages; each but the first shows one database mistake queryguard reports."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("books/", views.book_list, name="book_list"),
    path("books/<int:pk>/", views.book_detail, name="book_detail"),
    path("authors/", views.author_list, name="author_list"),
    path("authors/reviews/", views.author_reviews, name="author_reviews"),
    path("restock/", views.restock, name="restock"),
    path("stats/", views.stats, name="stats"),
    path("reviews/", views.reader_reviews, name="reader_reviews"),
]

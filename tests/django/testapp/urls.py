"""URLs of the test project."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("books/", views.book_list),
    path("books/<int:n>/", views.first_books),
    path("clean/", views.clean),
    path("authors/<int:pk>/", views.author_detail),
    path("async/books/<int:n>/", views.async_books),
    path("streaming/", views.streaming),
    path("failing/", views.failing),
    path("two-databases/", views.two_databases),
    path("thread/", views.in_a_thread),
    path("async/thread/", views.async_in_thread),
    path("raw/", views.raw_sql),
    path("search/", views.search),
    path("__queryguard__/", include("queryguard_django.urls")),
]

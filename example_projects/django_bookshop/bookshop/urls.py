"""The bookshop's URLs, and queryguard's report page."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("shop.urls")),
    path("__queryguard__/", include("queryguard_django.urls")),
]

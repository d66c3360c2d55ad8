"""The dev report page: ``path("__queryguard__/", include("queryguard_django.urls"))``."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "queryguard_django"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:entry_id>/", views.detail, name="detail"),
    path("<int:entry_id>.json", views.detail_json, name="detail_json"),
]

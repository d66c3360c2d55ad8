"""Authors write books; readers review them; books carry tags."""

from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=60)

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    price_cents = models.IntegerField()
    stock = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.title


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.CharField(max_length=100)  # deliberately not indexed: the reader page scans it
    rating = models.PositiveSmallIntegerField()
    body = models.TextField()

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.book_id}: {self.rating}/5"

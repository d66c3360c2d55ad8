"""Models with every relation kind Django has: forward and reverse foreign keys (named and default
accessors), one-to-one both ways, many-to-many both ways, a self-referential many-to-many on one join
table, a generic foreign key, a generic relation on a model with proxy subclasses, a many-to-many through a
model, a foreign key to a proxy, multi-table inheritance."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Publisher(models.Model):
    name = models.CharField(max_length=100)


class Author(models.Model):
    name = models.CharField(max_length=100)
    publisher = models.ForeignKey(Publisher, null=True, on_delete=models.SET_NULL, related_name="authors")


class AuthorProfile(models.Model):
    author = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="profile")
    bio = models.CharField(max_length=200, default="")


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=200)
    summary = models.TextField(default="")
    price = models.IntegerField(default=10)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL, related_name="edited_books")
    tags = models.ManyToManyField(Tag, related_name="books")


class Review(models.Model):
    """Its foreign key has Django's default accessor: ``book.review_set``."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    rating = models.IntegerField()


class Member(models.Model):
    """``follows`` and ``followers`` are the two sides of one join table."""

    name = models.CharField(max_length=100)
    follows = models.ManyToManyField("self", symmetrical=False, related_name="followers")


class Note(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=200)


class Post(models.Model):
    title = models.CharField(max_length=200)
    featured = models.BooleanField(default=False)
    notes = GenericRelation(Note)


class FeaturedManager(models.Manager["FeaturedPost"]):
    def get_queryset(self) -> models.QuerySet[FeaturedPost]:
        return super().get_queryset().filter(featured=True)


class FeaturedPost(Post):
    """A proxy subclass: its notes are still ``Post.notes``."""

    objects = FeaturedManager()

    class Meta:
        proxy = True


class DraftPost(Post):
    class Meta:
        proxy = True


class Club(models.Model):
    """Members through an explicit ``through`` model."""

    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Member, through="Membership", related_name="clubs")


class Membership(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    club = models.ForeignKey(Club, on_delete=models.CASCADE)


class Reply(models.Model):
    """A foreign key to a proxy model."""

    post = models.ForeignKey(FeaturedPost, on_delete=models.CASCADE, related_name="replies")


class Place(models.Model):
    name = models.CharField(max_length=100)


class Restaurant(Place):
    """Multi-table inheritance: ``restaurant.place_ptr`` and ``place.restaurant``."""

    serves_pizza = models.BooleanField(default=False)


class Event(models.Model):
    """A thousand rows: enough for a real page loop."""

    n = models.IntegerField()
    kind = models.CharField(max_length=20)


class Counter(models.Model):
    """What the write cases write to."""

    name = models.CharField(max_length=50)
    value = models.IntegerField(default=0)

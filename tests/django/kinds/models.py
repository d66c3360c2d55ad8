"""One model per relation kind that the bookshop of ``testapp`` does not have."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Label(models.Model):
    name = models.CharField(max_length=50)


class Note(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=100)


class Post(models.Model):
    """Its generic relation is read through two proxy subclasses too."""

    title = models.CharField(max_length=100)
    labels = models.ManyToManyField(Label, related_name="posts")
    notes = GenericRelation(Note)


class FeaturedPost(Post):
    class Meta:
        proxy = True


class DraftPost(Post):
    class Meta:
        proxy = True


class Reply(models.Model):
    """A foreign key to a proxy model."""

    post = models.ForeignKey(FeaturedPost, on_delete=models.CASCADE, related_name="replies")
    text = models.CharField(max_length=100)


class Member(models.Model):
    """``follows``/``followers``: two sides of one join table; ``friends``: symmetrical."""

    name = models.CharField(max_length=100)
    follows = models.ManyToManyField("self", symmetrical=False, related_name="followers")
    friends = models.ManyToManyField("self")


class Club(models.Model):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Member, through="Membership", related_name="clubs")


class Membership(models.Model):
    """An explicit ``through`` model."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    club = models.ForeignKey(Club, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, default="member")


class Passport(models.Model):
    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="passport")
    number = models.CharField(max_length=20)


class Place(models.Model):
    name = models.CharField(max_length=100)


class Restaurant(Place):
    """Multi-table inheritance: ``restaurant.place_ptr`` and ``place.restaurant``."""

    serves_pizza = models.BooleanField(default=False)


class Stamp(models.Model):
    """A foreign key with no reverse accessor (``related_name="+"``)."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")

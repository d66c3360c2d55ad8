"""Django: rows written one at a time in a loop (write loops) against the bulk APIs (negatives)."""

from __future__ import annotations

from _corpus import cases_for
from corpus_app.models import Author, Book, Counter, Event, Member, Tag
from django.db.models import F

case = cases_for("django")


@case()
def save_new_objects_in_loop() -> None:
    """Model(...).save() for each new row: a write loop of INSERTs."""
    for i in range(5):
        Counter(name=f"new {i}").save()  # expect: write_loop


@case()
def create_two_in_loop() -> None:
    """Two rows created one at a time: a write loop at two (item 2)."""
    for name in ("first", "second"):
        Counter.objects.create(name=name)  # expect: write_loop


@case()
def save_changed_objects_in_loop() -> None:
    """Each counter changed and saved: a write loop of UPDATEs."""
    for counter in Counter.objects.order_by("id"):
        counter.value += 1
        counter.save(update_fields=["value"])  # expect: write_loop


@case()
def save_two_changed_objects() -> None:
    """Two objects updated one at a time in a loop: a write loop at two (item 2)."""
    for counter in Counter.objects.filter(id__in=[1, 2]):
        counter.value = 7
        counter.save()  # expect: write_loop


@case()
def queryset_update_per_row_in_loop() -> None:
    """filter(pk=...).update(...) for each id: single-row UPDATEs in a loop."""
    for counter_id in range(1, 7):
        Counter.objects.filter(pk=counter_id).update(value=F("value") + 1)  # expect: write_loop


@case()
def delete_objects_in_loop() -> None:
    """instance.delete() for each row of a model nothing points to: single-row DELETEs."""
    for event in Event.objects.filter(n__lte=5):
        event.delete()  # expect: write_loop


@case()
def bulk_create_rows() -> None:
    """bulk_create(): one INSERT, on PostgreSQL INSERT ... SELECT * FROM UNNEST (item 7)."""
    Counter.objects.bulk_create([Counter(name=f"bulk {i}") for i in range(20)])


@case()
def bulk_create_ignore_conflicts() -> None:
    """bulk_create(ignore_conflicts=True): one INSERT, no finding (item 7)."""
    Tag.objects.bulk_create([Tag(id=i, name=f"tag {i}") for i in range(1, 9)], ignore_conflicts=True)


@case()
def bulk_create_with_batch_size() -> None:
    """bulk_create(batch_size=50) of 200 rows: four multi-row INSERTs, no finding (item 7)."""
    Event.objects.bulk_create([Event(n=2000 + i, kind="bulk") for i in range(200)], batch_size=50)


@case()
def bulk_update_rows() -> None:
    """bulk_update(): one UPDATE with CASE, no finding."""
    counters = list(Counter.objects.order_by("id"))
    for counter in counters:
        counter.value = counter.id * 2
    Counter.objects.bulk_update(counters, ["value"])


@case()
def queryset_update_once() -> None:
    """One queryset .update() for every row: no finding."""
    Counter.objects.filter(id__lte=10).update(value=F("value") + 1)


@case()
def queryset_delete_once() -> None:
    """One queryset .delete(): no finding."""
    Event.objects.filter(n__gt=990).delete()


@case()
def m2m_add_in_loop() -> None:
    """book.tags.add(tag) one tag at a time: a write loop on Book.tags (item 8)."""
    book = Book.objects.get(pk=1)
    for tag in Tag.objects.filter(id__in=[3, 4, 5]):
        book.tags.add(tag)  # expect: write_loop Book.tags


@case()
def m2m_add_all_at_once() -> None:
    """book.tags.add(*tags): one INSERT, no finding (item 7)."""
    book = Book.objects.get(pk=1)
    book.tags.add(*Tag.objects.filter(id__in=[3, 4, 5]))


@case()
def m2m_add_to_each_parent_in_loop() -> None:
    """tag added to each book in turn: a write loop on Book.tags (item 8)."""
    tag = Tag.objects.get(pk=5)
    for book in Book.objects.filter(id__in=[1, 2, 6, 7]):
        book.tags.add(tag)  # expect: write_loop Book.tags


@case()
def self_m2m_add_in_loop() -> None:
    """member.follows.add(other) for each other member: a write loop on Member.follows (item 8)."""
    member = Member.objects.get(pk=1)
    for other in Member.objects.filter(id__in=[4, 5, 6, 7]):
        member.follows.add(other)  # expect: write_loop Member.follows


@case()
def m2m_set_once() -> None:
    """book.tags.set([...]): a handful of statements once, no finding (item 7)."""
    Book.objects.get(pk=2).tags.set(Tag.objects.filter(id__in=[1, 2, 3]))


@case()
def get_or_create_in_loop() -> None:
    """get_or_create() for each new name: a SELECT and an INSERT per name."""
    for i in range(4):
        Counter.objects.get_or_create(name=f"made {i}")  # expect: n_plus_one; write_loop


@case()
def save_in_helper_from_two_callers() -> None:
    """One save helper called once from two places (two different rows, no loop): no finding (item 1)."""

    def rename(author: Author, name: str) -> None:
        author.name = name
        author.save(update_fields=["name"])

    rename(Author.objects.get(pk=1), "renamed")
    rename(Author.objects.get(pk=2), "also renamed")


@case()
def save_in_helper_called_in_loop() -> None:
    """The same save helper called in a loop: a write loop at the helper's line (item 1)."""

    def rename(author: Author, name: str) -> None:
        author.name = name
        author.save(update_fields=["name"])  # expect: write_loop

    for author in Author.objects.filter(id__lte=4):
        rename(author, author.name.upper())


@case()
def two_different_writes_once_each() -> None:
    """An INSERT and an UPDATE on different tables, once each: no finding."""
    Counter.objects.create(name="once")
    Author.objects.filter(pk=3).update(name="three")

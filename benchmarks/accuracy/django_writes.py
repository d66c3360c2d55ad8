"""Django: rows written one at a time in a loop (write loops) against the bulk APIs (negatives)."""

from __future__ import annotations

from _corpus import cases_for
from corpus_app.models import Author, Book, Counter, Event, Member, Review, Tag
from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber

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
def bulk_create_update_conflicts() -> None:
    """bulk_create(update_conflicts=True): one upsert; on PostgreSQL SELECT * FROM UNNEST (item 7)."""
    counters = [Counter(id=i, name=f"upserted {i}") for i in range(1, 31)]
    # MySQL and MariaDB take no conflict target (ON DUPLICATE KEY UPDATE)
    target = {"unique_fields": ["pk"]} if connection.features.supports_update_conflicts_with_target else {}
    Counter.objects.bulk_create(counters, update_conflicts=True, update_fields=["name"], **target)


@case()
def bulk_create_then_raw_select_star() -> list[str]:
    """bulk_create, then the rows read back with raw("SELECT * ..."): the user's star only (item 7)."""
    Tag.objects.bulk_create([Tag(name=f"bulk tag {i}") for i in range(10)])
    tags = Tag.objects.raw("SELECT * FROM corpus_tag WHERE name LIKE %s", ["bulk%"])
    return [tag.name for tag in tags]  # expect: select_star


@case()
def raw_select_star_rows_then_bulk_update() -> None:
    """Rows loaded with raw("SELECT * ..."), changed, one bulk_update: the star is the finding (item 7)."""
    star = "SELECT * FROM corpus_counter WHERE id <= %s"
    counters = list(Counter.objects.raw(star, [10]))  # expect: select_star
    for counter in counters:
        counter.value = counter.id * 5
    Counter.objects.bulk_update(counters, ["value"])


@case()
def bulk_create_from_cursor_rows() -> None:
    """Rows read by a cursor with named columns, copied with one bulk_create: no finding (item 7)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, value FROM corpus_counter WHERE id <= %s", [5])
        rows = cursor.fetchall()
    Counter.objects.bulk_create([Counter(name=f"copy of {name}", value=value) for name, value in rows])


@case()
def window_filter_then_bulk_update() -> None:
    """The first book per author (a window filter: SELECT * FROM (...) qualify), one bulk_update (item 7)."""
    ranked = Book.objects.annotate(rank=Window(RowNumber(), partition_by="author", order_by="id"))
    books = list(ranked.filter(rank=1))
    for book in books:
        book.price += 1
    Book.objects.bulk_update(books, ["price"])


@case()
def queryset_update_through_a_join() -> None:
    """One .update() filtered through a relation: UPDATE ... WHERE id IN (SELECT ...), no finding (item 7)."""
    Book.objects.filter(author__name__startswith="author").update(price=F("price") + 1)


@case()
def queryset_delete_through_a_join() -> None:
    """One .delete() filtered through a relation: no finding, whatever SQL each database gets (item 7)."""
    Review.objects.filter(book__author_id=1).delete()


@case()
def count_of_distinct_values() -> int:
    """values().distinct().count(): COUNT(*) over a subquery, no finding (item 7)."""
    return Book.objects.values("author").distinct().count()


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

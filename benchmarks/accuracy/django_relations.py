"""Django: every relation kind read in a loop (an N+1 each), and the same reads done right (negatives)."""

from __future__ import annotations

from _corpus import cases_for
from corpus_app.models import (
    Author,
    AuthorProfile,
    Book,
    Club,
    DraftPost,
    FeaturedPost,
    Member,
    Note,
    Place,
    Post,
    Publisher,
    Reply,
    Restaurant,
    Tag,
)
from django.db.models import Count

case = cases_for("django")


@case()
def forward_fk_in_loop() -> list[str]:
    """Book.author read for each book: an N+1 of a forward foreign key."""
    names = []
    for book in Book.objects.filter(id__lte=12).order_by("id"):
        names.append(book.author.name)  # expect: n_plus_one Book.author
    return names


@case()
def forward_fk_same_parent_repeated() -> list[str]:
    """Ten books of one author: ten identical loads of Book.author are an N+1, not a duplicate (item 3)."""
    names = []
    for book in Book.objects.filter(author_id=11).order_by("id"):
        names.append(book.author.name)  # expect: n_plus_one Book.author
    return names


@case()
def forward_fk_second_key_in_loop() -> list[str]:
    """Book.editor, a second foreign key to the same model, read in a loop."""
    return [book.editor.name for book in Book.objects.filter(id__lte=8)]  # expect: n_plus_one Book.editor


@case()
def forward_fk_select_related() -> list[str]:
    """select_related("author"): one query, no finding."""
    return [book.author.name for book in Book.objects.select_related("author").order_by("id")]


@case()
def forward_fk_id_only() -> list[int]:
    """Reading book.author_id needs no query."""
    return [book.author_id for book in Book.objects.order_by("id")]


@case()
def reverse_fk_in_loop() -> list[int]:
    """Author.books (a named reverse foreign key) listed for each author."""
    counts = []
    for author in Author.objects.order_by("id"):
        counts.append(len(author.books.all()))  # expect: n_plus_one Author.books
    return counts


@case()
def reverse_fk_default_accessor_in_loop() -> list[int]:
    """book.review_set, Django's default reverse accessor, for each book."""
    totals = []
    for book in Book.objects.filter(id__lte=10):
        totals.append(sum(r.rating for r in book.review_set.all()))  # expect: n_plus_one Book.review_set
    return totals


@case()
def reverse_fk_prefetch_related() -> list[int]:
    """prefetch_related("books"): two queries, no finding."""
    return [len(author.books.all()) for author in Author.objects.prefetch_related("books")]


@case()
def reverse_fk_filter_defeats_prefetch() -> list[int]:
    """A .filter() on a prefetched relation queries again for each author."""
    found = []
    for author in Author.objects.prefetch_related("books"):
        found.append(author.books.filter(price__gt=8).count())  # expect: n_plus_one Author.books
    return found


@case()
def reverse_fk_count_in_loop() -> list[int]:
    """.count() on a related manager for each author (item 8)."""
    return [a.books.count() for a in Author.objects.order_by("id")]  # expect: n_plus_one Author.books


@case()
def reverse_fk_exists_in_loop() -> list[bool]:
    """.exists() on a related manager for each publisher (item 8)."""
    flags = []
    for publisher in Publisher.objects.order_by("id"):
        flags.append(publisher.authors.exists())  # expect: n_plus_one Publisher.authors
    return flags


@case()
def reverse_fk_count_after_prefetch() -> list[int]:
    """.count() on a prefetched relation reads the prefetched rows: no query per author."""
    return [a.books.count() for a in Author.objects.prefetch_related("books")]


@case()
def reverse_fk_annotate_count() -> list[int]:
    """annotate(Count("books")): one query."""
    return [a.n for a in Author.objects.annotate(n=Count("books")).order_by("id")]


@case()
def one_to_one_forward_in_loop() -> list[str]:
    """AuthorProfile.author, the forward side of a one-to-one, read for each profile."""
    names = []
    for profile in AuthorProfile.objects.order_by("id"):
        names.append(profile.author.name)  # expect: n_plus_one AuthorProfile.author
    return names


@case()
def one_to_one_reverse_in_loop() -> list[str]:
    """Author.profile, the reverse side of a one-to-one, read for each author."""
    return [a.profile.bio for a in Author.objects.order_by("id")]  # expect: n_plus_one Author.profile


@case()
def one_to_one_reverse_select_related() -> list[str]:
    """select_related("profile") on the reverse one-to-one: one query."""
    return [a.profile.bio for a in Author.objects.select_related("profile")]


@case()
def m2m_forward_in_loop() -> list[int]:
    """Book.tags listed for each book."""
    sizes = []
    for book in Book.objects.filter(id__lte=10):
        sizes.append(len(book.tags.all()))  # expect: n_plus_one Book.tags
    return sizes


@case()
def m2m_reverse_in_loop() -> list[int]:
    """Tag.books, the reverse side of a many-to-many, listed for each tag."""
    return [len(tag.books.all()) for tag in Tag.objects.order_by("id")]  # expect: n_plus_one Tag.books


@case()
def m2m_count_in_loop() -> list[int]:
    """.count() on a many-to-many manager for each book (item 8)."""
    return [b.tags.count() for b in Book.objects.filter(id__lte=6)]  # expect: n_plus_one Book.tags


@case()
def m2m_prefetch_related_both_ways() -> list[int]:
    """Both sides of the many-to-many prefetched: three queries, no finding."""
    sizes = [len(b.tags.all()) for b in Book.objects.prefetch_related("tags")]
    sizes += [len(t.books.all()) for t in Tag.objects.prefetch_related("books")]
    return sizes


@case()
def self_m2m_follows_in_loop() -> list[int]:
    """Member.follows, a self-referential many-to-many, for each member (item 8)."""
    return [len(m.follows.all()) for m in Member.objects.order_by("id")]  # expect: n_plus_one Member.follows


@case()
def self_m2m_followers_in_loop() -> list[int]:
    """Member.followers, the other side of the same join table, for each member (item 8)."""
    sizes = []
    for member in Member.objects.order_by("id"):
        sizes.append(len(member.followers.all()))  # expect: n_plus_one Member.followers
    return sizes


@case()
def self_m2m_both_sides_in_one_loop() -> list[int]:
    """Both sides of the self-referential join table in one loop: two N+1s, each named (item 8)."""
    sizes = []
    for member in Member.objects.order_by("id"):
        sizes.append(len(member.follows.all()))  # expect: n_plus_one Member.follows
        sizes.append(len(member.followers.all()))  # expect: n_plus_one Member.followers
    return sizes


@case()
def self_m2m_prefetch_related() -> list[int]:
    """prefetch_related("follows", "followers"): three queries, no finding."""
    members = Member.objects.prefetch_related("follows", "followers")
    return [len(m.follows.all()) + len(m.followers.all()) for m in members]


@case()
def generic_fk_in_loop() -> list[str]:
    """Note.content_object, a generic foreign key, read for each note (item 8)."""
    titles = []
    for note in Note.objects.filter(text__startswith="on post").order_by("id"):
        titles.append(str(note.content_object))  # expect: n_plus_one Note.content_object
    return titles


@case()
def generic_fk_prefetch_related() -> list[str]:
    """prefetch_related("content_object"): one query per content type, no finding."""
    return [str(n.content_object) for n in Note.objects.prefetch_related("content_object")]


@case()
def generic_relation_in_loop() -> list[int]:
    """Post.notes, a generic relation, listed for each post (item 8)."""
    return [len(p.notes.all()) for p in Post.objects.order_by("id")]  # expect: n_plus_one Post.notes


@case()
def generic_relation_on_proxy_in_loop() -> list[int]:
    """Post.notes read through a proxy subclass (Post has two): still Post's generic relation (item 8)."""
    sizes = []
    for post in FeaturedPost.objects.order_by("id"):
        sizes.append(len(post.notes.all()))  # expect: n_plus_one Post.notes
    return sizes


@case()
def generic_relation_count_on_proxy() -> list[int]:
    """.count() of Post.notes through the other proxy subclass (item 8)."""
    return [p.notes.count() for p in DraftPost.objects.all()]  # expect: n_plus_one Post.notes


@case()
def generic_relation_prefetch_related() -> list[int]:
    """prefetch_related("notes") on the proxy: two queries, no finding."""
    return [len(p.notes.all()) for p in FeaturedPost.objects.prefetch_related("notes")]


@case()
def chained_relations_in_loop() -> list[str]:
    """book.author.publisher: two relations per book, two N+1s on one line."""
    names = []
    for b in Book.objects.filter(id__lte=9):
        names.append(b.author.publisher.name)  # expect: n_plus_one Book.author; n_plus_one Author.publisher
    return names


@case()
def select_related_one_level_short() -> list[str]:
    """select_related("author") but book.author.publisher read: Author.publisher is the N+1."""
    names = []
    for book in Book.objects.select_related("author").filter(id__lte=9):
        names.append(book.author.publisher.name)  # expect: n_plus_one Author.publisher
    return names


@case()
def select_related_two_levels() -> list[str]:
    """select_related("author__publisher"): one query."""
    books = Book.objects.select_related("author__publisher").order_by("id")
    return [book.author.publisher.name for book in books]


@case()
def nested_prefetch_missing_inner() -> int:
    """Authors' books prefetched, each book's reviews not: Book.review_set is the N+1."""
    total = 0
    for author in Author.objects.prefetch_related("books"):
        for book in author.books.all():
            total += len(book.review_set.all())  # expect: n_plus_one Book.review_set
    return total


@case()
def nested_prefetch_complete() -> int:
    """prefetch_related("books__review_set"): three queries, no finding."""
    total = 0
    for author in Author.objects.prefetch_related("books__review_set"):
        for book in author.books.all():
            total += len(book.review_set.all())
    return total


@case()
def nullable_fk_select_related() -> list[str]:
    """select_related on a nullable foreign key: one query (a null is no query either)."""
    return [a.publisher.name if a.publisher else "" for a in Author.objects.select_related("publisher")]


@case()
def self_m2m_count_in_loop() -> list[int]:
    """.count() of the followers side of the self-referential join table, per member (item 8)."""
    return [m.followers.count() for m in Member.objects.order_by("id")]  # expect: n_plus_one Member.followers


@case()
def self_m2m_annotate_count() -> list[int]:
    """annotate(Count("followers")): one query, no finding."""
    return [m.n for m in Member.objects.annotate(n=Count("followers")).order_by("id")]


@case()
def m2m_reverse_exists_in_loop() -> list[bool]:
    """.exists() on the reverse side of a many-to-many, per tag (item 8)."""
    return [t.books.exists() for t in Tag.objects.order_by("id")]  # expect: n_plus_one Tag.books


@case()
def m2m_through_model_in_loop() -> list[int]:
    """Club.members, a many-to-many through an explicit model, per club."""
    return [len(c.members.all()) for c in Club.objects.order_by("id")]  # expect: n_plus_one Club.members


@case()
def m2m_through_model_reverse_in_loop() -> list[int]:
    """Member.clubs, the reverse side of the through model's many-to-many, per member."""
    return [len(m.clubs.all()) for m in Member.objects.order_by("id")]  # expect: n_plus_one Member.clubs


@case()
def m2m_through_model_prefetch_related() -> list[int]:
    """prefetch_related("members"): two queries, no finding."""
    return [len(c.members.all()) for c in Club.objects.prefetch_related("members")]


@case()
def fk_to_proxy_in_loop() -> list[str]:
    """Reply.post, a foreign key to a proxy model, per reply."""
    return [r.post.title for r in Reply.objects.order_by("id")]  # expect: n_plus_one Reply.post


@case()
def fk_to_proxy_reverse_in_loop() -> list[int]:
    """FeaturedPost.replies, the reverse side of a foreign key to a proxy, per featured post."""
    sizes = []
    for post in FeaturedPost.objects.order_by("id"):
        sizes.append(len(post.replies.all()))  # expect: n_plus_one FeaturedPost.replies
    return sizes


@case()
def fk_to_proxy_select_related() -> list[str]:
    """select_related("post") on the foreign key to a proxy: one query."""
    return [r.post.title for r in Reply.objects.select_related("post")]


@case()
def inheritance_parent_to_child_in_loop() -> list[bool]:
    """place.restaurant, the child of a multi-table inheritance, read per place."""
    flags = []
    for place in Place.objects.order_by("id"):
        flags.append(place.restaurant.serves_pizza)  # expect: n_plus_one Place.restaurant
    return flags


@case()
def inheritance_parent_to_child_select_related() -> list[bool]:
    """select_related("restaurant") on the parent model: one query."""
    return [p.restaurant.serves_pizza for p in Place.objects.select_related("restaurant")]


@case()
def inheritance_child_to_parent_link() -> list[str]:
    """restaurant.place_ptr is built from the row the child's query joined: no query, no finding."""
    return [r.place_ptr.name for r in Restaurant.objects.order_by("id")]

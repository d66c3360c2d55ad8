"""SQLAlchemy (sync): every relationship kind and loader strategy, deferred and expired columns."""

from __future__ import annotations

from _corpus import cases_for
from sqlalchemy import func, select
from sqlalchemy.orm import (
    Session,
    defer,
    immediateload,
    joinedload,
    raiseload,
    selectinload,
    subqueryload,
    undefer,
    with_parent,
)
from sqlalchemy_models import Author, Book, Member, Profile, Tag

case = cases_for("sqlalchemy")


@case()
def lazy_many_to_one_in_loop(session: Session) -> list[str]:
    """Book.author lazily loaded for books of ten different authors: an N+1."""
    names = []
    for book in session.scalars(select(Book).where(Book.id <= 30).order_by(Book.id)):
        names.append(book.author.name)  # expect: n_plus_one Book.author
    return names


@case()
def lazy_many_to_one_identity_map(session: Session) -> list[str]:
    """Ten books of one author: the author loads once, the identity map serves the rest; no finding."""
    books = session.scalars(select(Book).where(Book.author_id == 11)).all()
    return [book.author.name for book in books]


@case()
def lazy_one_to_many_in_loop(session: Session) -> list[int]:
    """Author.books lazily loaded for each author."""
    sizes = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        sizes.append(len(author.books))  # expect: n_plus_one Author.books
    return sizes


@case()
def lazy_one_to_one_reverse_in_loop(session: Session) -> list[str]:
    """Author.profile (a scalar one-to-many) for each author."""
    bios = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        bios.append(author.profile.bio if author.profile else "")  # expect: n_plus_one Author.profile
    return bios


@case()
def lazy_one_to_one_forward_in_loop(session: Session) -> list[str]:
    """Profile.author for each profile."""
    return [p.author.name for p in session.scalars(select(Profile))]  # expect: n_plus_one Profile.author


@case()
def lazy_many_to_many_in_loop(session: Session) -> list[int]:
    """Book.tags for each book."""
    sizes = []
    for book in session.scalars(select(Book).where(Book.id <= 10)):
        sizes.append(len(book.tags))  # expect: n_plus_one Book.tags
    return sizes


@case()
def lazy_many_to_many_reverse_in_loop(session: Session) -> list[int]:
    """Tag.books, the other side of the many-to-many, for each tag."""
    return [len(tag.books) for tag in session.scalars(select(Tag))]  # expect: n_plus_one Tag.books


@case()
def lazy_self_referential_follows(session: Session) -> list[int]:
    """Member.follows, a self-referential many-to-many, for each member (item 8)."""
    return [len(m.follows) for m in session.scalars(select(Member))]  # expect: n_plus_one Member.follows


@case()
def lazy_self_referential_followers(session: Session) -> list[int]:
    """Member.followers, the other side of the same join table, for each member (item 8)."""
    sizes = []
    for member in session.scalars(select(Member).order_by(Member.id)):
        sizes.append(len(member.followers))  # expect: n_plus_one Member.followers
    return sizes


@case()
def nested_lazy_loads(session: Session) -> int:
    """Authors, their books, each book's reviews: two N+1s, one per relationship."""
    total = 0
    for author in session.scalars(select(Author).where(Author.id <= 5)):
        for book in author.books:  # expect: n_plus_one Author.books
            total += len(book.reviews)  # expect: n_plus_one Book.reviews
    return total


@case()
def joinedload_many_to_one(session: Session) -> list[str]:
    """joinedload(Book.author): one query."""
    books = session.scalars(select(Book).options(joinedload(Book.author))).all()
    return [book.author.name for book in books]


@case()
def joinedload_collection(session: Session) -> list[int]:
    """joinedload(Author.books) with unique(): one query."""
    authors = session.scalars(select(Author).options(joinedload(Author.books))).unique().all()
    return [len(a.books) for a in authors]


@case()
def selectinload_collection(session: Session) -> list[int]:
    """selectinload(Author.books): two queries."""
    authors = session.scalars(select(Author).options(selectinload(Author.books))).all()
    return [len(a.books) for a in authors]


@case()
def selectinload_nested(session: Session) -> int:
    """selectinload(Author.books).selectinload(Book.reviews): three queries."""
    query = select(Author).options(selectinload(Author.books).selectinload(Book.reviews))
    return sum(len(b.reviews) for a in session.scalars(query) for b in a.books)


@case()
def selectinload_self_referential(session: Session) -> list[int]:
    """selectinload of both sides of the self-referential join table: three queries."""
    query = select(Member).options(selectinload(Member.follows), selectinload(Member.followers))
    return [len(m.follows) + len(m.followers) for m in session.scalars(query)]


@case()
def subqueryload_collection(session: Session) -> list[int]:
    """subqueryload(Book.tags): two queries."""
    books = session.scalars(select(Book).options(subqueryload(Book.tags))).all()
    return [len(b.tags) for b in books]


@case()
def immediateload_collection(session: Session) -> list[int]:
    """immediateload(Author.books): one SELECT per author as they load, an N+1 at the query (item 8)."""
    query = select(Author).where(Author.id <= 8).options(immediateload(Author.books))
    authors = session.scalars(query).all()  # expect: n_plus_one Author.books
    return [len(a.books) for a in authors]


@case()
def raiseload_with_selectinload(session: Session) -> list[int]:
    """raiseload("*") with the one relationship the code reads selectin-loaded: two queries."""
    query = select(Author).options(selectinload(Author.books), raiseload("*"))
    return [len(a.books) for a in session.scalars(query)]


@case()
def selectinload_then_other_relation(session: Session) -> list[str]:
    """selectinload(Book.tags) but Book.author read: Book.author is the N+1."""
    names = []
    for book in session.scalars(select(Book).where(Book.id <= 24).options(selectinload(Book.tags))):
        names.append(f"{len(book.tags)} {book.author.name}")  # expect: n_plus_one Book.author
    return names


@case()
def dynamic_relationship_all_in_loop(session: Session) -> list[int]:
    """Author.dyn_books (lazy="dynamic") queried for each author (item 8)."""
    sizes = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        sizes.append(len(author.dyn_books.all()))  # expect: n_plus_one Author.dyn_books
    return sizes


@case()
def dynamic_relationship_count_in_loop(session: Session) -> list[int]:
    """.count() of a dynamic relationship for each author (item 8)."""
    counts = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        counts.append(author.dyn_books.count())  # expect: n_plus_one Author.dyn_books
    return counts


@case()
def write_only_select_in_loop(session: Session) -> list[int]:
    """A WriteOnlyMapped collection's select() run for each author (item 8)."""
    sizes = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        books = session.scalars(author.wo_books.select()).all()  # expect: n_plus_one Author.wo_books
        sizes.append(len(books))
    return sizes


@case()
def deferred_column_in_loop(session: Session) -> list[str]:
    """Book.summary (deferred=True in the mapping) read for each book: one load per book."""
    out = []
    for book in session.scalars(select(Book).where(Book.id <= 10)):
        out.append(book.summary[:3])  # expect: n_plus_one Book.summary
    return out


@case()
def defer_option_in_loop(session: Session) -> list[int]:
    """defer(Book.price) in the query, price read for each book."""
    books = session.scalars(select(Book).where(Book.id <= 9).options(defer(Book.price))).all()
    return [b.price for b in books]  # expect: n_plus_one Book.price


@case()
def undefer_column(session: Session) -> list[str]:
    """undefer(Book.summary): the column comes with the rows, one query."""
    books = session.scalars(select(Book).options(undefer(Book.summary))).all()
    return [b.summary for b in books]


@case()
def expired_after_commit_in_loop(session: Session) -> list[str]:
    """Attributes read after commit() expired them: one refresh per book, an N+1 (item 3)."""
    books = session.scalars(select(Book).where(Book.id <= 8)).all()
    session.commit()
    titles = []
    for book in books:
        titles.append(book.title)  # expect: n_plus_one Book.title
    return titles


@case()
def refreshed_once_after_commit(session: Session) -> str:
    """One object read after commit: a single refresh, no finding (item 3)."""
    author = session.get(Author, 1)
    assert author is not None
    author.name = "changed"
    session.commit()
    return author.name


@case()
def session_get_in_loop(session: Session) -> list[str]:
    """session.get(Author, i) for each id: an N+1 (nothing in the identity map yet)."""
    names = []
    for author_id in range(1, 9):
        author = session.get(Author, author_id)  # expect: n_plus_one
        names.append(author.name if author else "")
    return names


@case()
def session_get_same_object_twice(session: Session) -> str:
    """session.get() of the same object twice: the identity map answers the second; no finding."""
    first = session.get(Author, 2)
    again = session.get(Author, 2)
    return (first.name if first else "") + (again.name if again else "")


@case()
def write_only_count_in_loop(session: Session) -> list[int]:
    """The rows of a WriteOnlyMapped collection counted for each author (item 8)."""
    counts = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        query = select(func.count()).select_from(author.wo_books.select().subquery())
        counts.append(session.scalar(query) or 0)  # expect: n_plus_one Author.wo_books
    return counts


@case()
def write_only_joined_once(session: Session) -> int:
    """Every author's write-only rows in one joined query: no finding."""
    return len(session.execute(select(Author, Book).join(Author.wo_books)).all())


@case()
def write_only_counted_once(session: Session) -> int:
    """Every author's write-only rows counted in one grouped query: no finding."""
    query = select(Author, func.count()).join(Author.wo_books).group_by(Author)
    return len(session.execute(query).all())


@case()
def dynamic_joined_once(session: Session) -> int:
    """Every author's dynamic rows in one joined query: no finding."""
    return len(session.execute(select(Author, Book).join(Author.dyn_books)).all())


@case()
def with_parent_in_loop(session: Session) -> list[int]:
    """select(Book).where(with_parent(author, Author.books)) per author: Author.books loaded per parent."""
    sizes = []
    for author in session.scalars(select(Author).order_by(Author.id)):
        query = select(Book).where(with_parent(author, Author.books))
        sizes.append(len(session.scalars(query).all()))  # expect: n_plus_one Author.books
    return sizes


@case()
def self_referential_selectinload_followers(session: Session) -> list[int]:
    """selectinload(Member.followers): the other side of the join table eager-loaded, no finding."""
    query = select(Member).options(selectinload(Member.followers))
    return [len(m.followers) for m in session.scalars(query)]

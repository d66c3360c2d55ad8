"""Django for the corpus: settings for one database (plus ``other``), its tables and its rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _servers

EVENTS = 1000


def _database(database: str, folder: Path, *, other: bool) -> dict[str, Any]:
    name = _servers.OTHER if other else _servers.NAME
    if database == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": _servers.sqlite_path(folder, other)}
    if database == "postgresql":
        server = _servers.POSTGRES
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": server["user"],
            "HOST": server["host"],
            "PORT": str(server["port"]),
        }
    import pymysql

    # Django 5.2 wants mysqlclient >= 2.2.1; PyMySQL stands in for it, as in the test suite.
    pymysql.version_info = (2, 2, 1, "final", 0)
    pymysql.install_as_MySQLdb()
    server = _servers.MYSQL
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": name,
        "USER": server["user"],
        "PASSWORD": server["password"],
        "HOST": server["host"],
        "PORT": str(server["port"]),
        "OPTIONS": {"charset": "utf8mb4"},
    }


def setup(database: str, folder: Path) -> None:
    """Configure Django on ``database``, create the tables on both aliases and seed them."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="accuracy-corpus",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "queryguard_django", "corpus_app"],
        DATABASES={
            "default": _database(database, folder, other=False),
            "other": _database(database, folder, other=True),
        },
        MIDDLEWARE=[],
        QUERYGUARD={"EXPLAIN": False},
    )
    django.setup()
    from django.core.management import call_command

    for alias in ("default", "other"):
        # contenttypes first: the corpus's tables (made without migrations) point at its table.
        call_command("migrate", "contenttypes", database=alias, verbosity=0)
        call_command("migrate", run_syncdb=True, database=alias, verbosity=0)
        seed(alias)


def seed(alias: str) -> None:
    """The rows every Django case reads (ids are fixed: the cases name some)."""
    from corpus_app import models as m

    publishers = m.Publisher.objects.using(alias).bulk_create(
        [m.Publisher(id=i, name=f"publisher {i}") for i in range(1, 4)]
    )
    authors = m.Author.objects.using(alias).bulk_create(
        [m.Author(id=i, name=f"author {i}", publisher=publishers[i % 3]) for i in range(1, 12)]
    )
    m.AuthorProfile.objects.using(alias).bulk_create(
        [m.AuthorProfile(id=a.id, author=a, bio=f"bio {a.id}") for a in authors]
    )
    tags = m.Tag.objects.using(alias).bulk_create([m.Tag(id=i, name=f"tag {i}") for i in range(1, 6)])
    # Authors 1-10 wrote three books each (1-30); author 11 wrote ten (31-40).
    books = [
        m.Book(
            id=i,
            title=f"book {i}",
            summary=f"summary {i}",
            price=5 + i % 10,
            author=authors[(i - 1) // 3 if i <= 30 else 10],
            editor=authors[i % 10],
        )
        for i in range(1, 41)
    ]
    m.Book.objects.using(alias).bulk_create(books)
    through = m.Book.tags.through
    through.objects.using(alias).bulk_create(
        [through(book_id=b.id, tag_id=tags[(b.id + k) % 5].id) for b in books for k in (0, 1)]
    )
    m.Review.objects.using(alias).bulk_create(
        [m.Review(id=i, book_id=(i + 1) // 2, rating=1 + i % 5) for i in range(1, 61)]
    )
    members = m.Member.objects.using(alias).bulk_create(
        [m.Member(id=i, name=f"member {i}") for i in range(1, 9)]
    )
    follows = m.Member.follows.through
    follows.objects.using(alias).bulk_create(
        [
            follows(from_member_id=a.id, to_member_id=members[(a.id + k) % 8].id)
            for a in members
            for k in (0, 1)
        ]
    )
    posts = m.Post.objects.using(alias).bulk_create(
        [m.Post(id=i, title=f"post {i}", featured=i % 2 == 0) for i in range(1, 9)]
    )
    from django.contrib.contenttypes.models import ContentType

    post_type = ContentType.objects.db_manager(alias).get_for_model(m.Post)
    book_type = ContentType.objects.db_manager(alias).get_for_model(m.Book)
    notes = [m.Note(content_type=post_type, object_id=p.id, text=f"on post {p.id}") for p in posts]
    notes += [m.Note(content_type=post_type, object_id=p.id, text=f"more on {p.id}") for p in posts]
    notes += [m.Note(content_type=book_type, object_id=b, text=f"on book {b}") for b in range(1, 9)]
    m.Note.objects.using(alias).bulk_create(notes)
    clubs = m.Club.objects.using(alias).bulk_create([m.Club(id=i, name=f"club {i}") for i in range(1, 5)])
    m.Membership.objects.using(alias).bulk_create(
        [m.Membership(member=member, club=clubs[(member.id + k) % 4]) for member in members for k in (0, 1)]
    )
    m.Reply.objects.using(alias).bulk_create([m.Reply(id=i, post_id=2 * (1 + i % 4)) for i in range(1, 9)])
    for i in range(1, 7):
        m.Restaurant.objects.using(alias).create(name=f"place {i}", serves_pizza=i % 2 == 0)
    m.Event.objects.using(alias).bulk_create(
        [m.Event(id=i, n=i, kind=("click", "view", "buy")[i % 3]) for i in range(1, EVENTS + 1)]
    )
    m.Counter.objects.using(alias).bulk_create([m.Counter(id=i, name=f"counter {i}") for i in range(1, 11)])
    _reset_sequences(alias)


def _reset_sequences(alias: str) -> None:
    # Rows were inserted with their ids: PostgreSQL's sequences must start after them.
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connections

    connection = connections[alias]
    models = list(apps.get_app_config("corpus").get_models())
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)

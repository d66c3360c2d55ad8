"""Throw-away Django and SQLAlchemy projects, written into a pytester directory for a subprocess run."""

from __future__ import annotations

#: Records Django's statements through the public ``execute_wrapper`` hook, as a minimal adapter would.
DJANGO_RECORDER = """
    import os
    import time

    from django.db import connections
    from django.db.backends.signals import connection_created

    import queryguard
    from queryguard import _callsite
    from queryguard._capture import _active

    _callsite.add_library_path(os.path.dirname(os.path.abspath(__file__)))


    def _record(execute, sql, params, many, context):
        if not _active.get():
            return execute(sql, params, many, context)
        connection = context["connection"]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queryguard.record(
                queryguard.QueryEvent(
                    sql,
                    params,
                    (time.perf_counter() - started) * 1000,
                    vendor=connection.vendor,
                    alias=connection.alias,
                    executemany=many,
                    orm="django",
                )
            )


    def install(connection, **kwargs):
        if _record not in connection.execute_wrappers:
            connection.execute_wrappers.append(_record)


    connection_created.connect(install)
    for connection in connections.all(initialized_only=True):
        install(connection)
"""

DJANGO_SETTINGS = """
    import os

    SECRET_KEY = "throw-away"
    USE_TZ = True
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
    INSTALLED_APPS = ["django.contrib.contenttypes", "shop"] + (
        ["queryguard_django"] if os.environ.get("QG_TEST_RECORDER") == "queryguard_django" else []
    )
    if os.environ.get("QG_TEST_DATABASE") == "postgres":
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "test",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": 5432,
                "TEST": {"NAME": os.environ["QG_TEST_DATABASE_NAME"]},
            }
        }
    elif os.environ.get("QG_TEST_DATABASE") == "mysql":
        import pymysql

        # Django 5.2 wants mysqlclient >= 2.2.1; PyMySQL stands in for it (test settings only).
        pymysql.version_info = (2, 2, 1, "final", 0)
        pymysql.install_as_MySQLdb()
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.mysql",
                "NAME": "test",
                "USER": "root",
                "PASSWORD": "",
                "HOST": "127.0.0.1",
                "PORT": 3306,
                "TEST": {"NAME": os.environ["QG_TEST_DATABASE_NAME"], "CHARSET": "utf8mb4"},
            }
        }
    else:
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""

DJANGO_PROJECT = {
    "pytest.ini": """
        [pytest]
        DJANGO_SETTINGS_MODULE = settings
        pythonpath = .
    """,
    "settings.py": DJANGO_SETTINGS,
    "qgrecord/__init__.py": DJANGO_RECORDER,
    "conftest.py": """
        import os

        import pytest

        if os.environ.get("QG_TEST_RECORDER") != "queryguard_django":
            import qgrecord  # noqa: F401


        @pytest.fixture
        def books(db):
            from shop.models import add_books

            add_books(3)
    """,
    "shop/__init__.py": "",
    "shop/models.py": """
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=100)


        class Book(models.Model):
            title = models.CharField(max_length=100)
            author = models.ForeignKey(Author, on_delete=models.CASCADE)


        def add_books(n):
            for i in range(Book.objects.count(), n):
                Book.objects.create(title=f"book {i}", author=Author.objects.create(name=f"author {i}"))
    """,
    "shop/views.py": """
        from shop.models import Book


        def book_list():
            rows = []
            for book in Book.objects.order_by("id"):
                rows.append((book.title, book.author.name))
            return rows


        def book_list_fixed():
            return [(book.title, book.author.name) for book in Book.objects.select_related("author")]
    """,
}

#: SQLAlchemy models, a session fixture, and statements recorded through the public cursor events.
SQLALCHEMY_PROJECT = {
    "qgrecord/__init__.py": """
        import os
        import time

        from sqlalchemy import event

        import queryguard
        from queryguard import _callsite
        from queryguard._capture import _active

        _callsite.add_library_path(os.path.dirname(os.path.abspath(__file__)))


        def instrument(engine):
            @event.listens_for(engine, "before_cursor_execute")
            def before(conn, cursor, statement, parameters, context, executemany):
                conn.info.setdefault("qg_started", []).append(time.perf_counter())

            @event.listens_for(engine, "after_cursor_execute")
            def after(conn, cursor, statement, parameters, context, executemany):
                started = conn.info["qg_started"].pop()
                if _active.get():
                    queryguard.record(
                        queryguard.QueryEvent(
                            statement,
                            parameters,
                            (time.perf_counter() - started) * 1000,
                            vendor=engine.dialect.name,
                            executemany=executemany,
                            orm="sqlalchemy",
                        )
                    )
    """,
    "shop/__init__.py": "",
    "shop/models.py": """
        from sqlalchemy import ForeignKey, String, select
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload


        class Base(DeclarativeBase):
            pass


        class Author(Base):
            __tablename__ = "qg_author"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(100))


        class Book(Base):
            __tablename__ = "qg_book"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(String(100))
            author_id: Mapped[int] = mapped_column(ForeignKey("qg_author.id"))
            author: Mapped[Author] = relationship()


        def add_books(session, n):
            for i in range(session.query(Book).count(), n):
                session.add(Book(title=f"book {i}", author=Author(name=f"author {i}")))
            session.flush()
            session.expunge_all()


        def book_list(session):
            rows = []
            for book in session.scalars(select(Book).order_by(Book.id)):
                rows.append((book.title, book.author.name))
            return rows


        def book_list_fixed(session):
            query = select(Book).options(selectinload(Book.author)).order_by(Book.id)
            return [(book.title, book.author.name) for book in session.scalars(query)]
    """,
    "conftest.py": """
        import os

        import pytest
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from shop.models import Base, add_books


        @pytest.fixture
        def session():
            url = os.environ.get("QG_TEST_URL", "sqlite://")
            engine = create_engine(url)
            if os.environ.get("QG_TEST_RECORDER") == "queryguard_sqlalchemy":
                from queryguard_sqlalchemy import instrument
            else:
                from qgrecord import instrument
            instrument(engine)
            with engine.connect() as connection:
                transaction = connection.begin()
                Base.metadata.create_all(connection)
                with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                    add_books(session, 3)
                    yield session
                transaction.rollback()
            engine.dispose()
    """,
}

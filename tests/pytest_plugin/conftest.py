"""Run throw-away test suites in a pytest subprocess with the plugin loaded, as a user would."""

from __future__ import annotations

import importlib.metadata
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [str(ROOT / "src"), str(ROOT / "integrations")]


def plugin_args() -> tuple[str, ...]:
    """``-p queryguard_pytest.plugin`` unless the ``pytest11`` entry point already loads the plugin.

    Naming a module with ``-p`` that an entry point also registers makes pytest refuse to start
    ("Plugin already registered under a different name"), so it is passed only when needed.
    """
    registered = any(ep.name == "queryguard" for ep in importlib.metadata.entry_points(group="pytest11"))
    if registered and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return ()
    return ("-p", "queryguard_pytest.plugin")


Run = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run pytest in a subprocess in the pytester directory, with this working tree's packages first."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*SOURCES, *([path] if path else [])]))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> pytest.RunResult:
        options = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")
        return pytester.runpytest_subprocess(*plugin_args(), *options, *args)

    return run


def write(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    """Write ``files`` (relative path -> source, dedented) into the pytester directory."""
    for name, source in files.items():
        target = pytester.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")


#: A real SQLite shop recorded through queryguard's DB-API wrapper: authors, books, and a view with an N+1.
SQLITE_SHOP = {
    "conftest.py": """
        import sqlite3

        import pytest

        from queryguard import dbapi


        @pytest.fixture
        def db():
            raw = sqlite3.connect(":memory:", isolation_level=None)
            raw.executescript(
                "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);"
                "CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT, author_id INTEGER);"
            )
            conn = dbapi.instrument(raw)
            populate(conn, 3)
            yield conn
            raw.close()


        def populate(conn, n):
            conn.execute("DELETE FROM book")
            conn.execute("DELETE FROM author")
            for i in range(1, n + 1):
                conn.execute("INSERT INTO author (id, name) VALUES (?, ?)", (i, f"author {i}"))
                conn.execute("INSERT INTO book (id, title, author_id) VALUES (?, ?, ?)", (i, f"book {i}", i))
    """,
    "shop.py": """
        def book_list(conn):
            rows = []
            for _, title, author_id in conn.execute("SELECT id, title, author_id FROM book").fetchall():
                author = conn.execute("SELECT name FROM author WHERE id = ?", (author_id,)).fetchone()
                rows.append((title, author[0]))
            return rows


        def book_list_joined(conn):
            return conn.execute(
                "SELECT book.title, author.name FROM book JOIN author ON author.id = book.author_id"
            ).fetchall()


        def rename_all(conn):
            for (author_id,) in conn.execute("SELECT id FROM author").fetchall():
                conn.execute("UPDATE author SET name = ? WHERE id = ?", (f"renamed {author_id}", author_id))


        def star(conn, book_id):
            return conn.execute("SELECT * FROM book WHERE id = ?", (book_id,)).fetchall()
    """,
}


@pytest.fixture
def sqlite_shop(pytester: pytest.Pytester) -> pytest.Pytester:
    """The pytester directory with :data:`SQLITE_SHOP` written into it."""
    write(pytester, SQLITE_SHOP)
    return pytester

"""The "warn" action: each QueryGuardWarning names the file, line and module of its finding's call site."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from queryguard import QueryGuardWarning

from ._helpers import shop_db

VIEWS = """\
def books(conn):
    for author_id in (1, 2, 3):
        conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
"""

APP = """\
import queryguard
from shop_d import views


def run(conn):
    with queryguard.capture(action="warn"):
        views.books(conn)
"""


@pytest.fixture
def shop_app(tmp_path: Path) -> Iterator[ModuleType]:
    """A package of the user's own: ``shop_d.views`` runs the loop, ``shop_d.app`` holds the unit's block."""
    package = tmp_path / "shop_d"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "views.py").write_text(VIEWS)
    (package / "app.py").write_text(APP)
    sys.path.insert(0, str(tmp_path))
    try:
        import shop_d.app

        yield shop_d.app
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == "shop_d"]:
            del sys.modules[name]


def _warnings_of(run: Any, *filters: tuple[str, str]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for action, module in filters:
            warnings.filterwarnings(action, category=QueryGuardWarning, module=module)  # type: ignore[arg-type]
        run()
    return [w for w in caught if issubclass(w.category, QueryGuardWarning)]


def test_the_warning_names_the_line_of_the_loop_not_the_end_of_the_unit(shop_app: ModuleType) -> None:
    """The warning's file and line are the statement's line in views.py, not the block in app.py."""
    conn = shop_db()
    (caught,) = _warnings_of(lambda: shop_app.run(conn))
    assert Path(caught.filename).name == "views.py"
    assert caught.lineno == 3
    assert "N+1: author rows loaded 3 times" in str(caught.message)


def test_filters_match_the_module_of_the_call_site(shop_app: ModuleType) -> None:
    """A filter on the call site's module (``shop_d.views``) silences it; one on the block's does not."""
    conn = shop_db()
    assert _warnings_of(lambda: shop_app.run(conn), ("ignore", r"shop_d\.views")) == []
    assert len(_warnings_of(lambda: shop_app.run(conn), ("ignore", r"shop_d\.app"))) == 1


def test_an_error_filter_on_the_module_raises_from_the_unit(shop_app: ModuleType) -> None:
    """``-W error::queryguard.QueryGuardWarning:shop_d.views``: the end of the unit raises the warning."""
    conn = shop_db()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", category=QueryGuardWarning, module=r"shop_d\.views")
        with pytest.raises(QueryGuardWarning, match=r"N\+1: author rows loaded 3 times"):
            shop_app.run(conn)


def test_the_default_action_shows_a_line_once(shop_app: ModuleType) -> None:
    """Under the "default" action the same finding at the same line is shown once, as warnings.warn does."""
    conn = shop_db()
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        shop_app.run(conn)
        shop_app.run(conn)
    assert len([w for w in caught if issubclass(w.category, QueryGuardWarning)]) == 1


def test_the_subprocess_warning_line_is_the_users(tmp_path: Path) -> None:
    """Printed by Python's own warning display: the views.py line and its source text."""
    (tmp_path / "views.py").write_text(VIEWS)
    script = textwrap.dedent(
        """
        import sqlite3, sys
        sys.path.insert(0, sys.argv[1])
        import queryguard, views
        conn = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))
        conn.execute("CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT)")
        with queryguard.capture(action="warn"):
            views.books(conn)
        conn.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert f"{tmp_path / 'views.py'}:3: QueryGuardWarning: N+1: author rows loaded 3 times" in done.stderr
    assert 'conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))' in done.stderr

"""Call sites of code with no file: ``python -c``, a script piped to stdin, a REPL; generated code is not."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Runs the N+1 of a small shop at its line 7 (a loop at the top level) and at line 11 (in a function it
# defines), then prints the call sites of both findings as JSON.
SCRIPT = textwrap.dedent(
    """\
    import json, sqlite3
    import queryguard
    conn = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))
    conn.execute("CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT)")
    with queryguard.capture(action="none") as top:
        for author_id in (1, 2, 3):
            conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
    def load(ids):
        with queryguard.capture(action="none") as cap:
            for author_id in ids:
                conn.execute("SELECT name FROM author WHERE id = ?", (author_id,))
        return cap
    inner = load((1, 2, 3))
    print(json.dumps([[f.callsite for f in cap.findings] for cap in (top, inner)]))
    conn.close()
    """
)


def _run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_c_call_sites_name_the_line_of_the_command() -> None:
    """``python -c``: ``<string>:7 in <module>`` at the top level, ``<string>:11 in load`` in a function."""
    found = json.loads(_run("-c", SCRIPT).splitlines()[-1])
    assert found == [["<string>:7 in <module>"], ["<string>:11 in load"]]


def test_stdin_call_sites_name_the_line_of_the_script() -> None:
    """``python - < script``: ``<stdin>:7 in <module>`` and ``<stdin>:11 in load``."""
    found = json.loads(_run("-", stdin=SCRIPT).splitlines()[-1])
    assert found == [["<stdin>:7 in <module>"], ["<stdin>:11 in load"]]


@pytest.mark.parametrize("console", ["code", "repl"])
def test_a_repl_call_site_is_the_typed_statement(console: str) -> None:
    """A statement typed at a prompt (Python's REPL, ``code.interact`` as Django's shell) is user code."""
    typed = [
        "import sqlite3, queryguard",
        'conn = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))',
        "cap = queryguard.capture(action='none').start()",
        'conn.execute("SELECT 1")',
        "cap.stop()",
        'print("SITE", cap.queries[0].callsite)',
    ]
    if console == "repl":
        output = _run("-q", "-i", stdin="\n".join(typed) + "\n")
        # Python 3.13 numbers each statement typed at its prompt: <stdin>-3
        expected = "<stdin>:1 in <module>" if sys.version_info < (3, 13) else "<stdin>-3:1 in <module>"
    else:
        driver = (
            f"import code\nconsole = code.InteractiveConsole()\nfor line in {typed!r}: console.push(line)\n"
        )
        output = _run("-c", driver)
        expected = "<console>:1 in <module>"
    assert f"SITE {expected}" in output


def test_generated_code_in_a_library_namespace_is_not_user_code() -> None:
    """A function a library generates with exec (as dataclasses do) is skipped: its caller is the site."""
    script = textwrap.dedent(
        """\
        import sqlite3
        import queryguard
        conn = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))
        namespace = {"__name__": "somelib.generated"}
        exec("def fetch(conn):\\n    return conn.execute('SELECT 1')\\n", namespace)
        with queryguard.capture(action="none") as cap:
            namespace["fetch"](conn)
        print("SITE", cap.queries[0].callsite)
        conn.close()
        """
    )
    assert "SITE <string>:7 in <module>" in _run("-c", script)


def test_a_dataclass_generated_init_in_a_module_is_not_the_call_site(tmp_path: Path) -> None:
    """A query in ``__post_init__`` of a module's dataclass: the site is the line in it, not ``<string>``."""
    (tmp_path / "models.py").write_text(
        textwrap.dedent(
            """\
            import dataclasses

            @dataclasses.dataclass
            class Author:
                conn: object
                id: int

                def __post_init__(self):
                    self.name = self.conn.execute("SELECT ?", (self.id,)).fetchone()
            """
        )
    )
    script = textwrap.dedent(
        """\
        import sqlite3, sys
        sys.path.insert(0, ".")
        import queryguard, models
        conn = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))
        with queryguard.capture(action="none") as cap:
            models.Author(conn, 1)
        print("SITES", [q._site and queryguard._callsite.describe_stack(q._site) for q in cap.queries])
        conn.close()
        """
    )
    output = _run("-c", script, cwd=tmp_path)
    assert "SITES [('models.py:9 in __post_init__', '<string>:6 in <module>')]" in output


def test_a_statement_run_while_a_module_is_imported_names_the_module(tmp_path: Path) -> None:
    """Frozen importlib frames stay library code: a module's top-level statement is sited in that module."""
    (tmp_path / "setup_shop.py").write_text('CONN.execute("SELECT 1")\n')
    script = textwrap.dedent(
        """\
        import builtins, sqlite3, sys
        sys.path.insert(0, ".")
        import queryguard
        builtins.CONN = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))
        with queryguard.capture(action="none") as cap:
            import setup_shop
        print("SITE", cap.queries[0].callsite)
        """
    )
    assert "SITE setup_shop.py:1 in <module>" in _run("-c", script, cwd=tmp_path)

"""The lexical rules of SQL per database, and the tolerant and strict readers built from them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queryguard._explain import _strict
from queryguard._sql import _lexer


def texts(sql: str, vendor: str) -> list[tuple[str, str]]:
    return [(token.kind, token.text) for token in _lexer.tokens(sql, vendor)]


@pytest.mark.parametrize(
    ("sql", "vendor", "expected"),
    [
        ("SELECT $$a$$, x", "postgresql", [("w", "SELECT"), ("s", "$$a$$"), ("o", ","), ("w", "x")]),
        ("SELECT $t$a$t$ x", "postgresql", [("w", "SELECT"), ("s", "$t$a$t$"), ("w", "x")]),
        ("SELECT a # note\nFROM t", "mysql", [("w", "SELECT"), ("w", "a"), ("w", "FROM"), ("w", "t")]),
        ("SELECT a --1", "mysql", [("w", "SELECT"), ("w", "a"), ("o", "--"), ("n", "1")]),
        ("SELECT 'it\\'s', x", "mysql", [("w", "SELECT"), ("s", "'it\\'s'"), ("o", ","), ("w", "x")]),
        ("SELECT 'a\\', x", "postgresql", [("w", "SELECT"), ("s", "'a\\'"), ("o", ","), ("w", "x")]),
        ('SELECT "a" FROM t', "mysql", [("w", "SELECT"), ("s", '"a"'), ("w", "FROM"), ("w", "t")]),
        ("SELECT [a b] FROM t", "sqlite", [("w", "SELECT"), ("q", "[a b]"), ("w", "FROM"), ("w", "t")]),
        ("SELECT a[1]", "postgresql", [("w", "SELECT"), ("w", "a"), ("o", "["), ("n", "1"), ("o", "]")]),
        ("SELECT 'open", "sqlite", [("w", "SELECT"), ("s", "'open")]),
    ],
)
def test_each_database_reads_its_own_quotes_and_comments(
    sql: str, vendor: str, expected: list[tuple[str, str]]
) -> None:
    """Dollar quotes close, MySQL's comments and backslashes are its own, an open quote runs to the end."""
    assert texts(sql, vendor)[: len(expected)] == expected


@pytest.mark.parametrize(
    ("sql", "vendor"),
    [
        ("SELECT [a FROM t", "sqlite"),
        ("SELECT a FROM t # ;\nDELETE FROM t", "mysql"),
        ("SELECT 'a\\' FROM t", "mysql"),
        ("SELECT 'a\\' FROM t", "postgresql"),
        ('SELECT "a\\" FROM t', "postgresql"),
    ],
)
def test_the_strict_reading_refuses_what_it_cannot_delimit_for_sure(sql: str, vendor: str) -> None:
    """An unclosed ``[`` on SQLite, a ``#`` comment, a backslash whose meaning a server setting decides."""
    with pytest.raises(_strict.Unclear):
        _strict.read(sql, vendor=vendor)


FRAGMENTS = ["a", "1", " ", "'x'", "''", '"n"', "`t`", "[n]", "$$s$$", "$t$s$t$", "E'\\''", "(", ")", ","]
FRAGMENTS += [".", "%s", "%(n)s", "?", "$1", ":n", "::", "=", "<=", "-- c\n", "/* c */", "#\n", "\\", "é"]


@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join),
    st.sampled_from(["postgresql", "mysql", "sqlite"]),
)
def test_strict_and_tolerant_readings_agree_where_the_strict_one_reads(text: str, vendor: str) -> None:
    """One set of rules: a statement the strict reader understands has the same tokens read tolerantly."""
    try:
        strict = _strict.read(text, vendor=vendor)
    except _strict.Unclear:
        return
    assert strict == _lexer.tokens(text, vendor)

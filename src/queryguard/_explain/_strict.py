"""A strict reading of a captured statement for the EXPLAIN safety check: one statement, fully understood.

The tokens are those of the database's own lexical rules (:mod:`queryguard._sql._lexer`), read strictly:
every character must belong to a token whose extent the database reads the same way whatever its settings,
else :class:`Unclear` says what was not understood. Refused, among others: a dollar-quote tag that is not
plain ASCII (PostgreSQL accepts any letter), a ``$`` in a name, a nested or unterminated block comment,
MySQL's ``#`` comments, ``/*!...*/`` executable comments and ``--`` without a blank after it (MySQL reads
``--1`` as minus minus 1), a backslash anywhere but in a PostgreSQL ``E'...'`` string (it depends on
``standard_conforming_strings`` or ``NO_BACKSLASH_ESCAPES``), an unterminated string or quoted name, an
operator the table below does not list, and a ``;`` followed by anything but blanks.
"""

from __future__ import annotations

from typing import Final

from .._sql._lexer import Token, dialect_of, strict_pattern, token_value

#: Operators read the same way by every database; PostgreSQL's own on built-in types (user-defined operators
#: of the same name are looked up in the catalog before EXPLAIN).
OPERATORS: Final = frozenset(
    """= < > <= >= <> != + - * / % || ~ ~* !~ !~* ~~ !~~ ~~* !~~* @> <@ && -> ->> #> #>> ? ?| ?& @@ @
    ^ | & << >> # ! <=>""".split()  # noqa: SIM905
)
_SPECIAL: Final = frozenset("~!@#%^&|`?")
_PUNCTUATION: Final = frozenset(("::", "%%", "%", ";", "(", ")", ",", ".", "[", "]"))


class Unclear(ValueError):
    """The statement holds something the strict reading does not fully understand."""


def read(text: str, *, vendor: str) -> tuple[Token, ...]:
    """The tokens of ``text`` (blanks and comments dropped); :class:`Unclear` when anything is not clear."""
    dialect = dialect_of(vendor).name
    pattern = strict_pattern(dialect)
    tokens: list[Token] = []
    depth = pos = 0
    ended = False
    while pos < len(text):
        m = pattern.match(text, pos)
        if m is None:
            raise Unclear(_what(text, pos, dialect))
        kind, word = m.lastgroup or "", m.group()
        if kind == "c":
            _check_comment(word, dialect)
        if ended and kind != "b" and word != ";":
            raise Unclear("a second statement after ';'")
        pos = m.end()
        if kind in ("b", "c"):
            continue
        if word == ";":
            ended = True
            continue
        if kind == "o" and word not in _PUNCTUATION:
            _check_operator(word)
        if kind == "w" and "$" in word:
            raise Unclear("a '$' glued to a name")
        if word == ")":
            depth -= 1
            if depth < 0:
                raise Unclear("an unbalanced ')'")
        tokens.append(Token(kind, word, token_value(kind, word), depth))
        if word == "(":
            depth += 1
    if depth:
        raise Unclear("an unbalanced '('")
    return tuple(tokens)


def _check_comment(word: str, dialect: str) -> None:
    if word.startswith("#"):
        raise Unclear("a '#' comment")
    if word.startswith("/*") and "/*" in word[2:]:
        raise Unclear("a nested block comment")
    if dialect == "mysql" and word[:3] in ("/*!", "/*M", "/*+"):
        raise Unclear("an executable comment /*!...*/")


def _check_operator(word: str) -> None:
    if word.startswith("--"):
        raise Unclear("'--' without a blank after it (MySQL reads '--1' as minus minus 1)")
    if "--" in word or "/*" in word:
        raise Unclear(f"a comment inside the operator {word!r}")
    head = word.rstrip("+-")
    if word in OPERATORS or (head in OPERATORS and not _SPECIAL & set(head)):
        return  # PostgreSQL too reads "=-" as "=" then "-"
    raise Unclear(f"the operator {word!r}")


def _what(text: str, pos: int, dialect: str) -> str:
    char = text[pos]
    if char in "'\"`[" or (char == "$" and dialect == "postgresql"):
        start = text[pos : pos + 8]
        return f"a quote it cannot delimit for sure (unterminated, unusual tag or backslash): {start!r}"
    if text.startswith("/*", pos):
        return "an unterminated block comment"
    if char == "#":
        return "a '#' comment"
    if text.startswith("--", pos):
        return "'--' without a blank after it"
    return f"the character {char!r}"

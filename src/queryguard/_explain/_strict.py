"""A strict reading of a captured statement for the EXPLAIN safety check: one statement, fully understood.

The light reader in :mod:`._lex` skips what it does not know; this one refuses it. Every character must
belong to a token whose extent the database reads the same way whatever its settings, else
:class:`Unclear` says what was not understood. Refused, among others: a dollar-quote tag that is not plain
ASCII (PostgreSQL accepts any letter), a ``$`` glued to a name, a nested or unterminated block comment,
MySQL's ``#`` comments, ``/*!...*/`` executable comments and ``--`` without a blank after it (MySQL reads
``--1`` as minus minus 1), a backslash anywhere but in a PostgreSQL ``E'...'`` string (it depends on
``standard_conforming_strings`` or ``NO_BACKSLASH_ESCAPES``), an unterminated string or quoted name, an
operator the table below does not list, and a ``;`` followed by anything but blanks.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from ._lex import Token

_BLANK: Final = r"[ \t\n\r\f\v]"
_NAME_START: Final = r"A-Za-z_\u0080-\U0010ffff"
_COMMENT: Final = r"(?P<c>--[^\n\r]*|/\*(?:[^*]|\*(?!/))*\*/)"
#: MySQL: ``--`` starts a comment only before a blank or the end of a line.
_MYSQL_COMMENT: Final = r"(?P<c>--(?:[ \t\f\v][^\n\r]*)?(?=[\n\r]|\Z)|/\*(?:[^*]|\*(?!/))*\*/)"
_STRINGS: Final = {
    "postgresql": r"(?P<s>[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^'\\]|'')*'"
    r"|\$(?P<tag>(?:[A-Za-z_][A-Za-z0-9_]{0,62})?)\$.*?\$(?P=tag)\$)"
    r'|(?P<q>"(?:[^"\\]|"")*")',
    "mysql": r"""(?P<s>'(?:[^'\\]|'')*'|"(?:[^"\\]|"")*")|(?P<q>`(?:[^`]|``)*`)""",
    "sqlite": r"(?P<s>'(?:[^']|'')*')|(?P<q>\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\])",
}
_PLACEHOLDER: Final = r"(?P<p>%\([A-Za-z_]\w{0,127}\)s|%s|\?\d*|\$\d+|(?<![:\w]):[A-Za-z_]\w*|(?<![:\w]):\d+)"
_REST: Final = (
    r"|(?P<n>0[xX][0-9A-Fa-f]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)"
    rf"|(?P<w>[{_NAME_START}][0-9{_NAME_START}]*)"
    r"|(?P<o>::|%%|%|[;(),.\[\]]|{ops})"
    rf"|(?P<b>{_BLANK}+)"
)
_OPERATOR_CHARS: Final = {"postgresql": "-+*/<>=~!@#^&|?", "mysql": "-+*/<>=~!@^&|", "sqlite": "-+*/<>=~!&|"}
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


@functools.lru_cache(maxsize=4)
def _pattern(vendor: str) -> re.Pattern[str]:
    chars = _OPERATOR_CHARS.get(vendor, _OPERATOR_CHARS["sqlite"])
    ops = "[" + re.escape(chars) + "]+"
    comment = _MYSQL_COMMENT if vendor == "mysql" else _COMMENT
    strings = _STRINGS.get(vendor, _STRINGS["sqlite"])
    return re.compile(f"{comment}|{strings}|{_PLACEHOLDER}{_REST.format(ops=ops)}", re.S)


def read(text: str, *, vendor: str) -> tuple[Token, ...]:
    """The tokens of ``text`` (blanks and comments dropped); :class:`Unclear` when anything is not clear."""
    vendor = vendor if vendor in _STRINGS else "mysql" if vendor == "mariadb" else "sqlite"
    pattern = _pattern(vendor)
    tokens: list[Token] = []
    depth = pos = 0
    ended = False
    while pos < len(text):
        m = pattern.match(text, pos)
        if m is None:
            raise Unclear(_what(text, pos, vendor))
        kind, word = m.lastgroup or "", m.group()
        if kind == "tag":
            kind = "s"
        if kind == "c":
            _check_comment(word, vendor)
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
        if kind == "w" and pos < len(text) and text[pos] == "$":
            raise Unclear("a '$' glued to a name")
        if word == ")":
            depth -= 1
            if depth < 0:
                raise Unclear("an unbalanced ')'")
        tokens.append(Token(kind, word, _value(kind, word), depth))
        if word == "(":
            depth += 1
    if depth:
        raise Unclear("an unbalanced '('")
    return tuple(tokens)


def _value(kind: str, word: str) -> str:
    if kind == "w":
        return word.lower()
    if kind == "q":
        return word[1:-1] if word[0] == "[" else word[1:-1].replace(word[0] * 2, word[0])
    return word


def _check_comment(word: str, vendor: str) -> None:
    if word.startswith("/*") and "/*" in word[2:]:
        raise Unclear("a nested block comment")
    if vendor == "mysql" and word[:3] in ("/*!", "/*M", "/*+"):
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


def _what(text: str, pos: int, vendor: str) -> str:
    char = text[pos]
    if char in "'\"`[" or (char == "$" and vendor == "postgresql"):
        start = text[pos : pos + 8]
        return f"a quote it cannot delimit for sure (unterminated, unusual tag or backslash): {start!r}"
    if text.startswith("/*", pos):
        return "an unterminated block comment"
    if char == "#":
        return "a '#' comment"
    if text.startswith("--", pos):
        return "'--' without a blank after it"
    return f"the character {char!r}"

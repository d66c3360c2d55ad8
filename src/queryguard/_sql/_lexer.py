"""The lexical rules of SQL, once per database, and the readers built from them.

What a string is, a quoted name, a comment and a placeholder is said once per dialect in :data:`DIALECTS`:
``postgresql``, ``mysql`` (MariaDB too) and ``sqlite`` for the EXPLAIN stage, which knows the database it
reads for, and ``any`` for statement shapes, which must group the same statement alike whatever database
ran it (there a backslash before a quote is guessed from what follows it). Every pattern is built from that
table:

* :func:`shape_pattern`: the shape builder's tokens, one ``findall`` (dotted names glued);
* :func:`tokens` and :func:`spans`: the tolerant reader, which reads an unclosed quote to the end of the
  text and skips what it does not know;
* :func:`strict_pattern`: the strict reader's tokens (blanks too), which must close every quote and refuse
  a backslash whose meaning depends on a server setting; what it then refuses is the EXPLAIN stage's call.

No pattern offers two ways through the same text: the alternatives of a quote's body start with different
characters, and an unclosed quote read tolerantly runs to the end, so every reader is linear.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Final

#: What a backslash in a quote means.
LITERAL: Final = "literal"  # a character like any other
ESCAPE: Final = "escape"  # it escapes the next character (PostgreSQL's E'...')
#: A server setting decides (MySQL's NO_BACKSLASH_ESCAPES, PostgreSQL's standard_conforming_strings and
#: U&-quoted forms): read as the default (escape, or literal), refused by the strict reader.
SETTING_ESCAPE: Final = "setting-escape"
SETTING_LITERAL: Final = "setting-literal"
#: Vendor unknown: an escape, unless the quote after it ends the string by all appearances (Django's
#: ``ESCAPE '\'`` on SQLite).
GUESS: Final = "guess"


@dataclasses.dataclass(frozen=True)
class Quote:
    """One quoted form: a string literal (kind ``s``) or a quoted name (kind ``q``)."""

    kind: str
    opening: str  # a pattern
    close: str  # the closing character
    doubled: bool = True  # a doubled closing character stands for itself ('it''s')
    backslash: str = LITERAL
    chars: str = ""  # the pattern of one character of the body when not "anything but the close"
    most: int | None = None  # the longest body, when bounded
    open_ended: bool = True  # read tolerantly, an unclosed one runs to the end of the text

    def pattern(self, *, strict: bool) -> str:
        """The quote, closed (``strict``) or tolerantly read (an unclosed one runs to the end)."""
        close = re.escape(self.close)
        backslash = self.backslash
        if strict and backslash in (SETTING_ESCAPE, SETTING_LITERAL):
            backslash = ""  # refused: the body holds no backslash at all
        chars = self.chars or (
            f"[^{close}]" if backslash in (LITERAL, SETTING_LITERAL) else f"[^{close}\\\\]"
        )
        specials = []
        if backslash in (ESCAPE, SETTING_ESCAPE):
            specials.append(r"\\[\s\S]")
        elif backslash == GUESS:  # a quote after it ends the string after all before a blank, ),; or the end
            specials.append(rf"\\(?:[^{close}]|{close}(?![\s),;]|\Z)|(?={close}|\Z))")
        if self.doubled:
            specials.append(close * 2)
        if self.most is not None:
            body = f"{chars}{{0,{self.most}}}"
        elif specials:
            body = f"{chars}*(?:(?:{'|'.join(specials)}){chars}*)*"
        else:
            body = f"{chars}*"
        end = close if strict or not self.open_ended else rf"(?:{close}|\Z)"
        return self.opening + body + end


@dataclasses.dataclass(frozen=True)
class Dialect:
    """The lexical rules of one database."""

    name: str
    quotes: tuple[Quote, ...]
    dollar: str  # $tag$...$tag$ quotes: "tagged", "plain" ($$ only) or ""
    line_comment: str
    placeholder: str
    word: str
    operator: str  # the pattern of one operator token
    punctuation: str = r"::|%%|%|[;(),.\[\]]"
    number: str = r"0[xX][0-9A-Fa-f]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+"

    def strings(self) -> tuple[Quote, ...]:
        return tuple(q for q in self.quotes if q.kind == "s")

    def names(self) -> tuple[Quote, ...]:
        return tuple(q for q in self.quotes if q.kind == "q")


BLOCK_COMMENT: Final = r"/\*[\s\S]*?\*/"  # the strict reader then refuses one with "/*" inside
_UNCLOSED_BLOCK_COMMENT: Final = r"/\*[\s\S]*?(?:\*/|\Z)"
_NAME_CHARS: Final = "A-Za-z_\u0080-\U0010ffff"
#: Placeholders of every DB-API style: %s, %(name)s, ?, ?1, $1, :name, :1.
_PLACEHOLDER: Final = r"%\([A-Za-z_]\w{0,127}\)s|%s|\?\d*|\$\d+|(?<![:\w]):[A-Za-z_]\w*|(?<![:\w]):\d+"
# A "$" inside a name is PostgreSQL's; the strict reader refuses it.
_WORD: Final = f"[{_NAME_CHARS}][0-9${_NAME_CHARS}]*"
_SQL_LINE_COMMENT: Final = r"--[^\n\r]*"


def _operators(chars: str) -> str:
    return "[" + re.escape(chars) + "]+"


DIALECTS: Final = {
    "postgresql": Dialect(
        "postgresql",
        (
            Quote("s", "[Ee]'", "'", backslash=ESCAPE),
            Quote("s", "'", "'", backslash=SETTING_LITERAL),
            Quote("q", '"', '"', backslash=SETTING_LITERAL),  # U&"..." reads escapes
        ),
        "tagged",
        _SQL_LINE_COMMENT,
        _PLACEHOLDER,
        _WORD,
        _operators("-+*/<>=~!@#^&|?"),
    ),
    "mysql": Dialect(
        "mysql",
        (
            Quote("s", "'", "'", backslash=SETTING_ESCAPE),
            Quote("s", '"', '"', backslash=SETTING_ESCAPE),  # a name only under ANSI_QUOTES
            Quote("q", "`", "`"),
        ),
        "",
        # "--" starts a comment only before a blank or the end of a line (MySQL reads "--1" as minus minus 1)
        r"--(?:[ \t\f\v][^\n\r]*)?(?=[\n\r]|\Z)|#[^\n\r]*",
        _PLACEHOLDER,
        _WORD,
        _operators("-+*/<>=~!@^&|"),
    ),
    "sqlite": Dialect(
        "sqlite",
        (
            Quote("s", "'", "'"),
            Quote("q", '"', '"'),
            Quote("q", "`", "`"),
            Quote("q", r"\[", "]", doubled=False),
        ),
        "",
        _SQL_LINE_COMMENT,
        _PLACEHOLDER,
        _WORD,
        _operators("-+*/<>=~!&|"),
        punctuation=r"::|%%|%|[;(),.\]]",  # "[" always opens a name
    ),
    # Shapes: every vendor's forms at once, read so that no text is lost (the vendor is not known).
    "any": Dialect(
        "any",
        (
            Quote("s", "'", "'", backslash=GUESS),
            Quote("s", "[EeNnBbXx]'", "'", backslash=GUESS),
            # "[" after a name or "]" is a subscript, not a name
            Quote("q", r"\[(?<![\w\])]\[)", "]", doubled=False, chars=r"[^\][]", most=127, open_ended=False),
            Quote("q", '"', '"', doubled=False),
            Quote("q", "`", "`", doubled=False),
        ),
        "plain",
        r"--[^\n]*",
        r"\$\d+|%\([^()\s]{0,128}\)[sbt]|%[sbt]|\?\d*|::|(?<!\w):\w+",
        r"(?![EeNnBbXx]')\w+",
        r"<=|>=|<>|!=|\|\||->>?|#>>?|@>|<@|&&|[^\w\s]",
        punctuation=r"[(),;=]",
        number=r"0[xX][0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?",
    ),
}


def dialect_of(vendor: str) -> Dialect:
    """The rules of ``vendor`` (MariaDB's are MySQL's; an unknown vendor's are SQLite's)."""
    found = DIALECTS.get(vendor)
    if found is None or vendor == "any":
        return DIALECTS["mysql" if vendor == "mariadb" else "sqlite"]
    return found


def _dollar(d: Dialect, *, strict: bool) -> str:
    end = "" if strict else r"|\Z"
    if d.dollar == "tagged":  # a tag of plain ASCII: PostgreSQL accepts any letter, the strict reader less
        return rf"\$(?P<tag>(?:[A-Za-z_][A-Za-z0-9_]{{0,62}})?)\$[\s\S]*?(?:\$(?P=tag)\${end})"
    if d.dollar == "plain":
        return rf"\$\$[\s\S]*?(?:\$\${end})"
    return ""


# --- shapes ---------------------------------------------------------------------------------------------


def quoted_part() -> str:
    """One quoted part of a dotted name in a shape (closed)."""
    return "|".join(q.pattern(strict=True) for q in DIALECTS["any"].names())


def any_string() -> str:
    """A string of the ``any`` dialect, without prefix (read tolerantly)."""
    return DIALECTS["any"].strings()[0].pattern(strict=False)


def shape_pattern() -> str:
    """The shape builder's token: blanks before it, then one group of the token's text.

    Ordered by frequency; the leading ``\\s*`` spares a failed match attempt at every blank. A name glues
    the dotted parts that follow it (``"t"."c"``, ``t.*``).
    """
    d = DIALECTS["any"]
    plain, prefixed = (q.pattern(strict=False) for q in d.strings())
    closed = [q.pattern(strict=True) for q in d.names()]
    open_ended = [q.opening + r"[\s\S]*" for q in d.names() if q.open_ended]
    name = "(?:" + "|".join([*closed, d.word]) + ")"
    dotted = rf"(?:\.(?:{quoted_part()}|\w+|\*))*"
    comment = f"{d.line_comment}|{_UNCLOSED_BLOCK_COMMENT}"
    return (
        rf"\s*({d.punctuation}|{plain}|{d.number}|{name}{dotted}|{prefixed}|{comment}"
        rf"|{_dollar(d, strict=False)}|{d.placeholder}|{'|'.join(open_ended)}|{d.operator})"
    )


# --- the readers of the EXPLAIN stage -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (s, q, p, n, w, o), its text, its value (names unquoted) and paren depth."""

    kind: str
    text: str
    value: str
    depth: int


def _group(name: str, alternatives: list[str]) -> str:
    return f"(?P<{name}>{'|'.join(a for a in alternatives if a)})"


@functools.lru_cache(maxsize=8)
def strict_pattern(vendor: str) -> re.Pattern[str]:
    """Every token of ``vendor``'s dialect, blanks (``b``) and comments (``c``) too, every quote closed."""
    return _compile(dialect_of(vendor), strict=True)


@functools.lru_cache(maxsize=8)
def _tolerant(vendor: str) -> re.Pattern[str]:
    return _compile(dialect_of(vendor), strict=False)


def _compile(d: Dialect, *, strict: bool) -> re.Pattern[str]:
    comment = BLOCK_COMMENT if strict else _UNCLOSED_BLOCK_COMMENT
    strings = [q.pattern(strict=strict) for q in d.strings()]
    names = [q.pattern(strict=strict) for q in d.names()]
    parts = [
        _group("c", [d.line_comment, comment]),
        _group("s", [*strings, _dollar(d, strict=strict)]),
        _group("q", names),
        _group("p", [d.placeholder]),
        _group("n", [d.number]),
        _group("w", [d.word]),
        _group("o", [d.punctuation, d.operator]),
    ]
    if strict:
        parts.append(r"(?P<b>[ \t\n\r\f\v]+)")
    return re.compile("|".join(parts))


def token_value(kind: str, word: str) -> str:
    """A word lower-cased, a quoted name unquoted; any other token as written."""
    if kind == "w":
        return word.lower()
    if kind == "q":
        close = "]" if word[0] == "[" else word[0]
        body = word[1:-1] if len(word) > 1 and word[-1] == close else word[1:]
        return body if close == "]" else body.replace(close * 2, close)
    return word


def tokens(text: str, vendor: str = "") -> tuple[Token, ...]:
    """The tokens of ``text`` without comments, read tolerantly with the rules of ``vendor``."""
    out: list[Token] = []
    depth = 0
    for m in _tolerant(vendor).finditer(text):
        kind = m.lastgroup or "o"
        if kind == "c":
            continue
        if kind == "tag":
            kind = "s"
        word = m.group()
        if word == ")":
            depth = max(depth - 1, 0)
        out.append(Token(kind, word, token_value(kind, word), depth))
        if word == "(":
            depth += 1
    return tuple(out)


def spans(text: str, vendor: str = "") -> list[re.Match[str]]:
    """The raw token matches of ``text`` (comments included) with positions, for rewriting it."""
    return list(_tolerant(vendor).finditer(text))

"""The shape text of tokens and of blank-free chunks, and the spacing of a shape.

A text without strings and comments is split at blanks, and each chunk's shape text is memoised: the chunks
of ORM statements repeat endlessly (``"shop_book"."id"``, ``%s``), and a split is far cheaper than the
tokeniser. Any other text is tokenised by one ``findall`` of the ``any`` dialect's tokens.
"""

from __future__ import annotations

import re
from typing import Final

from . import _lexer

_MEMO_SIZE: Final = 20_000
#: One token of a shape, after its blanks (see :func:`._lexer.shape_pattern`).
TOKEN_RE: Final = re.compile(_lexer.shape_pattern())
_PART_RE: Final = re.compile(rf"{_lexer.quoted_part()}|[^.]+")

# Upper-cased in shapes. Function names (count, extract, coalesce) are not keywords: they stay lower-case and
# glued to their "(", which is how the scan tells a call from a subquery.
_KEYWORDS: Final = frozenset(
    """ABORT ADD ALL ALTER ANALYSE ANALYZE AND ANY ARRAY AS ASC BEGIN BETWEEN BOTH BY CALL CASCADE CASE
    CHECK COLLATE COLUMN COMMENT COMMIT COMMITTED CONFLICT CONSTRAINT COPY CREATE CROSS CURRENT_DATE
    CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DEFAULT DELETE DESC DESCRIBE DISTINCT DO DROP
    DUPLICATE ELSE END ESCAPE EXCEPT EXISTS EXPLAIN FALSE FETCH FILTER FIRST FOR FOREIGN FROM FULL GLOBAL
    GRANT GROUP HAVING IF IGNORE ILIKE IN INDEX INNER INSERT INTERSECT INTERVAL INTO IS ISNULL ISOLATION JOIN
    KEY LAST LATERAL LEADING LEFT LEVEL LIKE LIMIT LOCAL LOCK MATCHED MATERIALIZED MERGE MODE NATURAL NEXT NO
    NOT NOTHING NOTNULL NOWAIT NULL NULLS OF OFFSET ON ONLY OR ORDER OUTER OVER PARTITION PRAGMA PRIMARY
    RECURSIVE REFERENCES RELEASE RENAME RESTRICT RETURNING REVOKE RIGHT ROLLBACK ROWS SAVEPOINT SELECT
    SESSION SET SHARE SHOW SIMILAR SKIP SOME START TABLE TEMP TEMPORARY THEN TIES TO TOP TRAILING
    TRANSACTION TRUE TRUNCATE UNION UNIQUE UPDATE UPSERT USE USING VACUUM VALUES VIEW WHEN WHERE WINDOW WITH
    WITHIN WORK""".split()  # noqa: SIM905 - a word list reads better as words
)
_LITERAL_START: Final = frozenset("0123456789'")
_ITEM: Final = "?,"
_DROP: Final = ""  # what a comment becomes
# Shape texts of tokens (context-free), and of blank-free chunks that passed the check in _normal_chunk.
_TOKENS: dict[str, str] = {}
_CHUNKS: dict[str, str] = {}


def _normal_token(token: str) -> str:
    """The shape text of one token: ``?`` for a literal or placeholder, "" for a comment."""
    first = token[0]
    if first == "'" or first.isdecimal() or (first == "." and len(token) > 1) or token.startswith("$$"):
        return "?"
    if token.startswith(("--", "/*")):
        return _DROP
    if "'" in token and first not in '"`[':
        return "?"  # E'...', N'...', X'...'
    if first in "$?" or (first in "%:" and len(token) > 1 and token[1] not in "%:"):
        result = "?"  # a placeholder: %s, %(name)s, ?, ?1, $1, :name
    elif first in '"`' or (first == "[" and len(token) > 1) or ("." in token and _is_word(first)):
        result = ".".join(map(_normal_name, _PART_RE.findall(token)))
    elif _is_word(first):
        upper = token.upper()
        result = upper if upper in _KEYWORDS else token.lower()
    else:
        result = token
    _remember(_TOKENS, token, result)
    return result


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _remember(memo: dict[str, str], raw: str, normal: str) -> None:
    """Memoise a shape text; a memo is dropped whole when it fills up."""
    if len(raw) <= 64:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[raw] = normal


def _normal_name(part: str) -> str:
    """One part of a dotted name, unquoted and lower-cased; quoted with "" only if it is not a plain name."""
    if part[:1] in '"`[':
        part = part[1:-1] if len(part) > 1 and part[-1] in '"`]' else part[1:]
        part = part.lower()
        return part if part.isidentifier() else '"' + part.replace('"', "") + '"'
    return part.lower()


# Literal first, context after: the engine then jumps straight to each candidate.
_NEG_RE: Final = re.compile(r" - \?(?<=[=<>(,A-Z] - \?)")  # a minus sign after an operator: -1
# Blanks next to a cast or a dot go, whatever the neighbours: the same result however a text was cut up.
_CAST_RE: Final = re.compile(r" ?:: ?")
_DOT_RE: Final = re.compile(r" ?\. ?")
_GLUE_RE: Final = re.compile(r' \((?<=[\w"] \()(?<![A-Z] \()')  # a call: count(*), not IN (...)


class Fallback(Exception):
    """A whitespace-separated chunk cuts through a quoted name: tokenise the whole text instead."""


# A dotted or double-quoted name of plain ASCII parts, maybe in parentheses, maybe before a comma: its shape
# text is the chunk unquoted and lower-cased, as _normal_name makes it, with nothing to respace.
_PLAIN_PART: Final = r'(?:"[A-Za-z_]\w*"|[A-Za-z_]\w*)'
_NAME_CHUNK_RE: Final = re.compile(rf'\(*(?:{_PLAIN_PART}(?:\.{_PLAIN_PART})+|"[A-Za-z_]\w*")\)*,?', re.ASCII)


def _normal_chunk(chunk: str) -> str:
    """The shape text of a run of non-blank characters (no strings or comments in it)."""
    if _NAME_CHUNK_RE.fullmatch(chunk):  # most often a new column: "t"."c", or (t.c); no tokeniser needed
        result = chunk.replace('"', "").lower()
        _remember(_CHUNKS, chunk, result)
        return result
    number = chunk.strip("(),")
    if number.isdecimal():  # one item of a long list of numbers: (1, 2, 3)
        start = chunk.index(number)
        return respace(" ".join([*chunk[:start], "?", *chunk[start + len(number) :]]))
    # A quote that runs on past the chunk swallows the blank added here; a "[" may close in a later chunk.
    tokens = TOKEN_RE.findall(chunk + " ")
    if not tokens or tokens[-1][-1].isspace() or ("[" in chunk and chunk.rfind("[") > chunk.rfind("]")):
        raise Fallback
    get = _TOKENS.get
    result = respace(" ".join([get(t) or _normal_token(t) for t in tokens]))
    if not any(t[0] in _LITERAL_START or (t[0] == "." and t != ".") for t in tokens):
        _remember(_CHUNKS, chunk, result)  # numbers vary endlessly: keep them out of the memo
    return result


def tokens(text: str) -> tuple[list[str], list[str]]:
    """The raw tokens of the text and their shape texts, comments left out."""
    # Up to the last non-blank only: past it, each position would try every token in vain over the blanks
    # (a quadratic cost). An open quote then runs to that last non-blank.
    tokens: list[str] = TOKEN_RE.findall(text, 0, len(text.rstrip()))
    get = _TOKENS.get
    out = [get(t) or ("?" if t[0] in _LITERAL_START else _normal_token(t)) for t in tokens]
    if _DROP in out:
        kept = [(t, o) for t, o in zip(tokens, out, strict=True) if o]
        tokens, out = [t for t, _ in kept], [o for _, o in kept]
    while out and out[-1] == ";":
        del out[-1], tokens[-1]
    return tokens, out


def plain(text: str) -> bool:
    """Whether the text holds no string and no comment: then no token spans a blank (quotes aside)."""
    return "'" not in text and "--" not in text and "/*" not in text and "$$" not in text


def chunk_texts(chunks: list[str]) -> list[str]:
    """The shape texts of blank-free chunks; raises Fallback if one cuts through a quoted name."""
    get = _CHUNKS.get
    # the two tests spare a call for each item of a long list of numbers
    return [
        get(c)
        or ("?" if c.isdecimal() else _ITEM if c[:-1].isdecimal() and c[-1] == "," else _normal_chunk(c))
        for c in chunks
    ]


def respace(text: str) -> str:
    """Fix the spacing of tokens joined by single blanks: ``f(a, b)``, ``x = -1``, ``x::int``.

    Applied to each chunk (and memoised with it) and again to the whole text, where it then rarely
    finds anything to do: only the joins between chunks.
    """
    if " - ?" in text:
        text = _NEG_RE.sub(" ?", text)
    if " ," in text:
        text = text.replace(" ,", ",")
    if "( " in text:
        text = text.replace("( ", "(")
    if "(- ?" in text:  # a chunk ending in "(-" met its number only now
        text = text.replace("(- ?", "(?")
    if " )" in text:
        text = text.replace(" )", ")")
    if " (" in text:
        text = _GLUE_RE.sub("(", text)
    if " ::" in text or ":: " in text:
        text = _CAST_RE.sub("::", text)
    if " ." in text or ". " in text:
        text = _DOT_RE.sub(".", text)
    return text


def clear_memos() -> None:
    """Forget the memoised shape texts of tokens and chunks."""
    _TOKENS.clear()
    _CHUNKS.clear()

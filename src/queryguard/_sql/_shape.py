"""The shape of a statement: its tokens normalised and spaced, IN lists and VALUES rows collapsed.

What comes before WHERE (the select list, FROM and the joins) is memoised whole. A text cut at the size
limit (see :mod:`._statement`) ends at the last whole item of the list it was cut in, so that a long bulk
INSERT has one shape whatever its row count.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from . import _tokens
from ._tokens import TOKEN_RE, Fallback, chunk_texts, plain, respace

_MAX_INT_DIGITS: Final = 18
_IN_ITEM: Final = r"\?(?:::\w+)?|\(\?(?:::\w+)?(?:, \?(?:::\w+)?)*\)"
_IN_RE: Final = re.compile(rf"IN(?<![A-Z]IN) \(((?:{_IN_ITEM})(?:, (?:{_IN_ITEM}))*)\)")
_ROW: Final = r"\([^()]*(?:\([^()]*(?:\([^()]*\)[^()]*)*\)[^()]*)*\)"  # three levels of parens
_ROW_RE: Final = re.compile(_ROW)
_VALUES_RE: Final = re.compile(rf"VALUES(?<!= VALUES) ({_ROW}(?:, {_ROW})*)")
_SAVEPOINT_RE: Final = re.compile(
    r"(SAVEPOINT|RELEASE(?: SAVEPOINT)?|ROLLBACK(?: WORK| TRANSACTION)? TO(?: SAVEPOINT)?) (?!\?\Z)\S"
)


# the raw pieces (tokens or blank-free chunks), their shape texts, and an OFFSET found in a memoised head
Lexed = tuple[list[str], list[str], int | None]
_HEADS: dict[str, tuple[str, int | None]] = {}
_HEADS_SIZE: Final = 2048
_MAX_HEAD: Final = 4096


def _joined(text: str) -> tuple[str, Lexed]:
    """The text with every token normalised and correctly spaced, and the pieces it was made of.

    A text without strings and comments is split at blanks, and each chunk's shape text is memoised: the
    chunks of ORM statements repeat endlessly ("shop_book"."id", %s), and a split is far cheaper than a
    tokeniser. What comes before WHERE (the select list, FROM and the joins) is memoised whole.
    """
    end = len(text)
    while end and (text[end - 1] == ";" or text[end - 1].isspace()):
        end -= 1  # trailing semicolons go, as in the tokenised path
    try:
        cut = text.find("WHERE ", 0, end)
        if 0 < cut <= _MAX_HEAD and text[cut - 1].isspace() and plain(rest := text[cut:end]):
            head, head_offset = _head(text[:cut])
            if head and head[-1] not in "(:.":  # else respacing would join it to WHERE
                chunks = rest.split()
                out = chunk_texts(chunks)
                return head + " " + respace(" ".join(out)), (chunks, out, head_offset)
        if plain(text):
            chunks = (text[:end] if end < len(text) else text).split()
            out = chunk_texts(chunks)
            return respace(" ".join(out)), (chunks, out, None)
    except Fallback:
        pass
    tokens, out = _tokens.tokens(text)
    return respace(" ".join(out)), (tokens, out, None)


def _head(head: str) -> tuple[str, int | None]:
    """The shape text of the part of a statement before WHERE, and any OFFSET in it (memoised)."""
    known = _HEADS.get(head)
    if known is None:
        if not plain(head):
            raise Fallback
        chunks = head.split()
        out = chunk_texts(chunks)
        normal = respace(" ".join(out))
        known = (normal, offset(head, normal, (chunks, out, None)) if may_offset(normal) else None)
        if len(_HEADS) >= _HEADS_SIZE:
            _HEADS.clear()
        _HEADS[head] = known
    return known


def shape(text: str, *, cut: bool = False) -> tuple[str, Lexed, int, int]:
    """The normalised text, its pieces, the largest IN list and the first VALUES row count.

    ``cut``: the text is the first part of a longer statement (see :func:`_end_at_an_item`).
    """
    if cut:
        raw, out = _tokens.tokens(text)
        _end_at_an_item(raw, out)
        lexed: Lexed = (raw, out, None)
        shape = respace(" ".join(out))
    else:
        shape, lexed = _joined(text)
    counts = [0, 0]  # the largest IN list, the rows of the first VALUES
    if "IN (" in shape:
        shape = _IN_RE.sub(functools.partial(_collapse_in, counts), shape)
    if "VALUES (" in shape:
        shape = _VALUES_RE.sub(functools.partial(_collapse_values, counts), shape)
    if shape.startswith(("SAVEPOINT ", "RELEASE ", "ROLLBACK ")):  # not every SELECT: a match costs
        savepoint = _SAVEPOINT_RE.match(shape)
        if savepoint is not None:
            shape = savepoint.group(1) + " ?"
    return shape, lexed, counts[0], counts[1]


def _end_at_an_item(raw: list[str], out: list[str]) -> None:
    """Drop the token the cut went through and the unfinished item of the innermost open list, then
    close the open lists: wherever the cut falls in a long list of rows or values, the text ends alike."""
    del raw[-1:], out[-1:]
    opened: list[int] = []  # where each open "(" is
    commas = [-1]  # the last "," of each open list, and of the top level
    for index, text in enumerate(out):
        if text == "(":
            opened.append(index)
            commas.append(-1)
        elif text == ")" and opened:
            opened.pop()
            commas.pop()
        elif text == ",":
            commas[-1] = index
    if opened:
        end = max(commas[-1], opened[-1] + 1)
        del raw[end:], out[end:]
        raw += [")"] * len(opened)
        out += [")"] * len(opened)
    while out and out[-1] == ",":
        del raw[-1], out[-1]


def may_offset(shape: str) -> bool:
    """Whether the scan would find an OFFSET or a MySQL ``LIMIT ?, ?``, without scanning.

    Upper-case words in a shape are keywords, whole and never glued to a letter, so a substring test
    finds exactly what the scan's patterns find.
    """
    return "OFFSET" in shape or "LIMIT ?, ?" in shape


def _collapse_in(counts: list[int], m: re.Match[str]) -> str:
    items = m.group(1)
    counts[0] = max(counts[0], items.count("), (") + 1 if items[0] == "(" else items.count(",") + 1)
    return "IN (...)"


def _collapse_values(counts: list[int], m: re.Match[str]) -> str:
    if not counts[1]:
        rows = m.group(1)
        counts[1] = rows.count("), (") + 1
        if rows.count("(") != counts[1]:  # calls or subqueries inside the rows
            counts[1] = len(_ROW_RE.findall(rows))
    return "VALUES (...)"


def offset(text: str, shape: str, lexed: Lexed) -> int | None:
    """The largest integer in OFFSET n or MySQL's LIMIT n, m."""
    raw, out, best = lexed
    if out.count("OFFSET") != shape.count("OFFSET") or out.count("LIMIT") != shape.count("LIMIT"):
        raw, out = _tokens.tokens(
            text
        )  # a keyword is glued to something in a chunk, or sits in a memoised head
        best = None
    for keyword in ("OFFSET", "LIMIT"):
        index = -1
        while True:
            try:
                index = out.index(keyword, index + 1) + 1
            except ValueError:
                break
            after = TOKEN_RE.findall(raw[index]) if index < len(raw) else []  # the piece may be a chunk
            if (
                keyword == "LIMIT"
            ):  # MySQL's LIMIT offset, count: the comma is in this piece or starts the next
                following = out[index + 1] if index + 1 < len(out) else ""
                if not (after[1:2] == [","] or (len(after) == 1 and following.startswith(","))):
                    continue
            best = _max_or_none(best, _int(after[0]) if after else None)
    return best


def _int(digits: str) -> int | None:
    return int(digits) if digits.isdecimal() and len(digits) <= _MAX_INT_DIGITS else None


def _max_or_none(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def clear_memos() -> None:
    """Forget the memoised heads."""
    _HEADS.clear()

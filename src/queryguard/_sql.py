"""What one SQL text is: its normalised shape, a fingerprint of it, and the facts the detectors need.

Most ORM statements hold no string and no comment (their parameters travel apart): such a text is split
at blanks, and the shape text of each chunk is memoised, as is everything before WHERE (the select list,
FROM and the joins). Any other text is tokenised by one ``findall``. The shape is then scanned once, by a
pattern whose alternatives all start with a literal, for the few keywords the analysis needs. All of it is
linear in the length of the statement: no pattern offers two ways through the same text where a later
failure could make the engine try them all.

A new shape pays only for its text, its fingerprint and its kind: the scan runs when a detector first asks
for another fact, once per shape, so statements that are only grouped by fingerprint never pay for it.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import functools
import hashlib
import re
import uuid
from collections.abc import Hashable, Iterable, Mapping
from itertools import chain
from typing import Any, Final

__all__ = ["Statement", "analyze", "literal_key", "params_key", "params_keys", "rough_kind"]

_CACHE_SIZE: Final = 4096
# A huge statement (a bulk insert) would pin megabytes in the main cache: it gets a few slots of its own.
_BIG_CHARS: Final = 65_536
_BIG_CACHE_SIZE: Final = 4
_MEMO_SIZE: Final = 20_000
_MAX_INT_DIGITS: Final = 18


class Statement:
    """What queryguard knows about one SQL text, whatever its parameters (read-only).

    The shape, fingerprint and kind are known at once; the other facts about the shape are worked out on
    first use and then shared by every statement of that shape: most statements are only grouped by
    fingerprint, and a fresh shape's scan would otherwise double the cost of analysing it.
    """

    __slots__ = ("_facts", "_rows", "fingerprint", "in_list_max", "kind", "offset", "shape")

    shape: str
    fingerprint: str
    kind: str
    in_list_max: int
    offset: int | None

    def __init__(self, facts: _ShapeFacts, rows: int, in_list_max: int, offset: int | None) -> None:
        self.shape = facts.shape
        self.fingerprint = facts.fingerprint
        self.kind = facts.kind
        self._facts = facts
        self._rows = rows
        self.in_list_max = in_list_max
        self.offset = offset

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables named, in order of appearance, without CTE names."""
        return self._facts.scanned()[0]

    @property
    def select_star(self) -> bool:
        """Whether a select list holds ``*`` or ``name.*`` (outside EXISTS)."""
        return self._facts.scanned()[1]

    @property
    def values_rows(self) -> int:
        """The rows of the first VALUES list of an INSERT; 0 for any other kind."""
        return self._rows if self.kind == "insert" else 0

    @property
    def has_limit(self) -> bool:
        """Whether the statement has a LIMIT, FETCH or TOP."""
        return self._facts.scanned()[2]

    @property
    def writes(self) -> bool:
        """Whether the statement (or any part of it) writes."""
        return self._facts.scanned()[3]

    @property
    def locking(self) -> bool:
        """Whether the statement takes row or table locks (FOR UPDATE, LOCK IN SHARE MODE, LOCK TABLE)."""
        return self._facts.scanned()[4]

    @property
    def volatile_calls(self) -> bool:
        """Whether the statement calls a sequence, advisory-lock, sleep or dblink function."""
        return self._facts.scanned()[5]

    @property
    def read_only(self) -> bool:
        """True when running the statement again (or under EXPLAIN ANALYZE) changes and locks nothing."""
        return self.kind == "select" and not (self.writes or self.locking or self.volatile_calls)

    @property
    def is_single_row_write(self) -> bool:
        """True for a one-row INSERT, and for any UPDATE or DELETE: the statements a loop repeats."""
        if self.kind == "insert":
            return self.values_rows <= 1 and _INSERT_SELECT_RE.search(self.shape) is None
        return self.kind in ("update", "delete")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Statement):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "Statement(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS) + ")"


_FIELDS: Final = (
    "shape",
    "fingerprint",
    "kind",
    "tables",
    "select_star",
    "values_rows",
    "in_list_max",
    "has_limit",
    "offset",
    "writes",
    "locking",
    "volatile_calls",
)


# --- tokens ---------------------------------------------------------------------------------------------

_QUOTED_PART: Final = r'"[^"]*"|`[^`]*`|\[[^\][]{0,127}\]'
# A string runs to the end if unterminated. A backslash escapes a quote (MySQL: 'it\'s') unless the quote
# ends the string by all appearances, as in Django's ESCAPE '\' on SQLite.
_STRING: Final = r"'[^'\\]*(?:(?:\\(?:[^']|'(?![\s),;]|\Z)|(?='|\Z))|'')[^'\\]*)*(?:'|\Z)"
# Ordered by frequency; the leading \s* spares a failed match attempt at every blank.
_TOKEN_RE: Final = re.compile(
    rf"\s*([(),;=]|{_STRING}"
    r"|0[xX][0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"  # number
    r"|(?:\[(?<![\w\])]\[)[^\][]{0,127}\]|\"[^\"]*\"|`[^`]*`|(?![EeNnBbXx]')\w+)"  # a name, maybe dotted
    rf"(?:\.(?:{_QUOTED_PART}|\w+|\*))*"
    rf"|[EeNnBbXx]{_STRING}"  # E'...', N'...', X'...', B'...'
    r"|--[^\n]*|/\*[\s\S]*?(?:\*/|\Z)"  # comment
    r"|\$\$[\s\S]*?(?:\$\$|\Z)|\$\d+|%\([^()\s]{0,128}\)[sbt]|%[sbt]|\?\d*|::|(?<!\w):\w+"  # placeholder
    r'|"[\s\S]*|`[\s\S]*'  # unterminated quoted name
    r"|<=|>=|<>|!=|\|\||->>?|#>>?|@>|<@|&&|[^\w\s])"
)
_PART_RE: Final = re.compile(rf"{_QUOTED_PART}|[^.]+")

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


# --- shape ---------------------------------------------------------------------------------------------

# Literal first, context after: the engine then jumps straight to each candidate.
_NEG_RE: Final = re.compile(r" - \?(?<=[=<>(,A-Z] - \?)")  # a minus sign after an operator: -1
# Blanks next to a cast or a dot go, whatever the neighbours: the same result however a text was cut up.
_CAST_RE: Final = re.compile(r" ?:: ?")
_DOT_RE: Final = re.compile(r" ?\. ?")
_GLUE_RE: Final = re.compile(r' \((?<=[\w"] \()(?<![A-Z] \()')  # a call: count(*), not IN (...)
_IN_ITEM: Final = r"\?(?:::\w+)?|\(\?(?:::\w+)?(?:, \?(?:::\w+)?)*\)"
_IN_RE: Final = re.compile(rf"IN(?<![A-Z]IN) \(((?:{_IN_ITEM})(?:, (?:{_IN_ITEM}))*)\)")
_ROW: Final = r"\([^()]*(?:\([^()]*(?:\([^()]*\)[^()]*)*\)[^()]*)*\)"  # three levels of parens
_ROW_RE: Final = re.compile(_ROW)
_VALUES_RE: Final = re.compile(rf"VALUES(?<!= VALUES) ({_ROW}(?:, {_ROW})*)")
_SAVEPOINT_RE: Final = re.compile(
    r"(SAVEPOINT|RELEASE(?: SAVEPOINT)?|ROLLBACK(?: WORK| TRANSACTION)? TO(?: SAVEPOINT)?) (?!\?\Z)\S"
)


# the raw pieces (tokens or blank-free chunks), their shape texts, and an OFFSET found in a memoised head
_Lexed = tuple[list[str], list[str], int | None]
_HEADS: dict[str, tuple[str, int | None]] = {}
_HEADS_SIZE: Final = 2048
_MAX_HEAD: Final = 4096


class _Fallback(Exception):
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
        return _respace(" ".join([*chunk[:start], "?", *chunk[start + len(number) :]]))
    # A quote that runs on past the chunk swallows the blank added here; a "[" may close in a later chunk.
    tokens = _TOKEN_RE.findall(chunk + " ")
    if not tokens or tokens[-1][-1].isspace() or ("[" in chunk and chunk.rfind("[") > chunk.rfind("]")):
        raise _Fallback
    get = _TOKENS.get
    result = _respace(" ".join([get(t) or _normal_token(t) for t in tokens]))
    if not any(t[0] in _LITERAL_START or (t[0] == "." and t != ".") for t in tokens):
        _remember(_CHUNKS, chunk, result)  # numbers vary endlessly: keep them out of the memo
    return result


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """The raw tokens of the text and their shape texts, comments left out."""
    tokens: list[str] = _TOKEN_RE.findall(text)
    get = _TOKENS.get
    out = [get(t) or ("?" if t[0] in _LITERAL_START else _normal_token(t)) for t in tokens]
    if _DROP in out:
        kept = [(t, o) for t, o in zip(tokens, out, strict=True) if o]
        tokens, out = [t for t, _ in kept], [o for _, o in kept]
    while out and out[-1] == ";":
        del out[-1], tokens[-1]
    return tokens, out


def _joined(text: str) -> tuple[str, _Lexed]:
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
        if 0 < cut <= _MAX_HEAD and text[cut - 1].isspace() and _plain(rest := text[cut:end]):
            head, head_offset = _head(text[:cut])
            if head and head[-1] not in "(:.":  # else respacing would join it to WHERE
                chunks = rest.split()
                out = _chunk_texts(chunks)
                return head + " " + _respace(" ".join(out)), (chunks, out, head_offset)
        if _plain(text):
            chunks = (text[:end] if end < len(text) else text).split()
            out = _chunk_texts(chunks)
            return _respace(" ".join(out)), (chunks, out, None)
    except _Fallback:
        pass
    tokens, out = _tokens(text)
    return _respace(" ".join(out)), (tokens, out, None)


def _plain(text: str) -> bool:
    """Whether the text holds no string and no comment: then no token spans a blank (quotes aside)."""
    return "'" not in text and "--" not in text and "/*" not in text and "$$" not in text


def _chunk_texts(chunks: list[str]) -> list[str]:
    """The shape texts of blank-free chunks; raises _Fallback if one cuts through a quoted name."""
    get = _CHUNKS.get
    # the two tests spare a call for each item of a long list of numbers
    return [
        get(c)
        or ("?" if c.isdecimal() else _ITEM if c[:-1].isdecimal() and c[-1] == "," else _normal_chunk(c))
        for c in chunks
    ]


def _head(head: str) -> tuple[str, int | None]:
    """The shape text of the part of a statement before WHERE, and any OFFSET in it (memoised)."""
    known = _HEADS.get(head)
    if known is None:
        if not _plain(head):
            raise _Fallback
        chunks = head.split()
        out = _chunk_texts(chunks)
        normal = _respace(" ".join(out))
        known = (normal, _offset(head, normal, (chunks, out, None)) if _may_offset(normal) else None)
        if len(_HEADS) >= _HEADS_SIZE:
            _HEADS.clear()
        _HEADS[head] = known
    return known


def _shape(text: str) -> tuple[str, _Lexed, int, int]:
    """The normalised text, its pieces, the largest IN list and the first VALUES row count."""
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


def _respace(text: str) -> str:
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


def _offset(text: str, shape: str, lexed: _Lexed) -> int | None:
    """The largest integer in OFFSET n or MySQL's LIMIT n, m."""
    raw, out, best = lexed
    if out.count("OFFSET") != shape.count("OFFSET") or out.count("LIMIT") != shape.count("LIMIT"):
        raw, out = _tokens(text)  # a keyword is glued to something in a chunk, or sits in a memoised head
        best = None
    for keyword in ("OFFSET", "LIMIT"):
        index = -1
        while True:
            try:
                index = out.index(keyword, index + 1) + 1
            except ValueError:
                break
            after = _TOKEN_RE.findall(raw[index]) if index < len(raw) else []  # the piece may be a chunk
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


# --- analysis -------------------------------------------------------------------------------------------

_KIND_BY_WORD: Final = {
    **dict.fromkeys(("SELECT", "VALUES", "TABLE"), "select"),
    **dict.fromkeys(("INSERT", "REPLACE", "UPSERT"), "insert"),
    "UPDATE": "update",
    "DELETE": "delete",
    "MERGE": "merge",
    **dict.fromkeys(
        ("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "ABORT"), "transaction"
    ),
    **dict.fromkeys(("CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE", "RENAME"), "ddl"),
}
_WRITE_KINDS: Final = frozenset(("insert", "update", "delete", "merge", "ddl"))
_FIRST_RE: Final = re.compile(r"\(*(\w*)")
_SET_TRANSACTION_RE: Final = re.compile(r"SET (?:SESSION |LOCAL |GLOBAL )?TRANSACTION\b")
# Keywords are the only upper-case words of a shape, so a keyword needs no left boundary; every
# alternative starts with a literal character, which lets the engine skip to candidates in C.
_SCAN_WORDS: Final = "FROM JOIN INTO UPDATE DELETE INSERT MERGE UPSERT USING LIMIT OFFSET FETCH TOP FOR LOCK"
# Parentheses, SELECT, WITH and VALUES matter only to a shape with a WITH clause, a FROM inside a call or a
# star inside EXISTS: every other shape is scanned without them.
_FLAT_SCAN_RE: Final = re.compile(r"\*|" + "|".join(word + r"\b" for word in _SCAN_WORDS.split()))
_SCAN_RE: Final = re.compile(r"\(|\)|SELECT\b|WITH\b|VALUES\b|" + _FLAT_SCAN_RE.pattern)
_CALL_FROM_RE: Final = re.compile(r'\((?<=[\w"]\()[^()]* FROM\b')
_VOLATILE_NAMES: Final = """nextval setval sleep pg_sleep pg_sleep_for pg_sleep_until get_lock release_lock
    dblink dblink_exec pg_advisory_lock pg_advisory_lock_shared pg_advisory_xact_lock
    pg_advisory_xact_lock_shared pg_try_advisory_lock pg_try_advisory_lock_shared pg_try_advisory_xact_lock
    pg_try_advisory_xact_lock_shared pg_advisory_unlock pg_advisory_unlock_shared pg_advisory_unlock_all"""
# "(" first, name after: the engine jumps from one "(" to the next.
_VOLATILE_RE: Final = re.compile(
    r"\((?:" + "|".join(rf"(?<=[ (.]{name}\()" for name in _VOLATILE_NAMES.split()) + ")"
)
_NAME: Final = r'(?:[^\s(),;"?@*]|"[^"]*")[^\s(),;"?@*]*(?:"[^"]*"[^\s(),;"?@*]*)*'
# The name, then what follows it: "(" (a call), or "," / an alias (maybe more tables after FROM).
_TABLE_RE: Final = re.compile(rf' (?:ONLY |LATERAL )?({_NAME})(\(|,| [a-z_"]| AS )?')
_NEXT_TABLE_RE: Final = re.compile(r'(?: AS)?(?: (?:"[^"]*"|[a-z_][\w$]*))?,(?= )')
_CTE_RE: Final = re.compile(
    rf"(?:\bWITH(?: RECURSIVE)?|\),) ({_NAME})(?:\([^()]*\))? AS (?:NOT )?(?:MATERIALIZED )?\("
)
_INSERT_SELECT_RE: Final = re.compile(rf"INTO {_NAME}(?:\([^()]*\))? \(*(?:SELECT|WITH)\b")
_STAR_BEFORE: Final = ("SELECT ", "DISTINCT ", "ALL ", ", ", ") ", "TOP ? ")
_STAR_AFTER: Final = (",", ")", " FROM", " INTO")
_LOCKS: Final = (" UPDATE", " NO KEY UPDATE", " SHARE", " KEY SHARE")
_NOT_WRITE_UPDATE: Final = ("FOR ", "NO KEY ")
_NOT_TABLE_UPDATE: Final = ("FOR ", "KEY ", "DO ", "ON ")
_PLAIN, _CALL, _EXISTS = 0, 1, 2
# tables, select_star, has_limit, writes, locking, volatile_calls
_Scanned = tuple[tuple[str, ...], bool, bool, bool, bool, bool]
_NOTHING: Final[_Scanned] = ((), False, False, False, False, False)
# Many texts share a shape (IN lists of every length, a new savepoint name per atomic block).
_SHAPE_FACTS: dict[str, _ShapeFacts] = {}


class _Scan:
    """The facts gathered in one pass over the shape."""

    __slots__ = ("kind", "limit", "locking", "offset", "star", "tables", "writes")

    def __init__(self) -> None:
        self.kind = ""
        self.tables: dict[str, None] = {}  # a dict keeps the order and finds a name in one step
        self.star = self.limit = self.offset = self.writes = self.locking = False


def _scan(shape: str, pending_kind: bool) -> _Scan:
    """Walk the parentheses, stars and structural keywords of the shape, knowing what each paren opens."""
    facts = _Scan()
    stack: list[int] = []
    with_depth = len(shape) - len(shape.lstrip("(")) if pending_kind else -1
    flat = (
        not pending_kind
        and ("*" not in shape or "EXISTS (" not in shape)
        and (" FROM " not in shape or _CALL_FROM_RE.search(shape) is None)
    )
    tables = facts.tables
    for m in (_FLAT_SCAN_RE if flat else _SCAN_RE).finditer(shape):
        word = m.group()
        start = m.start()
        if word == "FROM" or word == "JOIN":  # by far the commonest: no call for the dispatch
            # FROM inside a call is EXTRACT(YEAR FROM x), SUBSTRING(x FROM 2), TRIM(x FROM y): no table
            if (not stack or stack[-1] != _CALL) and not shape.endswith("DISTINCT ", 0, start):
                _tables(tables, shape, m.end(), word == "FROM", False)
        elif word == "(":
            if start and shape[start - 1] not in " (":
                stack.append(_CALL)
            else:
                stack.append(_EXISTS if shape.endswith("EXISTS ", 0, start) else _PLAIN)
        elif word == ")":
            if stack:
                stack.pop()
        elif word == "*":
            if not facts.star and _is_select_star(shape, start):
                facts.star = not stack or stack[-1] != _EXISTS
        else:
            if with_depth == len(stack) and word in _KIND_BY_WORD:
                facts.kind, with_depth = _KIND_BY_WORD[word], -1
            _keyword(facts, shape, word, start, m.end(), stack)
    return facts


def _is_select_star(shape: str, at: int) -> bool:
    """Whether the ``*`` at ``at`` is a whole item of a select list (``*`` or ``name.*``)."""
    if not shape.startswith(_STAR_AFTER, at + 1) and at + 1 != len(shape):
        return False
    if at and shape[at - 1] == ".":
        at = max(shape.rfind(" ", 0, at), shape.rfind("(", 0, at)) + 1
    return shape.endswith(_STAR_BEFORE, 0, at)


def _keyword(facts: _Scan, shape: str, word: str, start: int, end: int, stack: list[int]) -> None:
    """Record what one structural keyword says about the statement."""
    if word == "SELECT":
        if stack and stack[-1] == _CALL:
            stack[-1] = _PLAIN  # a subquery as a function argument: array(SELECT ...)
    elif word == "USING":
        if not stack or stack[-1] != _CALL:
            _tables(facts.tables, shape, end, False, False)
    elif word == "INTO":
        facts.writes = True
        _tables(facts.tables, shape, end, False, True)
    elif word == "UPDATE":
        if not shape.endswith(_NOT_WRITE_UPDATE, 0, start):
            facts.writes = True
        if not shape.endswith(_NOT_TABLE_UPDATE, 0, start):
            _tables(facts.tables, shape, end, False, False)
    elif word in ("DELETE", "INSERT", "MERGE", "UPSERT"):
        facts.writes = True
    elif word == "OFFSET":
        facts.offset = True
    elif word in ("LIMIT", "FETCH") or (word == "TOP" and shape.startswith((" ?", " ("), end)):
        facts.limit = True
        facts.offset = facts.offset or (word == "LIMIT" and shape.startswith(" ?, ?", end))
    elif word == "FOR":
        facts.locking = facts.locking or shape.startswith(_LOCKS, end)
    elif word == "LOCK":
        facts.locking = facts.locking or start == 0 or shape.startswith(" IN SHARE MODE", end)


def _tables(tables: dict[str, None], shape: str, pos: int, many: bool, call_ok: bool) -> None:
    """Append the table (or, after FROM, the comma-separated tables) named at ``pos``."""
    m = _TABLE_RE.match(shape, pos)
    while m is not None:
        name, after = m.groups()
        if after == "(" and not call_ok:
            return  # a table function: generate_series(...), unnest(...)
        name = name.lower()
        if '"' in name:
            name = name.replace('"', "")
        tables.setdefault(name)
        if not many or after is None or after == "(":
            return
        comma = _NEXT_TABLE_RE.match(shape, m.end(1))
        m = _TABLE_RE.match(shape, comma.end()) if comma is not None else None


def _kind(shape: str) -> str:
    """The kind named by the first word; "" when a WITH clause hides it."""
    if shape.startswith("SELECT "):
        return "select"
    m = _FIRST_RE.match(shape)
    word = m.group(1).upper() if m is not None else ""
    if word == "WITH":
        return ""
    if word == "SET" and _SET_TRANSACTION_RE.match(shape):
        return "transaction"
    return _KIND_BY_WORD.get(word, "other")


def _calls_volatile(shape: str) -> bool:
    """Whether the shape calls a sequence, advisory-lock, sleep or dblink function."""
    if "val(" in shape or "lock" in shape or "sleep" in shape or "dblink" in shape:
        return _VOLATILE_RE.search(shape) is not None
    return False  # without a regex that would stop at every "("


def _fingerprint(shape: str) -> str:
    return hashlib.blake2b(shape.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class _ShapeFacts:
    """The facts of one shape: its fingerprint and kind at once, the scan's on first use (memoised)."""

    __slots__ = ("_scanned", "fingerprint", "kind", "shape")

    def __init__(self, shape: str, fingerprint: str, kind: str, scanned: _Scanned | None) -> None:
        self.shape = shape
        self.fingerprint = fingerprint
        self.kind = kind
        self._scanned = scanned

    def scanned(self) -> _Scanned:
        scanned = self._scanned
        if scanned is None:  # two threads may both scan: they find the same facts
            try:
                scanned = _scan_facts(self.shape, self.kind, _scan(self.shape, pending_kind=False))
            except Exception:  # never let an odd statement break the host application
                scanned = _NOTHING
            self._scanned = scanned
        return scanned


def _facts(shape: str) -> _ShapeFacts:
    """The memoised facts of a shape. Only a WITH clause, which hides the kind, needs the scan at once."""
    kind = _kind(shape)
    scanned = None
    if not kind:
        scan = _scan(shape, pending_kind=True)
        kind = scan.kind or "other"
        scanned = _scan_facts(shape, kind, scan)
    facts = _ShapeFacts(shape, _fingerprint(shape), kind, scanned)
    if len(_SHAPE_FACTS) >= _CACHE_SIZE:
        _SHAPE_FACTS.clear()
    _SHAPE_FACTS[shape] = facts
    return facts


def _scan_facts(shape: str, kind: str, scan: _Scan) -> _Scanned:
    """Everything else about a shape that does not depend on the literals it was made from."""
    tables: Iterable[str] = scan.tables
    if scan.tables and "WITH" in shape:
        ctes = {name.replace('"', "").lower() for name in _CTE_RE.findall(shape)}
        tables = [table for table in scan.tables if table not in ctes]
    writes = scan.writes or kind in _WRITE_KINDS
    return (tuple(tables), scan.star, scan.limit, writes, scan.locking, _calls_volatile(shape))


def _may_offset(shape: str) -> bool:
    """Whether the scan would find an OFFSET or a MySQL ``LIMIT ?, ?``, without scanning.

    Upper-case words in a shape are keywords, whole and never glued to a letter, so a substring test
    finds exactly what the scan's patterns find.
    """
    return "OFFSET" in shape or "LIMIT ?, ?" in shape


def _analyze_text(text: str) -> Statement:
    shape, lexed, in_max, rows = _shape(text)
    facts = _SHAPE_FACTS.get(shape) or _facts(shape)
    return Statement(facts, rows, in_max, _offset(text, shape, lexed) if _may_offset(shape) else None)


def _analyze_safely(text: str) -> Statement:
    try:
        return _analyze_text(text)
    except Exception:  # never let an odd statement break the host application
        return Statement(_ShapeFacts(text, _fingerprint(text), "other", _NOTHING), 0, 0, None)


_cached = functools.lru_cache(maxsize=_CACHE_SIZE - _BIG_CACHE_SIZE)(_analyze_safely)
_cached_big = functools.lru_cache(maxsize=_BIG_CACHE_SIZE)(_analyze_safely)


def analyze(sql: str | bytes) -> Statement:
    """Analyse one SQL text (memoised: a repeated text costs a dictionary lookup). Never raises."""
    if not isinstance(sql, str):
        sql = bytes(sql).decode("utf-8", "replace") if isinstance(sql, (bytes, bytearray)) else str(sql)
    if len(sql) > _BIG_CHARS:
        return _cached_big(sql)
    return _cached(sql)


def _cache_clear(*, memos: bool = True) -> None:
    """Forget every cached analysis (benchmarks measure cache misses with it)."""
    _cached.cache_clear()
    _cached_big.cache_clear()
    if memos:
        for memo in (_TOKENS, _CHUNKS, _HEADS, _SHAPE_FACTS, _LITERAL_KEYS):
            memo.clear()


# --- keys of statements past the memory cap -------------------------------------------------------------

# A string, or a number that starts a word (not the 1 of t1): one pass, with a literal or a digit first so
# that the engine jumps from candidate to candidate.
_LITERAL_RE: Final = re.compile(rf"{_STRING}|\d(?<!\w\d)[\w.]*")
_LITERAL_KEYS: dict[str, str] = {}
_LITERAL_MEMO_CHARS: Final = 512


def literal_key(sql: object) -> str:
    """The text with its strings and numbers replaced by ``?``: equal for statements that differ only in
    literal values, and a few times cheaper than a shape (the key past ``max_events``). Never raises.

    Statements of one shape may get different keys (an IN list of another length, other blanks); two
    shapes share a key only where a name is quoted like a literal.
    """
    if type(sql) is not str:
        return repr(sql)
    key = _LITERAL_KEYS.get(sql)
    if key is None:
        key = _LITERAL_RE.sub("?", sql)
        if len(sql) <= _LITERAL_MEMO_CHARS:  # the repeated texts of ORM loops; long texts stay out
            if len(_LITERAL_KEYS) >= _CACHE_SIZE:
                _LITERAL_KEYS.clear()
            _LITERAL_KEYS[sql] = key
    return key


def rough_kind(sql: object) -> str:
    """The kind named by the first word, without analysis ("with" when a WITH clause hides it)."""
    m = _FIRST_RE.match(sql.lstrip()) if isinstance(sql, str) else None
    word = m.group(1).upper() if m is not None else ""
    return "with" if word == "WITH" else _KIND_BY_WORD.get(word, "other")


def _cache_size() -> int:
    """How many statements are memoised (at most 4096)."""
    return _cached.cache_info().currsize + _cached_big.cache_info().currsize


# --- parameters -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Tagged:
    """A value kept apart from every other type's values (so True, 1 and 1.0 stay three keys)."""

    type: str
    value: Hashable


def params_key(params: object) -> Hashable:
    """A hashable key equal for equal parameter sets, whatever their container types. Never raises."""
    try:
        return _freeze(params)
    except Exception:  # a recursive structure, a __repr__ that raises, ...
        try:
            return _Tagged(type(params).__qualname__, repr(params))
        except Exception:
            return _Tagged(type(params).__qualname__, id(params))


_PLAIN_TYPES: frozenset[type] = frozenset((str, int, type(None)))


def params_keys(many: list[Any]) -> list[Hashable]:
    """:func:`params_key` of each of ``many``; plain tuples and lists (the usual run) cost no call each."""
    try:
        if (
            set(map(type, many)) <= _SEQUENCE_TYPES
            and set(map(type, chain.from_iterable(many))) <= _PLAIN_TYPES
        ):
            return list(map(tuple, many))
    except Exception:  # an odd container: one key at a time
        pass
    return list(map(params_key, many))


_SEQUENCE_TYPES: frozenset[type] = frozenset((tuple, list))


def _freeze(value: object) -> Hashable:
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is tuple or kind is list:
        return tuple(map(_freeze, value))  # type: ignore[call-overload]
    if kind is bool:
        return _Tagged("bool", value)
    if kind is float:
        return _Tagged("float", repr(value))  # repr: nan equals nan
    if isinstance(value, Mapping):
        return _Tagged("dict", frozenset((_freeze(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return _Tagged("set", frozenset(map(_freeze, value)))
    if isinstance(value, memoryview):
        return _Tagged("bytes", value.tobytes())
    if isinstance(value, (bytes, bytearray)):
        return _Tagged("bytes", bytes(value))
    if isinstance(value, decimal.Decimal):
        return _Tagged("Decimal", str(value.normalize() if value.is_finite() else value))
    if isinstance(value, str):  # SafeString, a str enum: the driver sends the plain value
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return _Tagged("float", float.__repr__(value))
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, uuid.UUID)):
        return _Tagged(kind.__qualname__, value)
    if isinstance(value, (list, tuple)):
        return tuple(map(_freeze, value))
    return _Tagged(kind.__qualname__, repr(value))

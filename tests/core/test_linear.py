"""Linear time: every SQL and redaction function, on adversarial inputs, takes about twice as long at 2n.

Each case doubles n until one call takes a measurable time, then compares the best of several runs at n
and at 2n. A linear function gives a ratio near 2, a quadratic one near 4: the bound of 3 leaves room for
noise, and a noisy measurement is taken again before a case fails. No wall-clock time is asserted.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

from queryguard import _sql
from queryguard._explain import _strict
from queryguard._report import _redact
from queryguard._sql import _lexer

Make = Callable[[int], str]

_MEASURABLE_S = 0.02
_MAX_N = 1 << 22
_BOUND = 3.0
_RUNS = 3
_ATTEMPTS = 3


def _seconds(func: Callable[[str], object], text: str, runs: int) -> float:
    best = float("inf")
    # No collection inside a run counts against it; none is forced before either (with the heap of a whole
    # test session, one full collection costs more than the runs: the runs free their strings themselves).
    gc.disable()
    try:
        for _ in range(runs):
            start = time.perf_counter()
            func(text)
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best


def doubling_ratio(func: Callable[[str], object], make: Make) -> float:
    """Time at 2n over time at n, for an n large enough to measure (best of several runs).

    A noisy or unlucky pair (a buffer that outgrows a cache between n and 2n) is measured again at twice
    the size: a step happens once, while a quadratic function keeps a ratio near 4 at every size.
    """
    n = 256
    while n < _MAX_N and _seconds(func, make(n), 1) < _MEASURABLE_S:
        n *= 2
    ratio = float("inf")
    for _ in range(_ATTEMPTS):
        ratio = _seconds(func, make(2 * n), _RUNS) / _seconds(func, make(n), _RUNS)
        if ratio < _BOUND:
            break
        n *= 2
    return ratio


def _analyze(text: str) -> object:
    _sql._cache_clear()
    stmt = _sql.analyze(text)
    return (stmt.tables, stmt.select_star, stmt.offset, stmt.read_only, stmt.is_single_row_write)


def _redact_sql(text: str) -> str:
    _sql._cache_clear()
    _redact.redact_sql.cache_clear()
    return _redact.redact_sql(text)


def _redact_mysql(text: str) -> str:
    _sql._cache_clear()
    _redact.redact_sql.cache_clear()
    return _redact.statement_text(text, True, "mysql")


def _redact_error(text: str) -> str | None:
    return _redact.error_text(text, True)


def _strict_read(vendor: str) -> Callable[[str], object]:
    def read(text: str) -> object:
        try:
            return _strict.read(text, vendor=vendor)
        except _strict.Unclear as exc:
            return exc

    return read


def _params_key(text: str) -> object:
    return _sql.params_key(tuple(text.split(",")))


def _rows(n: int, row: Callable[[int], str], width: int, sep: str = ", ") -> str:
    return sep.join(row(i) for i in range(max(1, n // width)))


#: Adversarial statements of about n characters (some of n items), by what they stress.
INPUTS: dict[str, Make] = {
    "thousands of tables": lambda n: "SELECT a FROM " + _rows(n, lambda i: f"t{i}", 5),
    "thousands of joins": lambda n: (
        "SELECT a FROM t " + _rows(n, lambda i: f"JOIN t{i} ON t{i}.a = t.a", 25, " ")
    ),
    "thousands of quoted tables": lambda n: "SELECT a FROM " + _rows(n, lambda i: f'"t{i}" x{i}', 10),
    "blanks after =": lambda n: "SELECT a FROM t WHERE a =" + " " * n + "x",
    "blanks after = (": lambda n: "SELECT a FROM t WHERE a = (" + " " * n + "x",
    "blanks after IN": lambda n: "SELECT a FROM t WHERE a in" + " " * n + "x",
    "a string, then blanks": lambda n: "SELECT 'a' FROM t WHERE a =" + " " * n,
    "mixed blanks around (": lambda n: (
        "SELECT a FROM t WHERE a =" + "\t\n " * (n // 6) + "(" + " \n" * (n // 4) + "x"
    ),
    "only blanks": lambda n: " " * n,
    "= and blanks, repeated": lambda n: "=       " * (n // 8),
    "quotes": lambda n: "'" * n,
    "doubled quotes, backslash at the end": lambda n: "'" + "''" * (n // 2) + "\\",
    "double quotes": lambda n: '"' * n,
    "open double quote, backslash at the end": lambda n: '"' + "a" * n + "\\",
    "open quote, backslash at the end": lambda n: "'" + "a" * n + "\\",
    "backticks": lambda n: "`" * n,
    "backslashes": lambda n: "\\" * n,
    "escaped quotes": lambda n: "SELECT '" + "\\'" * (n // 2),
    "escaped quotes and blanks": lambda n: "SELECT '" + "\\' " * (n // 3),
    "escaped quotes and commas": lambda n: "SELECT '" + "\\'," * (n // 3),
    "dollar signs": lambda n: "$" * n,
    "unclosed dollar tags": lambda n: _rows(n, lambda i: f"$t{i}$", 6, " "),
    "one dollar tag repeated": lambda n: "$a$" * (n // 3),
    "open comments": lambda n: "/*" * (n // 2),
    "one open comment": lambda n: "SELECT 1 /*" + "a" * n,
    "line comments": lambda n: "--\n" * (n // 3),
    "comment ends": lambda n: "*/" * (n // 2),
    "deep parentheses": lambda n: "SELECT " + "(" * (n // 2) + "1" + ")" * (n // 2),
    "open parentheses": lambda n: "SELECT a FROM t WHERE " + "(" * n,
    "close parentheses": lambda n: "SELECT a FROM t WHERE " + ")" * n,
    "nested calls": lambda n: "SELECT " + "f(" * (n // 2) + "1" + ")" * (n // 2),
    "long identifier": lambda n: "SELECT " + "a" * n + " FROM t",
    "long quoted identifier": lambda n: 'SELECT "' + "a" * n + '" FROM t',
    "long open bracket": lambda n: "SELECT [" + "a" * n,
    "long dotted name": lambda n: "SELECT " + ".".join("a" * (n // 2)) + " FROM t",
    "long dotted quoted name": lambda n: "SELECT " + ".".join(['"a"'] * (n // 4)) + " FROM t",
    "many %s": lambda n: "SELECT a FROM t WHERE a IN (" + ", ".join(["%s"] * (n // 4)) + ")",
    "many ?": lambda n: "SELECT a FROM t WHERE a IN (" + ",".join(["?"] * (n // 2)) + ")",
    "many named placeholders": lambda n: "SELECT " + _rows(n, lambda i: f"%(p{i})s", 9),
    "many :name placeholders": lambda n: "SELECT " + _rows(n, lambda i: f":p{i}", 6),
    "many $n placeholders": lambda n: "SELECT " + _rows(n, lambda i: f"${i}", 6),
    "many IN values": lambda n: "SELECT a FROM t WHERE a IN (" + _rows(n, str, 6) + ")",
    "many IN tuples": lambda n: (
        "SELECT a FROM t WHERE (a, b) IN (" + _rows(n, lambda i: f"({i}, {i})", 10) + ")"
    ),
    "many IN strings": lambda n: "SELECT a FROM t WHERE a IN (" + _rows(n, lambda i: f"'v{i}'", 8) + ")",
    "unclosed IN list": lambda n: "SELECT a FROM t WHERE a IN (" + _rows(n, str, 6),
    "many VALUES rows": lambda n: "INSERT INTO t (a, b) VALUES " + _rows(n, lambda i: f"({i}, 'x{i}')", 12),
    "VALUES rows with calls": lambda n: "INSERT INTO t (a) VALUES " + _rows(n, lambda i: f"(f(g({i})))", 14),
    "unclosed VALUES rows": lambda n: "INSERT INTO t (a) VALUES " + _rows(n, lambda i: f"({i}", 6),
    "long number before a letter": lambda n: "SELECT a FROM t WHERE a = " + "1" * n + "x",
    "long number with a fraction": lambda n: "SELECT a FROM t WHERE a = " + "1" * n + ".5e",
    "huge numeric list": lambda n: "SELECT " + _rows(n, str, 6),
    "negative numbers": lambda n: "SELECT a FROM t WHERE a = " + " - 1" * (n // 4),
    "casts": lambda n: "SELECT a" + " :: int" * (n // 7),
    "many CTEs": lambda n: "WITH " + _rows(n, lambda i: f"c{i} AS (SELECT 1)", 20) + " SELECT * FROM c0",
    "many stars": lambda n: "SELECT " + ", ".join(["*"] * (n // 3)) + " FROM t",
    "stars inside EXISTS": lambda n: (
        "SELECT * FROM t WHERE " + _rows(n, lambda i: "EXISTS (SELECT * FROM u)", 30, " AND ")
    ),
    "qualified stars": lambda n: "SELECT " + _rows(n, lambda i: f"t{i}.*", 7) + " FROM t",
    "FROM inside calls": lambda n: "SELECT " + _rows(n, lambda i: "extract(year FROM d)", 22) + " FROM t",
    "many OFFSETs": lambda n: "SELECT a FROM t " + _rows(n, lambda i: "OFFSET 5", 9, " "),
    "many MySQL LIMITs": lambda n: "SELECT a FROM t " + _rows(n, lambda i: "LIMIT 1, 2", 11, " "),
    "many FOR UPDATEs": lambda n: "SELECT a FROM t " + _rows(n, lambda i: "FOR UPDATE", 11, " "),
    "many INTO targets": lambda n: "INSERT " + _rows(n, lambda i: f"INTO t{i}", 8, " "),
    "many sequence calls": lambda n: "SELECT " + _rows(n, lambda i: "nextval('s')", 14),
    "long select list": lambda n: "SELECT " + _rows(n, lambda i: f"c{i}", 6) + " FROM t WHERE a = %s",
    "many comparisons": lambda n: "SELECT a FROM t WHERE " + _rows(n, lambda i: f"a <= {i}", 14, " AND "),
    "colons before quotes": lambda n: ': "' * (n // 3),
    "colons before blanks": lambda n: (":" + " " * 50) * (n // 51),
    "key values": lambda n: ")=(" * (n // 3),
    "one open key value": lambda n: "Key (a)=(" + "a" * n,
    "open E strings": lambda n: "SELECT " + "E'" * (n // 2),
    "open brackets": lambda n: "SELECT " + "[" * n,
    "mixed quotes": lambda n: "SELECT " + "'\"`" * (n // 3),
    "non-ASCII name": lambda n: "SELECT " + "é" * n + " FROM t WHERE a = 1",
    "long savepoint name": lambda n: "SAVEPOINT " + "s" * n,
    "ORM conditions": lambda n: (
        'SELECT "t"."id" FROM "t" WHERE ' + _rows(n, lambda i: f'"t"."c{i}" = %s', 16, " AND ")
    ),
    "many WHEREs": lambda n: "SELECT a FROM t " + "WHERE " * (n // 6),
    "semicolons": lambda n: "SELECT 1" + "; " * (n // 2),
}

#: The inputs each redaction function is tried on: what its patterns scan (the analysis is tried on all).
REDACTION_INPUTS = [
    "thousands of tables",
    "blanks after =",
    "blanks after = (",
    "blanks after IN",
    "mixed blanks around (",
    "= and blanks, repeated",
    "quotes",
    "doubled quotes, backslash at the end",
    "open quote, backslash at the end",
    "backslashes",
    "escaped quotes and blanks",
    "dollar signs",
    "unclosed dollar tags",
    "one dollar tag repeated",
    "deep parentheses",
    "open parentheses",
    "long identifier",
    "many $n placeholders",
    "many IN values",
    "unclosed IN list",
    "long number before a letter",
    "long number with a fraction",
    "negative numbers",
    "many comparisons",
    "colons before blanks",
]
MYSQL_INPUTS = ["double quotes", "open double quote, backslash at the end", "backslashes", "mixed quotes"]
ERROR_INPUTS = [
    "blanks after =",
    "blanks after IN",
    "long number before a letter",
    "unclosed dollar tags",
    "colons before quotes",
    "colons before blanks",
    "key values",
    "one open key value",
    "open quote, backslash at the end",
]


@pytest.mark.parametrize("name", INPUTS)
def test_analysis_is_linear(name: str) -> None:
    """Shape, fingerprint, kind, tables and every other fact of a statement: linear in its length."""
    assert doubling_ratio(_analyze, INPUTS[name]) < _BOUND


@pytest.mark.parametrize(
    "name",
    ["many VALUES rows", "many IN values", "quotes", "one open comment", "ORM conditions", "long identifier"],
)
def test_analysis_cost_is_flat_past_the_limit(name: str) -> None:
    """Past ``MAX_CHARS`` only the first part is read: a text 16 times longer costs about the same."""
    short, long = INPUTS[name](4 * _sql.MAX_CHARS), INPUTS[name](64 * _sql.MAX_CHARS)
    ratio = float("inf")
    for _ in range(_ATTEMPTS):  # a noisy pair is measured again; a linear cost keeps a ratio near 16
        ratio = _seconds(_analyze, long, _RUNS) / _seconds(_analyze, short, _RUNS)
        if ratio < 2:
            break
    assert ratio < 2


@pytest.mark.parametrize("name", REDACTION_INPUTS)
def test_redact_text_is_linear(name: str) -> None:
    """Redacting free text (a plan line, an error) is linear, whatever runs of blanks or digits it holds."""
    assert doubling_ratio(_redact.redact_text, INPUTS[name]) < _BOUND


@pytest.mark.parametrize(
    "name",
    [
        "thousands of tables",
        "blanks after =",
        "long number before a letter",
        "unclosed dollar tags",
        "many IN values",
        "deep parentheses",
        "open quote, backslash at the end",
    ],
)
def test_redact_sql_is_linear(name: str) -> None:
    """Redacting a statement (its shape, then its literals) is linear."""
    assert doubling_ratio(_redact_sql, INPUTS[name]) < _BOUND


@pytest.mark.parametrize("name", MYSQL_INPUTS)
def test_redact_mysql_sql_is_linear(name: str) -> None:
    """Redacting a MySQL statement, whose double quotes hold strings, is linear."""
    assert doubling_ratio(_redact_mysql, INPUTS[name]) < _BOUND


@pytest.mark.parametrize("name", ERROR_INPUTS)
def test_redact_error_is_linear(name: str) -> None:
    """Redacting a database error's message is linear."""
    assert doubling_ratio(_redact_error, INPUTS[name]) < _BOUND


@pytest.mark.parametrize(
    "name",
    [
        "quotes",
        "escaped quotes",
        "escaped quotes and blanks",
        "open quote, backslash at the end",
        "long number before a letter",
        "huge numeric list",
        "many IN strings",
        "long identifier",
    ],
)
def test_literal_key_is_linear(name: str) -> None:
    """The key of a statement past ``max_events`` (its literals stripped) is linear in its length."""
    assert doubling_ratio(_sql.literal_key, INPUTS[name]) < _BOUND


#: What each reader of a database's lexical rules is tried on: unclosed quotes, comments and brackets.
READER_INPUTS = [
    "quotes",
    "double quotes",
    "backticks",
    "backslashes",
    "escaped quotes",
    "open E strings",
    "open brackets",
    "long open bracket",
    "mixed quotes",
    "dollar signs",
    "unclosed dollar tags",
    "one dollar tag repeated",
    "open comments",
    "line comments",
    "deep parentheses",
    "many :name placeholders",
    "colons before quotes",
]


@pytest.mark.parametrize("vendor", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("name", READER_INPUTS)
def test_strict_reader_is_linear(name: str, vendor: str) -> None:
    """The EXPLAIN safety check's strict reading is linear, an unclosed ``[`` on SQLite too."""
    assert doubling_ratio(_strict_read(vendor), INPUTS[name]) < _BOUND


@pytest.mark.parametrize("vendor", ["postgresql", "mysql", "sqlite"])
# An unclosed "[" read tolerantly is one token copied once: the allocator's steps would set its ratio.
@pytest.mark.parametrize("name", [name for name in READER_INPUTS if "bracket" not in name])
def test_tolerant_reader_is_linear(name: str, vendor: str) -> None:
    """The EXPLAIN stage's tolerant reading of statements and plan conditions is linear."""
    assert doubling_ratio(lambda text: _lexer.tokens(text, vendor), INPUTS[name]) < _BOUND


@pytest.mark.parametrize("name", ["many %s", "many IN strings", "backslashes"])
def test_params_key_is_linear(name: str) -> None:
    """The key of a long parameter tuple is linear in its length."""
    assert doubling_ratio(_params_key, INPUTS[name]) < _BOUND


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("a = $x$ secret $x$ and b = 1", "a = ? and b = ?"),
        ("a = $x$ never closed, b = 'c'", "a = ?"),
        ("a = " + "1" * 50 + "x", "a = " + "1" * 50 + "x"),
        ("a = 1.5e3 and b =   (  7", "a = ? and b =   (  ?"),
        ("in   (   4, 5)", "in   (   ?, ?)"),
    ],
)
def test_linear_redaction_still_hides_values(text: str, redacted: str) -> None:
    """The linear patterns redact what the old ones did, and an unclosed dollar quote to the end."""
    assert _redact.redact_text(text) == redacted

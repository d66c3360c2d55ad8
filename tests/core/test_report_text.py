"""Reports as text: header, findings, labels, colour and the verbose statement list."""

from __future__ import annotations

import io
import re
import sys

import pytest

from queryguard._report import Report

from ._reports import FIX, make_event, make_finding, make_report


def test_text_header_and_finding() -> None:
    """The text format has a header per unit and the kind, severity, message, statement and fix."""
    lines = make_report().to_text(color=False).splitlines()
    assert lines[0] == "GET /books/: 103 queries, 45.2 ms, 1 finding"
    assert lines[1] == "  N+1 [warning] Book.author loaded 100 times from shop/views.py:42 in book_list"
    assert "shop_author" in lines[2] and "?" in lines[2] and "7" not in lines[2]
    assert lines[3] == f"      fix: {FIX}"


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("n_plus_one", "N+1"),
        ("duplicate_query", "duplicate"),
        ("write_loop", "write loop"),
        ("select_star", "SELECT *"),
        ("slow_query", "slow"),
        ("query_budget", "budget"),
        ("blocking_query", "blocking"),
        ("full_scan", "full_scan"),
    ],
)
def test_text_kind_labels(kind: str, label: str) -> None:
    """Each kind is shown by its short label."""
    text = make_report(make_finding(kind=kind, message="something")).to_text(color=False)
    assert f"  {label} [warning] something" in text


def test_text_long_statement_is_shortened() -> None:
    """A long statement is cut to about 100 characters with an ellipsis."""
    sql = "SELECT " + ", ".join(f"column_{n}" for n in range(60)) + " FROM shop_book"
    line = make_report(make_finding(sql=sql)).to_text(color=False).splitlines()[2].strip()
    assert line.endswith("...") and len(line) <= 100


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("color", "tty", "no_color", "expected"),
    [
        (False, True, False, False),
        (True, False, True, True),
        (None, True, False, True),
        (None, True, True, False),
        (None, False, False, False),
    ],
)
def test_text_color(
    monkeypatch: pytest.MonkeyPatch,
    color: bool | None,
    tty: bool,
    no_color: bool,
    expected: bool,
) -> None:
    """ANSI colour when asked, or automatically on a terminal unless NO_COLOR is set."""
    monkeypatch.setattr(sys, "stdout", _Terminal() if tty else io.StringIO())
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    text = make_report().to_text(color=color)
    assert ("\x1b[33mN+1\x1b[0m" in text) is expected and ("\x1b[" in text) is expected


def test_text_verbose_lists_every_statement() -> None:
    """Verbose text lists each stored statement with its duration and call site, in order."""
    events = [make_event(f"SELECT {n} FROM t", duration_ms=n + 0.5) for n in range(3)]
    report = make_report(statements=events, max_statements=1)
    assert "shop/views.py:40" not in report.to_text(color=False)
    text = report.to_text(color=False, verbose=True)
    assert re.search(r"1\s+0\.50 ms  shop/views.py:40 in book_list\n.*SELECT.*\n.*2\s+1\.50 ms", text)
    assert text.count("shop/views.py:40 in book_list") == 3


def test_text_empty_report() -> None:
    """A report without units says so."""
    assert "no unit" in Report([]).to_text(color=False)

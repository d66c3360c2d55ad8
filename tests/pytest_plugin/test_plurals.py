"""The plugin's messages count in words that agree with the number: "ran 1 query", not "ran 1 queries"."""

from __future__ import annotations

import pytest

from .conftest import Run, write


def test_a_budget_exceeded_by_one_statement(sqlite_shop: pytest.Pytester, run: Run) -> None:
    """``max_queries=0`` and one statement: the failure and the summary say "ran 1 query"."""
    write(
        sqlite_shop,
        {
            "test_budget.py": """
                import pytest
                from shop import book_list_joined

                @pytest.mark.queryguard(max_queries=0)
                def test_joined(db):
                    book_list_joined(db)
            """
        },
    )
    result = run("--queryguard")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "queryguard: test_joined ran 1 query (at most 0 allowed)",
            "  ran 1 query (at most 0 allowed); most frequent: 1x book from shop.py:*",
            "queryguard: 1 test analysed*, 1 query, 1 finding (1 failing)",
        ]
    )
    result.stdout.no_fnmatch_line("*1 queries*")

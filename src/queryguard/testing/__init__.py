"""Assertions on the statements of a block, for unittest and Django ``TestCase`` (pytest has a fixture).

    with queryguard.testing.assert_max_queries(5):
        client.get("/books/")

Each helper raises :class:`queryguard.QueryGuardViolation` whose message says what was measured against what
was expected, then the statements that explain it (the repeated shape, its count, call site and fix).
Transaction control (BEGIN, COMMIT, SAVEPOINT...) is not counted as a query. The ``check_*`` functions and
:func:`failure_message` are the same checks returning the message; the pytest plugin uses them.
"""

from __future__ import annotations

# Assertion, REPEATS and STATEMENT_KINDS stay importable from here, outside __all__ as before.
from ._assertions import Assertion as Assertion
from ._assertions import (
    assert_constant_queries,
    assert_max_queries,
    assert_no_findings,
    assert_no_n_plus_one,
    assert_queries,
)
from ._checks import check_constant_queries, check_max_queries, check_no_findings, check_queries
from ._counting import REPEATS as REPEATS
from ._counting import STATEMENT_KINDS as STATEMENT_KINDS
from ._counting import count_queries
from ._messages import failure_message, finding_lines, short_shape, statement_lines, tally

__all__ = [
    "assert_constant_queries",
    "assert_max_queries",
    "assert_no_findings",
    "assert_no_n_plus_one",
    "assert_queries",
    "check_constant_queries",
    "check_max_queries",
    "check_no_findings",
    "check_queries",
    "count_queries",
    "failure_message",
    "finding_lines",
    "short_shape",
    "statement_lines",
    "tally",
]

"""The cases of the accuracy corpus and the findings a perfect tool reports for each.

A case is a function of application code. Its expectations are comments on the lines they are about::

    for book in Book.objects.order_by("id"):
        names.append(book.author.name)  # expect: n_plus_one Book.author

``# expect: KIND [RELATION]``: a finding of ``KIND`` whose call site is this line (and whose relation is
``RELATION``, when given; ``A|B`` accepts either name). Several on one line are separated by ``;``.
``# expect[postgresql]: ...`` holds on the named databases only. A case without any is a negative: a perfect
tool reports nothing for it.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
from collections.abc import Callable
from typing import Any

ORMS = ("django", "sqlalchemy", "raw")
DATABASES = ("sqlite", "postgresql", "mysql")
#: The kinds the corpus judges; the others (slow statements, budgets, plans) need no corpus of this kind.
SCORED_KINDS = frozenset({"n_plus_one", "duplicate_query", "write_loop", "select_star", "unused_eager_load"})

_EXPECT = re.compile(r"#\s*expect(?:\[(?P<databases>[a-z, ]+)\])?:\s*(?P<body>.+?)\s*$")


@dataclasses.dataclass(frozen=True)
class Expectation:
    """One finding a perfect tool reports: its kind, relation names (any of them; None: any) and line."""

    kind: str
    relations: frozenset[str] | None
    line: int
    databases: frozenset[str] | None = None

    def describe(self) -> str:
        relation = "|".join(sorted(self.relations)) if self.relations else "-"
        return f"{self.kind} {relation} at line {self.line}"


@dataclasses.dataclass
class Case:
    """One piece of application code and what a perfect tool reports for it."""

    name: str
    orm: str
    function: Callable[..., Any]
    databases: tuple[str, ...]
    path: str
    first_line: int
    expectations: list[Expectation]
    is_async: bool
    note: str

    def expected_on(self, database: str) -> list[Expectation]:
        """The expectations that hold on ``database``."""
        return [e for e in self.expectations if e.databases is None or database in e.databases]

    @property
    def label(self) -> str:
        return f"{self.orm}/{self.name}"


CASES: list[Case] = []


def cases_for(orm: str) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The ``@case(...)`` decorator of one ORM's case modules."""
    if orm not in ORMS:
        raise ValueError(f"unknown ORM {orm!r}; one of {ORMS}")

    def case(*, databases: tuple[str, ...] = DATABASES) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        unknown = set(databases) - set(DATABASES)
        if unknown:
            raise ValueError(f"unknown databases {sorted(unknown)}")

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            lines, first = inspect.getsourcelines(function)
            doc = inspect.getdoc(function)
            if not doc:
                raise ValueError(f"case {function.__name__} needs a one-line docstring: what it is")
            if any(existing.name == function.__name__ for existing in CASES):
                raise ValueError(f"two cases are named {function.__name__}")
            CASES.append(
                Case(
                    name=function.__name__,
                    orm=orm,
                    function=function,
                    databases=databases,
                    path=os.path.abspath(inspect.getsourcefile(function) or ""),
                    first_line=first,
                    expectations=parse(lines, first),
                    is_async=inspect.iscoroutinefunction(function),
                    note=doc.splitlines()[0],
                )
            )
            return function

        return register

    return case


def parse(lines: list[str], first: int) -> list[Expectation]:
    """The expectations written in ``lines`` (source lines numbered from ``first``)."""
    found = []
    for offset, text in enumerate(lines):
        match = _EXPECT.search(text)
        if match is None:
            continue
        databases = match["databases"]
        only = frozenset(d.strip() for d in databases.split(",")) if databases else None
        if only is not None and not only <= set(DATABASES):
            raise ValueError(f"unknown database in {text.strip()!r}")
        for item in match["body"].split(";"):
            words = item.split()
            if not words:
                continue
            kind = words[0]
            if kind not in SCORED_KINDS or len(words) > 2:
                raise ValueError(f"cannot read the expectation {item.strip()!r} in {text.strip()!r}")
            relations = frozenset(words[1].split("|")) if len(words) == 2 else None
            found.append(Expectation(kind, relations, first + offset, only))
    return found


#: The case modules, per ORM (importing a Django module needs Django set up first).
MODULES_BY_ORM = {
    "django": ("django_relations", "django_loaders", "django_writes", "django_shapes"),
    "sqlalchemy": ("sqlalchemy_relations", "sqlalchemy_writes", "sqlalchemy_shapes", "sqlalchemy_async"),
    "raw": ("raw_cases",),
}
MODULES = tuple(module for modules in MODULES_BY_ORM.values() for module in modules)

"""The relationship a statement loads, read from its WHERE clause: a relationship's parent comparison.

``with_parent(author, Author.books)``, a write-only collection's ``author.books.select()`` and a dynamic
relationship's query all filter on the relationship's *lazy clause*, built once per relationship when the
mappers are configured: its bound parameters carry identifying keys of their own (``_bind_to_col`` of the
relationship's lazy loader). A statement whose WHERE clause (or that of the subquery it counts) holds one of
those parameters loads that relationship for one parent, however the code wrote it.

Read only in the call-site walk (once per statement and call site, see ``_sites``); the keys of each
registry's relationships are gathered the first time a parameter of this kind is not yet known.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.functions import count

#: (relation, kind, attribute key, related class name) per identifying key of a lazy clause's parameter.
Named = tuple[str, str, str, str]
_by_key: dict[str, Named] = {}
_unknown: set[str] = set()
_scanned: dict[Any, int] = {}  # registry -> how many mappers it had when its relationships were read
_MAX_UNKNOWN = 4096
_LAZY_PARAMETER = "param"  # the name every lazy clause gives its parameters (bindparam(None, ...))


def relation_of(statement: Any, kinds: dict[Any, str]) -> Named | None:
    """What ``statement`` loads, when it filters on a relationship's lazy clause; ``kinds`` names
    directions."""
    where = getattr(statement, "_where_criteria", None)
    if where is None:
        return None
    found = _in_criteria(where, statement, kinds)
    if found is not None:
        return found
    for source in getattr(statement, "_from_obj", ()):  # select(func.count()).select_from(<its select>)
        inner = getattr(source, "element", None)
        found = _in_criteria(getattr(inner, "_where_criteria", ()), inner, kinds)
        if found is not None:
            counted = any(isinstance(column, count) for column in getattr(statement, "_raw_columns", ()))
            return (found[0], "count", found[2], found[3]) if counted else found
    return None


def _in_criteria(criteria: Any, statement: Any, kinds: dict[Any, str]) -> Named | None:
    for criterion in criteria:
        for element in _elements(criterion):
            if type(element) is BindParameter and element._orig_key == _LAZY_PARAMETER:
                key = element._identifying_key
                found = _by_key.get(key)
                if found is None and key not in _unknown:
                    found = _learn(key, statement, kinds)
                if found is not None:
                    return found
    return None


def _elements(criterion: Any) -> list[Any]:
    # A lazy clause is ``:param = child.fk`` or, through a secondary table, an AND of such comparisons.
    if isinstance(criterion, BooleanClauseList):
        return [side for clause in criterion.clauses for side in _elements(clause)]
    if isinstance(criterion, BinaryExpression):
        return [criterion.left, criterion.right]
    return []


def _learn(key: str, statement: Any, kinds: dict[Any, str]) -> Named | None:
    mapper = getattr(statement, "_propagate_attrs", {}).get("plugin_subject")
    registry = getattr(mapper, "registry", None)
    if registry is not None:
        mappers = registry.mappers
        if _scanned.get(registry) != len(mappers):
            _scanned[registry] = len(mappers)
            for parent in mappers:
                for prop in parent.relationships:
                    _remember(prop, kinds)
    found = _by_key.get(key)
    if found is None:
        if len(_unknown) >= _MAX_UNKNOWN:
            _unknown.clear()
        _unknown.add(key)
    return found


def _remember(prop: Any, kinds: dict[Any, str]) -> None:
    strategy = prop.__dict__.get("_lazy_strategy")
    if strategy is None:
        return
    lazy = prop.lazy
    kind = lazy if lazy in ("dynamic", "write_only") else kinds.get(prop.direction, "")
    if kind == "one_to_many" and not prop.uselist:
        kind = "one_to_one_reverse"
    named = (f"{prop.parent.class_.__name__}.{prop.key}", kind, prop.key, prop.mapper.class_.__name__)
    for key in strategy._bind_to_col:
        _by_key[key] = named

"""Fixes, in the words of the framework that ran the statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class GroupFacts(Protocol):
    orm: str | None
    relation: str | None
    relation_kind: str | None
    relation_path: str | None
    relation_root: str | None


def _model_and_attr(relation: str | None) -> tuple[str, str]:
    model, _, attr = (relation or "").rpartition(".")
    return model or "the parent model", attr or "the relation"


def n_plus_one(facts: GroupFacts) -> str:
    """The fix for a statement repeated once per parent row."""
    kind, path = facts.relation_kind, facts.relation_path
    model, attr = _model_and_attr(facts.relation)
    if facts.orm == "django":
        return _django_n_plus_one(kind, path or attr, facts.relation_root or model, attr)
    if facts.orm == "sqlalchemy":
        return _sqlalchemy_n_plus_one(kind, facts.relation or f"{model}.{attr}", facts.relation_root)
    return "load the rows in one query (a JOIN, or WHERE id IN (...) with every id) instead of one per row"


def _django_n_plus_one(kind: str | None, path: str, model: str, attr: str) -> str:
    if kind == "many_to_one":
        return f'add .select_related("{path}") to the queryset that loads {model}'
    if kind in ("one_to_many", "many_to_many", "one_to_one_reverse", "generic"):
        return f'add .prefetch_related("{path}") to the queryset that loads {model}'
    if kind == "deferred":
        return f'"{path}" was deferred by .only()/.defer(): add it to .only() (or drop it from .defer())'
    if kind == "get":
        return f"fetch them in one query: {model}.objects.in_bulk(ids) or .filter(pk__in=ids)"
    if kind == "count":
        return (
            f'annotate the parent queryset instead: .annotate(n=Count("{path}")) and read obj.n '
            f'(or .prefetch_related("{attr}") and len(obj.{attr}.all()))'
        )
    if kind == "exists":
        return (
            f'annotate the parent queryset instead: .annotate(n=Count("{path}")) and test obj.n '
            f'(or .prefetch_related("{attr}") and test bool(obj.{attr}.all()))'
        )
    if kind in ("add", "remove"):
        return f"call .{kind}(*objs) once with every object instead of once per object"
    if kind == "prefetch_objects":
        return "call prefetch_related_objects() once with the whole list, not once per object"
    return "load the rows with the parent queryset (select_related / prefetch_related) instead of one per row"


def _sqlalchemy_n_plus_one(kind: str | None, relation: str, target: str | None) -> str:
    if kind == "many_to_one":
        return f"add .options(joinedload({relation})) (or selectinload) to the query that loads the parents"
    if kind in ("one_to_many", "many_to_many", "one_to_one_reverse"):
        return f"add .options(selectinload({relation})) to the query that loads the parents"
    if kind in ("dynamic", "write_only", "count"):
        return _sqlalchemy_query_per_parent(kind, relation, target)
    if kind == "deferred":
        return (
            f"{relation} is deferred: add .options(undefer({relation})) to the query that loads the rows "
            "(if that query defers it itself, drop it from defer() or name it in load_only())"
        )
    if kind == "expired":
        return (
            f"{relation} was expired by a commit: use sessionmaker(expire_on_commit=False), "
            "or session.refresh() once before the loop"
        )
    if kind == "get":
        return "fetch them in one query: session.scalars(select(Model).where(Model.id.in_(ids)))"
    return (
        "eager-load the relation with .options(selectinload(...)) or joinedload(...); "
        'raiseload("*") makes lazy loads fail loudly'
    )


def _sqlalchemy_query_per_parent(kind: str, relation: str, target: str | None) -> str:
    # A dynamic or write-only relationship cannot be eager-loaded: one query joins every parent to its rows.
    parent = relation.rpartition(".")[0]
    child, join, alias = target or "Child", relation, ""
    if child == parent:  # self-referential: the rows joined are an alias of the same class
        child, join, alias = "other", f"{relation}.of_type(other)", f" with other = aliased({parent})"
    if kind == "count":
        query = f"select({parent}, func.count()).join({join}).group_by({parent})"
        fix = f"count the rows of every parent in one query: session.execute({query}){alias}"
    else:
        query = f"select({parent}, {child}).join({join})"
        fix = f"load the rows of every parent in one query: session.execute({query}){alias}"
    if kind == "dynamic":
        fix += (
            f'; or map it as a loaded collection (lazy="select") and add .options(selectinload({relation}))'
        )
    return fix


def duplicate(orm: str | None) -> str:
    """The fix for the same statement with the same parameters run again."""
    if orm == "django":
        return "reuse the first result (keep the queryset or object in a variable) or cache it"
    if orm == "sqlalchemy":
        return "reuse the first result, or let the Session's identity map serve it (session.get)"
    return "reuse the first result or cache it instead of running the statement again"


#: orm -> a function naming the class the ORM maps to a table (None: not mapped), set by the integration.
_class_namers: dict[str, Callable[[str], str | None]] = {}


def register_class_namer(orm: str, namer: Callable[[str], str | None]) -> None:
    """Let fixes for ``orm`` name the class mapped to a table (``insert(Review)``) instead of the table."""
    _class_namers[orm] = namer


def _class_or_table(orm: str, table: str) -> str:
    namer = _class_namers.get(orm)
    if namer is None:
        return table
    try:
        return namer(table) or table
    except Exception:  # a fix falls back to the table's name, never fails
        return table


def write_loop(orm: str | None, verb: str, table: str, facts: GroupFacts | None = None) -> str:
    """The fix for single-row writes in a loop (``facts``: the relation a related manager wrote, if any)."""
    kind = facts.relation_kind if facts is not None else None
    if orm == "django" and kind in ("add", "remove") and facts is not None and facts.relation:
        return _django_m2m_writes(kind, facts.relation)
    if orm == "django":
        if verb == "insert":
            return "collect the objects and save them at once with Model.objects.bulk_create(objs)"
        if verb == "update":
            return "use Model.objects.bulk_update(objs, fields) or one queryset .update(...)"
        return "delete them at once with Model.objects.filter(pk__in=ids).delete()"
    if orm == "sqlalchemy":
        name = _class_or_table(orm, table)
        if verb == "insert":
            return f"insert them at once: session.execute(insert({name}), [dict(...), ...])"
        if verb == "update":
            return f"update them at once: session.execute(update({name}), [dict(id=..., ...), ...])"
        column = f"{name}.id" if name != table else f"{table}.c.id"  # a mapped class, or a Table
        return f"delete them at once: session.execute(delete({name}).where({column}.in_(ids)))"
    return f"send one multi-row {verb.upper()} (executemany or a single statement) instead of one per row"


def _django_m2m_writes(kind: str, relation: str) -> str:
    attr = relation.rpartition(".")[2]
    through = f"{relation}.through"
    if kind == "add":
        return (
            f"add them at once: obj.{attr}.add(*objs) with every object, or "
            f"{through}.objects.bulk_create([{through}(...), ...])"
        )
    return (
        f"remove them at once: obj.{attr}.remove(*objs) with every object, or "
        f"{through}.objects.filter(...).delete()"
    )


def select_star(orm: str | None) -> str:
    """The fix for ``SELECT *``."""
    return "name only the columns the code needs instead of *" + (
        " (raw SQL: list them explicitly)" if orm is None else ""
    )


def blocking(orm: str | None) -> str:
    """The fix for a synchronous call on the event loop's thread."""
    if orm == "sqlalchemy":
        return "use an AsyncSession/AsyncEngine, or run the sync code with await asyncio.to_thread(...)"
    if orm == "django":
        return "use the async ORM (await Model.objects.aget(...)) or wrap the call in sync_to_async"
    return "run it off the loop: await asyncio.to_thread(...) (or run_in_threadpool), or use an async driver"


def slow(table: str | None) -> str:
    """The generic fix for a slow statement (plan findings give a precise one)."""
    where = f" on {table}" if table else ""
    return f"check its plan (EXPLAIN) for a missing index{where}, or fetch less"


def unused_eager_load(orm: str, method: str, path: str, relation: str) -> str:
    """The fix for an eager load whose objects no code read: drop the path, or load less."""
    if orm == "django":
        if method == "prefetch_related":
            return f'remove "{path}" from .prefetch_related(...) (or its Prefetch(...))'
        return f'remove "{path}" from .select_related(...) (or read only what you need with .only(...))'
    if orm == "sqlalchemy":
        if method == "lazy=":
            return (
                f"{relation} is eager by default (lazy= on its relationship()): add "
                f'.options(lazyload({relation})) to this query, or make the default lazy="select"'
            )
        return (
            f"remove {method}({path}) from .options(...); to stop a load everywhere, "
            f"use lazyload({relation}) or raiseload({relation})"
        )
    return f"stop loading {relation} eagerly"


def loop_stall(blocking: str, call: str) -> str:
    """The fix for a step that held the event loop, in asyncio's words, by what it was doing."""
    if blocking == "sleep":
        return "await asyncio.sleep(...) instead of time.sleep(...): it lets other tasks run meanwhile"
    if blocking == "network":
        return (
            "use an async HTTP client (async with httpx.AsyncClient() as client: await client.get(...)), "
            "or run the call off the loop: await asyncio.to_thread(...)"
        )
    if blocking == "database":
        return (
            "use an async driver (asyncpg, psycopg's AsyncConnection, aiosqlite, aiomysql) or an "
            "AsyncSession, or run the call off the loop: await asyncio.to_thread(...)"
        )
    if blocking == "file":
        return "run the file I/O off the loop: await asyncio.to_thread(...) (or aiofiles)"
    return (
        "move the CPU work off the loop: await loop.run_in_executor(ProcessPoolExecutor(), ...) "
        "(or await asyncio.to_thread(...) for work that releases the GIL), or split it with await "
        "asyncio.sleep(0) between chunks"
    )


def sequential_awaits(orm: str | None) -> str:
    """The fix for independent statements one task awaited one after another."""
    if orm == "sqlalchemy":
        return (
            "run them concurrently: async with asyncio.TaskGroup() as tg (or asyncio.gather), one task per "
            "query, each with its own AsyncSession (async with SessionLocal() as session:); one session must "
            "never be shared across concurrent tasks"
        )
    if orm == "django":
        return (
            "combine them into one query (Django's async ORM runs its queries one at a time on one thread, "
            "so gather() would not overlap them): one .filter(pk__in=...), .aggregate(...), .annotate(...) "
            "or .union(...)"
        )
    return (
        "run them concurrently with asyncio.gather(...) or an asyncio.TaskGroup, each on its own connection "
        "(one connection runs one statement at a time)"
    )

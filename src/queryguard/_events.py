"""The two records queryguard deals in: a captured statement and a finding about statements."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from . import _callsite

_REPR_SQL_WIDTH = 80

#: Hints an ORM adapter may give about why a statement ran (``QueryEvent.relation_kind``).
RELATION_KINDS = (
    "many_to_one",  # forward foreign key / one-to-one: Book.author
    "one_to_many",  # reverse foreign key: Author.book_set
    "many_to_many",
    "one_to_one_reverse",
    "generic",  # generic foreign key / generic relation
    "deferred",  # a column left out by .only()/.defer()/deferred()
    "expired",  # SQLAlchemy attribute expired by a commit
    "get",  # Model.objects.get() / session.get()
    "count",  # .count() on a related manager
    "exists",  # .exists() on a related manager
    "prefetch_objects",  # prefetch_related_objects() called per object
)


class QueryEvent:
    """One statement sent to the database, as an integration saw it.

    Integrations build it and pass it to :func:`queryguard.record`. Only references are stored:
    nothing is formatted or parsed until a finding needs it.
    """

    __slots__ = (
        "_site",
        "alias",
        "batch",
        "blocking",
        "duration_ms",
        "entry",
        "error",
        "executemany",
        "explainer",
        "is_async",
        "orm",
        "params",
        "relation",
        "relation_kind",
        "relation_path",
        "relation_root",
        "rowcount",
        "sql",
        "started",
        "task",
        "vendor",
    )

    def __init__(
        self,
        sql: str,
        params: Any = None,
        duration_ms: float = 0.0,
        *,
        vendor: str = "",
        alias: str = "default",
        rowcount: int = -1,
        executemany: bool = False,
        is_async: bool = False,
        orm: str | None = None,
        relation: str | None = None,
        relation_kind: str | None = None,
        relation_path: str | None = None,
        relation_root: str | None = None,
        error: str | None = None,
        started: float | None = None,
        explainer: Any = None,
        callsite: _callsite.RawSite | str | None = None,
        batch: int | None = None,
    ) -> None:
        self.sql = sql
        self.params = params
        self.duration_ms = duration_ms
        self.vendor = vendor
        self.alias = alias
        self.rowcount = rowcount
        self.executemany = executemany
        self.is_async = is_async
        self.orm = orm
        self.relation = relation
        self.relation_kind = relation_kind
        self.relation_path = relation_path
        self.relation_root = relation_root  # the model whose queryset the fix goes on (nested paths)
        self.error = error
        self.started = time.perf_counter() if started is None else started
        self.explainer = explainer
        self.blocking = False
        # One ORM call that sent its rows one statement at a time (a SQLAlchemy flush): its id, shared by
        # every statement of that call. They are the ORM's own way of writing, not a loop of the user's.
        self.batch = batch
        self.entry = 0  # the request it belongs to (set when delivered; see _capture.enter_request)
        self.task = 0  # id() of the asyncio task that awaited it (async statements; set when delivered)
        self._site: Any = callsite

    @property
    def callsite(self) -> str:
        """``"path:line in function"`` of the first frame in the user's own code ("" if none)."""
        return _callsite.describe(self._site)

    def __repr__(self) -> str:
        """Vendor, alias, duration, the statement's shape and its call site.

        Always redacted, whatever ``show_params`` says (a repr has no config to ask): literals and
        parameters show as ``?``, as in every other output (pytest prints reprs of what a test asserts on).
        """
        try:
            # On first use: the reports package loads its renderers, which ``import queryguard`` must not.
            from ._report._redact import shorten, statement_text

            callsite = self.callsite
            where = f" at {callsite}" if callsite else ""
            sql = shorten(statement_text(self.sql, True, self.vendor), _REPR_SQL_WIDTH)
            return f"<QueryEvent {self.vendor or '?'}:{self.alias} {self.duration_ms:.2f}ms {sql!r}{where}>"
        except Exception:  # a repr never raises: tracebacks and debuggers call it
            return f"<QueryEvent at {id(self):#x}>"


# ``repr`` and ``eq`` are written out: a generated ``__eq__`` makes pytest drill into differing fields and
# print their raw values (parameters, SQL with literals); with ours it shows the redacted repr instead.
@dataclasses.dataclass(repr=False, eq=False)
class Finding:
    """Something wasteful about one statement shape, with where it comes from and how to fix it."""

    kind: str
    severity: str
    message: str
    count: int = 1
    total_duration_ms: float = 0.0
    fingerprint: str = ""
    sql: str = ""
    callsite: str = ""
    relation: str | None = None
    suggestion: str = ""
    plan: Any = None
    params: Any = None
    vendor: str = ""
    alias: str = ""
    parent_callsite: str | None = None
    table: str | None = None
    columns: tuple[str, ...] = ()
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: The statement behind the finding (EXPLAIN runs on it); never serialised.
    event: QueryEvent | None = dataclasses.field(default=None, repr=False, compare=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: as the dataclass default

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in dataclasses.fields(self) if field.compare)

    def __repr__(self) -> str:
        """Kind, severity, count, call site, relation, message and the statement's shape.

        Always redacted, whatever ``show_params`` says (a repr has no config to ask): the SQL shows with
        ``?`` for every literal and parameter, and parameters, plan and details are left out, as in every
        other output (pytest prints the reprs of the findings a test asserts on).
        """
        try:
            from ._report._redact import plain, shorten, statement_text

            fields = ("kind", "severity", "count", "callsite", "relation", "message")
            values = [(name, plain(getattr(self, name))) for name in fields]
            shown = [f"{name}={value!r}" for name, value in values if value not in (None, "")]
            shown.append(f"sql={shorten(statement_text(self.sql, True, self.vendor), _REPR_SQL_WIDTH)!r}")
            return f"Finding({', '.join(shown)})"
        except Exception:  # a repr never raises: tracebacks and debuggers call it
            return f"<Finding at {id(self):#x}>"

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field but ``event`` (values as they are: reports redact them)."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        del data["event"]
        data["columns"] = list(self.columns)
        data["details"] = dict(self.details)
        return data

"""EXPLAIN for SQLAlchemy engines, sync and async: one finding per slow statement, with its plan and the
exact ``Index(...)``, on SQLite, PostgreSQL and MariaDB; in the foreground and on the background worker."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from queryguard_sqlalchemy import instrument
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import queryguard
import queryguard._explain as explain

from ._explain_db import Review, async_engine, drop, notes, seed, sync_engine

VENDORS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]
INDEX = (
    'add Index("ix_qgx_review_reviewer", Review.reviewer) to Review.__table_args__'
    " (or mapped_column(..., index=True) on Review.reviewer)"
)
HEURISTIC = " (heuristic: not verified with a hypothetical index)"
SETTINGS: dict[str, Any] = {"slow_query_ms": 0, "action": "none", "explain_ttl_s": 0}


@pytest.fixture(autouse=True)
def fresh_stage() -> Iterator[None]:
    """No plan, back-off or counter is carried from one test to the next; no work is left behind."""
    explain._reset()
    yield
    assert explain.wait(30.0), "the background worker did not finish"
    explain._reset()


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Seeded databases, made on first use: vendor -> (connection keywords, SQLite path)."""
    made: dict[str, Any] = {}
    path = str(tmp_path_factory.mktemp("explain") / "reviews.db")

    def get(vendor: str, params: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
        if vendor not in made:
            seed(vendor, params, path)
            made[vendor] = (params, path)
        return made[vendor]  # type: ignore[no-any-return]

    yield {"get": get}
    for vendor, (params, _) in made.items():
        drop(vendor, params)


def database(request: pytest.FixtureRequest, databases: dict[str, Any], vendor: str) -> tuple[Any, str]:
    """The connection keywords (None for SQLite) and SQLite path of the seeded ``vendor`` database."""
    params = None
    if vendor == "postgresql":
        params = request.getfixturevalue("postgres_params")
    elif vendor == "mysql":
        params = request.getfixturevalue("mysql_params")
    found: tuple[Any, str] = databases["get"](vendor, params)
    return found


@pytest.fixture(params=VENDORS)
def engine(request: pytest.FixtureRequest, databases: dict[str, Any]) -> Iterator[Any]:
    """An instrumented sync engine (pysqlite, psycopg 3, PyMySQL) on each seeded database."""
    params, path = database(request, databases, request.param)
    engine = sync_engine(request.param, params, path)
    with engine.connect():  # the dialect's first-connect statements run before any unit
        pass
    instrument(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=VENDORS)
async def aengine(request: pytest.FixtureRequest, databases: dict[str, Any]) -> Any:
    """An instrumented async engine (aiosqlite, asyncpg, aiomysql) on each seeded database."""
    params, path = database(request, databases, request.param)
    engine = async_engine(request.param, params, path)
    async with engine.connect():
        pass
    instrument(engine)
    yield engine
    await engine.dispose()


def only(cap: queryguard.Capture) -> queryguard.Finding:
    """The one finding of the unit."""
    assert len(cap.findings) == 1, [f.message for f in cap.findings]
    return cap.findings[0]


def test_a_slow_filter_is_one_finding_with_the_plan_and_the_index(engine: Any) -> None:
    """capture(): one finding, full_scan, with the plan and the exact Index(...) of the mapped class."""
    with Session(engine) as session, queryguard.capture(**SETTINGS) as cap:
        session.scalars(select(Review).where(Review.reviewer == "reader 42")).all()
        assert session.in_transaction()  # the statement's own connection is still held: EXPLAIN uses it
    finding = only(cap)
    assert (finding.kind, finding.table, finding.columns) == ("full_scan", "qgx_review", ("reviewer",))
    assert finding.suggestion == INDEX
    assert finding.message.startswith("full scan: ")
    assert "filtering on reviewer with no index" in finding.message
    assert "(the SELECT took " in finding.message and finding.message.endswith(INDEX + HEURISTIC)
    assert finding.plan is not None and finding.details["connection"] == "session"
    assert [s["kind"] for s in finding.details["smells"]] == ["full_scan"]


def test_after_the_session_closed_a_connection_of_queryguards_own_is_used(engine: Any) -> None:
    """The session gave its connection back before the unit ended: EXPLAIN opens one of its own."""
    with queryguard.capture(**SETTINGS) as cap, Session(engine) as session:
        session.scalars(select(Review).where(Review.reviewer == "reader 7")).all()
    finding = only(cap)
    assert finding.suggestion == INDEX and finding.details["connection"] == "new"


def test_a_filter_and_an_order_get_one_index(engine: Any) -> None:
    """WHERE reviewer = ? ORDER BY stars DESC LIMIT: every smell in one finding, one index leading with
    the filter (and serving the order where the plan sorts in a temporary structure)."""
    with Session(engine) as session, queryguard.capture(**SETTINGS) as cap:
        query = select(Review).where(Review.reviewer == "reader 3").order_by(Review.stars.desc()).limit(5)
        session.scalars(query).all()
    finding = only(cap)
    assert finding.kind == "full_scan"
    assert finding.suggestion.startswith('add Index("ix_qgx_review_reviewer')
    if engine.dialect.name in ("sqlite", "mysql"):
        assert [s["kind"] for s in finding.details["smells"]] == ["full_scan", "temp_sort"]
        assert finding.suggestion.startswith(
            'add Index("ix_qgx_review_reviewer_stars", Review.reviewer, Review.stars.desc())'
        )
        assert "temp sort: " in finding.message


def test_an_unmapped_table_gets_create_index(engine: Any) -> None:
    """A Core table that no class maps gets the plain CREATE INDEX."""
    with engine.connect() as conn, queryguard.capture(**SETTINGS) as cap:
        conn.execute(select(notes.c.id).where(notes.c.author == "author 9")).all()
    concurrently = " CONCURRENTLY" if engine.dialect.name == "postgresql" else ""
    expected = f"add an index: CREATE INDEX{concurrently} qgx_note_author_idx ON qgx_note (author);"
    assert only(cap).suggestion == expected


def test_a_substring_search_gets_its_own_fix(engine: Any) -> None:
    """ILIKE '%x%' cannot use a B-tree index: a trigram Index(...) on PostgreSQL, full text elsewhere."""
    for analyze in (False, True):
        with Session(engine) as session, queryguard.capture(**SETTINGS, explain_analyze=analyze) as cap:
            session.scalars(select(Review).where(Review.reviewer.ilike("%42%"))).all()
        finding = only(cap)
        assert finding.kind == "full_scan" and finding.details["pattern_search"] is True
        if engine.dialect.name == "postgresql":
            assert (
                'Index("ix_qgx_review_reviewer_trgm", Review.reviewer, postgresql_using="gin", '
                'postgresql_ops={"reviewer": "gin_trgm_ops"}) to Review.__table_args__'
            ) in finding.suggestion
        else:
            assert "full-text search" in finding.suggestion


def test_the_background_worker_explains_on_a_connection_of_its_own(engine: Any) -> None:
    """stop(background=True) (the middleware's): the worker opens its own connection, the findings fill in."""
    cap = queryguard.capture(**SETTINGS).start()
    with Session(engine) as session:
        session.scalars(select(Review).where(Review.reviewer == "reader 5")).all()
        cap.stop(background=True)
        assert explain.wait(30.0)
    finding = only(cap)
    assert finding.suggestion == INDEX and finding.details["connection"] == "new"


async def test_async_engines_explain_through_a_sync_driver(aengine: Any) -> None:
    """aiosqlite, asyncpg, aiomysql: foreground and background EXPLAIN through sqlite3, psycopg, PyMySQL."""
    from sqlalchemy.ext.asyncio import AsyncSession

    async with AsyncSession(aengine) as session:
        async with queryguard.capture(**SETTINGS) as cap:
            await session.scalars(select(Review).where(Review.reviewer == "reader 11"))
        background = queryguard.capture(**SETTINGS).start()
        await session.scalars(select(Review).where(Review.reviewer == "reader 12"))
        background.stop(background=True)
        assert explain.wait(30.0)
    for unit in (cap, background):
        finding = only(unit)
        assert finding.suggestion == INDEX and finding.details["connection"] == "new"
        assert finding.plan is not None


@pytest.mark.postgres
async def test_no_password_in_any_output(
    postgres_params: dict[str, Any], databases: dict[str, Any], caplog: pytest.LogCaptureFixture, request: Any
) -> None:
    """Rule 4: a password in the engine's URL appears in no message, report, log, repr or error."""
    from sqlalchemy.ext.asyncio import AsyncSession

    password = "Pw-9f3c-s3cret"
    params = {**database(request, databases, "postgresql")[0], "password": password}
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    query = select(Review).where(Review.reviewer == "reader 1")
    sync, aio = sync_engine("postgresql", params), async_engine("postgresql", params)
    with sync.connect():
        pass
    async with aio.connect():
        pass
    instrument(sync)
    instrument(aio)
    caps = []
    for background in (False, True):
        with Session(sync) as session:
            cap = queryguard.capture(**SETTINGS).start()
            session.scalars(query).all()
            cap.stop(background=background)
        caps.append(cap)
        async with AsyncSession(aio) as asession:
            cap = queryguard.capture(**SETTINGS).start()
            await asession.scalars(query)
            cap.stop(background=background)
        caps.append(cap)
    assert explain.wait(30.0)
    sync.dispose()
    await aio.dispose()
    for cap in caps:
        [slow] = [f for f in cap.findings if f.kind != "blocking_query"]  # (the sync Session in async def)
        assert slow.plan is not None, slow.message
        report = cap.report
        outputs += [report.to_text(), report.to_json(), report.to_html(), report.to_sarif()]
        outputs += [repr(f) for f in cap.findings]
        outputs += [json.dumps(f.to_dict(), default=str) for f in cap.findings]
        outputs += [repr(cap.queries[0].explainer), repr(cap.queries[0]), str(explain.stats())]
    # A failing EXPLAIN (nothing listens on port 1) is logged with the driver's error: no password in it.
    unreachable = sync_engine("postgresql", {**params, "port": 1})
    event = queryguard.QueryEvent("SELECT id FROM qgx_review WHERE reviewer = %(r)s", {"r": "x"}, 5.0)
    from queryguard_sqlalchemy._engine import _engine_facts

    event.explainer = _engine_facts(unreachable)[3]
    event.vendor = "postgresql"
    with queryguard.capture(**SETTINGS) as failing:
        queryguard.record(event)
    assert failing.findings[0].plan is None and "EXPLAIN failed" in caplog.text
    outputs.append(caplog.text)
    assert all(password not in output for output in outputs)


def test_plans_of_sqlalchemy_statements_render_as_trees_in_the_html_report(sqlite_file: Path) -> None:
    """The HTML report shows an SQLAlchemy statement's plan as a tree, with the raw plan one click away."""
    engine = sync_engine("sqlite", None, str(sqlite_file))
    instrument(engine)
    try:
        with Session(engine) as session, queryguard.capture(**SETTINGS) as cap:
            session.scalars(select(Review).where(Review.reviewer == "reader 8")).all()
    finally:
        engine.dispose()
    html = cap.report.to_html()
    assert "SCAN qgx_review" in html and "<details" in html


@pytest.fixture
def sqlite_file(databases: dict[str, Any], request: pytest.FixtureRequest) -> Path:
    """The seeded SQLite file."""
    return Path(database(request, databases, "sqlite")[1])


def test_a_statement_sqlalchemy_runs_without_parameters_is_explained(sqlite_file: Path) -> None:
    """text() without parameters (do_execute_no_params) is explained as well."""
    engine = sync_engine("sqlite", None, str(sqlite_file))
    instrument(engine)
    try:
        with engine.connect() as conn, queryguard.capture(**SETTINGS) as cap:
            conn.execute(text("SELECT id FROM qgx_review WHERE stars = 3 AND reviewer = 'reader 1'")).all()
    finally:
        engine.dispose()
    assert only(cap).kind == "full_scan"

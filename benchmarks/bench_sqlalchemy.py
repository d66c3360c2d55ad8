"""Overhead of the SQLAlchemy integration: 1,000 ORM lazy loads on SQLite, bare against instrumented.

The same engine runs bare (no listener at all) and instrumented with a capture active, interleaved, 20
times in one process; the ratio compares the fastest runs. Times are the CPU time of the benchmark's
thread, so that other processes on a busy machine do not skew the ratio. The last row compares the
``unused_eager_load`` detector on against off, both instrumented in a capture."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in ("src", "integrations"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

from queryguard_sqlalchemy import instrument, uninstrument  # noqa: E402
from sqlalchemy import ForeignKey, String, create_engine, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship  # noqa: E402

import queryguard  # noqa: E402

LAZY_LOADS = 1_000
REPEATS = 20


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship()


def _engine() -> Engine:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        authors = [Author(name=f"author {i}") for i in range(LAZY_LOADS)]
        session.add_all(authors)
        session.add_all(Book(title=f"book {i}", author=author) for i, author in enumerate(authors))
        session.commit()
    return engine


def _lazy_loads(engine: Engine) -> float:
    """Seconds for one loop of lazy loads (each book has its own author: one SELECT per book)."""
    with Session(engine) as session:
        books = session.scalars(select(Book)).all()
        started = time.thread_time()
        for book in books:
            book.author.name  # noqa: B018
        return time.thread_time() - started


def _instrumented(
    run: Callable[[Engine], float], *, captured: bool, eager: bool = True
) -> Callable[[Engine], float]:
    """``run`` with the engine instrumented (undone after: bare runs stay bare), in a capture or not, with the
    ``unused_eager_load`` detector on or off."""

    def wrapped(engine: Engine) -> float:
        instrument(engine)
        cap = queryguard.capture(action="none", explain=False, unused_eager_load=eager)
        if captured:
            cap.start()
        try:
            return run(engine)
        finally:
            if captured:
                cap.stop(act=False)
            uninstrument(engine)

    return wrapped


def _compare(
    name: str,
    run: Callable[[Engine], float],
    engine: Engine,
    *,
    captured: bool,
    target: str,
    bare: Callable[[Engine], float] | None = None,
) -> dict[str, Any]:
    bare_times: list[float] = []
    instrumented_times: list[float] = []
    instrumented = _instrumented(run, captured=captured)
    bare = bare or run
    for _ in range(REPEATS):
        gc.collect()
        bare_times.append(bare(engine))
        gc.collect()
        instrumented_times.append(instrumented(engine))
    bare_s, instrumented_s = min(bare_times), min(instrumented_times)
    return {
        "name": name,
        "bare_s": bare_s,
        "instrumented_s": instrumented_s,
        "ratio": instrumented_s / bare_s,
        "target": target,
        "bare_median_s": statistics.median(bare_times),
        "instrumented_median_s": statistics.median(instrumented_times),
    }


def run() -> list[dict[str, Any]]:
    """Measure; one row per scenario."""
    engine = _engine()
    name = f"{LAZY_LOADS:,} ORM lazy loads on SQLite"
    return [
        _compare(name, _lazy_loads, engine, captured=True, target="<= 1.15"),
        _compare(
            f"{name}, instrumented but no capture active", _lazy_loads, engine, captured=False, target=""
        ),
        # Both sides instrumented in a capture; "bare" has the unused_eager_load detector off. With it on,
        # InstrumentedAttribute.__get__ is wrapped for the capture: each book.author read goes through it.
        _compare(
            f"{name}: unused_eager_load on (instrumented) against off (bare)",
            _lazy_loads,
            engine,
            captured=True,
            target="",
            bare=_instrumented(_lazy_loads, captured=True, eager=False),
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['name']}: bare {row['bare_s'] * 1000:.1f} ms, "
            f"instrumented {row['instrumented_s'] * 1000:.1f} ms, "
            f"ratio {row['ratio']:.3f} (medians: {row['instrumented_median_s'] / row['bare_median_s']:.3f})"
        )

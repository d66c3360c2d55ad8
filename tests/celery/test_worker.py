"""Celery tasks as units: a real worker on Redis (prefork, solo and threads pools), and eager calls."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import queryguard
from tests.conftest import _reachable

pytest.importorskip("celery", reason="Celery is not installed (pip install -r requirements-test.txt)")


from . import tasks

ROOT = Path(__file__).resolve().parents[2]
REDIS_UP = _reachable("127.0.0.1", 6379)
needs_redis = pytest.mark.skipif(
    not REDIS_UP and not os.environ.get("CI"), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)"
)


@pytest.fixture
def shop(tmp_path: Path) -> str:
    """A SQLite shop file of four authors and four books."""
    path = str(tmp_path / "shop.sqlite3")
    tasks.create(path)
    return path


class Worker:
    """A ``celery worker`` process of :mod:`tests.celery.tasks` on a queue of its own, logging to a file."""

    def __init__(self, pool: str, tmp_path: Path) -> None:
        self.queue = f"qg-test-{uuid.uuid4().hex}"
        self.log = tmp_path / "worker.log"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "integrations"), str(ROOT)]),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.celery.tasks", "worker", "--pool", pool,
             "--concurrency", "2", "-Q", self.queue, "--loglevel", "WARNING", "--logfile", str(self.log),
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{self.queue}@%h"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    def run(self, task: object, *args: object) -> object:
        """Send ``task`` to this worker and wait for its result."""
        return task.apply_async(args=args, queue=self.queue).get(timeout=60)  # type: ignore[attr-defined]

    def stop(self) -> str:
        """Stop the worker (a warm shutdown) and return its log."""
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        log = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
        return log + err.decode(errors="replace")


@pytest.fixture
def worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worker]:
    """A real worker of the parametrized pool; stopped after the test."""
    running = Worker(request.param, tmp_path)
    yield running
    if running.process.poll() is None:
        running.stop()


@needs_redis
@pytest.mark.parametrize("worker", ["prefork", "solo", "threads"], indirect=True)
def test_worker_reports_each_task_as_a_unit(worker: Worker, shop: str) -> None:
    """Each task execution is one unit named after the task: the N+1 and the write loop are logged by the
    worker, a suppressed loop and a clean task are not, and every task's result stands."""
    assert worker.run(tasks.book_authors, shop) == 4
    assert worker.run(tasks.rename_authors, shop) == 4
    assert worker.run(tasks.quiet_authors, shop) == 4
    assert worker.run(tasks.clean, shop) == 4
    assert worker.run(tasks.book_authors, shop) == 4  # a second execution is a unit of its own
    log = worker.stop()
    assert log.count("queryguard: tests.celery.tasks.book_authors ran 5 queries in") == 2
    assert "N+1: author rows loaded 4 times from tests/celery/tasks.py:" in log
    assert "queryguard: tests.celery.tasks.rename_authors ran 5 queries in" in log
    assert "write loop" in log.lower() and "tests/celery/tasks.py:" in log
    assert "quiet_authors ran" not in log
    assert "clean ran" not in log
    assert "internal error" not in log


def test_eager_tasks_are_units(shop: str, caplog: pytest.LogCaptureFixture) -> None:
    """``task.apply()`` (eager) runs the same signals: one unit per call, a finding logged per N+1."""
    with caplog.at_level(logging.WARNING, logger="queryguard"):
        assert tasks.book_authors.apply(args=(shop,)).get() == 4
        assert tasks.quiet_authors.apply(args=(shop,)).get() == 4
        assert tasks.clean.apply(args=(shop,)).get() == 4
    lines = [r.getMessage().splitlines()[0] for r in caplog.records if r.name == "queryguard"]
    assert len(lines) == 1 and lines[0].startswith(
        "queryguard: tests.celery.tasks.book_authors ran 5 queries"
    )


def test_a_failing_task_keeps_its_own_exception(shop: str, caplog: pytest.LogCaptureFixture) -> None:
    """A task that raises fails with its own exception, its findings still logged."""
    with caplog.at_level(logging.WARNING, logger="queryguard"):
        result = tasks.book_authors.apply(args=(shop + ".missing",))
    assert result.failed()
    assert "no such table" in str(result.result)
    assert not [r for r in caplog.records if r.name == "queryguard" and "internal error" in r.getMessage()]


def test_each_attempt_of_a_retried_task_is_a_unit(shop: str, caplog: pytest.LogCaptureFixture) -> None:
    """An eager task that retries once is two units, each with its own N+1, and no capture stays open."""
    with caplog.at_level(logging.WARNING, logger="queryguard"):
        assert tasks.flaky_authors.apply(args=(shop,)).get() == 4
    lines = [r.getMessage().splitlines()[0] for r in caplog.records if r.name == "queryguard"]
    assert [line.split(" ran ")[0] for line in lines] == ["queryguard: tests.celery.tasks.flaky_authors"] * 2
    assert queryguard.active_captures() == ()

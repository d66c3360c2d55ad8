"""Real processes of the test project: a seeded SQLite file, ``manage.py`` commands, and live servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SEED = "import django; django.setup(); from tests.django._data import seed; seed(); seed('other')"


def environ(db_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of the test project on ``db_path``."""
    paths = [str(ROOT / "src"), str(ROOT / "integrations"), str(ROOT)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "DJANGO_SETTINGS_MODULE": "tests.django.settings",
    }
    env.update({"QG_TEST_DB_PATH": str(db_path), "PYTHONUNBUFFERED": "1", **extra})
    env.pop("QUERYGUARD_REQUIRE_DATABASES", None)
    return env


def prepare(db_path: Path) -> None:
    """Migrate both databases of the project and seed them."""
    env = environ(db_path)
    for alias in ("default", "other"):
        django_admin(env, "migrate", "--database", alias, "-v", "0")
    subprocess.run([sys.executable, "-c", SEED], env=env, cwd=ROOT, check=True, timeout=120)


def django_admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m django ...`` in the project; the result, whatever its exit status."""
    command = [sys.executable, "-m", "django", *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Run a server process until the block ends; yield its base URL once it answers."""
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base, process, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{base}/clean/", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within 30 s:\n{log.read_text()}")

"""The distribution as a user installs it: the built wheel, its metadata, and the README's core snippet."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNIPPET = """
import sqlite3

import queryguard

conn = queryguard.dbapi.instrument(sqlite3.connect(":memory:"))
conn.execute("CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER)")
with queryguard.capture(action="none") as cap:
    for author_id in (1, 2, 3):
        conn.execute("SELECT id FROM book WHERE author_id = ?", (author_id,)).fetchall()
print(sorted({f.kind for f in cap.findings}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout (no build isolation: setuptools comes from the test environment)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
         str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return next(out.glob("*.whl"))


def test_wheel_metadata(wheel: Path) -> None:
    """The wheel is queryguard-perf with its licence, its user extras only, and the pytest entry point."""
    assert wheel.name.startswith("queryguard_perf-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert metadata["Name"] == "queryguard-perf"
    assert sorted(metadata.get_all("Provides-Extra")) == [
        "celery",
        "django",
        "mysql",
        "postgres",
        "sqlalchemy",
    ]
    assert any(n.startswith(f"{info}/") and "LICENSE" in n for n in names)
    assert "queryguard = queryguard_pytest.plugin" in entry_points
    packages = (
        "queryguard",
        "queryguard_django",
        "queryguard_sqlalchemy",
        "queryguard_pytest",
        "queryguard_celery",
    )
    for package in packages:
        assert f"{package}/py.typed" in names


@pytest.fixture(scope="module")
def fresh_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a new virtualenv with the wheel installed as a user would (no extras)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    return python


def test_fresh_virtualenv_runs_the_readme_snippet(fresh_python: Path, tmp_path: Path) -> None:
    """A new virtualenv installs the wheel and runs the README's DB-API snippet as written."""
    result = subprocess.run(
        [str(fresh_python), "-c", SNIPPET], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['n_plus_one']"


@pytest.mark.parametrize(
    ("package", "extra"),
    [
        ("queryguard_sqlalchemy", "sqlalchemy"),
        ("queryguard_django", "django"),
        ("queryguard_celery", "celery"),
    ],
)
def test_an_integration_without_its_framework_names_the_extra(
    fresh_python: Path, tmp_path: Path, package: str, extra: str
) -> None:
    """Importing an integration whose framework is not installed says which extra to install."""
    result = subprocess.run(
        [str(fresh_python), "-c", f"import {package}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert f'pip install "queryguard-perf[{extra}]"' in result.stderr

"""The package's classifiers name exactly the versions that ``make test`` runs the suite on."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def classified(framework: str) -> set[str]:
    """The versions that pyproject.toml's classifiers name for ``framework`` ("Python", "Django")."""
    text = (ROOT / "pyproject.toml").read_text()
    prefix = "Programming Language :: Python" if framework == "Python" else f"Framework :: {framework}"
    return set(re.findall(rf'"{prefix} :: (\d+\.\d+)"', text))


def test_python_classifiers_are_the_matrix_and_this_run() -> None:
    """Each matrix leg's Python, and the main run's (this one), has its classifier, and no other does."""
    legs = set(re.findall(r"^LEG_PYTHON_\S+ := (\d+\.\d+)$", (ROOT / "Makefile").read_text(), re.M))
    assert len(legs) >= 3
    assert classified("Python") == legs | {f"{sys.version_info[0]}.{sys.version_info[1]}"}


def test_django_classifiers_are_the_pinned_series() -> None:
    """Each Django series a leg or the main run pins (its lower bound) has its classifier, and no other."""
    pins = (ROOT / "Makefile").read_text() + (ROOT / "requirements-dev.txt").read_text()
    series = set(re.findall(r"django>=(\d+\.\d+),<", pins, re.I))
    assert {"4.2", "5.2"} <= series
    assert classified("Django") == series

"""The core's import graph: every ``import``, those inside functions too, ``TYPE_CHECKING`` blocks aside."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

import queryguard

ROOT = Path(queryguard.__file__).parent

#: The stages a unit's statements go through, each in its modules, and what runs them in order.
STAGES = ("_capture", "_detectors", "_explain", "_actions")
PIPELINE = "queryguard._pipeline"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def graph() -> dict[str, frozenset[str]]:
    """Each module of the core -> the modules of the core that running it imports."""
    paths = {_name(path): path for path in ROOT.rglob("*.py")}
    return {name: frozenset(_imports(name, path, paths)) for name, path in paths.items()}


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for sub in ast.walk(node)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            targets = subs if len(subs) == len(node.names) else [base, *subs]
        else:
            continue
        for target in targets:
            found |= _with_packages(target, name, known)
    return found


def _with_packages(target: str, importer: str, known: dict[str, Path]) -> set[str]:
    """``target`` and the packages that importing it runs first, but the importer's own packages."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    modules = set()
    while target.startswith("queryguard"):
        if target != importer and not importer.startswith(target + "."):
            modules.add(target)
        target = target.rpartition(".")[0]
    return modules


def reachable(start: str) -> set[str]:
    """Every module that importing ``start`` may import, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for module in graph()[todo.pop()]:
            if module not in seen:
                seen.add(module)
                todo.append(module)
    return seen


def _top(module: str) -> str:
    """``"_explain"`` for ``"queryguard._explain._run"``: the core's module or package it is in."""
    return module.split(".")[1] if "." in module else ""


def _stage_modules() -> list[str]:
    return sorted(m for m in graph() if _top(m) in STAGES)


@pytest.mark.parametrize("module", sorted(graph()))
def test_no_module_of_the_core_is_in_an_import_cycle(module: str) -> None:
    """No module of the core imports, at any depth, itself."""
    assert module not in reachable(module)


def test_the_capture_module_imports_no_stage_that_acts_on_statements() -> None:
    """Capture holds data: it imports nothing of detection, EXPLAIN, actions or the pipeline."""
    acting = {m for m in reachable("queryguard._capture") if _top(m) in STAGES[1:]}
    assert acting == set()
    assert PIPELINE not in reachable("queryguard._capture")


@pytest.mark.parametrize("module", _stage_modules())
def test_no_stage_imports_the_pipeline_or_the_public_capture(module: str) -> None:
    """Nothing below the pipeline imports it: the stages do not know the order they run in."""
    assert not {PIPELINE, "queryguard._unit"} & reachable(module)


def test_explain_reaches_neither_the_detectors_nor_the_sinks() -> None:
    """EXPLAIN imports ``suppressed`` from the capture module, and is handed the function that logs late."""
    reached = {_top(m) for m in reachable("queryguard._explain")}
    assert "_capture" in reached
    assert not {"_detectors", "_actions"} & reached

"""Test code: where a test's scaffolding runs, so that its findings are listed but count for nothing.

A finding is decided by its own call site, the innermost frame of the user's code that it names
(``path:line in function``). That call site is test code when it is

* in a test module: a module pytest collected tests from, a module whose name matches ``python_files``
  (``test_*.py`` and ``*_test.py`` by default), a ``conftest.py``, or any file under a folder named
  ``tests`` below the root directory;
* in a function pytest registered as a fixture, whatever its module, the functions defined inside it
  included (the factory a fixture returns);
* in a unittest or xunit setup or teardown function (:data:`SETUP_NAMES`), whatever its module.

Anything else is the application's code, a helper module of the application called from a test included.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path
from types import CodeType

import pytest

from queryguard._report import split_callsite

#: Set up by unittest (``TestCase``, ``IsolatedAsyncioTestCase``, Django's ``TestCase``) or by pytest's
#: xunit-style functions: their statements prepare a test, they are not what it tests.
SETUP_NAMES = frozenset(
    {
        "setUp",
        "tearDown",
        "asyncSetUp",
        "asyncTearDown",
        "setUpClass",
        "tearDownClass",
        "setUpTestData",
        "setUpModule",
        "tearDownModule",
        *(
            f"{verb}_{scope}"
            for verb in ("setup", "teardown")
            for scope in ("module", "class", "method", "function")
        ),
    }
)
#: Folders whose files are test code, as a directory name below the root directory.
TEST_FOLDERS = frozenset({"tests"})

SCAFFOLDING = pytest.StashKey["Scaffolding"]()


def _lines(code: CodeType) -> tuple[int, int]:
    """The first and last source line of ``code`` and of the functions defined inside it."""
    last, stack = code.co_firstlineno, [code]
    while stack:
        current = stack.pop()
        last = max([last, *(line for _, _, line in current.co_lines() if line is not None)])
        stack.extend(const for const in current.co_consts if isinstance(const, CodeType))
    return code.co_firstlineno, last


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.normcase(os.path.abspath(path))


class Scaffolding:
    """The test code of one run: test modules, fixture functions, setup and teardown names."""

    def __init__(self, rootpath: Path, python_files: Iterable[str] = ("test_*.py", "*_test.py")) -> None:
        self.root = _key(rootpath)
        self.patterns = tuple(python_files)
        self.modules: set[str] = set()
        #: file -> (first, last) lines of each fixture function in it
        self.fixtures: dict[str, set[tuple[int, int]]] = {}
        self._codes: set[CodeType] = set()
        self._files: dict[str, bool] = {}

    def add_modules(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Files that pytest collected tests from."""
        self.modules.update(_key(path) for path in paths)
        self._files.clear()

    def add_fixture(self, func: object) -> None:
        """A function pytest registered as a fixture (once per code object; anything else is ignored)."""
        func = getattr(func, "__func__", func)
        while hasattr(func, "__wrapped__"):
            func = func.__wrapped__
        code = getattr(func, "__code__", None)
        if isinstance(code, CodeType) and code not in self._codes:
            self._codes.add(code)
            self.fixtures.setdefault(_key(code.co_filename), set()).add(_lines(code))

    def __contains__(self, callsite: object) -> bool:
        """Whether ``callsite`` (``"path:line in function"``) is test code."""
        path, line, function = split_callsite(str(callsite or ""))
        if function in SETUP_NAMES:
            return True
        if not path or path.startswith("<"):
            return False
        key = _key(path)
        if line is not None and any(first <= line <= last for first, last in self.fixtures.get(key, ())):
            return True
        known = self._files.get(key)
        if known is None:
            known = self._files[key] = self._is_test_file(key)
        return known

    def _is_test_file(self, key: str) -> bool:
        if key in self.modules:
            return True
        name = os.path.basename(key)
        if name == "conftest.py" or any(self._matches(key, name, pattern) for pattern in self.patterns):
            return True
        try:
            relative = os.path.relpath(key, self.root)
        except ValueError:  # another drive
            return False
        parts = relative.split(os.sep)
        return parts[0] != os.pardir and any(part in TEST_FOLDERS for part in parts[:-1])

    @staticmethod
    def _matches(key: str, name: str, pattern: str) -> bool:
        # pytest's rule for python_files: a pattern without a separator matches the file name.
        if "/" not in pattern and os.sep not in pattern:
            return fnmatch.fnmatch(name, os.path.normcase(pattern))
        return fnmatch.fnmatch(key, "*" + os.sep + os.path.normcase(pattern).replace("/", os.sep))

# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# The demo needs only Django; the tests, benchmarks and linters need requirements-dev.txt.
DEMO_STAMP := $(VENV)/.demo-stamp
DEV_STAMP := $(VENV)/.dev-stamp

.PHONY: test demo serve bench accuracy lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@# The distribution is queryguard-perf: "queryguard" on the package index is another project.
	-@$(BIN)/python -m pip uninstall --quiet --yes queryguard >/dev/null 2>&1

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e ".[django]"
	@touch $(DEMO_STAMP)

$(DEV_STAMP): pyproject.toml requirements-dev.txt requirements-test.txt | $(BIN)/python
	-@$(BIN)/python -m pip uninstall --quiet --yes queryguard >/dev/null 2>&1
	$(PIP) -r requirements-dev.txt
	@touch $(DEV_STAMP) $(DEMO_STAMP)

# The matrix: other Pythons, Django 4.2 and SQLAlchemy 2.0, each leg in a virtualenv of its own made from
# requirements-test.txt plus the leg's pins. The interpreter is python3.X on the PATH, else pyenv's; without it
# a leg is skipped with a message, except under CI=true (CI never skips a leg: it fails).
# The main run (Python 3.11, Django 5.2, SQLAlchemy 2.1) runs everything; each leg runs what its versions can
# change, to keep `make test` within CI's time: the frame walks of call sites and the loop rules (Python), the
# hooks on Django's and SQLAlchemy's own functions (their versions), and all of SQLAlchemy on 2.0. The legs run
# at once (no timing-sensitive test is among them), each with test databases of its own.
MATRIX := py310-django42-sa20 py312 py313
PYENV_ROOT ?= $(HOME)/.pyenv
LEG_CORE := tests/core/test_loops.py tests/core/test_capture.py tests/core/test_callsite_scripts.py \
	tests/core/test_warning_origin.py tests/core/test_imports.py
LEG_PYTHON_py310-django42-sa20 := 3.10
LEG_PINS_py310-django42-sa20 := "django>=4.2,<5" "sqlalchemy[asyncio]>=2.0,<2.1"
LEG_TESTS_py310-django42-sa20 := $(LEG_CORE) tests/django tests/sqlalchemy
LEG_PYTHON_py312 := 3.12
LEG_PINS_py312 := "django>=5.2,<6" "sqlalchemy[asyncio]>=2.1,<2.2"
LEG_TESTS_py312 := $(LEG_CORE) tests/django/test_relations.py tests/django/test_middleware.py \
	tests/sqlalchemy/test_orm.py tests/sqlalchemy/test_async.py
LEG_PYTHON_py313 := 3.13
LEG_PINS_py313 := "django>=5.2,<6" "sqlalchemy[asyncio]>=2.1,<2.2"
LEG_TESTS_py313 := $(LEG_TESTS_py312)
# The interpreter of Python $(1): python$(1) on the PATH, else the newest pyenv build of it; empty if neither
# runs (a pyenv shim of a version that is installed but not selected is on the PATH, and fails).
find_python = $(firstword $(foreach candidate,$(shell command -v python$(1) 2>/dev/null) \
	$(lastword $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python)),$(shell $(candidate) -c \
	"import sys; print(sys.executable)" 2>/dev/null)))

.PHONY: matrix $(MATRIX:%=test-%)

$(MATRIX:%=.venv-%/.test-stamp): .venv-%/.test-stamp: pyproject.toml requirements-test.txt
	@test -x .venv-$*/bin/python || $(call find_python,$(LEG_PYTHON_$*)) -m venv .venv-$*
	-@.venv-$*/bin/python -m pip uninstall --quiet --yes queryguard >/dev/null 2>&1
	.venv-$*/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt $(LEG_PINS_$*)
	@touch $@

$(MATRIX:%=test-%): test-%:
	@if [ -z "$(call find_python,$(LEG_PYTHON_$*))" ]; then \
		if [ "$(CI)" = true ]; then \
			echo "test-$*: no Python $(LEG_PYTHON_$*) on this machine, and CI runs every leg" >&2; exit 1; \
		fi; \
		echo "test-$*: SKIPPED, no Python $(LEG_PYTHON_$*) here (python$(LEG_PYTHON_$*) on the PATH, or pyenv install $(LEG_PYTHON_$*))"; \
	else \
		$(MAKE) --no-print-directory .venv-$*/.test-stamp && \
		.venv-$*/bin/python -c "import sys, django, sqlalchemy; print('test-$*: Python', sys.version.split()[0], \
			'Django', django.__version__, 'SQLAlchemy', sqlalchemy.__version__)" && \
		QUERYGUARD_TEST_DB_SUFFIX=_$(subst -,_,$*) .venv-$*/bin/python -m pytest $(LEG_TESTS_$*) -q \
			-p no:cacheprovider $(PYTEST_ARGS); \
	fi

matrix: $(MATRIX:%=test-%)

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory --jobs=3 --output-sync=target matrix

demo: $(DEMO_STAMP)
	$(BIN)/python example_projects/django_bookshop/demo.py

serve: $(DEMO_STAMP)
	$(BIN)/python example_projects/django_bookshop/manage.py runserver

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/run.py

# Precision and recall of the findings on the accuracy corpus (SQLite, and PostgreSQL/MariaDB when they answer).
accuracy: $(DEV_STAMP)
	$(BIN)/python benchmarks/accuracy/run.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check src integrations tests benchmarks example_projects
	$(BIN)/ruff format --check src integrations tests benchmarks example_projects
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .venv-sqlalchemy20 $(MATRIX:%=.venv-%) build dist *.egg-info src/*.egg-info integrations/*.egg-info

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

# The SQLAlchemy integration is also tested against the 2.0 series, in a second environment.
SA20 := .venv-sqlalchemy20
SA20_STAMP := $(SA20)/.dev-stamp

$(SA20_STAMP): pyproject.toml requirements-dev.txt requirements-test.txt
	@test -x $(SA20)/bin/python || $(PYTHON) -m venv $(SA20)
	-@$(SA20)/bin/python -m pip uninstall --quiet --yes queryguard >/dev/null 2>&1
	$(SA20)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt "sqlalchemy[asyncio]>=2.0,<2.1"
	@touch $(SA20_STAMP)

test: $(DEV_STAMP) $(SA20_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(SA20)/bin/python -c "import sqlalchemy; print('SQLAlchemy', sqlalchemy.__version__)"
	$(SA20)/bin/python -m pytest tests/sqlalchemy -q $(PYTEST_ARGS)

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
	rm -rf $(VENV) $(SA20) build dist *.egg-info src/*.egg-info integrations/*.egg-info

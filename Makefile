# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo bench lint typecheck clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

# The SQLAlchemy integration is also tested against the 2.0 series, in a second environment.
SA20 := .venv-sqlalchemy20
SA20_STAMP := $(SA20)/.installed-stamp

$(SA20_STAMP): pyproject.toml
	@test -x $(SA20)/bin/python || $(PYTHON) -m venv $(SA20)
	$(SA20)/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" "sqlalchemy[asyncio]>=2.0,<2.1"
	@touch $(SA20_STAMP)

test: $(STAMP) $(SA20_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(SA20)/bin/python -c "import sqlalchemy; print('SQLAlchemy', sqlalchemy.__version__)"
	$(SA20)/bin/python -m pytest tests/sqlalchemy -q $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python example_projects/django_bookshop/demo.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check src integrations tests benchmarks example_projects
	$(BIN)/ruff format --check src integrations tests benchmarks example_projects
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(SA20) build *.egg-info src/*.egg-info

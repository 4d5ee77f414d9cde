# microcred — two commands: `make demo` runs the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DB ?= var/demo.db
export MICROCRED_DATABASE_URL ?= sqlite:///$(DEMO_DB)

.PHONY: demo test install install-test system-deps lint typecheck pytest benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Build the demo data set into an embedded SQLite file and serve the platform.
demo: install
	@mkdir -p var
	$(BIN)/microcred demo
	$(BIN)/microcred serve --host $(HOST) --port $(PORT)

## Install everything the tests need (Debian packages too, when root) and run the full suite.
test: install-test system-deps lint typecheck pytest

system-deps:
	@bash scripts/system-deps.sh

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

pytest:
	env -u MICROCRED_DATABASE_URL bash scripts/with-postgres.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

benchmarks: install-test
	$(BIN)/python benchmarks/credentials.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

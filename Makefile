# bookwithme: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv and install what they need on first use; nothing else is a set-up step.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime dependencies, reinstalled when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Test, lint and benchmark tools on top.
$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.runtime
	$(BIN)/bookwithme serve --host $(HOST) --port $(PORT)

# `alembic check` on the default database (the one `make run` serves), brought up to date
# first as `serve` would; the suite itself checks a fresh SQLite and PostgreSQL database.
test: $(VENV)/.dev
	$(BIN)/alembic upgrade head
	$(BIN)/alembic check
	$(BIN)/pytest

lint: $(VENV)/.dev
	$(BIN)/ruff format --check src tests migrations/env.py
	$(BIN)/ruff check src tests migrations/env.py
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff format src tests migrations/env.py
	$(BIN)/ruff check --fix src tests migrations/env.py

# Performance figures (see docs/benchmarks.md). The HTTP part needs wrk (apt-get install wrk).
bench: $(VENV)/.dev
	$(BIN)/python -m tests.benchmarks.bench_engine
	$(BIN)/python -m tests.benchmarks.bench_http
	$(BIN)/python -m tests.benchmarks.bench_bookings
	$(BIN)/python -m tests.benchmarks.bench_calendars
	$(BIN)/python -m tests.benchmarks.bench_crowd

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

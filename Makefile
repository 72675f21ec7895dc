# bookwithme: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv and install what they need on first use; nothing else is a set-up step.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench clean i18n-extract i18n-update i18n-compile

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
# The suite runs on every core (pytest-xdist): each worker starts its own PostgreSQL.
test: $(VENV)/.dev
	$(BIN)/alembic upgrade head
	$(BIN)/alembic check
	$(BIN)/pytest -n auto

lint: $(VENV)/.dev
	$(BIN)/ruff format --check src tests migrations/env.py
	$(BIN)/ruff check src tests migrations/env.py
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff format src tests migrations/env.py
	$(BIN)/ruff check --fix src tests migrations/env.py

# The French catalogue (see babel.cfg for what is read). The app compiles the .po in memory
# when it starts, so nothing here is a build step:
#   i18n-extract  every marked message of the sources and templates into messages.pot;
#   i18n-update   adds the new messages to the .po (empty, to translate) and marks those no
#                 longer in the sources obsolete (#~), keeping every translation as it is;
#   i18n-compile  checks the .po as gettext would read it (placeholders, syntax) with
#                 statistics; the compiled file is thrown away.
# tests/test_translations_complete.py is the check that every message has its French.
# FR_PO=... works on another copy of the catalogue.
LOCALE_DIR := src/bookwithme/locale
POT        := $(LOCALE_DIR)/messages.pot
FR_PO      ?= $(LOCALE_DIR)/fr/LC_MESSAGES/messages.po

i18n-extract: $(VENV)/.runtime
	$(BIN)/pybabel --quiet extract --mapping-file=babel.cfg --output-file=$(POT) --project=bookwithme \
		--add-comments=TRANSLATORS: --sort-by-file --no-wrap .

# First the check that every translation is of a text the sources still mark: update would
# set the others aside (#~), and the pages showing them would lose their French.
i18n-update: i18n-extract $(VENV)/.dev
	BOOKWITHME_FR_PO=$(abspath $(FR_PO)) $(BIN)/pytest -q -p no:cacheprovider \
		tests/test_translations_complete.py -k marked_in_the_sources
	$(BIN)/pybabel --quiet update --input-file=$(POT) --output-file=$(FR_PO) --locale=fr \
		--no-fuzzy-matching --no-wrap --ignore-pot-creation-date

i18n-compile: $(VENV)/.runtime
	$(BIN)/pybabel compile --input-file=$(FR_PO) --output-file=/dev/null --locale=fr --statistics

# Performance figures (see docs/benchmarks.md). The HTTP part needs wrk (apt-get install wrk).
bench: $(VENV)/.dev
	$(BIN)/python -m tests.benchmarks.bench_engine
	$(BIN)/python -m tests.benchmarks.bench_http
	$(BIN)/python -m tests.benchmarks.bench_bookings
	$(BIN)/python -m tests.benchmarks.bench_calendars
	$(BIN)/python -m tests.benchmarks.bench_crowd

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

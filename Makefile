# `make test` on a fresh machine: creates .venv, installs panel with its test extras, runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test unit lint fix bench bench-cache reliability clean

$(BIN)/panel: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The browser tests drive Debian's chromium through Playwright (no browser download).
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 2; \
	fi

# The shared-store tests start a throwaway cluster from Debian's postgresql server binaries.
PG_BIN ?= /usr/lib/postgresql/15/bin

$(PG_BIN)/initdb:
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	else \
		echo "The PostgreSQL store tests need Debian's postgresql: sudo apt-get install postgresql"; exit 2; \
	fi

# Two workers (pytest-xdist): the suite spends much of its time waiting on subprocesses and servers.
JOBS ?= 2

# Bytecode first: with PYTHONDONTWRITEBYTECODE set, as on CI's machines, every `panel` subprocess
# would otherwise compile the package from source again.
test: $(BIN)/panel $(CHROMIUM) $(PG_BIN)/initdb
	$(BIN)/python -m compileall -q panel tests bench >/dev/null
	PANEL_REQUIRE_POSTGRES=1 $(BIN)/pytest -n $(JOBS) --durations=15

unit: $(BIN)/panel
	$(BIN)/pytest -n $(JOBS) -m "not e2e"

lint: $(BIN)/panel
	$(BIN)/ruff check panel tests bench
	$(BIN)/ruff format --check panel tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fix: $(BIN)/panel
	$(BIN)/ruff check --fix panel tests bench
	$(BIN)/ruff format panel tests bench

bench: $(BIN)/panel
	$(BIN)/python bench/batch_bench.py

reliability: $(BIN)/panel
	$(BIN)/python bench/reliability.py

bench-cache: $(BIN)/panel
	$(BIN)/python bench/cache_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

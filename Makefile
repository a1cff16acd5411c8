# The two commands: `make run` and `make test`. Both create .venv and install when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format validate verify bench clean chromium postgresql

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/escalate dev

test: $(STAMP) chromium postgresql
	$(BIN)/ruff check .
	$(BIN)/escalate validate
	$(BIN)/pytest

# The inner loop: everything but the tests marked slow (real servers, browser, long runs).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" -q

# The browser test drives Debian's chromium (never a downloaded browser build).
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make: the browser test needs Debian's chromium at $(CHROMIUM); as root run:" >&2; \
	    echo "  apt-get update && apt-get install -y chromium" >&2; \
	    exit 1; \
	  fi; \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# The store tests run a throwaway server from Debian's PostgreSQL binaries (never a download).
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make: the store tests need Debian's PostgreSQL server (initdb, pg_ctl); as root run:" >&2; \
	    echo "  apt-get update && apt-get install -y postgresql" >&2; \
	    exit 1; \
	  fi; \
	  echo "installing Debian's postgresql for the store tests"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

# The type checker covers every product package; the bottom ones strictly (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy workflows schedules security runbooks store activities services simulation worker.py api cli

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate: $(STAMP)
	$(BIN)/escalate validate

# Replay every recorded history and compare the simulated timelines with a base revision
# (VERIFY_BASE, default HEAD: what the working tree changes). VERIFY_ARGS=--strict etc.
VERIFY_BASE ?= HEAD
verify: $(STAMP)
	$(BIN)/escalate verify --base $(VERIFY_BASE) $(VERIFY_ARGS)

# The benchmark (not a test): prints a table and one JSON line. BENCH_ARGS=--open 10000 etc.
# Bytecode first, as a production image ships it: the workflow sandbox imports the runbooks
# afresh for every incident, and without .pyc files (PYTHONDONTWRITEBYTECODE) it compiles them each time.
bench: $(STAMP)
	$(BIN)/python -m compileall -q workflows runbooks activities api services security cli worker.py
	$(BIN)/python -m bench.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache *.egg-info

# Maillage: two commands do all the set-up on a fresh machine.
#   make demo   - install, migrate, load demo data, serve http://127.0.0.1:8000
#   make test   - install and run the whole test suite
SHELL := /bin/bash
# pyproject.toml requires Python 3.11: take python3.11, else python3 (its version is checked below).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test bench lint format install clean messages

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || \
		{ echo "Python 3.11 is required; '$(PYTHON)' is not. Run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	test -x $(BIN)/python || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py serve --prepare-only
	$(BIN)/python manage.py seed_demo
	@# The index may hold documents of an earlier demo database (e.g. after `make clean`): rebuild from this one.
	$(BIN)/python manage.py search_index rebuild
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	@# var/static: WhiteNoise warns on every request when STATIC_ROOT is missing.
	mkdir -p var/static
	@# Exit status 5 means "no tests collected" (e.g. a PYTEST_ARGS filter): not a failure.
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest: no tests collected"; status=0; fi; exit $$status

bench: $(STAMP)
	mkdir -p var
	@# Starts PostgreSQL/Redis when installed and down, the way .ci/run does (needs root to start them).
	source .ci/services.sh && maillage_bench_services && $(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l fr -l en --ignore=.venv --ignore=var
	$(BIN)/python manage.py makemessages -d djangojs -l fr -l en --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var

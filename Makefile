# Two commands: `make run` (set up and start the demo on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8001` serves on another port (links printed and e-mailed follow it).
PORT ?= 8000
SITE := http://127.0.0.1:$(PORT)

# axe-core (accessibility rules for the browser tests), pinned, installed from npm into var/npm:
# never committed. Without npm the accessibility tests skip (fail in CI).
AXE_VERSION := 4.10.3
AXE := var/npm/node_modules/axe-core/axe.min.js

.PHONY: run test lint install clean axe bench

BENCH_SCALE ?= 20000

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput --verbosity 0
	DEBUG=1 MUTUALIS_SITE_URL=$(SITE) $(BIN)/python manage.py demo
	@# The audit sequencer places the events in the hash chain as they are written (a service in
	@# production, docs/deployment.md); here it runs beside the development server.
	DEBUG=1 $(BIN)/python manage.py audit_sequence --follow --verbosity 0 & \
	  trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  DEBUG=1 MUTUALIS_SITE_URL=$(SITE) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

$(AXE):
	@if command -v npm >/dev/null; then \
	  npm install --prefix var/npm --no-save --no-package-lock --no-audit --no-fund --silent axe-core@$(AXE_VERSION); \
	else echo "npm not found: the accessibility tests will skip (make axe once npm is installed)"; fi

axe: $(AXE)

test: $(STAMP) axe
	$(BIN)/python -m pytest

# Every benchmark and one table of results (bench/run.py); BENCH_SCALE=1000000 for the full size.
bench: $(STAMP)
	$(BIN)/python bench/run.py --scale $(BENCH_SCALE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mutualis/privacy mutualis/vault mutualis/audit mutualis/lib

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

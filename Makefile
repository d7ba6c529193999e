# One-command loops. Everything installs itself on a fresh machine (Python via pyenv/system, uv from PyPI).
SHELL := /bin/bash
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
UV := $(PYTHON) -m uv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench system-deps kb

# --compile-bytecode: every package's .pyc is written at install, so start-up does not recompile spaCy and friends
# in each process where PYTHONDONTWRITEBYTECODE is set (measured: note pipeline load 6.4 s -> 3.1-3.6 s).
install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --quiet --compile-bytecode

kb: install
	$(UV) run hccguide kb build

run: kb
	@echo "hccguide: serving on http://$(HOST):$(PORT)"
	$(UV) run hccguide serve --host $(HOST) --port $(PORT)

# Debian packages the tests drive: chromium (browser tests) and a Java runtime (Spark tests).
system-deps:
	@bash scripts/system-deps.sh

lint: install
	$(UV) run ruff check src tests benchmarks

test: install system-deps lint
	$(UV) run pytest

bench: kb
	@for b in benchmarks/*.py; do echo "== $$b"; $(UV) run python $$b || exit 1; done

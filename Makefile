# The two commands a newcomer runs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install demo lint test services bench browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Waco needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# SQLite, a folder as broker, the sandbox as Meta and Stripe: nothing else to install.
demo: install
	$(PY) manage.py demo

# Lint, format and the import contracts of pyproject.toml: the same checks as CI, in seconds.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Lint first, then the whole suite on PostgreSQL and Redis at 127.0.0.1 (started here if needed).
test: lint services browser
	$(PY) -m pytest $(PYTEST_ARGS)

services:
	@bash scripts/ensure-services.sh

# Debian's chromium for the browser tests (Playwright's own download does not work offline).
browser:
	@bash scripts/ensure-chromium.sh

bench: install services
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache

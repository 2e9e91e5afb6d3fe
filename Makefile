# CJM Studio — the two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
MO := cjm/translations/ru/LC_MESSAGES/messages.mo
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run run-scaled test lint format install translations extract sysdeps bench clean

run: install translations ## migrate, seed the demo map when empty, serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

WORKERS ?= 4
# Scaled out: several gunicorn gthread workers (gunicorn.conf.py) sharing PostgreSQL and Redis.
run-scaled: install translations ## gunicorn, $(WORKERS) workers, DATABASE_URL (PostgreSQL) + REDIS_URL
	@[[ "$$DATABASE_URL" == postgres* && -n "$$REDIS_URL" ]] || { echo "run-scaled needs DATABASE_URL=postgresql://... and REDIS_URL=redis://127.0.0.1:6379/0" >&2; exit 1; }
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(VENV)/bin/gunicorn -c gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT)

test: install translations sysdeps ## lint, then the whole suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else echo "Python's venv module is missing: install it (Debian: sudo apt-get install python3-venv)" >&2; exit 1; fi; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

translations: $(MO)

$(MO): cjm/translations/ru/LC_MESSAGES/messages.po | install
	$(VENV)/bin/pybabel -q compile -d cjm/translations

extract: install ## refresh the message catalogue after changing UI strings
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -o cjm/translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i cjm/translations/messages.pot -d cjm/translations

# System packages the browser and PDF tests need: installed when missing and run as root on Debian,
# else named (the browser tests skip without them).
SYSPKGS := chromium fonts-dejavu-core poppler-utils
sysdeps:
	@missing=$$(for p in $(SYSPKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing system packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "Missing system packages (browser tests will skip): $$missing — install with: sudo apt-get install $$missing"; fi

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: install translations ## performance tables (see README, Performance)
	$(PY) bench/board.py
	$(PY) bench/analytics.py
	$(PY) bench/pdf.py
	$(PY) bench/live.py --config single

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

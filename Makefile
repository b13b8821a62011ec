# The two commands a newcomer needs: `make run` and `make test`. The rest is for developers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What serving needs (requirements.txt), and that plus the test and lint stack
# (requirements-dev.txt); each install is redone when its requirements change.
SERVE_STAMP := $(VENV)/.installed-serve
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format install install-dev migrate seed bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(SERVE_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(SERVE_STAMP)

# torch goes alone first (the CPU build on local disk), before anything that depends on it.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet "$$(grep '^torch==' requirements-dev.txt)"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP) $(SERVE_STAMP)

install: $(SERVE_STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: set up (serving packages only), migrate, load demo data, serve with a worker.
run: seed
	bin/run

## make test: the whole suite (PostgreSQL and Redis when reachable, else SQLite).
test: install-dev
	bin/test

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-dev
	@for script in $(filter-out bench/common.py bench/__init__.py,$(wildcard bench/*.py)); do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf var/test .pytest_cache

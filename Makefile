# The two commands a newcomer needs: `make run` and `make test`. The rest is for developers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format install migrate seed bench clean

# torch goes alone first (the CPU build on local disk), before anything that depends on it.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$$(grep '^torch==' requirements-dev.txt)"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: set up, migrate, load demo data, serve the platform with a worker.
run: seed
	bin/run

## make test: the whole suite (PostgreSQL and Redis when reachable, else SQLite).
test: install
	bin/test

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	@for script in $(filter-out bench/common.py bench/__init__.py,$(wildcard bench/*.py)); do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf var/test .pytest_cache

# Seller Center: `make run` serves the demo, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test install install-dev migrate demo lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py setup_schedules

# Web server and task worker together; Ctrl-C stops both.
run: demo
	@echo "Seller Center on http://$(HOST):$(PORT)/  (logins: alice / bob / staff, password demo)"
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py qcluster & \
	$(PY) manage.py runserver $(HOST):$(PORT) & \
	wait

test: install-dev
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || (echo "Model changes without a migration: run manage.py makemigrations" && exit 1)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles

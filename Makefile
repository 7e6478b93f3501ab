# Seller Center: `make run` serves the demo, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test install install-dev migrate demo lint clean makemessages compilemessages

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

# Translations (locale/<language>/LC_MESSAGES): `make makemessages` collects the marked strings of
# templates, Python and JavaScript into the .po catalogs; `make compilemessages` builds the .mo
# files Django reads (GNU gettext's msgfmt: apt-get install gettext). The .mo files are built, not
# committed: `make run` and `make test` compile them first.
LANGUAGES := vi th id es
I18N_IGNORE := --ignore=.venv --ignore=staticfiles --ignore=media --ignore=node_modules
makemessages: install
	$(PY) manage.py makemessages $(addprefix -l ,$(LANGUAGES)) $(I18N_IGNORE) --no-obsolete
	$(PY) manage.py makemessages -d djangojs $(addprefix -l ,$(LANGUAGES)) $(I18N_IGNORE) --ignore='static/js/vendor/*' --no-obsolete

compilemessages: install
	@if compgen -G "locale/*/LC_MESSAGES/*.po" >/dev/null; then $(PY) manage.py compilemessages $(I18N_IGNORE); \
	else echo "No catalogs in locale/ yet: nothing to compile."; fi

demo: migrate compilemessages
	$(PY) manage.py seed_demo
	$(PY) manage.py setup_schedules

# Links in the demo's emails and its printed logins point at the server `make run` starts,
# unless PUBLIC_BASE_URL is set.
run demo: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

# Web server and task worker together; Ctrl-C (or either of them ending) stops both. Each
# runs in a process group of its own (set -m), so a signal reaches all its processes (the
# autoreloader's child, qcluster's sentinel and workers) and Ctrl-C reaches neither directly:
# the trap sends TERM, waits up to 5 seconds, then KILLs what is left (a qcluster busy with
# a task may ignore TERM).
run: demo
	@echo "Seller Center on http://$(HOST):$(PORT)/  (logins: alice / bob / minh / staff, password demo)"
	@set -m; \
	$(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT) & web=$$!; \
	stop() { \
	  trap '' INT TERM; trap - EXIT; \
	  kill -TERM -- -$$web -$$worker 2>/dev/null; \
	  ( sleep 5; kill -KILL -- -$$web -$$worker 2>/dev/null ) & killer=$$!; \
	  wait $$web $$worker 2>/dev/null; \
	  kill -KILL -- -$$web -$$worker 2>/dev/null; \
	  kill -- -$$killer 2>/dev/null; \
	  echo "Seller Center stopped."; \
	}; \
	trap 'stop; exit 130' INT TERM; trap stop EXIT; \
	if [ "$${BASH_VERSINFO[0]}$${BASH_VERSINFO[1]}" -ge 43 ]; then wait -n; else wait; fi

test: install-dev compilemessages
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || (echo "Model changes without a migration: run manage.py makemigrations" && exit 1)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles

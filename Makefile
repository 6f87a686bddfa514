# The two commands: `make run` (back-office with demo data) and `make test` (the suite).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint check-deploy clean preview preview-destroy

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Back-office:  http://$(HOST):$(PORT)/portal/   (brokers)"
	@echo "  Admin:        http://$(HOST):$(PORT)/admin/    (staff)"
	@echo "  API docs:     http://$(HOST):$(PORT)/api/docs"
	@echo ""
	$(VENV)/bin/daphne --bind $(HOST) --port $(PORT) config.asgi:application

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# A preview environment on PostgreSQL (PREVIEW_DATABASE_URL or DATABASE_URL names the
# server): cloned from a migrated, seeded template, served on PREVIEW_PORT.
PREVIEW_PORT ?= 8100
preview: install
	@test -n "$(NAME)" || { echo "usage: make preview NAME=x"; exit 2; }
	$(PY) manage.py preview $(NAME) --port $(PREVIEW_PORT) $(PREVIEW_ARGS)

preview-destroy: install
	@test -n "$(NAME)" || { echo "usage: make preview-destroy NAME=x"; exit 2; }
	$(PY) manage.py preview $(NAME) --destroy

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache

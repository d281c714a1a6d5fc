# Two commands on a fresh Linux machine with python3 >= 3.11 and make:
#   make run    set up .venv, migrate, seed the demo, serve http://127.0.0.1:8000
#   make test   set up .venv with dev dependencies and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests in parallel where it pays (2 cores in CI); TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2

.PHONY: run dev test lint typecheck format check-deploy lock compose-check clean help openapi

help:
	@echo "make run | dev | test | lint | typecheck | format | lock | openapi | compose-check | clean"

$(BIN)/.installed-base: requirements/base.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/base.txt
	@touch $@

$(BIN)/.installed-dev: requirements/dev.txt $(BIN)/.installed-base
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	@touch $@

# The demo: SQLite, tasks in-process, served by gunicorn with WhiteNoise.
run: $(BIN)/.installed-base
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py missing_image_install
	$(BIN)/python manage.py seed_demo
	@echo "Serving the demo shop on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	DEBUG=False $(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

# Development server with auto-reload and DEBUG on.
dev: $(BIN)/.installed-dev
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py missing_image_install
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(BIN)/.installed-dev
	$(BIN)/pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup) $(PYTEST_ARGS)

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with the django-stubs plugin on the packages listed in pyproject.toml [tool.mypy].
typecheck: $(BIN)/.installed-dev
	$(BIN)/mypy

format: $(BIN)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate docs/openapi.yaml, the API's committed schema (README "API"); a test fails
# when the code and the file disagree.
openapi: $(BIN)/.installed-dev
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Regenerate the pinned requirements from pyproject.toml.
lock:
	$(PYTHON) -m venv /tmp/solomo-piptools && /tmp/solomo-piptools/bin/pip install --quiet pip-tools
	/tmp/solomo-piptools/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements/base.txt pyproject.toml
	/tmp/solomo-piptools/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev -o requirements/dev.txt pyproject.toml

compose-check:
	SECRET_KEY=compose-validation-only docker-compose config -q && echo "docker-compose.yml is valid"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache

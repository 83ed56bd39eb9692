# The portal's everyday commands. `make run` serves a local portal; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The suite runs in two processes (pytest-xdist), one per core; PYTEST_ARGS="-n 0" runs it in one.
PYTEST_ARGS ?= -n 2 --durations=25
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test bench lint format lock clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core for the browser test, exactly as package-lock.json pins it. Without npm the browser test skips
# (and fails under REQUIRE_SERVICES=1); Chromium comes from the system (apt-get install chromium).
node_modules/.installed: package.json package-lock.json
	@if command -v npm > /dev/null; then \
		npm ci --no-audit --no-fund && touch $@; \
	else \
		echo "npm not found: the browser test (tests/browser) will skip; install Node.js and npm to run it"; \
	fi

# Local portal on SQLite, Celery tasks run in-process, email printed to the console. Besides the seed (an
# enduring material that has expired), 300 generated activities give the demo learner current ones.
run: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=1 $(BIN)/python manage.py import_activities seeds/
	DJANGO_DEBUG=1 $(BIN)/python manage.py generate_demo_data --activities 300 --seed 1
	DJANGO_DEBUG=1 $(BIN)/python manage.py demo --host $(HOST) --port $(PORT)
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Lint, formatting, types and migrations, then the whole suite. DATABASE_URL and CELERY_BROKER_URL switch on
# the PostgreSQL, Redis and Celery tests; the browser test also needs /usr/bin/chromium and
# node_modules/axe-core.
test: install node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run > /dev/null
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin requirements.txt (production) and requirements-dev.txt (everything) from pyproject.toml.
lock: install
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --no-emit-index-url --no-emit-find-links -o requirements-dev.txt pyproject.toml

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache

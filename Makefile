# The two commands a newcomer needs: `make run` and `make test`.
# Each creates the virtualenv and installs the Python and npm packages it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTMX := quiz/static/vendor/htmx.min.js
# The interface's translations: .po files are committed, the compiled .mo files never
# (they are build output, and a stale .mo would show old words), so setup compiles them.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard quiz/translations/*/LC_MESSAGES/messages.po))
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test lint bench docs translations clean lock

setup: $(STAMP) $(HTMX) $(CATALOGS)

# Every Python package at the version and hash in requirements-dev.lock (the app's,
# PostgreSQL's driver and the tests'), then the app itself without resolving again:
# two fresh clones install the same bytes. `make lock` upgrades the lock files.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Re-resolve both lock files to the newest versions pyproject.toml allows, with hashes:
# requirements.lock for a deployment, requirements-dev.lock for make run, make test and CI.
LOCK = $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
  --no-emit-index-url --no-emit-find-links --upgrade
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(LOCK) --extra postgres -o requirements.lock pyproject.toml
	$(LOCK) --extra dev --extra postgres -o requirements-dev.lock pyproject.toml

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# htmx comes from the npm registry (pinned in package-lock.json) and is served by the app.
$(HTMX): node_modules/.package-lock.json
	mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

quiz/translations/%/LC_MESSAGES/messages.mo: quiz/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -l $* -i $< -o $@

# After changing an interface string: extract them all and update every catalog
# (then translate the new entries; tests/test_translations.py fails until then).
translations: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --add-location=file --sort-by-file \
	  --project=relax-or-fill -o quiz/translations/messages.pot quiz
	$(BIN)/pybabel update --ignore-obsolete -i quiz/translations/messages.pot -d quiz/translations

# The embedded default: a development instance with its own random secret key,
# written once so every `flask` command in this checkout shares it.
instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print('# Written by make run for local development.\nENV = \"development\"\nSECRET_KEY = ' + repr(secrets.token_urlsafe(48)))" > $@

run: setup instance/config.py
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# The whole suite on SQLite, then the tests that use a database again on PostgreSQL
# (tests/conftest.py reads QUIZ_TEST_DATABASE and picks them: the fixtures they ask
# for, or @pytest.mark.database). Without a PostgreSQL server the second pass is
# skipped with a message, except under CI=true, where it fails.
# `make test TEST_DATABASES=sqlite` runs one pass only.
TEST_DATABASES ?= sqlite postgresql

test: setup
	$(BIN)/ruff check .
	@set -e; for database in $(TEST_DATABASES); do \
	  echo "== the test suite on $$database"; \
	  QUIZ_TEST_DATABASE=$$database $(BIN)/python -m pytest $(PYTEST_ARGS); \
	done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# docs/configuration.md is generated from quiz/settings/schema.py (a test checks it is current).
docs: setup
	$(BIN)/python -m quiz.settings.docs --write

bench: setup
	$(BIN)/python bench/sizes.py
	$(BIN)/python bench/embed_size.py

clean:
	rm -rf $(VENV) node_modules quiz/static/vendor

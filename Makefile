# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

# mypy is part of `make lint` (and so of CI); `make lint LINT_MYPY=no` leaves it out for a quick run.
LINT_MYPY ?= yes

.PHONY: install run run-multi test test-sqlite test-postgres test-tools lint lint-ruff lint-format \
	lint-imports lint-lock mypy lock clean messages translations
CHROMIUM ?= /usr/bin/chromium

# The lock: every install path (this Makefile, so `make run`, `make test` and CI; the Dockerfile)
# installs the versions pinned in requirements/*.txt, with their hashes, so a fresh machine runs
# what the tests ran. requirements/dev.txt is the whole set (runtime, test, lint, build backend);
# requirements/runtime.txt is the image's share of it, at the same versions.
# pip-tools rather than uv: the lock installs with nothing but pip (which every Python has: this
# machine's, the python:3.11-slim image's), so there is no installer to bootstrap and pin first,
# and pip keeps honouring the machine's own pip configuration; the files are plain requirements
# files that anyone can read. The cost: it is resolved for one Python (3.11, the image's) rather
# than universally, and pip installs more slowly than uv would.
LOCK := requirements/dev.txt

# Re-install when the lock (or the package's own metadata) changes. pip-sync then removes what the
# lock no longer lists; the package itself goes in editable, without dependencies, built by the
# locked hatchling (hence --no-build-isolation).
$(BIN)/.installed: $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip-sync --no-config --quiet $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

# After changing a dependency in pyproject.toml: `make lock`, then commit requirements/. Newer
# versions of everything: `make lock LOCK_ARGS=--upgrade`; of one: `LOCK_ARGS='--upgrade-package ruff'`.
# runtime.txt is constrained to dev.txt's versions, so both pin the same. Resolved from PyPI
# alone, whatever a local pip configuration adds (find-links, other indexes), so that the hashes
# are PyPI's. Options shared by both: [tool.pip-tools] in pyproject.toml.
PIP_COMPILE = env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet
lock:
	test -x $(BIN)/pip-compile || $(MAKE) $(BIN)/.installed
	$(PIP_COMPILE) $(LOCK_ARGS) --all-build-deps --extra test --extra lint -o requirements/dev.txt pyproject.toml
	$(PIP_COMPILE) --build-deps-for wheel -c requirements/dev.txt -o requirements/runtime.txt pyproject.toml

# Swagger UI for /docs, from the pinned npm package (package-lock.json); served from node_modules/, never committed.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make install needs npm for /docs (Swagger UI): sudo apt-get install npm" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund

install: $(BIN)/.installed node_modules/.package-lock.json translations

## Languages (README "Languages"). English texts are the message ids; locale/<language>/LC_MESSAGES/
# messages.po holds another language's texts. `make messages` after changing interface texts:
# extracts them (babel.cfg: Python and templates) into locale/messages.pot and merges new or changed
# ids into each .po, to be translated there. `make translations` compiles each .po into the .mo the
# app reads (make install, run and test do it when a .po changed; wheels compile their own).
# Without source locations, so a moved line changes nothing in the catalogues.
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/messages.po)
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project notices -o locale/messages.pot .
	$(BIN)/pybabel update -i locale/messages.pot -d locale -D messages --ignore-obsolete

translations: $(CATALOGUES:.po=.mo)

locale/%.mo: locale/%.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

## make run: SQLite, scheduler in process, mail as files under var/mail, demo data on a fresh database.
# Links in emails and feeds point at the port it serves on, unless NOTICES_BASE_URL says otherwise.
run: export NOTICES_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/notices db upgrade
	$(BIN)/notices demo --if-empty
	$(BIN)/notices digest run --frequency daily
	@echo "emails are written to var/mail/ (open the .eml files in a mail program)"
	$(BIN)/notices serve --host $(HOST) --port $(PORT)

## make run-multi: two schedulers, two web processes and nginx on PostgreSQL (see the README).
run-multi: install
	scripts/run-multi

## make test: the whole suite on SQLite, then again on PostgreSQL.
test: test-sqlite test-postgres

test-sqlite: install test-tools
	$(BIN)/pytest

test-postgres: install test-tools
	NOTICES_TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest

# Third-party clients the tests check against, from Debian: chromium (Playwright drives it; its
# own browser downloads are not used), nginx (config/nginx/local.conf in front of the app),
# SpamAssassin (mail) and Java (the Nu HTML checker, vnu.jar from npm).
TEST_PACKAGES := chromium nginx-light spamassassin default-jre-headless
test-tools:
	@{ test -x $(CHROMIUM) && { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } \
	   && command -v spamassassin >/dev/null && command -v java >/dev/null; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_PACKAGES); \
	  else echo "the tests need Debian packages: sudo apt-get install $(TEST_PACKAGES)" >&2; exit 1; fi; }

## make lint: ruff (rules and formatting), the import layers, the lock against pyproject.toml,
# and mypy when LINT_MYPY = yes (above). `make -k lint` reports every failing check, not just the first.
lint: lint-ruff lint-format lint-imports lint-lock $(if $(filter yes,$(LINT_MYPY)),mypy)

lint-ruff: $(BIN)/.installed
	$(BIN)/ruff check .

lint-format: $(BIN)/.installed
	$(BIN)/ruff format --check .

lint-imports: $(BIN)/.installed
	$(BIN)/lint-imports

lint-lock: $(BIN)/.installed
	$(BIN)/python scripts/check_lock.py

# Settings in pyproject.toml: strict on core and the domain packages, mypy's defaults elsewhere.
mypy: $(BIN)/.installed
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var build dist .pytest_cache node_modules

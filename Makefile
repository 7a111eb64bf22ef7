# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run run-multi test test-sqlite test-postgres test-tools clean
CHROMIUM ?= /usr/bin/chromium

# Re-install when the dependencies change; the package itself is editable.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Swagger UI for /docs, from the pinned npm package (package-lock.json); served from node_modules/, never committed.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make install needs npm for /docs (Swagger UI): sudo apt-get install npm" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund

install: $(BIN)/.installed node_modules/.package-lock.json

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

clean:
	rm -rf $(VENV) var build dist .pytest_cache node_modules

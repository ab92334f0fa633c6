# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Test processes (pytest-xdist); each worker has its own database.
TEST_WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: run test test-pg test-mysql test-all install translations messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Installed versions are pinned by constraints.txt; setup.cfg keeps the lower bounds.
$(VENV)/.installed: $(BIN)/python setup.cfg constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d tracker/translations

# Extract message ids and merge them into both catalogs (then translate the new zh_CN ones).
messages: $(VENV)/.installed
	$(BIN)/python scripts/sync_catalogs.py

run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi load-demo --if-empty
	TRACKER_SCHEDULER=embedded $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-pg: install
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-mysql: install
	TEST_DATABASE_URL=mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4 $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-all: test test-pg test-mysql

clean:
	rm -rf $(VENV) instance/*.sqlite3

# --- security and reliability (tests/security, loadtest/, scripts/ci_checks.sh) ---------
.PHONY: test-faults loadtest loadtest-short security-checks

# The tools of these targets (locust, bandit, pip-audit, schemathesis) are the `ci` extra
# of setup.cfg, pinned by constraints.txt like everything else.
$(VENV)/.ci-installed: $(VENV)/.installed setup.cfg constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[test,ci]'
	touch $@

# Fault injection with servers of their own: gunicorn on SQLite, a PostgreSQL cluster.
test-faults: install
	RUN_FAULT_TESTS=1 $(BIN)/python -m pytest tests/security/test_faults.py -m faults -q $(PYTEST_ARGS)

# 40 users against gunicorn (4 workers) + PostgreSQL on loopback. The 5-minute run records
# its figures in docs/performance.md; the 1-minute one (CI) only passes or fails.
loadtest: install $(VENV)/.ci-installed
	LOADTEST_RECORD=1 loadtest/run.sh 5m

loadtest-short: install $(VENV)/.ci-installed
	loadtest/run.sh 1m

# bandit, pip-audit on constraints.txt, schemathesis against the running API.
security-checks: install $(VENV)/.ci-installed
	scripts/ci_checks.sh

# --- performance (issue 6): bench/, docs/performance.md ---------------------------------
# `make bench` generates SCALE tickets into SQLite (bench-data/) and, when
# BENCH_DATABASE_URL names a reachable PostgreSQL database, into that one too (it is
# emptied first), measures, prints a table and writes bench-results/results.json.
# Needs wrk for the HTTP runs (apt-get install wrk); without it they are skipped.
SCALE ?= 100000
BENCH_DATABASE_URL ?=
BENCH_ARGS ?=

.PHONY: bench
bench: install
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' $(BIN)/python -m bench.run --scale $(SCALE) $(BENCH_ARGS)

# --- end-to-end in a real browser (issue 8): tests_e2e/, docs/screenshots/ ---------------
# Playwright for Python drives Debian's Chromium (/usr/bin/chromium, `apt-get install
# chromium`); no browser is ever downloaded. The app runs under gunicorn on loopback
# against a fresh SQLite database with the demo world. `make test` does not run these.
.PHONY: test-e2e screenshots
E2E_ARGS ?=

$(VENV)/.playwright: $(VENV)/.installed constraints.txt
	$(BIN)/pip install -q -c constraints.txt playwright
	touch $@

test-e2e: install $(VENV)/.playwright
	@test -x /usr/bin/chromium || { echo "Chromium is missing: apt-get install -y chromium" >&2; exit 1; }
	$(BIN)/python -m pytest tests_e2e -p no:xdist $(E2E_ARGS)

# The same run, saving the screenshots the README shows into docs/screenshots/.
screenshots: install $(VENV)/.playwright
	@test -x /usr/bin/chromium || { echo "Chromium is missing: apt-get install -y chromium" >&2; exit 1; }
	@fc-list :lang=zh | grep -q . || { echo "No Chinese font: apt-get install -y fonts-wqy-microhei" >&2; exit 1; }
	E2E_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests_e2e -p no:xdist $(E2E_ARGS)

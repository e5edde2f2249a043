# creditflow: `make run` starts everything, `make test` installs and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock 2>/dev/null | sha256sum | cut -c1-12)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install system-deps run test test-postgres bench faults eval-nlp lint histories clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Debian packages: tesseract for OCR of uploaded images, chromium for the console browser tests.
system-deps:
	@missing=""; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: install system-deps
	$(VENV)/bin/creditflow up

# The whole suite on SQLite, then the store, ledger and end-to-end tests again on PostgreSQL
# (127.0.0.1:5432, database `test`, trust auth; each test gets its own schema).
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

test: install system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=15
	$(MAKE) --no-print-directory test-postgres

test-postgres: install
	@$(PY) -c "import sqlalchemy as sa; sa.create_engine('$(PG_TEST_URL)').connect().close()" 2>/dev/null || \
	  { echo "PostgreSQL is not reachable at $(PG_TEST_URL): start it, or set PG_TEST_URL=..."; exit 1; }
	CREDITFLOW_TEST_DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -q -p no:cacheprovider tests/store tests/ledger tests/e2e

eval-nlp: install
	$(PY) -m creditflow.nlp.signals.evaluate
	$(PY) -m creditflow.nlp.evaluate_documents

bench: install
	$(PY) benchmarks/run_all.py

# Fault injection with real processes (also part of `make test`): kill -9 worker, NLP outage,
# Temporal restart, database cut off, concurrent duplicates. Under 4 minutes on 2 cores.
faults: install system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/faults

histories: install
	$(PY) tests/histories/generate.py $(SUFFIX)  # e.g. `make histories SUFFIX=_v4`: earlier histories stay for replay

lint: install
	$(VENV)/bin/ruff check src workflows tests || true

clean:
	rm -rf var/ .pytest_cache

# The two commands of the README: `make run` (the Kediri demo on SQLite) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check a11y lint format bench clean chromium nginx wrk fonts

run: $(VENV)/.installed fonts
	$(BIN)/ikrar demo

test: $(VENV)/.installed chromium nginx fonts
	$(BIN)/pytest -n 2 --dist loadgroup --durations=15

# The fast loop before every commit: everything but the slow, browser and PostgreSQL tests.
check: $(VENV)/.installed fonts
	$(BIN)/pytest -n 2 --dist loadgroup -q -m "not slow and not browser and not postgres"

# The accessibility checks alone: axe-core (from the pinned axe-playwright-python test package)
# on every page at 360 and 1366 px in both languages; screenshots in test-artifacts/ (or
# $$IKRAR_TEST_ARTIFACTS). `make test` runs them too.
a11y: $(VENV)/.installed chromium
	$(BIN)/pytest -n 2 --dist loadgroup tests/web/test_a11y.py

# ruff (lint and format) and mypy (strict for ledger/ and signing/), as CI runs them.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The benchmarks (docs/PERFORMANCE.md): `make bench` runs them all at full size (the first run
# builds and caches ledgers of up to 1M entries under bench/.cache, a few minutes);
# `make bench ARGS="audit --quick"` runs a selection at smoke-test size.
bench: $(VENV)/.bench-installed wrk
	$(BIN)/python -m bench $(ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# The HTTP benchmark drives Debian's wrk; install it when it is missing and we may (else it is skipped).
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "The HTTP benchmark needs Debian's wrk: sudo apt-get install wrk (skipping it)" >&2; fi; }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The documents embed DejaVu (Debian's fonts-dejavu-core); without it they use the PDF
# standard fonts and say so (docs/DOCUMENTS.md). Install it when it is missing and we may.
fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; \
	  else echo "The documents embed DejaVu: sudo apt-get install fonts-dejavu-core" >&2; fi; }

# Browser tests drive Debian's Chromium; install it when it is missing and we may.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# The deployment tests (tests/deploy) run Debian's nginx in front of `ikrar serve`; install it
# when it is missing and we may. The tests start nginx themselves, as the current user.
nginx:
	@test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else echo "The deployment tests need Debian's nginx: sudo apt-get install nginx" >&2; exit 1; fi; }

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis test-artifacts

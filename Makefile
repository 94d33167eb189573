# Two commands: `make run` and `make test`. Everything else is installed by these targets.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 5000
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-fast bench install pdf-libs browser migrate seed worker clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed pdf-libs

## Pango, HarfBuzz's subsetter and a font for WeasyPrint (the delivery sheets' PDF), and poppler-utils, whose
## pdfinfo/pdftotext/pdftoppm the tests use to read the PDFs back; from Debian when missing.
pdf-libs:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset \
		&& fc-list 2>/dev/null | grep -qi dejavu \
		&& command -v pdftotext >/dev/null; } || { \
		echo "Installing Pango, DejaVu fonts and poppler-utils for PDF output"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fontconfig poppler-utils >/dev/null; }

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask demo seed

## Serve the app with demo data on http://127.0.0.1:$(PORT) (SQLite, inline jobs).
run: seed
	@echo "Open http://127.0.0.1:$(PORT) and sign in as admin@example.com / microgreens"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## Debian's Chromium for the Playwright journeys (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## The whole suite. TEST_DATABASE_URL / TEST_REDIS_URL pick PostgreSQL / another Redis.
test: install browser
	$(BIN)/python -m pytest

## Everything but the Playwright journeys: the inner loop.
test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

## Load benchmark at 100,000 customers (wrk from Debian as the load generator); writes
## bench/results.json. See BENCHMARKS.md. BENCH_ARGS="--compare DIR" also measures another
## checkout (e.g. `git worktree add /tmp/old main`) in the same run.
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the load generator"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

worker: install
	$(BIN)/flask worker

clean:
	rm -rf $(VENV) .pytest_cache

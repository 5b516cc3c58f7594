# The two commands a new user needs: `make run` serves the API on the real data, `make test` tests it.
# Both set up everything on a fresh Debian machine: the virtualenv, PostgreSQL + PostGIS, the
# database, migrations and data.

PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSETMAP := $(BIN)/assetmap
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/assetmap_test

.PHONY: run test lint install fuzz soak bench clean-venv messages

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

VENDOR := app/static/vendor/.installed

$(VENDOR): frontend/package.json frontend/package-lock.json scripts/vendor.sh
	bash scripts/vendor.sh

# The translations: each catalog's .po (in git) compiled to the .mo the app reads.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/i18n/locale/*/LC_MESSAGES/messages.po))

app/i18n/locale/%/LC_MESSAGES/messages.mo: app/i18n/locale/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -D messages -d app/i18n/locale -l $*

# After changing a message in the code or the templates: the template catalog and every
# language's catalog refreshed (new messages untranslated until a translator fills them).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -o app/i18n/messages.pot \
		--project "Kirklees asset map" --copyright-holder "Kirklees asset map contributors" .
	$(BIN)/pybabel update --no-fuzzy-matching -i app/i18n/messages.pot -d app/i18n/locale -D messages

install: $(VENV)/.installed $(VENDOR) $(CATALOGS)

run: install
	bash scripts/pdf-fonts.sh
	$(ASSETMAP) db bootstrap
	$(ASSETMAP) load all
	$(ASSETMAP) serve --port $(PORT)

test: install
	command -v chromium >/dev/null || bash scripts/apt-install.sh chromium
	command -v pdftotext >/dev/null || bash scripts/apt-install.sh poppler-utils
	bash scripts/pdf-fonts.sh
	command -v ogrinfo >/dev/null || bash scripts/apt-install.sh gdal-bin
	DATABASE_URL=$(TEST_DATABASE_URL) $(ASSETMAP) db bootstrap
	DATABASE_URL=$(TEST_DATABASE_URL) $(ASSETMAP) load all
	$(MAKE) --no-print-directory lint
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fuzz: install
	bash scripts/fuzz.sh

# 64 connections for 60 s against lookup, nearest and caller on a server started like `make run`.
soak: install
	$(BIN)/python scripts/soak.py --start-server

# Every benchmark of issue 8 in one go (about 5 minutes here, 6 when it first builds its databases
# with synthetic assets), servers started like `make run`, wrk as the load client; writes
# bench/results.json and the table in docs/performance.md. `python -m bench --only lookup,caller`
# runs a subset.
bench: install
	command -v wrk >/dev/null || bash scripts/apt-install.sh wrk
	$(BIN)/python -m bench

clean-venv:
	rm -rf $(VENV)

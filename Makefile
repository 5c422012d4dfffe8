# The two commands a newcomer types: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-dev migrate lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

## make run — install, migrate, seed the demo account, start web + worker + beat.
## Development mode: the published development secrets and the fake acquirer
## are allowed (production refuses them, see README "Production").
run: export DEVELOPMENT ?= 1
run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_staff
	PORT=$(PORT) PY=$(PY) bash scripts/run.sh

## make test — install and run the whole suite (PostgreSQL with DATABASE_URL, else SQLite).
test: install-dev
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || \
		(echo "models and migrations differ: run makemigrations"; exit 1)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

bench: install
	@echo "see bench/README.md: python manage.py bench <name>"

clean:
	rm -rf $(VENV) var

# Two commands matter: `make run` (local stack) and `make test` (everything CI runs).
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# pyenv's interpreter when present (these machines), else whatever python3.13 is on PATH.
BASE_PYTHON := $(shell PYENV_VERSION=$(PYTHON_VERSION) pyenv which python3.13 2>/dev/null || command -v python3.13)

.PHONY: run test lint typecheck unit install clean package test-packaged

$(PY):
	@test -n "$(BASE_PYTHON)" || { echo "Python 3.13 not found (pyenv install 3.13.0)"; exit 1; }
	$(BASE_PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m infra.local

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The tests in parallel, one worker per core (tests/adapters stays together on one worker),
# then the contract run, whose items pytest-xdist cannot tell apart, on its own.
unit: $(STAMP)
	$(VENV)/bin/pytest -n auto --dist loadgroup -m "not contract"
	$(VENV)/bin/pytest -p no:xdist -m contract

test: lint typecheck unit

# The deployable artifact: dist/sam.json (Chalice's functions merged with infra/template.yaml)
# and dist/deployment.zip, checked with cfn-lint and infra/tools/check_package.py.
package: $(STAMP)
	$(PY) -m infra.tools.package --stage $(or $(STAGE),prod) --out dist

# The adapter suite against the stack deployed from the packaged template (after `make package`).
test-packaged: $(STAMP)
	@for source in infra/template.yaml infra/tools/package.py; do \
		test dist/sam.json -nt $$source || { echo "dist/sam.json is missing or older than $$source: run make package"; exit 1; }; \
	done
	CEPAT_RESPON_STACK_TEMPLATE=dist/sam.json $(VENV)/bin/pytest tests/adapters -q

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache

# Every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench docs clean

$(UV):
	python3 -m pip install --user --quiet "uv==0.13.9" || python3 -m pip install --quiet "uv==0.13.9"

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/worker demo

test: install
	$(VENV)/bin/pytest

test-fast: install
	$(VENV)/bin/pytest -m "not integration and not e2e and not reliability and not slow"

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pip-audit --strict --progress-spinner off --skip-editable || \
	  echo "pip-audit: vulnerability database unreachable or findings above (see output)"

bench: install
	$(PY) -m bench.run

docs: install
	$(VENV)/bin/worker docs gen

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

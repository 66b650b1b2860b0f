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
	$(VENV)/bin/ruff check src packages tests bench
	$(VENV)/bin/ruff format --check src packages tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	@# Known vulnerabilities fail the lint; packages the audit service cannot see are reported.
	@out=$$($(VENV)/bin/pip-audit --progress-spinner off --skip-editable 2>&1); rc=$$?; \
	  unaudited=$$(echo "$$out" | grep -c "could not be audited"); \
	  echo "$$out" | grep -E "^(Found|No known)" || true; \
	  if echo "$$out" | grep -qE "Found [0-9]+ known vulnerabilit"; then echo "$$out"; exit 1; fi; \
	  if [ "$$rc" -ne 0 ]; then echo "pip-audit: audit service unreachable (exit $$rc); dependencies not audited"; fi; \
	  if [ "$$unaudited" -gt 0 ]; then echo "pip-audit: $$unaudited packages could not be audited (not found by the audit service)"; fi

bench: install
	$(PY) -m bench.run

docs: install
	$(VENV)/bin/worker docs gen

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

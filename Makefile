# pushlab — every target sets up .venv first, so a fresh clone needs only `make test` or `make bench`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install test bench bench-quick bench-full serve demo notebooks lab clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name pushlab --display-name "pushlab (.venv)" >/dev/null
	touch $(STAMP)

test: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

bench: install
	$(PY) -m bench $(ARGS)

bench-quick: install
	$(PY) -m bench --quick $(ARGS)

bench-full: install
	$(PY) -m bench --full $(ARGS)

serve: install
	$(PY) -m servers all $(ARGS)

demo: install
	$(PY) -m servers demo $(ARGS)

notebooks: install
	$(PY) -m bench.notebooks $(ARGS)

lab: install
	$(PY) -m pip install --quiet -e '.[lab]'
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache results/notebooks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

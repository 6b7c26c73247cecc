# pushlab — every target sets up .venv first, so a fresh clone needs only `make test` or `make bench`.
# The targets run the `pushlab` command installed into .venv; `make X ARGS="..."` passes options.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PUSHLAB := $(VENV)/bin/pushlab
STAMP := $(VENV)/.installed-stamp

.PHONY: install test bench bench-quick bench-full serve demo notebooks lab clean redis stop-redis

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,peers]'
	$(PY) -m ipykernel install --sys-prefix --name pushlab --display-name "pushlab (.venv)" >/dev/null
	touch $(STAMP)

test: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

bench: install
	$(PUSHLAB) bench $(ARGS)

bench-quick: install
	$(PUSHLAB) bench --quick $(ARGS)

bench-full: install
	$(PUSHLAB) bench --full $(ARGS)

serve: install
	$(PUSHLAB) serve all $(ARGS)

demo: install
	$(PUSHLAB) demo $(ARGS)

notebooks: install
	$(PUSHLAB) notebooks $(ARGS)

lab: install
	$(PY) -m pip install --quiet -e '.[lab]'
	$(VENV)/bin/jupyter lab notebooks/

# A local redis-server for --feed (free port, no persistence, pid file .redis.pid); prints its URL.
redis: install
	$(PY) -m pushlab.bench.measuring.redis_server start --pidfile .redis.pid

stop-redis: install
	$(PY) -m pushlab.bench.measuring.redis_server stop --pidfile .redis.pid

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache results/notebooks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

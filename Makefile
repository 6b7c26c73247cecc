# pushlab — every target sets up .venv first, so a fresh clone needs only `make test` or `make bench`.
# The targets run the `pushlab` command installed into .venv; `make X ARGS="..."` passes options.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PUSHLAB := $(VENV)/bin/pushlab
STAMP := $(VENV)/.installed-stamp
# The exact versions the tests pass with (every extra): pyproject.toml gives the ranges,
# constraints.txt the one release of each package that is installed. `make lock` refreshes it.
LOCK := constraints.txt

.PHONY: install test bench bench-quick bench-full serve demo notebooks lab clean redis stop-redis lock docs

install: $(STAMP)

# uv installs the locked releases in seconds once its cache (~/.cache/uv) holds them; pip
# stays in .venv for `make lab` and the wheel test. --compile-bytecode: every server, generator
# and kernel the tests start imports these packages, and where PYTHONDONTWRITEBYTECODE is set
# each of those processes would otherwise compile them all again.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev,peers]' -c $(LOCK)
	$(PY) -m ipykernel install --sys-prefix --name pushlab --display-name "pushlab (.venv)" >/dev/null
	touch $(STAMP)

# The suite on TEST_WORKERS processes (pytest-xdist): many tests wait on sockets, a browser or
# a kernel, so more workers than cores pay. tests/scheduling.py says which tests share one.
TEST_WORKERS ?= 5  # three for the end-to-end chains, two for the rest (docs/testing.md); 0: one process

test: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

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
	$(PY) -m pip install --quiet -e '.[lab]' -c $(LOCK)
	$(VENV)/bin/jupyter lab notebooks/

# The measured figures README.md and docs/*.md quote, regenerated from the committed results
# directory each block names (bench/presentation/quotes.py), and CONTRACT.md's column list.
# `make docs FIGURES=results/NAME` first points every block at that directory.
docs: install
	$(PY) -m pushlab.bench.presentation.quotes $(if $(FIGURES),--source $(FIGURES)) README.md docs/*.md
	$(PY) -m pushlab.bench.presentation.contract docs/CONTRACT.md

# A local redis-server for --feed (free port, no persistence, pid file .redis.pid); prints its URL.
redis: install
	$(PY) -m pushlab.bench.measuring.redis_server start --pidfile .redis.pid

stop-redis: install
	$(PY) -m pushlab.bench.measuring.redis_server stop --pidfile .redis.pid

# The newest releases pyproject.toml allows, resolved with uv for this Python; then
# `make install` (the stamp is older than the lock) installs them. Commit constraints.txt.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --all-extras --upgrade --python $(PY) \
		--custom-compile-command "make lock" --quiet -o $(LOCK)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache results/notebooks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

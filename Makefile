# Every target does its own set-up on a fresh machine: the virtual environment, the
# package with its extras, and Graphviz's `dot` program (installed with apt when root).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE := $(VENV)/.installed-core
STAMP := $(VENV)/.installed-dev
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: test demo notebooks bench bench-paired fuzz setup dot clean

setup: $(STAMP) dot

# What the demo needs: the package and its three runtime dependencies.
$(CORE): pyproject.toml
	@echo "Creating $(VENV) and installing symgraph with numpy, networkx and graphviz..."
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

# What the tests need besides: pytest, the notebooks' kernel and libraries, and every
# backend's engine (numba, jax, dask + distributed), so CI tests each backend.
$(STAMP): $(CORE)
	@echo "Installing the test, notebook and backend extras (pytest, Jupyter, numba, jax, dask)..."
	$(PIP) -e '.[dev,notebooks,all]'
	touch $@

dot:
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Graphviz (dot) with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz's 'dot' program is missing. Install it, then run make again:"; \
	    echo "    sudo apt-get install graphviz     (Debian/Ubuntu)"; \
	    echo "    brew install graphviz             (macOS)"; \
	    exit 1; \
	  fi; \
	fi
	@# Pictures name the font DejaVu Sans: Graphviz sizes each box with the font it finds,
	@# so the same font must be there for the text to fit (Helvetica is often missing).
	@if ! fc-list 2>/dev/null | grep -q "DejaVu Sans"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing the DejaVu fonts that pictures use (fonts-dejavu-core) with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core fontconfig >/dev/null; \
	  else \
	    echo "warning: the DejaVu Sans font is missing; text in pictures may not fit its boxes:"; \
	    echo "    sudo apt-get install fonts-dejavu-core   (Debian/Ubuntu)"; \
	    echo "    brew install --cask font-dejavu         (macOS)"; \
	  fi; \
	fi

test: setup
	$(PY) -m pytest

demo: $(CORE) dot
	$(VENV)/bin/symgraph demo --out demo-output

# Re-execute the tutorials and store them with their outputs (edit notebooks/cells/*.py).
notebooks: setup
	$(PY) notebooks/build.py

# symgraph beside its peers (installed into benchmarks/.venv-peers) -> benchmarks/RESULTS.md
bench: setup
	PYTHON=$(PYTHON) sh benchmarks/setup_peers.sh
	benchmarks/.venv-peers/bin/python benchmarks/run.py $(BENCH_ARGS)

# symgraph's rows against the commit before the redesign, paired -> benchmarks/PAIRED.md
bench-paired: setup
	$(PY) benchmarks/paired_old_new.py --out benchmarks/PAIRED.md

# The long fuzz run (6000 random graphs per property, 24,000 in all) and the one-million-node memory figure.
fuzz: setup
	SYMGRAPH_FUZZ=long $(PY) -m pytest tests/test_fuzz.py -q -p no:cacheprovider
	SYMGRAPH_BIG=1 $(PY) -m pytest tests/test_memory.py -q -s -p no:cacheprovider

clean:
	rm -rf $(VENV) benchmarks/.venv-peers demo-output .pytest_cache

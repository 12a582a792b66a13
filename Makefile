# Every target does its own set-up on a fresh machine: the virtual environment, the
# package with its extras, and Graphviz's `dot` program (installed with apt when root).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: test demo setup dot clean

setup: $(STAMP) dot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,notebooks]'
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

test: setup
	$(PY) -m pytest

demo: setup
	$(VENV)/bin/symgraph demo --out demo-output

clean:
	rm -rf $(VENV) demo-output .pytest_cache

# securechat: the two commands a newcomer needs are `make demo` and `make test`.
# Every target creates its own virtual environment in .venv and installs what it needs.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PKGS   := crypto relay securechat ui
# Tests and benchmarks draw offscreen; the demo and the app use the real display.
HEADLESS := QT_QPA_PLATFORM=offscreen

.PHONY: demo test check lint typecheck contracts unit relay-alone bench sysdeps venv clean

## demo: start the app on an embedded local relay with a counselor and a client
demo: venv
	$(PY) -m ui.demo

## test: every check and test (what CI runs)
test: check unit relay-alone

check: lint typecheck contracts

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@bash scripts/sysdeps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

sysdeps:
	@bash scripts/sysdeps.sh

lint: venv
	$(VENV)/bin/ruff check $(PKGS) tests bench scripts
	$(VENV)/bin/ruff format --check $(PKGS) tests bench scripts

typecheck: venv
	$(VENV)/bin/mypy $(PKGS)

contracts: venv
	$(VENV)/bin/lint-imports

unit: venv
	$(HEADLESS) $(PY) -m pytest -q -p no:cacheprovider

## relay-alone: the relay installs and starts without PySide6, sqlcipher3 or keyring
relay-alone:
	@bash scripts/relay_alone.sh $(PYTHON)

## bench: every benchmark, each beside its baseline (a few minutes; the figures go to stdout)
bench: venv
	$(PY) bench/crypto.py
	$(PY) bench/client.py --quick
	$(PY) bench/relay.py --quick
	$(HEADLESS) $(PY) bench/ui.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache

# Fresh-machine entry points. Each target builds its own virtual environment in .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := data/examples/reactie-rapport-waterveiligheid.txt

.PHONY: demo test bench-reader clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build on disk; anything later that needs torch finds it installed.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/kamerbrief read $(EXAMPLE)

test: $(BIN)/.installed
	$(BIN)/python -m pytest

bench-reader: $(BIN)/.installed
	$(BIN)/python -m kamerbrief.evaluation.benchmark_reader --mb 50

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

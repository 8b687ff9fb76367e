# funnel — the two commands of the README quick start are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     ?= data/funnel.duckdb
ROWS   ?= 1000000
PORT   ?= 8501

.PHONY: run test lint typecheck unit bench demo clean install

install: $(STAMP)

# Reinstall only when the dependency list or the pinned constraints change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The demo database is created once; `make run` reuses it afterwards.
$(DB): | $(STAMP)
	$(BIN)/funnel demo --db $(DB)

run: $(STAMP) $(DB)
	FUNNEL_DB=$(DB) $(BIN)/streamlit run app/main.py --server.address 127.0.0.1 --server.port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench --rows $(ROWS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

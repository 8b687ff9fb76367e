# funnel — the two commands of the README quick start are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     ?= data/funnel.duckdb
ROWS   ?= 1000000
PORT   ?= 8501

.PHONY: run serve test lint typecheck unit app-tests e2e engines bench quality demo clean install

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

# Replace the demo dataset in $(DB) with freshly generated leads (`make demo LEADS=200000`).
demo: $(STAMP)
	$(BIN)/funnel demo --db $(DB) --leads $(or $(LEADS),50000)

# A laptop: no sign-in, loopback only. The secrets path does not exist on purpose, so a stray
# .streamlit/secrets.toml cannot turn sign-in on here.
run: $(STAMP) $(DB)
	FUNNEL_DB=$(DB) $(BIN)/python -m app.serve --server.address 127.0.0.1 --server.port $(PORT) \
		--secrets.files $(VENV)/no-secrets.toml

# A team server: address, port, data folder, sign-in and roles from $(CONFIG) (or
# $$FUNNEL_SERVER_CONFIG, or data/funnel-server.toml) and FUNNEL_* variables; see the README.
serve: $(STAMP)
	$(BIN)/funnel serve $(if $(CONFIG),--config $(CONFIG))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Every test: the unit tier on both cores (pytest-xdist, a test file per worker so each
# module's shared database is built once), then the pages, the browser and the SQL engines.
test: lint typecheck unit
	$(BIN)/pytest tests/app tests/e2e tests/engines

# The test tiers one at a time: the library and its doctests, the pages (Streamlit AppTest),
# a real browser against `streamlit run`, and the exported SQL on real engines.
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile tests/unit src

app-tests: $(STAMP)
	$(BIN)/pytest tests/app

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

engines: $(STAMP)
	$(BIN)/pytest tests/engines

# "Start from the data" on the demo and ../shared/datasets, judged on leads it was not fitted
# on, beside logistic regression and gradient boosting (python -m quality). Fails when, on a
# real dataset, the suggestion loses to logistic regression beyond the paired-DeLong noise.
quality: $(STAMP)
	$(BIN)/python -m quality

bench: $(STAMP)
	$(BIN)/python -m bench --rows $(ROWS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

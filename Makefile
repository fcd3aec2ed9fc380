# Two entry points: `make audit` (the main job) and `make test`.
# Both create .venv on first use and reinstall only when the project files change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: audit test bench proofs clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

audit: $(STAMP)
	$(BIN)/invariances audit --out invariance-report

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m convnet_invariances bench

proofs: $(STAMP)
	$(BIN)/python -m convnet_invariances.proofs

clean:
	rm -rf $(VENV) invariance-report .pytest_cache .hypothesis

# The two commands of the README: `make demo` and `make test`.
# Both create .venv/ and install what is missing, so they work on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: demo test setup clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	@mkdir -p $(OUT)
	$(BIN)/augment validate samples/tavern.sharegpt.jsonl || true
	$(BIN)/augment convert samples/tutor.alpaca.json --to sharegpt -o $(OUT)/tutor.sharegpt.jsonl
	$(BIN)/augment convert samples/harbor.script.txt --as Mira --to sharegpt --repair -o $(OUT)/harbor.sharegpt.jsonl
	$(BIN)/augment run samples/tavern.sharegpt.jsonl -o $(OUT)/tavern.augmented.jsonl --seed 7 --repair \
		typos --rate 0.15 --variants 2
	@echo "outputs and dataset_info.json are in $(OUT)/"

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(OUT)

bench: setup
	$(BIN)/python bench/convert.py --n 10000
	$(BIN)/python bench/convert.py --n 100000

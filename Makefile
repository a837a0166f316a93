# The two commands of the README: `make demo` and `make test`.
# Both create .venv/ and install what is missing, so they work on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

# Debian packages the offline augmenters read: WordNet 3.0 (synonym) and an
# Apertium pair (backtranslate); GNU time for the benchmarks' peak memory.
# Installed only when missing.
SYSTEM_PACKAGES := wordnet-base wordnet-sense-index apertium apertium-eng-spa time
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

EXAMPLE_VENV := .venv-example

.PHONY: demo test setup system-packages clean bench example

setup: system-packages $(STAMP)

system-packages:
	@if [ -f /usr/share/wordnet/index.sense ] && command -v apertium >/dev/null && [ -f /usr/share/apertium/modes/eng-spa.mode ] && [ -x /usr/bin/time ]; then :; else \
		echo "installing Debian packages: $(SYSTEM_PACKAGES)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,ray]'
	$(BIN)/python -m pip install --quiet --no-deps llamafactory==0.9.5
	touch $(STAMP)

demo: setup
	@mkdir -p $(OUT)
	$(BIN)/augment validate samples/tavern.sharegpt.jsonl || true
	$(BIN)/augment convert samples/tutor.alpaca.json --to sharegpt -o $(OUT)/tutor.sharegpt.jsonl
	$(BIN)/augment convert samples/harbor.script.txt --as Mira --to sharegpt --repair -o $(OUT)/harbor.sharegpt.jsonl
	$(BIN)/augment run samples/tavern.sharegpt.jsonl -o $(OUT)/tavern.augmented.jsonl --seed 7 --repair \
		typos --rate 0.15 --variants 2
	$(BIN)/augment run samples/tavern.sharegpt.jsonl -o $(OUT)/tavern.paraphrased.jsonl --seed 7 --repair --protect Mira \
		typos synonym --rate 0.15 backtranslate --via spa
	$(BIN)/augment run samples/wuxia.sharegpt.jsonl -o $(OUT)/wuxia.jsonl --seed 7 --repair synonym
	$(BIN)/augment convert samples/sillytavern --to sharegpt --repair -o $(OUT)/st/chats.jsonl
	$(BIN)/augment convert samples/cards/hale.card.png --to sharegpt --greeting insert-user -o $(OUT)/st/hale.jsonl
	$(BIN)/augment run $(OUT)/st/chats.jsonl -o $(OUT)/st/chats.more.jsonl --seed 7 typos --rate 0.1 --variants 2 synonym --rate 0.15 near-duplicates
	$(BIN)/augment convert samples/sillytavern --swipes dpo --to sharegpt --repair -o $(OUT)/st/pairs.jsonl
	$(BIN)/augment generate samples/templates/npc_quest.jinja --n 200 --seed 7 -o $(OUT)/npc_quest.sharegpt.jsonl
	$(BIN)/augment generate samples/templates/support_zh.jinja --n 100 --seed 7 --to openai -o $(OUT)/support_zh.openai.jsonl
	$(BIN)/augment convert samples/novel/lantern.en.txt --from novel --as Mira --to sharegpt -o $(OUT)/lantern.sharegpt.jsonl
	$(BIN)/augment convert samples/novel/fengxue.zh.txt --from novel --as 李掌柜 --to sharegpt --repair -o $(OUT)/fengxue.sharegpt.jsonl
	$(BIN)/augment run samples/wuxia.sharegpt.jsonl -o $(OUT)/wuxia.restructured.jsonl --seed 3 restructure --variants 2
	$(BIN)/augment stats $(OUT)/tavern.paraphrased.jsonl --compare samples/tavern.sharegpt.jsonl --html $(OUT)/report.html
	@echo "outputs, dataset_info.json, the dataset card (README.md) and report.html are in $(OUT)/"

test: setup
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory example

# The example plugin package, installed into a fresh environment of its own,
# passes its own tests with the test kit, and a chain using it runs.
example: system-packages
	test -x $(EXAMPLE_VENV)/bin/python || $(PYTHON) -m venv $(EXAMPLE_VENV)
	$(EXAMPLE_VENV)/bin/python -m pip install --quiet -e . -e 'samples/plugin-example[test]'
	$(EXAMPLE_VENV)/bin/python -m pytest -q -p no:cacheprovider samples/plugin-example
	@mkdir -p $(OUT)
	$(EXAMPLE_VENV)/bin/augment run samples/plugin-example/tests/data/pippa.jsonl -o $(OUT)/pippa.sharegpt.jsonl \
		--to sharegpt --greeting fold-into-system --seed 1 address --rate 1.0

clean:
	rm -rf $(VENV) $(EXAMPLE_VENV) $(OUT)

bench: setup
	$(BIN)/python bench/convert.py --n 10000
	$(BIN)/python bench/convert.py --n 100000
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/augmenters.py --n 1600
	$(BIN)/python bench/llm.py
	$(BIN)/python bench/memory.py

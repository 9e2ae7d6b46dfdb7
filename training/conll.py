"""CoNLL-2002 Dutch NER only, in the manner of transformers' ``run_ner.py``: a thin script over
``AutoModelForTokenClassification``, ``datasets`` and the Trainer, with the CoNLL label set (PER, ORG,
LOC, MISC) so the test figure is comparable with the published ones.

Words are labelled on their first piece (the other pieces are ignored in the loss and in scoring);
sentences longer than ``max_length`` pieces are split at word boundaries. Scores: seqeval on words,
strict IOB2 and seqeval's default (conlleval-style) mode.

    python -m kamerbrief.training.conll --config training/configs/conll2002-nl-e5s.json --out models/conll2002-nl-e5s
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def read_conll(path: str | Path) -> list[tuple[list[str], list[str]]]:
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as handle:
        for line in [*handle, ""]:
            parts = line.split()
            if not parts:
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
            elif parts[0] != "-DOCSTART-":
                words.append(parts[0])
                tags.append(parts[-1].upper() if parts[-1] != "O" else "O")
    return sentences


def encode(sentences, tokenizer, max_length: int):
    """``datasets.Dataset`` with first-piece labels; long sentences split into word chunks that fit."""
    from datasets import Dataset

    rows = {"input_ids": [], "attention_mask": [], "labels": [], "sentence": [], "n_words": []}
    label_id = {label: i for i, label in enumerate(LABELS)}
    for s, (words, tags) in enumerate(sentences):
        start = 0
        while start < len(words):
            end = len(words)
            while True:
                enc = tokenizer(words[start:end], is_split_into_words=True, truncation=False)
                if len(enc["input_ids"]) <= max_length or end - start == 1:
                    break
                end = start + max(1, (end - start) * max_length // len(enc["input_ids"]) - 1)
            labels, previous = [], None
            for word_id in enc.word_ids():
                labels.append(-100 if word_id is None or word_id == previous else label_id[tags[start + word_id]])
                previous = word_id
            rows["input_ids"].append(enc["input_ids"][:max_length])
            rows["attention_mask"].append(enc["attention_mask"][:max_length])
            rows["labels"].append(labels[:max_length])
            rows["sentence"].append(s)
            rows["n_words"].append(end - start)
            start = end
    return Dataset.from_dict(rows)


def scores(predictions, label_ids) -> dict:
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    gold, pred = [], []
    for p_row, g_row in zip(predictions.argmax(-1), label_ids, strict=True):
        keep = g_row != -100
        gold.append([LABELS[i] for i in g_row[keep]])
        pred.append([LABELS[i] for i in p_row[keep]])
    strict = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    return {"f1_strict": f1_score(gold, pred, **strict), "precision_strict": precision_score(gold, pred, **strict),
            "recall_strict": recall_score(gold, pred, **strict), "f1_conlleval": f1_score(gold, pred),
            "per_label": classification_report(gold, pred, output_dict=True, **strict)}


def main(argv=None) -> dict:
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from kamerbrief.errors import TrainingConfigError
    from kamerbrief.paths import find_shared_dir
    from kamerbrief.pipeline.transformer import quiet_loading
    from kamerbrief.training.config import TrainingConfig
    from kamerbrief.training.train import _expand

    parser = argparse.ArgumentParser(description="Fine-tune a token classifier on CoNLL-2002 Dutch and score its test split.")
    parser.add_argument("--config", default="training/configs/conll2002-nl-e5s.json")
    parser.add_argument("--out", required=True)
    parser.add_argument("--base-model")
    parser.add_argument("--max-train-sentences", type=int, default=0, help="Use only the first N training sentences (smoke runs).")
    args = parser.parse_args(argv)
    config = TrainingConfig.from_file(args.config, {"base_model": args.base_model})
    hp, shared = config.training, find_shared_dir()
    set_seed(config.seed)
    if hp.torch_threads:
        torch.set_num_threads(hp.torch_threads)
    started = time.time()
    files = {name: getattr(config.data, name) for name in ("train", "dev", "test")}
    if any(len(specs) != 1 for specs in files.values()):
        raise TrainingConfigError("the CoNLL script reads one file each for data.train, data.dev and data.test", args.config)
    splits = {name: read_conll(_expand(specs[0], shared)) for name, specs in files.items()}
    if args.max_train_sentences:
        splits["train"] = splits["train"][:args.max_train_sentences]
    with quiet_loading():
        tokenizer = AutoTokenizer.from_pretrained(config.base_model)
        model = AutoModelForTokenClassification.from_pretrained(
            config.base_model, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    data = {name: encode(sents, tokenizer, config.max_length) for name, sents in splits.items()}
    if hp.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    out = Path(args.out)
    training_args = TrainingArguments(
        output_dir=str(out / "checkpoints"), seed=config.seed, learning_rate=hp.learning_rate,
        per_device_train_batch_size=hp.batch_size, per_device_eval_batch_size=hp.eval_batch_size, num_train_epochs=hp.epochs,
        # transformers 5: warmup_steps below 1 is the fraction of all steps
        warmup_steps=hp.warmup_ratio, weight_decay=hp.weight_decay, max_grad_norm=hp.max_grad_norm,
        train_sampling_strategy="group_by_length", eval_strategy="epoch", save_strategy="epoch", save_total_limit=1,
        load_best_model_at_end=True, metric_for_best_model="f1_strict", report_to=[], use_cpu=not torch.cuda.is_available(),
        logging_steps=100, save_only_model=True)
    columns = ["input_ids", "attention_mask", "labels"]
    trainer = Trainer(model=model, args=training_args, train_dataset=data["train"].select_columns(columns),
                      eval_dataset=data["dev"].select_columns(columns), data_collator=DataCollatorForTokenClassification(tokenizer),
                      compute_metrics=lambda p: {k: v for k, v in scores(p.predictions, p.label_ids).items() if k != "per_label"},
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=hp.early_stopping_patience)])
    trainer.train()
    result = {"train_seconds": round(time.time() - started, 1), "epochs_run": trainer.state.epoch}
    for name in ("dev", "test"):
        output = trainer.predict(data[name].select_columns(columns))
        result[name] = scores(output.predictions, output.label_ids)
        result[name]["sentences"] = len(splits[name])
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "training_config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    import shutil
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    print(json.dumps({k: result[k]["f1_strict"] for k in ("dev", "test")}))
    return result


if __name__ == "__main__":
    main()

"""The model card (``README.md`` in the model folder), generated from what the folder holds: the exact
training config, the data manifest, dev metrics and, once ``kamerbrief evaluate --card`` has run,
the held-out test report. Regenerate it rather than edit it, so it stays true."""
from __future__ import annotations

import json
from pathlib import Path

from kamerbrief.data.schema import ENTITY_LABELS
from kamerbrief.errors import ModelCardError
from kamerbrief.training.config import TrainingConfig

LICENCES = {
    "data/letters": "team-written letters (EUPL-1.2, this repository)",
    "data/standoff": "standoff annotations of Dutch government circulaires and policy rules (public domain text, Auteurswet art. 11; annotations EUPL-1.2)",
    "conll2002": "CoNLL-2002 Dutch NER (De Morgen 2000), research use only: a model trained on it inherits that restriction",
    "enp_NL": "Europeana newspapers NER, CC0",
    "corpora/circulaires": "unlabeled paragraphs of Dutch government circulaires (public domain text, Auteurswet art. 11)",
    "corpora/beleidsregels": "unlabeled paragraphs of Dutch government policy rules (public domain text, Auteurswet art. 11)",
}


def _transfer_sets(config: TrainingConfig) -> list[str]:
    """Card lines for the unlabeled sources of the training data (they teach only through the teacher)."""
    lines = []
    for spec in config.data.train:
        if isinstance(spec, dict) and spec.get("source") == "unlabeled":
            size = f"{spec['max_paragraphs']} random paragraphs" if spec.get("max_paragraphs") else "all paragraphs"
            left_out = f"; documents of {', '.join(f'`{e}`' for e in spec['exclude'])} left out" if spec.get("exclude") else ""
            lines.append(f"- Transfer set: {size} of `{spec['path']}`, no labels, learned from the teacher only{left_out}.")
    return lines


def _fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else str(x)


def _licences(manifest: dict) -> list[str]:
    seen = []
    for entries in manifest.values():
        for entry in entries:
            for key, text in LICENCES.items():
                if key in entry["path"] and text not in seen:
                    seen.append(text)
    return seen


def write_model_card(folder: str | Path, config: TrainingConfig | None = None, metrics: dict | None = None) -> Path:
    folder = Path(folder)
    config = config or TrainingConfig.from_file(folder / "training_config.json")
    metrics = metrics or json.loads((folder / "dev_metrics.json").read_text())
    manifest = json.loads((folder / "data_manifest.json").read_text()) if (folder / "data_manifest.json").exists() else {}
    report = json.loads((folder / "test_report.json").read_text()) if (folder / "test_report.json").exists() else None
    hp, distill, parent = config.training, config.distill, config.parent
    lines = [f"# {config.name or folder.name}", "",
             config.description or "A kamerbrief model for Dutch government letters.", "",
             "## Model", "",
             f"- Base encoder: `{config.base_model}` ({config.base_description or 'see training_config.json'}).",
             "- Heads: BIO entity tags per piece (" + ", ".join(ENTITY_LABELS) + "), "
             "multi-label paragraph classes (recommendation, adoption, action, deadline) and the stance of adoption paragraphs.",
             *([f"- Fine-tuned from its parent `{parent.name}` (`{parent.path}`): that model's "
                f"weights and heads{' and teacher' if distill else ''}, trained further on new data "
                "(`kamerbrief train --from`)."]
               if parent else []),
             *([f"- Encoder layers: the bottom {config.keep_layers} of the base's (a smaller, faster student)."]
               if config.keep_layers else []),
             *([f"- Distilled from `{distill.teacher}` (alpha {distill.alpha}, temperature {distill.temperature}, heads "
                f"{distill.heads.replace('+', ', ')}): the loss of those heads mixes the gold labels with the teacher's soft "
                "predictions."]
               if distill else []),
             *_transfer_sets(config),
             *([f"- Paragraph context: `{config.context}`, at most {config.context_tokens} pieces read {config.context_position} "
                "each paragraph window (`kamerbrief.data.context`)."]
               if config.context != "none" else []),
             f"- Weights stored as {config.weights_dtype or config.export.dtype}; seed {config.seed}; "
             f"max length {config.max_length} pieces with stride {config.stride}.",
             f"- Training: lr {hp.learning_rate}, batch {hp.batch_size}, up to {hp.epochs} epochs, "
             f"early stopping on dev (patience {hp.early_stopping_patience}), bf16 autocast {hp.bf16}.",
             f"- Trained in {metrics.get('train_seconds', 0) / 60:.1f} minutes on {metrics.get('train_windows', '?')} windows; "
             f"epochs run: {_fmt(metrics.get('epochs_run', '?'))}.", "",
             "## Data", ""]
    for split, entries in manifest.items():
        for entry in entries:
            lines.append(f"- {split}: `{entry['path']}` (sha256 `{entry['sha256'][:16]}...`)")
    lines += ["", "Licences: " + "; ".join(_licences(manifest)) + "." if manifest else "", "",
              "## Intended use", "",
              "Batch annotation of Dutch letters to parliament, circulaires and cabinet responses: finding "
              "recommendations, the cabinet's position on them, announced actions and deadlines, and the entities "
              "in them. Check precision on your own held-out letters (`kamerbrief evaluate`) before relying on it.", ""]
    dev = metrics.get("dev")
    if dev:
        lines += ["## Dev scores (during training)", "",
                  f"Entity strict micro-F1 (pieces, seqeval IOB2): {_fmt(dev['entity_f'])} "
                  f"(P {_fmt(dev['entity_p'])}, R {_fmt(dev['entity_r'])}); paragraph macro-F1 at the tuned thresholds: "
                  f"{_fmt(dev['paragraphs']['macro_f'])}; stance accuracy {_fmt(dev['stance_accuracy'])}.", "",
                  "| label | P | R | F1 | support | threshold |", "|---|---|---|---|---|---|"]
        for key, rounded in metrics.items():
            if key.startswith("dev_") and key.endswith("_weights"):
                lines[-3:-3] = [f"Stored as {key[4:-8]}: the same dev set with the rounded weights gives entity F1 "
                                f"{_fmt(rounded['entity_f'])}, paragraph macro-F1 {_fmt(rounded['paragraph_macro_f'])}, "
                                f"stance accuracy {_fmt(rounded['stance_accuracy'])} (the cost of the smaller file).", ""]
        for label, s in dev["paragraphs"]["per_label"].items():
            lines.append(f"| {label} | {_fmt(s['p'])} | {_fmt(s['r'])} | {_fmt(s['f'])} | {s['support']} | {metrics.get('thresholds', {}).get(label, 0.5)} |")
        lines.append("")
    if report:
        from kamerbrief.evaluation.report import markdown_summary
        lines += ["## Held-out test scores", "", "Scored per source kind: real government documents first, then the letters the team wrote "
                  "(the two differ a lot; a mixed figure would hide that).", "", markdown_summary(report), ""]
    lines += ["## Limits", "",
              "- Trained on letters from a few policy areas; expect lower scores on other registers (speeches, tables, OCR).",
              "- Deadline ranges come from rules (`kamerbrief.pipeline.time_expressions`), not from the model.",
              "- The corpus is small: per-label scores on rare labels (stance `rejected`, PER) have wide intervals.",
              "- `precision=\"int8\"` (dynamic int8 Linear layers) runs faster and scores lower; measure the cost on your "
              "letters with `kamerbrief evaluate --compare MODEL --compare MODEL@int8`.",
              *([f"- A smaller student ({config.keep_layers} layers) of `{config.base_model}`: faster, and it may score lower "
                 f"than that model; measure the difference with `kamerbrief evaluate --compare {config.base_model} --compare THIS_MODEL`."]
                if config.keep_layers else []), ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def store_test_report(folder: str | Path, report: dict) -> Path:
    """Keep ``report`` (``kamerbrief evaluate --card``) in the model folder as test_report.json and
    regenerate the card with it; returns the card's path."""
    folder = Path(folder)
    (folder / "test_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return write_model_card(folder)


def card_folder(model: str | None) -> Path:
    """The folder whose card ``kamerbrief evaluate --card`` updates: the model's own (a folder, or ``models/<name>``
    of the checkout; a precision suffix, ``MODEL@int8``, is ignored). An installed model package is refused: its
    source folder is evaluated and packaged again instead."""
    from kamerbrief.pipeline.nlp import find_model, parse_model_spec

    found = find_model(parse_model_spec(model)[0])
    if found.source == "package":
        raise ModelCardError(f"--card writes into the model's folder, and {found.name} is an installed package: evaluate "
                             "its source folder (kamerbrief evaluate --model FOLDER --card) and package that again")
    if not (found.path / "training_config.json").is_file():
        raise ModelCardError("--card needs a model folder made by `kamerbrief train` (training_config.json)", found.path)
    return found.path

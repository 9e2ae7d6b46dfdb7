"""Scores per writer: how a model does on the letters of each hand it was not trained on.

Letters are grouped by writer (``meta.writer``, else the ``kb-<writer>-NN`` id, as ``data build`` reads it),
the pipeline runs once over all of them, and every group gets its own report (bootstrap over its own letters).
A writer whose letters the model trained on is named in ``trained_on`` of the output, so a reader can tell a
held-out score from a seen one.

    python -m kamerbrief.evaluation.writers --model kamerbrief-nl-e5s-l4 --data data/letters/test-writer.jsonl \\
        --json evaluation/reports/writers-kamerbrief-nl-e5s-l4.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from kamerbrief.data.build import writer_of
from kamerbrief.data.records import read_records
from kamerbrief.evaluation.evaluate import load_gold, predict_gold
from kamerbrief.evaluation.metrics import evaluate_items


def trained_writers(model_dir: Path) -> set[str]:
    """Writers with letters in the record files the model's data manifest lists for training."""
    manifest = model_dir / "data_manifest.json"
    if not manifest.is_file():
        return set()
    writers = set()
    for entry in json.loads(manifest.read_text()).get("train", []):
        path = Path(entry["path"])
        if path.is_file() and path.suffix == ".jsonl" and "letters" in path.parts:
            writers |= {w for w in map(writer_of, read_records(path)) if w}
    return writers


def writer_reports(nlp, records: list[dict], n_bootstrap: int = 1000, seed: int = 0) -> dict[str, dict]:
    items, _ = predict_gold(nlp, records)
    writer_by_letter = {r["id"]: writer_of(r) or "unknown" for r in records}
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(writer_by_letter[item.letter_id], []).append(item)
    return {writer: evaluate_items(group, n_bootstrap, seed, by_source=False) for writer, group in sorted(groups.items())}


def main() -> None:
    from kamerbrief.paths import portable_path
    from kamerbrief.pipeline.nlp import load

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", nargs="+", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    nlp = load(args.model)
    model_dir = Path(nlp.get_pipe("kamerbrief_transformer").model_path)  # the trained model, with its data manifest
    reports = writer_reports(nlp, load_gold(args.data))
    seen = trained_writers(model_dir)
    out = {"model": portable_path(args.model) if args.model else None, "data": [portable_path(p) for p in args.data], "trained_on": sorted(seen & set(reports)),
           "writers": reports}
    for writer, report in reports.items():
        paragraphs, entities = report["paragraphs"], report["entities"]
        print(f"{writer}{' (trained on)' if writer in seen else ''}: {report['n_letters']} letters, paragraph macro-F1 "
              f"{paragraphs['macro']['f']:.3f}, recommendation F1 {paragraphs['per_label']['recommendation']['f']:.3f}, "
              f"entity F1 {entities['micro']['f']:.3f}, stance {report['stance']['accuracy'] or 0:.3f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

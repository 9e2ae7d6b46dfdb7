"""Paired comparison of two versions of the code (rules, tokenizer, decoding) with the same model.

``kamerbrief evaluate --compare A --compare B`` compares two models under one version of the code. A change
to the code itself needs each version to run in its own checkout (a git worktree): ``predict`` writes the
scored gold paragraphs of one checkout as JSON, ``compare`` pairs two such files with the same paired
bootstrap by letter as ``evaluate --compare``, per source kind::

    (in the old checkout) python -m kamerbrief.evaluation.compare_checkouts predict --data data/standoff/test-real.jsonl -o old.json.gz
    (in the new checkout) python -m kamerbrief.evaluation.compare_checkouts predict --data data/standoff/test-real.jsonl -o new.json.gz
    python -m kamerbrief.evaluation.compare_checkouts compare old.json.gz new.json.gz --json evaluation/reports/compare-X.json
"""
from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import asdict, fields
from pathlib import Path

from kamerbrief.errors import CheckoutComparisonError
from kamerbrief.evaluation.metrics import ScoredParagraph


def item_to_json(item: ScoredParagraph) -> dict:
    out = asdict(item)
    for name in ("gold_labels", "pred_labels", "annotated_entity_labels"):
        out[name] = sorted(out[name])
    out["pred_ranges"] = [[list(offsets), value] for offsets, value in item.pred_ranges.items()]
    return out


def item_from_json(data: dict) -> ScoredParagraph:
    def ranges(value):
        return tuple(value) if value is not None else None

    data = dict(data)
    for name in ("gold_labels", "pred_labels", "annotated_entity_labels"):
        data[name] = set(data[name])
    for name in ("gold_entities", "pred_entities"):
        data[name] = [tuple(span) for span in data[name]]
    data["gold_ranges"] = [(tuple(offsets), ranges(value)) for offsets, value in data["gold_ranges"]]
    data["pred_ranges"] = {tuple(offsets): ranges(value) for offsets, value in data["pred_ranges"]}
    for name in ("gold_commitments", "pred_commitments"):
        if data.get(name) is not None:
            data[name] = [{**c, "due": ranges(c.get("due"))} for c in data[name]]
    known = {f.name for f in fields(ScoredParagraph)}
    return ScoredParagraph(**{key: value for key, value in data.items() if key in known})


def write_items(path: Path, items: list[ScoredParagraph], meta: dict) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump({"meta": meta, "items": [item_to_json(item) for item in items]}, f)


def read_items(path: Path) -> tuple[dict, list[ScoredParagraph]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise CheckoutComparisonError(f"{path}: not a file written by `compare_checkouts predict` ({exc})") from exc
    return data["meta"], [item_from_json(item) for item in data["items"]]


def compare_files(path_a: Path, path_b: Path, n_bootstrap: int = 1000, seed: int = 0) -> dict:
    from kamerbrief.evaluation.metrics import compare_items

    meta_a, items_a = read_items(path_a)
    meta_b, items_b = read_items(path_b)
    key = [(item.letter_id, item.text) for item in items_a]
    if key != [(item.letter_id, item.text) for item in items_b]:
        raise CheckoutComparisonError(f"{path_a} and {path_b} score different gold paragraphs: run both on the same --data")
    return {"a": meta_a, "b": meta_b, **compare_items(items_a, items_b, n_bootstrap=n_bootstrap, seed=seed)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kamerbrief.evaluation.compare_checkouts", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="score the gold paragraphs with this checkout's code")
    predict.add_argument("--data", nargs="+", action="extend", required=True, help="gold record files")
    predict.add_argument("--model", default=None, help="model (default model if omitted)")
    predict.add_argument("--precision", default="fp32")
    predict.add_argument("-o", "--out", type=Path, required=True, help="scored paragraphs (.json.gz)")
    compare = commands.add_parser("compare", help="paired bootstrap B - A of two predict files")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    compare.add_argument("--json", type=Path, help="write the comparison as JSON")
    compare.add_argument("--n-bootstrap", type=int, default=1000)
    compare.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "predict":
        import subprocess

        from kamerbrief.evaluation import evaluate as ev
        from kamerbrief.paths import portable_path

        records = ev.load_gold(args.data)
        nlp = ev.load_pipeline(args.model, args.precision)
        items, _ = ev.predict_gold(nlp, records)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout)
        write_items(args.out, items, {"commit": commit + ("+changes" if dirty else ""), "model": ev.model_fields(nlp)["name"],
                                      "precision": args.precision, "data": [portable_path(p) for p in args.data]})
        print(f"{len(items)} paragraphs of {len(records)} records -> {args.out}")
        return
    comparison = compare_files(args.a, args.b, args.n_bootstrap, args.seed)
    for kind, part in comparison["by_source"].items():
        for name in ("entity_micro_f", "paragraph_macro_f", "stance_accuracy", "deadline_accuracy"):
            r = part[name]
            print(f"{kind:13} {name:18} {r['a']:.3f} -> {r['b']:.3f}  {r['diff']:+.3f} [{r['diff_ci95'][0]:+.3f}, "
                  f"{r['diff_ci95'][1]:+.3f}]{' significant' if r['significant'] else ''}")
    if args.json:
        args.json.write_text(json.dumps(comparison, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

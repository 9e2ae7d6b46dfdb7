"""Inter-annotator agreement: a second annotator's reading of sampled gold paragraphs against the gold.

A reading (``evaluation/agreement/*.json``) names each paragraph by its gold record file, record id and
paragraph index and holds the second annotator's labels, stance and entity spans; it carries a hash of the
paragraph text, never the text, so readings of third-party documents keep the text in ``../shared``.
Scores: per paragraph label F1 of one annotator against the other (symmetric), the share of paragraphs with
the same label set, stance agreement where both say adoption, and strict span F1 per entity label.

    python -m kamerbrief.evaluation.agreement evaluation/agreement/second-read-writers.json
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from kamerbrief.data.records import read_records, resolve, text_sha256
from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_LABELS


def reading_from_markup(markup_record: dict, key: list[dict], gold: dict[tuple[str, str], dict]) -> dict:
    """A reading from the second annotator's compiled markup and the sample's key (file, record, paragraph)."""
    paragraphs = []
    for ref, annotated in zip(key, markup_record["paragraphs"], strict=True):
        gold_paragraph = gold[(ref["file"], ref["record"])]["paragraphs"][ref["paragraph"]]
        paragraphs.append({**ref, "text_sha256": text_sha256(annotated["text"]),
                           "same_text": annotated["text"] == gold_paragraph["text"],
                           "labels": annotated["labels"], "stance": annotated.get("stance"),
                           "entities": [{k: e[k] for k in ("start", "end", "label")} for e in annotated["entities"]]})
    return {"paragraphs": paragraphs}


def _f1(tp: int, n_a: int, n_b: int) -> float | None:
    return 2 * tp / (n_a + n_b) if n_a + n_b else None


def agreement(reading: dict, root: Path = Path(".")) -> dict:
    """Scores of the reading against the gold it names."""
    cache: dict[str, dict[str, dict]] = {}
    label_counts = {label: Counter() for label in PARAGRAPH_LABELS}
    entity_counts = {label: Counter() for label in ENTITY_LABELS}
    same_set = stance_same = stance_both = compared = skipped = 0
    for item in reading["paragraphs"]:
        if item["file"] not in cache:
            cache[item["file"]] = {r["id"]: r for r in map(resolve, read_records(root / item["file"]))}
        gold = cache[item["file"]][item["record"]]["paragraphs"][item["paragraph"]]
        if text_sha256(gold["text"]) != item["text_sha256"]:
            skipped += 1  # the second annotator saw other text: offsets would not compare
            continue
        compared += 1
        gold_labels, read_labels = set(gold.get("labels", [])), set(item["labels"])
        same_set += gold_labels == read_labels
        for label in PARAGRAPH_LABELS:
            label_counts[label].update({"gold": label in gold_labels, "read": label in read_labels,
                                        "both": label in gold_labels and label in read_labels})
        if "adoption" in gold_labels and "adoption" in read_labels:
            stance_both += 1
            stance_same += gold.get("stance") == item["stance"]
        gold_spans = {(e["start"], e["end"], e["label"]) for e in gold.get("entities", [])}
        read_spans = {(e["start"], e["end"], e["label"]) for e in item["entities"]}
        for label in ENTITY_LABELS:
            g = {s for s in gold_spans if s[2] == label}
            r = {s for s in read_spans if s[2] == label}
            entity_counts[label].update({"gold": len(g), "read": len(r), "both": len(g & r)})
    def scores(counts: dict[str, Counter]) -> dict:
        out = {label: {"gold": c["gold"], "second": c["read"], "both": c["both"], "f1": _f1(c["both"], c["gold"], c["read"])}
               for label, c in counts.items()}
        total = sum(counts.values(), Counter())
        out["micro"] = {"gold": total["gold"], "second": total["read"], "both": total["both"],
                        "f1": _f1(total["both"], total["gold"], total["read"])}
        return out
    return {"paragraphs_compared": compared, "paragraphs_skipped_text_differs": skipped,
            "same_label_set": same_set / compared if compared else None,
            "paragraph_labels": scores(label_counts), "entities_strict": scores(entity_counts),
            "stance": {"both_adoption": stance_both, "same_stance": stance_same}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("readings", nargs="+", type=Path)
    args = parser.parse_args()
    for path in args.readings:
        result = agreement(json.loads(path.read_text(encoding="utf-8")))
        print(f"{path}: {result['paragraphs_compared']} paragraphs, same label set {result['same_label_set']:.2f}")
        for part in ("paragraph_labels", "entities_strict"):
            print("  " + part + ": " + ", ".join(f"{label} {s['f1']:.2f} ({s['both']}/{s['gold']}/{s['second']})"
                                                 for label, s in result[part].items() if s["f1"] is not None))
        print(f"  stance: {result['stance']['same_stance']} of {result['stance']['both_adoption']} the same")


if __name__ == "__main__":
    main()

"""How well the REF/LAW/DATE rules pre-annotate: exact-span precision and recall against gold records,
per source kind (real documents, team-written letters).

``python -m kamerbrief.evaluation.rules_agreement data/letters/dev.jsonl data/standoff/dev.jsonl``
"""
from __future__ import annotations

import sys

from kamerbrief.evaluation.evaluate import load_gold
from kamerbrief.evaluation.metrics import source_kind
from kamerbrief.pipeline.rules import LABELS, rule_spans


def agreement(records: list[dict]) -> dict[str, dict[str, list[int]]]:
    """``{kind: {label: [true positives, predicted, gold]}}`` of exact rule spans."""
    out: dict[str, dict[str, list[int]]] = {}
    for record in records:
        counts = out.setdefault(source_kind(record)[0], {label: [0, 0, 0] for label in LABELS})
        for paragraph in record["paragraphs"]:
            gold = {(e["start"], e["end"], e["label"]) for e in paragraph.get("entities", []) if e["label"] in counts}
            predicted = {(s["start"], s["end"], s["label"]) for s in rule_spans(paragraph["text"])}
            for label, row in counts.items():
                g = {x for x in gold if x[2] == label}
                p = {x for x in predicted if x[2] == label}
                row[0] += len(g & p)
                row[1] += len(p)
                row[2] += len(g)
    return out


def main(paths: list[str]) -> None:
    for kind, counts in agreement(load_gold(paths)).items():
        for label, (tp, npred, ngold) in counts.items():
            print(f"{kind} {label}: precision {tp / max(npred, 1):.3f} recall {tp / max(ngold, 1):.3f} "
                  f"(exact spans; {ngold} gold, {npred} predicted)")


if __name__ == "__main__":
    main(sys.argv[1:])

"""How well the REF/DATE rules pre-annotate: exact-span precision and recall against gold records.

``python -m kamerbrief.evaluation.rules_agreement data/letters/dev.jsonl data/standoff/dev.jsonl``
"""
from __future__ import annotations

import sys

from kamerbrief.data.convert import iter_paragraphs
from kamerbrief.data.records import iter_record_files, read_records
from kamerbrief.pipeline.rules import rule_spans


def main(paths: list[str]) -> None:
    counts = {label: [0, 0, 0] for label in ("DATE", "REF")}  # true positives, predicted, gold
    records = (r for path in iter_record_files(paths) for r in read_records(path))
    for _, _, paragraph in iter_paragraphs(records):
        gold = {(e["start"], e["end"], e["label"]) for e in paragraph["entities"] if e["label"] in counts}
        predicted = {(s["start"], s["end"], s["label"]) for s in rule_spans(paragraph["text"])}
        for label, row in counts.items():
            g = {x for x in gold if x[2] == label}
            p = {x for x in predicted if x[2] == label}
            row[0] += len(g & p)
            row[1] += len(p)
            row[2] += len(g)
    for label, (tp, npred, ngold) in counts.items():
        print(f"{label}: precision {tp / max(npred, 1):.3f} recall {tp / max(ngold, 1):.3f} (exact spans; {ngold} gold)")


if __name__ == "__main__":
    main(sys.argv[1:])

"""How often the deadline normaliser gives the gold ``range`` of a DATE span (exact start and end, or
both null), overall and per split, with the disagreements listed.

``python -m kamerbrief.evaluation.deadline_agreement`` (default: data/letters and data/standoff)
``python -m kamerbrief.evaluation.deadline_agreement data/letters/dev.jsonl --quiet``

Every DATE entity that has a ``range`` key counts; the span is normalised with the paragraph text
before and after it (``normalise_in_context``) against the letter's ``meta.date``. The split is the
record file's name (train, dev, test). Standoff records need ``../shared`` to resolve.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from kamerbrief.data.records import iter_record_files, read_records, resolve
from kamerbrief.pipeline.time_expressions import normalise_in_context

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_PATHS = [DATA / "letters", DATA / "standoff"]


@dataclass
class Comparison:
    split: str
    record_id: str
    letter_date: str | None
    text: str
    gold: tuple[str, str] | None
    predicted: tuple[str, str] | None

    @property
    def agrees(self) -> bool:
        return self.gold == self.predicted


@dataclass
class Agreement:
    comparisons: list[Comparison] = field(default_factory=list)

    def rate(self, splits: tuple[str, ...] | None = None) -> float:
        chosen = [c for c in self.comparisons if splits is None or c.split in splits]
        return sum(c.agrees for c in chosen) / max(len(chosen), 1)

    def count(self, splits: tuple[str, ...] | None = None) -> int:
        return sum(1 for c in self.comparisons if splits is None or c.split in splits)

    @property
    def splits(self) -> list[str]:
        order = {"train": 0, "dev": 1, "test": 2}
        return sorted({c.split for c in self.comparisons}, key=lambda s: (order.get(s, 3), s))


def gold_range(entity: dict) -> tuple[str, str] | None:
    value = entity["range"]
    return None if value is None else (value["start"], value["end"])


def compare_record(record: dict, split: str, shared_dir=None) -> list[Comparison]:
    record = resolve(record, shared_dir)
    letter_date = record.get("meta", {}).get("date")
    found = []
    for paragraph in record["paragraphs"]:
        text = paragraph["text"]
        for entity in paragraph.get("entities", []):
            if entity["label"] != "DATE" or "range" not in entity:
                continue
            start, end = entity["start"], entity["end"]
            predicted = normalise_in_context(text[start:end], text[:start], letter_date, text[end:])
            found.append(Comparison(split, record.get("id", "?"), letter_date, text[start:end], gold_range(entity), predicted))
    return found


def measure(paths=DEFAULT_PATHS, shared_dir=None) -> Agreement:
    agreement = Agreement()
    for path in iter_record_files(paths):
        split = path.name.split(".")[0]
        for record in read_records(path):
            agreement.comparisons += compare_record(record, split, shared_dir)
    return agreement


def _show(value: tuple[str, str] | None) -> str:
    return "null" if value is None else f"{value[0]}..{value[1]}"


def report(agreement: Agreement, quiet: bool = False) -> None:
    for split in agreement.splits:
        print(f"{split}: {agreement.rate((split,)):.3f} ({agreement.count((split,))} DATE ranges)")
    train_dev = ("train", "dev")
    if agreement.count(train_dev):
        print(f"train+dev: {agreement.rate(train_dev):.3f} ({agreement.count(train_dev)} DATE ranges)")
    print(f"overall: {agreement.rate():.3f} ({agreement.count()} DATE ranges)")
    if quiet:
        return
    print("\ndisagreements (split, record, letter date, text, gold, predicted):")
    for c in agreement.comparisons:
        if not c.agrees:
            print(f"  {c.split}\t{c.record_id}\t{c.letter_date}\t{c.text!r}\tgold {_show(c.gold)}\tpredicted {_show(c.predicted)}")


def main(argv: list[str]) -> None:
    quiet = "--quiet" in argv
    paths = [a for a in argv if a != "--quiet"] or DEFAULT_PATHS
    report(measure(paths), quiet)


if __name__ == "__main__":
    main(sys.argv[1:])

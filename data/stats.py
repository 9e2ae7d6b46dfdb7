"""Corpus statistics per split: letters, paragraphs (all, and real vs team-written), words, paragraph labels, stances,
entity labels."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kamerbrief.data.records import REAL, TEAM_WRITTEN, iter_record_files, read_records, resolve, source_kind
from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_LABELS, SPLITS, STANCES


def split_of(path: Path) -> str:
    """Records are grouped by split when the file is named after one (``train.jsonl``), else by file."""
    stem = path.name.split(".")[0]
    return stem if stem in SPLITS else str(path)


def corpus_stats(paths: Iterable[str | Path], shared_dir: str | Path | None = None) -> dict[str, Counter]:
    groups: dict[str, Counter] = {}
    for path in iter_record_files(paths):
        counts = groups.setdefault(split_of(path), Counter())
        for record in read_records(path):
            record = resolve(record, shared_dir)
            counts["letters"] += 1
            kind = source_kind(record)[0]
            for paragraph in record["paragraphs"]:
                counts["paragraphs"] += 1
                counts[f"{kind} paragraphs"] += 1
                counts["words"] += len(paragraph["text"].split())
                for label in paragraph.get("labels", []):
                    counts[label] += 1
                if paragraph.get("stance"):
                    counts[f"stance:{paragraph['stance']}"] += 1
                for entity in paragraph.get("entities", []):
                    counts[entity["label"]] += 1
    if len(groups) > 1:
        total = Counter()
        for counts in groups.values():
            total.update(counts)
        groups["total"] = total
    return groups


def format_stats(groups: dict[str, Counter]) -> str:
    rows = ["letters", "paragraphs", f"{REAL} paragraphs", f"{TEAM_WRITTEN} paragraphs", "words", *PARAGRAPH_LABELS,
            *(f"stance:{s}" for s in STANCES), *ENTITY_LABELS]
    names = list(groups)
    width = max(14, *(len(n) for n in names))
    label = max(len(row) for row in rows) + 2
    lines = [" " * label + "".join(f"{n:>{width}}" for n in names)]
    for row in rows:
        lines.append(f"{row:<{label}}" + "".join(f"{groups[n][row]:>{width}}" for n in names))
    return "\n".join(lines)

"""The record validator: labels, offsets, overlaps, stance and ranges, every problem listed by file,
record and paragraph (``kamerbrief data validate``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

from kamerbrief.data.records import is_standoff, iter_record_files, read_jsonl, resolve
from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_KINDS, PARAGRAPH_LABELS, STANCES
from kamerbrief.errors import KamerbriefError


@dataclass
class Problem:
    path: str
    line: int
    record: str
    paragraph: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line} record {self.record!r}"
        if self.paragraph is not None:
            where += f" paragraph {self.paragraph}"
        return f"{where}: {self.message}"


def _is_iso(value) -> bool:
    try:
        date.fromisoformat(value)
        return isinstance(value, str) and len(value) == 10
    except (TypeError, ValueError):
        return False


def paragraph_problems(paragraph: dict) -> list[str]:
    """Everything wrong with one inline paragraph, as messages."""
    problems: list[str] = []
    text = paragraph.get("text")
    if not isinstance(text, str) or not text.strip():
        return ["has no text"]
    labels = paragraph.get("labels", [])
    if not isinstance(labels, list):
        return ["labels must be a list"]
    for label in labels:
        if label not in PARAGRAPH_LABELS:
            problems.append(f"unknown paragraph label {label!r} (allowed: {', '.join(PARAGRAPH_LABELS)})")
    if len(set(labels)) != len(labels):
        problems.append("a paragraph label is repeated")
    stance = paragraph.get("stance")
    if "adoption" in labels and stance not in STANCES:
        problems.append(f"adoption needs a stance, one of {', '.join(STANCES)} (got {stance!r})")
    if "adoption" not in labels and stance is not None:
        problems.append(f"stance {stance!r} without the adoption label")
    if "kind" in paragraph and paragraph["kind"] not in PARAGRAPH_KINDS:
        problems.append(f"unknown paragraph kind {paragraph['kind']!r}")
    previous_end, previous = -1, None
    entities = paragraph.get("entities", [])
    if not isinstance(entities, list):
        return problems + ["entities must be a list"]
    for entity in sorted(entities, key=lambda e: (e.get("start", -1), e.get("end", -1)) if isinstance(e, dict) else (-1, -1)):
        if not isinstance(entity, dict):
            problems.append(f"entity {entity!r} is not an object")
            continue
        start, end, label = entity.get("start"), entity.get("end"), entity.get("label")
        name = f"entity {label} {start}..{end}"
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            problems.append(f"{name}: offsets outside the paragraph (length {len(text)})")
            continue
        surface = text[start:end]
        if label not in ENTITY_LABELS:
            problems.append(f"{name} {surface!r}: unknown entity label {label!r} (allowed: {', '.join(ENTITY_LABELS)})")
        if surface != surface.strip():
            problems.append(f"{name} {surface!r}: span starts or ends with whitespace")
        if start < previous_end:
            problems.append(f"{name} {surface!r}: overlaps {previous!r}")
        previous_end, previous = max(previous_end, end), surface
        if "range" in entity:
            rng = entity["range"]
            if label != "DATE":
                problems.append(f"{name} {surface!r}: only DATE spans carry a range")
            elif rng is not None and not (isinstance(rng, dict) and _is_iso(rng.get("start")) and _is_iso(rng.get("end")) and rng["start"] <= rng["end"]):
                problems.append(f"{name} {surface!r}: range must be null or {{start, end}} ISO dates with start <= end")
        elif label == "DATE" and "deadline" in labels:
            problems.append(f"{name} {surface!r}: a DATE in a deadline paragraph needs a range (or null)")
    return problems


def validate_files(paths: Iterable[str | Path], shared_dir: str | Path | None = None) -> tuple[list[Problem], int]:
    """Validate every record in ``paths`` (files or directories of ``*.jsonl``); returns (problems, n_records)."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    n_records = 0
    for path in iter_record_files(paths):
        try:
            for line, record in read_jsonl(path):
                n_records += 1
                record_id = record.get("id")
                if not isinstance(record_id, str) or not record_id:
                    problems.append(Problem(str(path), line, str(record_id), None, "record needs a string 'id'"))
                    continue
                if record_id in seen:
                    problems.append(Problem(str(path), line, record_id, None, f"duplicate id (also in {seen[record_id]})"))
                seen[record_id] = f"{path}:{line}"
                if not isinstance(record.get("paragraphs"), list) or not record["paragraphs"]:
                    problems.append(Problem(str(path), line, record_id, None, "record needs a non-empty 'paragraphs' list"))
                    continue
                meta_date = record.get("meta", {}).get("date")
                if meta_date is not None and not _is_iso(meta_date):
                    problems.append(Problem(str(path), line, record_id, None, f"meta.date {meta_date!r} is not YYYY-MM-DD"))
                try:
                    inline = resolve(record, shared_dir) if is_standoff(record) else record
                except KamerbriefError as err:
                    problems.append(Problem(str(path), line, record_id, None, err.message))
                    continue
                for index, paragraph in enumerate(inline["paragraphs"]):
                    for message in paragraph_problems(paragraph):
                        problems.append(Problem(str(path), line, record_id, index, message))
        except (KamerbriefError, OSError, UnicodeDecodeError) as err:
            problems.append(Problem(str(path), 0, "-", None, getattr(err, "message", str(err))))
    return problems, n_records

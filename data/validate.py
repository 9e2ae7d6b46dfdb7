"""The record validator: labels, offsets, overlaps, stance and ranges, every problem listed by file,
record and paragraph (``kamerbrief data validate``)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kamerbrief.data.records import InvalidLine, is_standoff, iter_record_files, read_jsonl, resolve
from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_KINDS, PARAGRAPH_LABELS, STANCES
from kamerbrief.errors import KamerbriefError


@dataclass
class Problem:
    path: str
    line: int
    record: str
    paragraph: int | None
    message: str
    code: str = "E200"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line} record {self.record!r}" if self.line else f"{self.path}"
        if self.paragraph is not None:
            where += f" paragraph {self.paragraph}"
        return f"[{self.code}] {where}: {self.message}"


@dataclass
class CheckedRecord:
    """One line of a record file after validation: the record resolved to inline form (None when it
    cannot be used at all) and everything wrong with it."""

    path: str
    line: int
    record: dict | None
    problems: list[Problem]


def _is_iso(value) -> bool:
    try:
        date.fromisoformat(value)
        return isinstance(value, str) and len(value) == 10
    except (TypeError, ValueError):
        return False


def _is_offset(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def paragraph_problems(paragraph: dict) -> list[str]:
    """Everything wrong with one inline paragraph, as messages."""
    if not isinstance(paragraph, dict):
        return [f"a paragraph must be an object, not {type(paragraph).__name__}"]
    problems: list[str] = []
    text = paragraph.get("text")
    if not isinstance(text, str) or not text.strip():
        return ["has no text"]
    labels = paragraph.get("labels", [])
    if not isinstance(labels, list):
        return ["labels must be a list"]
    for label in labels:
        if not isinstance(label, str) or label not in PARAGRAPH_LABELS:
            problems.append(f"unknown paragraph label {label!r} (allowed: {', '.join(PARAGRAPH_LABELS)})")
    names = [label for label in labels if isinstance(label, str)]
    if len(set(names)) != len(names):
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
    spans = []
    for entity in entities:
        if not isinstance(entity, dict):
            problems.append(f"entity {entity!r} is not an object")
        elif not _is_offset(entity.get("start")) or not _is_offset(entity.get("end")):
            problems.append(f"entity {entity.get('label')!r} {entity.get('start')!r}..{entity.get('end')!r}: "
                            f"start and end must be integers")
        else:
            spans.append(entity)
    for entity in sorted(spans, key=lambda e: (e["start"], e["end"])):
        start, end, label = entity["start"], entity["end"], entity.get("label")
        name = f"entity {label} {start}..{end}"
        if not 0 <= start < end <= len(text):
            problems.append(f"{name}: offsets outside the paragraph (length {len(text)})")
            continue
        surface = text[start:end]
        if not isinstance(label, str) or label not in ENTITY_LABELS:
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
    if "commitments" in paragraph:
        problems += commitment_problems(paragraph["commitments"], text, spans)
    return problems


def _is_period(value) -> bool:
    return isinstance(value, dict) and _is_iso(value.get("start")) and _is_iso(value.get("end")) and value["start"] <= value["end"]


def commitment_problems(commitments, text: str, entities: list[dict]) -> list[str]:
    """Everything wrong with a paragraph's gold commitments (ANNOTATION.md, "Commitments"): spans inside
    the paragraph, not overlapping; an actor with a text (and, if it is a span, inside the commitment and
    equal to that text); dates that are DATE entities inside the commitment; a due period or null."""
    if not isinstance(commitments, list):
        return ["commitments must be a list"]
    problems: list[str] = []
    dates = {(e["start"], e["end"]) for e in entities if e.get("label") == "DATE"}
    previous_end = -1
    for commitment in sorted((c for c in commitments if isinstance(c, dict)), key=lambda c: c["start"] if _is_offset(c.get("start")) else -1):
        start, end = commitment.get("start"), commitment.get("end")
        if not _is_offset(start) or not _is_offset(end) or not 0 <= start < end <= len(text):
            problems.append(f"commitment {start!r}..{end!r}: offsets must be integers inside the paragraph (length {len(text)})")
            continue
        name = f"commitment {start}..{end} {text[start:end][:40]!r}"
        if text[start:end] != text[start:end].strip():
            problems.append(f"{name}: span starts or ends with whitespace")
        if start < previous_end:
            problems.append(f"{name}: overlaps the commitment before it")
        previous_end = max(previous_end, end)
        actor = commitment.get("actor")
        if not isinstance(actor, dict) or not isinstance(actor.get("text"), str) or not actor["text"].strip():
            problems.append(f"{name}: actor must be an object with a non-empty text")
        elif "start" in actor or "end" in actor:
            a_start, a_end = actor.get("start"), actor.get("end")
            if not _is_offset(a_start) or not _is_offset(a_end) or not start <= a_start < a_end <= end:
                problems.append(f"{name}: actor span {a_start!r}..{a_end!r} must lie inside the commitment")
            elif text[a_start:a_end] != actor["text"]:
                problems.append(f"{name}: actor span reads {text[a_start:a_end]!r}, not {actor['text']!r}")
        for bound in commitment.get("dates", []):
            key = (bound.get("start"), bound.get("end")) if isinstance(bound, dict) else None
            if key not in dates or not (start <= key[0] and key[1] <= end):
                problems.append(f"{name}: date {bound!r} is not a DATE entity inside the commitment")
        if "due" not in commitment:
            problems.append(f"{name}: due is missing (a period or null)")
        elif commitment["due"] is not None and not _is_period(commitment["due"]):
            problems.append(f"{name}: due must be null or {{start, end}} ISO dates with start <= end")
    if len([c for c in commitments if isinstance(c, dict)]) != len(commitments):
        problems.append("every commitment must be an object")
    return problems


def _check_record(path: str, line: int, record: dict, seen: dict[str, str], shared_dir) -> CheckedRecord:
    def problem(message: str, paragraph: int | None = None, code: str = "E200", record_id: str = "-") -> Problem:
        return Problem(path, line, record_id, paragraph, message, code)

    if isinstance(record, InvalidLine):
        return CheckedRecord(path, line, None, [problem(record.error.message, code=record.error.code)])
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        return CheckedRecord(path, line, None, [problem(f"record needs a string 'id' (got {record_id!r:.60})")])
    problems: list[Problem] = []
    if record_id in seen:
        problems.append(problem(f"duplicate id (also in {seen[record_id]})", record_id=record_id))
    else:
        seen[record_id] = f"{path}:{line}"
    if not isinstance(record.get("paragraphs"), list) or not record["paragraphs"]:
        hint = " (this is a corpus record with 'text'; gold needs ANNOTATION.md records)" if "text" in record else ""
        return CheckedRecord(path, line, None, problems + [problem(f"record needs a non-empty 'paragraphs' list{hint}",
                                                                   record_id=record_id)])
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        problems.append(problem(f"meta must be an object, not {type(meta).__name__}", record_id=record_id))
    elif meta.get("date") is not None and not _is_iso(meta["date"]):
        problems.append(problem(f"meta.date {meta['date']!r} is not YYYY-MM-DD", record_id=record_id))
    try:
        inline = resolve(record, shared_dir) if is_standoff(record) else record
    except KamerbriefError as err:
        return CheckedRecord(path, line, None, problems + [problem(err.message, code=err.code, record_id=record_id)])
    for index, paragraph in enumerate(inline["paragraphs"]):
        for message in paragraph_problems(paragraph):
            problems.append(problem(message, index, record_id=record_id))
    annotated = [isinstance(p, dict) and "commitments" in p for p in inline["paragraphs"]]
    if any(annotated) and not all(annotated):
        problems.append(problem("commitments are annotated on some paragraphs only: a letter with commitments gives every "
                                "paragraph a 'commitments' list (empty where there are none)", record_id=record_id))
    return CheckedRecord(path, line, inline, problems)


def check_files(paths: Iterable[str | Path], shared_dir: str | Path | None = None) -> Iterator[CheckedRecord]:
    """Every record in ``paths`` (files or directories of ``*.jsonl``), validated and resolved. A file
    that cannot be read (or not to its end) gives a ``CheckedRecord`` with no record and that problem;
    the records before a cut are still checked."""
    seen: dict[str, str] = {}
    paths = list(paths)
    files = list(iter_record_files(paths))
    if not files:
        yield CheckedRecord(", ".join(map(str, paths)), 0, None,
                            [Problem(", ".join(map(str, paths)), 0, "-", None, "no record files (*.jsonl) found", "E107")])
    for path in files:
        try:
            for line, record in read_jsonl(path):
                yield _check_record(str(path), line, record, seen, shared_dir)
        except KamerbriefError as err:
            yield CheckedRecord(str(path), 0, None, [Problem(str(path), 0, "-", None, err.message, err.code)])


def validate_files(paths: Iterable[str | Path], shared_dir: str | Path | None = None) -> tuple[list[Problem], int]:
    """Validate every record in ``paths`` (files or directories of ``*.jsonl``); returns (problems, n_records)."""
    problems: list[Problem] = []
    n_records = 0
    for checked in check_files(paths, shared_dir):
        n_records += checked.line > 0
        problems.extend(checked.problems)
    return problems, n_records

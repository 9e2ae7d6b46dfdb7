"""Label Studio round trip: ANNOTATION.md records <-> Label Studio tasks, predictions and exports.

The formats are Label Studio's own (its "Task format" and JSON export): a task is ``{"data": {...},
"annotations": [...], "predictions": [...]}`` and every annotation or prediction holds a ``result`` list of
regions. This module writes one task per paragraph:

- ``data.text`` is the paragraph text; ``data.letter_id``, ``data.paragraph``, ``data.kind`` and the
  neighbouring paragraphs (``data.before`` / ``data.after``) give the annotator the letter's context;
  ``data.provenance`` says where the text comes from (an inline record's own text, or the document,
  offsets and hash of a standoff record in ``../shared``), so the import can rebuild the same record.
- entity spans are ``labels`` regions on the text (``from_name`` ``entities``); a DATE's normalised range
  is a per-region ``textarea`` (``from_name`` ``date_range``, ``YYYY-MM-DD..YYYY-MM-DD`` or ``null``);
- paragraph labels are ``choices`` (``from_name`` ``labels``, multiple), the stance one more ``choices``
  (``from_name`` ``stance``).

``LABEL_CONFIG`` is the labeling configuration these tasks need. Import takes, per task, the newest
annotation that was not cancelled (``ground_truth`` first), checks each paragraph's text against its
provenance, validates every paragraph with ``data validate``'s rules, and names every problem.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kamerbrief.data.markup import strip_unconfirmed
from kamerbrief.data.records import is_standoff, read_records, resolve, text_sha256, to_standoff
from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_LABELS, STANCES
from kamerbrief.data.standoff_markup import import_markup
from kamerbrief.data.validate import paragraph_problems
from kamerbrief.errors import RecordError
from kamerbrief.paths import find_shared_dir
from kamerbrief.pipeline.reader import iter_letter_files, read_letter

ENTITIES, DATE_RANGE, LABELS, STANCE, TEXT = "entities", "date_range", "labels", "stance", "text"
CONTEXT_FIELDS = ("letter_id", "paragraph", "kind", "heading", "before", "after")

LABEL_CONFIG = f"""<View>
  <Header value="$letter_id, paragraph $paragraph ($kind)"/>
  <Text name="before" value="$before"/>
  <Labels name="{ENTITIES}" toName="{TEXT}">
{chr(10).join(f'    <Label value="{label}"/>' for label in ENTITY_LABELS)}
  </Labels>
  <Text name="{TEXT}" value="${TEXT}"/>
  <TextArea name="{DATE_RANGE}" toName="{TEXT}" perRegion="true" maxSubmissions="1"
            placeholder="DATE range: YYYY-MM-DD..YYYY-MM-DD or null"/>
  <Text name="after" value="$after"/>
  <Choices name="{LABELS}" toName="{TEXT}" choice="multiple" showInline="true">
{chr(10).join(f'    <Choice value="{label}"/>' for label in PARAGRAPH_LABELS)}
  </Choices>
  <Choices name="{STANCE}" toName="{TEXT}" showInline="true" visibleWhen="choice-selected"
           whenTagName="{LABELS}" whenChoiceValue="adoption">
{chr(10).join(f'    <Choice value="{stance}"/>' for stance in STANCES)}
  </Choices>
</View>
"""


@dataclass
class ImportProblem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# -- records -> tasks ---------------------------------------------------------------------------------
def paragraph_result(paragraph: dict, prefix: str) -> list[dict]:
    """A paragraph's labels, stance and entities as Label Studio result regions."""
    text = paragraph["text"]
    result = []
    for index, entity in enumerate(sorted(paragraph.get("entities", []), key=lambda e: e["start"])):
        region = {"id": f"{prefix}{index}", "from_name": ENTITIES, "to_name": TEXT, "type": "labels",
                  "value": {"start": entity["start"], "end": entity["end"], "text": text[entity["start"]:entity["end"]],
                            "labels": [entity["label"]]}}
        result.append(region)
        if "range" in entity:
            rng = entity["range"]
            result.append({"id": region["id"], "from_name": DATE_RANGE, "to_name": TEXT, "type": "textarea",
                           "value": {"start": entity["start"], "end": entity["end"],
                                     "text": ["null" if rng is None else f"{rng['start']}..{rng['end']}"]}})
    if paragraph.get("labels"):
        result.append({"id": f"{prefix}labels", "from_name": LABELS, "to_name": TEXT, "type": "choices",
                       "value": {"choices": list(paragraph["labels"])}})
    if paragraph.get("stance"):
        result.append({"id": f"{prefix}stance", "from_name": STANCE, "to_name": TEXT, "type": "choices",
                       "value": {"choices": [paragraph["stance"]]}})
    return result


def _provenance(record: dict, index: int) -> dict:
    if not is_standoff(record):
        return {"kind": "inline"}
    paragraph = record["paragraphs"][index]
    return {"kind": "standoff", "source": record["source"], "doc_id": record["doc_id"], "path": record["path"],
            "text_transform": record.get("text_transform"), "start": paragraph["start"], "end": paragraph["end"],
            "text_sha256": paragraph["text_sha256"]}


def task_records(inputs: Iterable[str | Path]) -> list[tuple[dict, bool]]:
    """``(record, is_gold)`` for `data export-tasks`: from record files (inline or standoff: gold), letter files
    and folders, and `data select` output folders (their passages, not annotated yet)."""
    records: list[tuple[dict, bool]] = []
    for path in map(Path, inputs):
        if path.is_dir() and (path / "selection.jsonl").is_file():
            shared = find_shared_dir()
            for row in read_records(path / "selection.jsonl"):
                work = path / row["file"]
                plain = work.with_name(f".{work.stem}.plain.txt")
                # The work file's '?' pre-annotations are the model's; tasks start from the text alone.
                plain.write_text(strip_unconfirmed(work.read_text(encoding="utf-8")), encoding="utf-8")
                try:
                    record = import_markup(plain, shared or Path("../shared"))
                finally:
                    plain.unlink()
                records.append((record, False))
        elif path.name.endswith(".jsonl"):
            records.extend((record, True) for record in read_records(path))
        else:
            records.extend((read_letter(file).to_record(), False) for file in iter_letter_files([path]))
    return records


def record_tasks(record: dict, predictions: list[dict] | None = None, model_version: str = "kamerbrief",
                 with_annotations: bool = True, shared_dir: str | Path | None = None) -> list[dict]:
    """One Label Studio task per paragraph of ``record`` (inline or standoff). With ``with_annotations`` (a
    gold record) the record's own labels become a completed annotation; ``predictions`` (one dict per
    paragraph, in the record format: ``labels``, ``stance``, ``entities``) become the task's predictions."""
    inline = resolve(record, shared_dir)
    paragraphs = inline["paragraphs"]
    heading = None
    meta = {k: v for k, v in record.items() if k not in ("paragraphs",)}
    tasks = []
    for index, paragraph in enumerate(paragraphs):
        if paragraph.get("kind") == "heading":
            heading = paragraph["text"]
        data = {TEXT: paragraph["text"], "letter_id": record["id"], "paragraph": index,
                "kind": paragraph.get("kind") or "body", "heading": heading or "",
                "before": paragraphs[index - 1]["text"] if index else "",
                "after": paragraphs[index + 1]["text"] if index + 1 < len(paragraphs) else "",
                "provenance": _provenance(record, index),
                "record": meta if index == 0 else {"id": record["id"]}}
        if "commitments" in paragraph:  # gold commitments travel with the task unchanged (not edited in Label Studio)
            data["commitments"] = paragraph["commitments"]
        task: dict = {"data": data}
        if with_annotations:  # an unlabelled paragraph of a gold record is annotated too: it has no label
            task["annotations"] = [{"result": paragraph_result(paragraph, f"p{index}-"), "was_cancelled": False,
                                    "ground_truth": False}]
        if predictions is not None:
            task["predictions"] = [{"model_version": model_version,
                                    "result": paragraph_result({**predictions[index], "text": paragraph["text"]},
                                                               f"m{index}-")}]
        tasks.append(task)
    return tasks


# -- Label Studio export -> records -------------------------------------------------------------------
def chosen_annotation(task: dict) -> dict | None:
    """The annotation a task's gold comes from: ground truth first, then the newest not cancelled."""
    done = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    if not done:
        return None
    return sorted(done, key=lambda a: (bool(a.get("ground_truth")), a.get("updated_at") or a.get("created_at") or "",
                                       str(a.get("id", ""))))[-1]


def paragraph_from_result(text: str, result: list[dict]) -> tuple[dict, list[str]]:
    """Labels, stance and entities from one annotation's regions, with every problem found."""
    problems: list[str] = []
    paragraph: dict = {"labels": [], "entities": []}
    ranges: dict[str, str] = {}
    spans: dict[str, dict] = {}
    for region in result:
        name, value = region.get("from_name"), region.get("value") or {}
        if name == ENTITIES:
            labels = value.get("labels") or []
            start, end = value.get("start"), value.get("end")
            if len(labels) != 1:
                problems.append(f"entity region {region.get('id')!r} must have exactly one label, has {labels}")
                continue
            if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
                problems.append(f"entity {labels[0]} {start}..{end}: offsets outside the paragraph (length {len(text)})")
                continue
            if value.get("text") is not None and value["text"] != text[start:end]:
                problems.append(f"entity {labels[0]} {start}..{end}: region text {value['text']!r} differs from the "
                                f"paragraph's {text[start:end]!r} (was the text changed?)")
                continue
            spans[str(region.get("id"))] = {"start": start, "end": end, "label": labels[0]}
        elif name == DATE_RANGE:
            ranges[str(region.get("id"))] = " ".join(value.get("text") or []).strip()
        elif name == LABELS:
            paragraph["labels"] = [label for label in PARAGRAPH_LABELS if label in (value.get("choices") or [])]
            unknown = [c for c in value.get("choices") or [] if c not in PARAGRAPH_LABELS]
            problems += [f"unknown paragraph label {c!r}" for c in unknown]
        elif name == STANCE:
            choices = value.get("choices") or []
            if len(choices) != 1:
                problems.append(f"stance must be one choice, got {choices}")
            else:
                paragraph["stance"] = choices[0]
        else:
            problems.append(f"region from unknown control {name!r} (expected {ENTITIES}, {DATE_RANGE}, {LABELS}, {STANCE})")
    for region_id, rng in ranges.items():
        if region_id not in spans:
            problems.append(f"date range {rng!r} belongs to no entity region")
            continue
        if rng == "null":
            spans[region_id]["range"] = None
        else:
            start, sep, end = rng.partition("..")
            spans[region_id]["range"] = {"start": start.strip(), "end": end.strip()} if sep else rng
    paragraph["entities"] = sorted(spans.values(), key=lambda e: (e["start"], e["end"]))
    if paragraph.get("stance") and "adoption" not in paragraph["labels"]:
        # Label Studio keeps a hidden stance when adoption is unticked: the visible choice is what the annotator meant.
        paragraph.pop("stance")
    return paragraph, problems


def _text_changed(task_data: dict) -> bool:
    """A standoff paragraph's text must still hash to its source's (Label Studio lets users edit task data)."""
    provenance = task_data.get("provenance") or {"kind": "inline"}
    return provenance.get("kind") == "standoff" and text_sha256(task_data[TEXT]) != provenance.get("text_sha256")


def records_from_export(tasks: Iterable[dict]) -> tuple[list[dict], list[ImportProblem]]:
    """ANNOTATION.md records (inline or standoff, as the tasks were made) from a Label Studio JSON export.

    A letter is imported only when every one of its paragraphs has a valid annotation; every problem is
    returned, named by letter and paragraph."""
    letters: dict[str, dict[int, dict]] = {}
    headers: dict[str, dict] = {}
    problems: list[ImportProblem] = []
    for position, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get(TEXT), str) or "letter_id" not in data:
            problems.append(ImportProblem(f"task {position}", "not a kamerbrief task (data.text and data.letter_id needed)"))
            continue
        letters.setdefault(str(data["letter_id"]), {})[int(data["paragraph"])] = task
        if isinstance(data.get("record"), dict) and len(data["record"]) > 1:
            headers[str(data["letter_id"])] = data["record"]
    records = []
    for letter_id, by_index in letters.items():
        letter_problems: list[ImportProblem] = []
        paragraphs, spans = [], []
        expected = range(max(by_index) + 1)
        missing = [i for i in expected if i not in by_index]
        if missing:
            letter_problems.append(ImportProblem(letter_id, f"paragraphs {missing} have no task in the export"))
        for index in expected:
            task = by_index.get(index)
            if task is None:
                continue
            where = f"{letter_id} paragraph {index}"
            data = task["data"]
            if _text_changed(data):
                letter_problems.append(ImportProblem(where, "the paragraph text was changed (its hash differs from the source's)"))
                continue
            annotation = chosen_annotation(task)
            if annotation is None:
                letter_problems.append(ImportProblem(where, "not annotated yet (no completed annotation)"))
                continue
            paragraph, found = paragraph_from_result(data[TEXT], annotation.get("result") or [])
            paragraph = {"text": data[TEXT], "kind": data.get("kind") or "body", **paragraph}
            if "commitments" in data:
                paragraph["commitments"] = data["commitments"]
            letter_problems += [ImportProblem(where, m) for m in found + paragraph_problems(paragraph)]
            paragraphs.append(paragraph)
            provenance = data.get("provenance") or {"kind": "inline"}
            spans.append((provenance.get("start"), provenance.get("end")))
        if letter_problems:
            problems += letter_problems
            continue
        header = headers.get(letter_id, {"id": letter_id})
        provenance = by_index[0]["data"].get("provenance") or {"kind": "inline"}
        standoff = provenance.get("kind") == "standoff"
        record = {k: v for k, v in header.items() if not (standoff and k in ("source", "doc_id", "path", "text_transform"))}
        record["paragraphs"] = paragraphs
        if standoff:
            record = to_standoff(record, spans, provenance["source"], provenance["doc_id"], provenance["path"],
                                 provenance.get("text_transform"))
        records.append(record)
    return records, problems


def read_export(path: str | Path) -> list[dict]:
    """A Label Studio JSON export (a list of tasks), with a coded error naming the file when it is not one."""
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise RecordError(f"not a readable Label Studio JSON export: {err}", path) from None
    if not isinstance(tasks, list):
        raise RecordError("a Label Studio JSON export is a list of tasks", path)
    return tasks

"""Label Studio round trip: records -> tasks -> (Label Studio) -> export -> records."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kamerbrief.data.label_studio import LABEL_CONFIG, read_export, record_tasks, records_from_export
from kamerbrief.data.records import read_records
from kamerbrief.data.validate import validate_files

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "label-studio" / "export.json"
CORPUS = [ROOT / "data" / "letters" / "dev.jsonl", ROOT / "data" / "standoff" / "dev.jsonl"]


def _as_exported(tasks: list[dict]) -> list[dict]:
    """What Label Studio gives back for tasks it was given: ids added, the rest kept (through JSON)."""
    exported = json.loads(json.dumps(tasks, ensure_ascii=False))
    for number, task in enumerate(exported, 1):
        task["id"] = number
        for annotation in task.get("annotations", []):
            annotation.update({"id": number, "completed_by": 1, "task": number})
    return exported


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_corpus_survives_the_round_trip(path, shared_dir):
    records = list(read_records(path))
    tasks = [task for record in records for task in record_tasks(record, shared_dir=shared_dir)]
    assert len(tasks) == sum(len(r["paragraphs"]) for r in records)
    back, problems = records_from_export(_as_exported(tasks))
    assert problems == []
    assert back == records


def test_a_label_studio_export_reads_into_valid_records(tmp_path):
    records, problems = records_from_export(read_export(FIXTURE))
    assert [r["id"] for r in records] == ["kb-ls-01"]
    letter = records[0]
    assert letter["meta"] == {"date": "2025-02-03", "writer": "kb-ls"}
    heading, advice, answer = letter["paragraphs"]
    assert heading["labels"] == ["recommendation"] and heading["kind"] == "heading"
    assert advice["labels"] == ["recommendation", "deadline"]
    assert advice["entities"] == [{"start": 3, "end": 7, "label": "ORG"},
                                  {"start": 26, "end": 37, "label": "DATE",
                                   "range": {"start": "2025-07-01", "end": "2025-07-01"}}]
    # The cancelled annotation ("action" only) is ignored; the submitted one gives the stance.
    assert answer["labels"] == ["adoption", "action"] and answer["stance"] == "adopted"
    assert [answer["text"][e["start"]:e["end"]] for e in answer["entities"]] == ["Inspectie Gezondheidszorg en Jeugd"]
    # The letter whose paragraph nobody annotated is named, not imported half-done.
    assert [(p.where, p.message) for p in problems] == [("kb-ls-02 paragraph 0", "not annotated yet (no completed annotation)")]

    out = tmp_path / "records.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert validate_files([out])[0] == []


def test_changed_text_and_bad_regions_are_named(shared_dir):
    record = next(iter(read_records(CORPUS[1])))
    tasks = _as_exported(record_tasks(record, shared_dir=shared_dir))
    tasks[1]["data"]["text"] += " (bewerkt)"
    bad = copy.deepcopy(tasks[2]["annotations"][0])
    bad["result"] = [{"id": "z", "from_name": "entities", "to_name": "text", "type": "labels",
                      "value": {"start": 0, "end": 10_000, "labels": ["ORG"]}},
                     {"id": "y", "from_name": "labels", "to_name": "text", "type": "choices",
                      "value": {"choices": ["advies"]}}]
    tasks[2]["annotations"] = [bad]
    records, problems = records_from_export(tasks)
    assert records == []
    messages = [str(p) for p in problems]
    assert f"{record['id']} paragraph 1: the paragraph text was changed (its hash differs from the source's)" in messages
    assert any(m.startswith(f"{record['id']} paragraph 2: entity ORG 0..10000: offsets outside") for m in messages)
    assert f"{record['id']} paragraph 2: unknown paragraph label 'advies'" in messages


def test_cli_export_then_import(tmp_path):
    work = tmp_path / "ls"
    run = [sys.executable, "-m", "kamerbrief.cli"]
    done = subprocess.run([*run, "data", "export-tasks", str(CORPUS[0]), "-o", str(work)], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (work / "label_config.xml").read_text(encoding="utf-8") == LABEL_CONFIG
    done = subprocess.run([*run, "data", "import-tasks", str(work / "tasks.json"), "-o", str(tmp_path / "back.jsonl")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert list(read_records(tmp_path / "back.jsonl")) == list(read_records(CORPUS[0]))

    done = subprocess.run([*run, "data", "import-tasks", str(FIXTURE), "-o", str(tmp_path / "fixture.jsonl")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "kb-ls-02 paragraph 0: not annotated yet" in done.stderr and str(FIXTURE) in done.stderr
    assert "Traceback" not in done.stderr


def test_tasks_and_config_are_valid_for_label_studio(shared_dir):
    """Label Studio's own SDK checks the labeling config, the tasks, and every annotation and prediction."""
    label_interface = pytest.importorskip("label_studio_sdk.label_interface").LabelInterface
    interface = label_interface(LABEL_CONFIG)
    interface.validate()
    record = next(iter(read_records(CORPUS[0])))
    predictions = [{k: p.get(k) for k in ("labels", "stance", "entities")} for p in record["paragraphs"]]
    for task in record_tasks(record, predictions, shared_dir=shared_dir) + read_export(FIXTURE):
        assert interface.validate_task({"data": task["data"]})
        for annotation in [*task.get("annotations", []), *(p for p in task.get("predictions", []) if isinstance(p, dict))]:
            assert interface.validate_prediction({"result": annotation["result"]}, return_errors=True) == []

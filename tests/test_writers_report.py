"""Scores per writer: one report per hand, and the writers a model trained on are named."""
from __future__ import annotations

import copy
import json

from conftest import TINY_RECORDS, write_jsonl

from kamerbrief.evaluation.writers import trained_writers, writer_reports
from kamerbrief.pipeline.nlp import load


def test_each_writer_gets_a_report_of_its_own_letters(tiny_pipeline, tmp_path):
    records = []
    for writer, record in (("kb-x", TINY_RECORDS[0]), ("kb-y", TINY_RECORDS[1])):
        for number in (1, 2):
            letter = copy.deepcopy(record)
            letter["id"] = f"{writer}-{number:02d}"
            records.append(letter)
    reports = writer_reports(load(tiny_pipeline), records, n_bootstrap=20)
    assert set(reports) == {"kb-x", "kb-y"}
    assert reports["kb-x"]["n_letters"] == 2 and reports["kb-x"]["n_paragraphs"] == 4
    assert 0.0 <= reports["kb-y"]["entities"]["micro"]["f"] <= 1.0

    letters = tmp_path / "letters"
    letters.mkdir()
    train = write_jsonl(letters / "train.jsonl", records[:2])
    model = tmp_path / "model"
    model.mkdir()
    (model / "data_manifest.json").write_text(json.dumps({"train": [{"path": str(train), "sha256": "-"}]}))
    assert trained_writers(model) == {"kb-x"}

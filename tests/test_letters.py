"""The letter level: recommendation links within sections, annotate_letter, batch annotation with
errors and resume, and the HTML report."""
import json

import pytest

from kamerbrief.pipeline.letters import link_recommendations

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "letters"


def _p(kind, labels, stance=None, deadline=None):
    p = {"kind": kind, "labels": labels, "text": "x", "entities": []}
    if stance:
        p["stance"] = stance
    if deadline:
        p["deadline"] = deadline
    return p


def test_links_stay_within_the_recommendation_section():
    paragraphs = [
        _p("body", []),
        _p("heading", ["recommendation"]),                                   # 1: rec heading
        _p("body", ["adoption"], stance="adopted"),                          # 2
        _p("body", ["action", "deadline"], deadline={"start": 0, "end": 1, "text": "eind 2021", "range": None}),  # 3
        _p("heading", ["recommendation"]),                                   # 4: next section
        _p("body", ["recommendation", "adoption"], stance="rejected"),      # 5: answers heading 4, no link of its own
        _p("body", ["action"]),                                              # 6
        _p("heading", []),                                                   # 7
        _p("body", ["recommendation"]),                                      # 8: body rec, scope ends at next rec
        _p("body", ["action"]),                                              # 9
        _p("body", ["recommendation"]),                                      # 10
        _p("footnote", ["action"]),                                          # 11: outside every scope
        _p("footnote", ["recommendation"]),                                  # 12: opens no link
    ]
    links = {l["recommendation"]: l for l in link_recommendations(paragraphs)}
    assert sorted(links) == [1, 4, 8, 10]
    assert links[1]["position"] == {"paragraph": 2, "stance": "adopted"}
    assert links[1]["actions"] == [3] and links[1]["deadlines"][0]["paragraph"] == 3
    assert links[4]["position"] == {"paragraph": 5, "stance": "rejected"} and links[4]["actions"] == [6]
    assert links[8]["actions"] == [9] and links[8]["position"] is None
    assert links[10]["actions"] == []


def test_annotate_letter_returns_a_valid_record(tiny_pipeline):
    import kamerbrief
    from kamerbrief.data.validate import paragraph_problems

    nlp = kamerbrief.load(tiny_pipeline)
    record = kamerbrief.annotate_letter(FIXTURES / "brief-plain.txt", nlp)
    assert record["paragraphs"] and "links" in record
    assert record["meta"].get("date")
    for paragraph in record["paragraphs"]:
        for entity in paragraph["entities"]:
            assert paragraph["text"][entity["start"]:entity["end"]].strip()
    assert [problem for p in record["paragraphs"] for problem in paragraph_problems(p)] == []


def test_batch_annotation_writes_every_format_records_errors_and_resumes(tiny_pipeline, tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    from spacy.tokens import DocBin

    import kamerbrief
    from kamerbrief.pipeline import batch

    inputs = [FIXTURES / "brief-plain.txt", FIXTURES / "brief.md", FIXTURES / "binary.txt", FIXTURES / "kamerstuk-brief.xml",
              FIXTURES / "empty.txt"]
    nlp = kamerbrief.load(tiny_pipeline)
    out = tmp_path / "out"

    # First run is "killed" after its first group is written.
    original = batch.Output.write_group
    calls = {"n": 0}
    def write_then_die(self, results, failures):
        original(self, results, failures)
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
    monkeypatch.setattr(batch.Output, "write_group", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        batch.annotate_corpus(inputs, out, nlp, formats=("jsonl", "parquet", "docbin"), html=True, letters_per_group=1, progress=False)
    first = (out / "annotations.jsonl").read_text().splitlines()
    assert len(first) == 1
    monkeypatch.setattr(batch.Output, "write_group", original)

    with pytest.raises(batch.OutputExistsError):  # no silent overwrite
        batch.annotate_corpus(inputs, out, nlp, progress=False)
    counts = batch.annotate_corpus(inputs, out, nlp, formats=("jsonl", "parquet", "docbin"), html=True, resume=True,
                                   letters_per_group=1, progress=False)
    assert counts["skipped"] >= 1 and counts["letters"] == 2
    lines = (out / "annotations.jsonl").read_text().splitlines()
    assert lines[0] == first[0]  # nothing already written is lost
    # Letters are keyed by their path relative to the output folder, whatever the spelling of the argument.
    assert sorted(json.loads(l)["input"] for l in lines) == sorted(
        batch.stable_key(p, out.resolve()) for p in inputs if p.name not in ("binary.txt", "empty.txt"))
    assert all(not json.loads(l)["input"].startswith("/") for l in lines)
    errors = [json.loads(l) for l in (out / "errors.jsonl").read_text().splitlines()]
    assert {e["code"] for e in errors} == {"E101", "E102"} and all(e["file"] in e["error"] for e in errors)
    table = pq.read_table(out / "paragraphs")
    assert set(table.column("input").to_pylist()) == {json.loads(l)["input"] for l in lines}
    assert "entities" in table.column_names
    docs = [d for part in sorted((out / "docbin").glob("*.spacy")) for d in DocBin().from_disk(part).get_docs(nlp.vocab)]
    assert len(docs) == table.num_rows
    html = sorted((out / "html").glob("*.html"))
    assert len(html) == 3 and "entities" in html[0].read_text()

    # A third run has nothing left to annotate; the failed letters are retried (and fail again).
    again = batch.annotate_corpus(inputs, out, nlp, resume=True, progress=False)
    assert again["letters"] == 0 and again["skipped"] == 3 and again["failed"] == 2


def test_jsonl_collections_are_inputs_too(tiny_pipeline, tmp_path):
    from conftest import TINY_RECORDS, write_jsonl

    import kamerbrief
    from kamerbrief.pipeline.batch import annotate_corpus

    corpus = write_jsonl(tmp_path / "letters.jsonl", [{"id": "c1", "path": "a/b", "text": "# Titel\n\nHet kabinet neemt de aanbeveling over."},
                                                       TINY_RECORDS[0]])
    counts = annotate_corpus([corpus], tmp_path / "out", kamerbrief.load(tiny_pipeline), progress=False)
    assert counts["letters"] == 2
    records = [json.loads(l) for l in (tmp_path / "out" / "annotations.jsonl").read_text().splitlines()]
    assert [p["text"] for p in records[1]["paragraphs"]] == [p["text"] for p in TINY_RECORDS[0]["paragraphs"]]

"""`kamerbrief data select`: uncertainty ranking, spread over documents, held-out documents never offered,
and work files that import back as standoff records (passages included)."""
from __future__ import annotations

import gzip
import json
import re

import numpy as np
import pytest

from kamerbrief.data.markup import compile_file, compile_markup, render_markup
from kamerbrief.data.records import resolve
from kamerbrief.data.standoff_markup import import_markup
from kamerbrief.errors import RecordError
from kamerbrief.pipeline.nlp import load
from kamerbrief.training.select import (
    Passage,
    SelectionError,
    choose,
    passages_of,
    select,
    uncertainty,
    write_selection,
)

SENTENCES = [
    "De minister zal voor het zomerreces van 2021 de Tweede Kamer informeren.",
    "Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over.",
    "De gemeente Rotterdam start eind 2021 een proef.",
    "Zie Kamerstuk 28 638, nr. 185 voor de achtergrond.",
]


def _document(doc_id: str, n_paragraphs: int) -> dict:
    paragraphs = [f"{SENTENCES[i % len(SENTENCES)]} Alinea {i + 1}." for i in range(n_paragraphs)]
    return {"id": doc_id, "kind": "circulaire", "title": f"Circulaire {doc_id}",
            "path": f"circulaire/{doc_id}/README.md", "text": "# Circulaire\n\n" + "\n\n".join(paragraphs)}


@pytest.fixture()
def shared(tmp_path):
    corpora = tmp_path / "shared" / "corpora"
    corpora.mkdir(parents=True)
    docs = [_document("BWBR0000001", 5), _document("BWBR0000002", 95), _document("BWBR0000003", 12),
            _document("BWBR0000004", 7)]
    with gzip.open(corpora / "circulaires.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(d) + "\n" for d in docs)
    held_out = tmp_path / "held-out.jsonl"
    held_out.write_text(json.dumps({"id": "circulaire-BWBR0000004-0001", "doc_id": "BWBR0000004", "paragraphs": []}) + "\n")
    return tmp_path / "shared", held_out


def test_uncertainty_is_high_for_a_close_tag_call_and_for_labels_near_one_half():
    sure_tags, sure_labels = np.array([[0.98, 0.01, 0.01]]), np.array([0.01, 0.99])
    assert uncertainty(sure_tags, sure_labels) < 0.1
    assert uncertainty(np.array([[0.98, 0.01, 0.01], [0.45, 0.44, 0.11]]), sure_labels) > 0.95
    assert uncertainty(sure_tags, np.array([0.5, 0.99])) > 0.5


def test_long_documents_become_passages_and_a_short_tail_joins_the_last_one():
    assert passages_of([0.1] * 30, 40) == [(0, 30, pytest.approx(0.1))]
    windows = [(first, end) for first, end, _ in passages_of([0.2] * 95, 40)]
    assert windows == [(0, 40), (40, 95)]
    assert [(f, e) for f, e, _ in passages_of([0.2] * 130, 40)] == [(0, 40), (40, 80), (80, 130)]


def test_passages_are_spread_over_documents():
    def passage(doc: str, first: int, score: float) -> Passage:
        return Passage("corpora/x.jsonl.gz", {"path": doc, "id": doc}, first, [None] * 10, [], score)

    # One long, very uncertain document must not fill the sample: every document gives its best passage first.
    passages = [passage("long", i * 10, 0.9) for i in range(5)] + [passage("b", 0, 0.5), passage("c", 0, 0.4)]
    chosen = choose(passages, 30, "uncertainty", seed=0)
    assert [(p.record["path"], p.first) for p in chosen] == [("long", 0), ("b", 0), ("c", 0)]
    assert sorted((p.record["path"], p.first) for p in choose(passages, 70, "random", 1)) == \
        sorted((p.record["path"], p.first) for p in passages)
    with pytest.raises(SelectionError, match="unknown strategy"):
        choose(passages, 10, "greedy", 0)


def test_select_writes_unconfirmed_work_files_that_import_as_standoff_records(tiny_pipeline, shared, tmp_path):
    shared_dir, held_out = shared
    nlp = load(tiny_pipeline)
    chosen = select(nlp, [shared_dir / "corpora" / "circulaires.jsonl.gz"], shared_dir, n_paragraphs=200,
                    exclude=[held_out], pool=10, passage=40, seed=0, progress=False)
    offered = {(p.record["id"], p.first) for p in chosen}
    assert {doc for doc, _ in offered} == {"BWBR0000001", "BWBR0000002", "BWBR0000003"}  # never the held-out one
    assert ("BWBR0000002", 40) in offered  # a long document comes as passages

    out = tmp_path / "work"
    manifest = write_selection(chosen, out, "uncertainty")
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert len(rows) == len(chosen) and all(row["strategy"] == "uncertainty" for row in rows)

    for row in rows:
        path = out / row["file"]
        markup = path.read_text(encoding="utf-8")
        if "?" in re.sub(r"^(?!@).*$", "", markup, flags=re.M) or "?]]" in markup:
            with pytest.raises(RecordError, match="unconfirmed"):
                compile_file(path)
        # The annotator confirms everything: drop the '?' marks, then import against the shared text.
        path.write_text(markup.replace("?]]", "]]").replace("?=", "=").replace("? ", " ").replace("?\n", "\n"),
                        encoding="utf-8")
        record = import_markup(path, shared_dir)
        assert record["doc_id"] == row["doc_id"] and len(record["paragraphs"]) == row["paragraphs"]
        inline = resolve(record, shared_dir)
        assert [p["text"] for p in inline["paragraphs"]] == [p.text for p in
                                                             next(c for c in chosen if c.record["id"] == row["doc_id"]
                                                                  and c.first == row["first_paragraph"]).paragraphs]


def test_random_strategy_is_reproducible(tiny_pipeline, shared):
    shared_dir, held_out = shared
    nlp = load(tiny_pipeline)
    runs = [[(p.record["id"], p.first) for p in select(nlp, [shared_dir / "corpora" / "circulaires.jsonl.gz"], shared_dir,
                                                       60, "random", [held_out], pool=10, seed=7, progress=False)]
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_unconfirmed_paragraph_labels_and_stance_are_refused_until_confirmed():
    record = {"id": "x", "meta": {}, "paragraphs": [{"text": "Het kabinet neemt de aanbeveling over.", "kind": "body",
                                                    "labels": ["adoption?"], "stance": "adopted", "entities": []}]}
    markup = render_markup(record)
    assert "@body adoption?=adopted" in markup
    with pytest.raises(RecordError, match="unconfirmed pre-annotated label 'adoption\\?=adopted'"):
        compile_markup(markup)
    confirmed = compile_markup(markup.replace("adoption?=", "adoption="))
    assert confirmed["paragraphs"][0]["labels"] == ["adoption"] and confirmed["paragraphs"][0]["stance"] == "adopted"


def test_random_selection_without_a_model_writes_plain_work_files(shared, tmp_path):
    shared_dir, held_out = shared
    chosen = select(None, [shared_dir / "corpora" / "circulaires.jsonl.gz"], shared_dir, 30, "random", [held_out],
                    pool=10, seed=1, progress=False)
    write_selection(chosen, tmp_path / "work", "random")
    for path in (tmp_path / "work").glob("*.txt"):
        assert "?" not in path.read_text(encoding="utf-8")
        assert compile_file(path)["meta"]["selected_by"] == "random"
    with pytest.raises(SelectionError, match="needs a model"):
        select(None, [shared_dir / "corpora" / "circulaires.jsonl.gz"], shared_dir, 30, "uncertainty")


def test_overlapping_predictions_are_written_once_so_the_text_stays_intact():
    from kamerbrief.pipeline.reader import Paragraph
    from kamerbrief.training.select import work_markup

    text = "Zie VB 93/22 en het Besluit."
    predictions = [{"labels": [], "stance": None, "uncertainty": 0.5,
                    "entities": [{"start": 4, "end": 5, "label": "REF"}, {"start": 4, "end": 12, "label": "REF"},
                                 {"start": 20, "end": 27, "label": "LAW"}]}]
    passage = Passage("corpora/x.jsonl.gz", {"id": "X", "path": "x/1"}, 0, [Paragraph(text, "body")], predictions, 0.5)
    markup = work_markup(passage, "uncertainty")
    assert "[[VB 93/22|REF?]] en het [[Besluit|LAW?]]." in markup
    confirmed = compile_markup(markup.replace("?]]", "]]"))
    assert confirmed["paragraphs"][0]["text"] == text

"""A regulation's references to its own articles (pipeline/own_articles.py, run by pipeline/letter_pass.py): cases in
tests/cases/letters/own-articles.json, each a letter's paragraphs with the entities the model gave them and the
entities expected after the letter-level pass, on paragraph records and on Docs alike."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from kamerbrief.pipeline.letter_pass import LetterPass, after_letter, records_after

CASES = json.loads((Path(__file__).parent / "cases" / "letters" / "own-articles.json").read_text(encoding="utf-8"))
OWN_ARTICLES = LetterPass(own_articles=True)


def _records(case: dict) -> list[dict]:
    records = []
    for paragraph in case["paragraphs"]:
        text = paragraph["text"]
        entities = [{"start": text.index(t), "end": text.index(t) + len(t), "label": label} for t, label in paragraph["entities"]]
        records.append({"text": text, "entities": entities})
    return records


def _texts(records: list[dict]) -> list[list[list[str]]]:
    return [[[r["text"][e["start"]:e["end"]], e["label"]] for e in r["entities"]] for r in records]


@pytest.mark.parametrize("case", CASES, ids=[c["why"][:60] for c in CASES])
def test_a_regulations_own_articles_are_no_ref(case):
    records = _records(case)
    assert _texts(list(records_after(records, OWN_ARTICLES.facts_of_records(records)))) == case["expected"]
    # the setting off changes nothing
    assert _texts(list(records_after(records, LetterPass().facts_of_records(records)))) == _texts(records)
    # Docs get the same entities as the records
    nlp = spacy.blank("nl")
    docs = []
    for record in records:
        doc = nlp.make_doc(record["text"])
        doc.ents = [doc.char_span(e["start"], e["end"], label=e["label"]) for e in record["entities"]]
        docs.append(doc)
    after_letter(docs, OWN_ARTICLES)
    assert [[[e.text, e.label_] for e in doc.ents] for doc in docs] == case["expected"]

"""Loaders and converters: records to spaCy Docs and to a tokenised datasets.Dataset; extra NER sources."""
from __future__ import annotations

import spacy

from kamerbrief.data.convert import encode_paragraph, records_to_dataset, records_to_docbin
from kamerbrief.data.markup import compile_markup
from kamerbrief.data.schema import BIO_TAGS, IGNORE
from kamerbrief.data.sources import conll2002_records, europeana_records

RECORD = compile_markup("""---
id: kb-convert-01
date: 2021-01-11
---
@body adoption=adopted action deadline
Het kabinet neemt de aanbeveling van de [[Nationaal Rapporteur|ORG]] over en stuurt voor [[het zomerreces van 2021|DATE|2021-07-02..2021-08-30]] een brief aan de [[Tweede Kamer|ORG]].

@footnote
[[Kamerstuk 28 638, nr. 185|REF]].
""")


def test_records_to_docs_keep_entities_cats_and_provenance():
    nlp = spacy.blank("nl")
    docs = list(records_to_docbin([RECORD], nlp).get_docs(nlp.vocab))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Nationaal Rapporteur", "ORG"), ("het zomerreces van 2021", "DATE"), ("Tweede Kamer", "ORG")]
    assert docs[0].cats == {"recommendation": 0.0, "adoption": 1.0, "action": 1.0, "deadline": 1.0}
    assert docs[0].user_data["stance"] == "adopted" and docs[1].user_data["paragraph"] == 1
    assert [(e.text, e.label_) for e in docs[1].ents] == [("Kamerstuk 28 638, nr. 185", "REF")]


def test_bio_tags_follow_the_tokenizer_pieces(tiny_tokenizer):
    paragraph = RECORD["paragraphs"][0]
    window = encode_paragraph(tiny_tokenizer, paragraph["text"], paragraph["entities"])[0]
    tags = [BIO_TAGS[t] if t != IGNORE else None for t in window["tags"]]
    assert tags[0] is None and tags[-1] is None  # [CLS], [SEP]
    pieces = {}
    for (start, end), tag in zip(window["offsets"], tags, strict=True):
        if tag and tag != "O":
            pieces.setdefault(tag[2:], []).append((paragraph["text"][start:end], tag[:1]))
    assert "".join(p for p, _ in pieces["DATE"]).replace(" ", "") == "hetzomerrecesvan2021"
    assert [b for _, b in pieces["DATE"]][0] == "B" and set(b for _, b in pieces["DATE"][1:]) == {"I"}
    # Two ORG spans: two B- pieces.
    assert [b for _, b in pieces["ORG"]].count("B") == 2


def test_long_paragraphs_become_overlapping_windows(tiny_tokenizer):
    text = " ".join(["Het kabinet neemt de aanbeveling over."] * 40)
    windows = encode_paragraph(tiny_tokenizer, text, [], max_length=32, stride=8)
    assert len(windows) > 3 and all(len(w["input_ids"]) <= 32 for w in windows)
    first_end = max(e for _, e in windows[0]["offsets"])
    second_start = min(s for s, e in windows[1]["offsets"] if e > s)
    assert second_start < first_end  # the windows overlap


def test_dataset_rows_carry_masks_for_partially_annotated_sources(tiny_tokenizer, shared_dir):
    conll = next(conll2002_records(shared_dir / "corpora/conll2002-nl/conll2002-ner-nld.train.txt"))
    dataset = records_to_dataset([RECORD, conll], tiny_tokenizer)
    assert dataset.num_rows == 3
    assert dataset[0]["cats"] == [0.0, 1.0, 1.0, 1.0] and dataset[0]["stance"] == 0
    assert dataset[0]["entity_mask"] == [1.0] * 6 and dataset[0]["cats_mask"] == [1.0] * 4
    assert dataset[2]["cats_mask"] == [0.0] * 4  # CoNLL has no paragraph labels
    assert dataset[2]["entity_mask"] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]  # ORG, PER, LOC only


def test_conll_and_europeana_sources_map_labels(shared_dir):
    records = conll2002_records(shared_dir / "corpora/conll2002-nl/conll2002-ner-nld.train.txt")
    first = next(records)
    paragraph = first["paragraphs"][0]
    assert [(paragraph["text"][e["start"]:e["end"]], e["label"]) for e in paragraph["entities"]] == [("Floralux", "ORG")]
    second = next(records)  # "Vlaamse" is B-misc: dropped
    assert all(e["label"] in ("PER", "ORG", "LOC") for e in second["paragraphs"][0]["entities"])
    assert first["meta"]["annotated_labels"] == ["LOC", "ORG", "PER"]
    europeana = list(europeana_records(shared_dir / "corpora/europeana-ner-nl/enp_NL.kb.bio"))
    assert len(europeana) > 1000
    assert sum(len(r["paragraphs"][0]["entities"]) for r in europeana) > 5000
    sample = next(r for r in europeana if r["paragraphs"][0]["entities"])["paragraphs"][0]
    entity = sample["entities"][0]
    assert sample["text"][entity["start"]:entity["end"]].strip() == sample["text"][entity["start"]:entity["end"]]

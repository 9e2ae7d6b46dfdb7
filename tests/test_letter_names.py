"""The names a letter repeats (pipeline/letter_names.py, run by pipeline/letter_pass.py): which names spread, where
they go, and that annotate's records, its Docs and evaluate agree."""
from __future__ import annotations

import spacy
from spacy.tokens import Span

from kamerbrief.pipeline.letter_names import LetterNames
from kamerbrief.pipeline.letter_pass import LetterPass, after_letter, records_after

NAMES = LetterPass(names=True)


def with_letter_names(records: list[dict]) -> list[dict]:
    return list(records_after(records, NAMES.facts_of_records(records)))


def _record(text: str, *names: tuple[str, str]) -> dict:
    return {"text": text, "entities": [{"start": text.index(n), "end": text.index(n) + len(n), "label": label}
                                       for n, label in names]}


def _names(records: list[dict]) -> list[list[tuple[str, str]]]:
    return [[(r["text"][e["start"]:e["end"]], e["label"]) for e in r["entities"]] for r in records]


def test_a_name_tagged_twice_with_one_label_is_tagged_wherever_it_stands_untagged():
    records = [_record("Het Tribunaal beslist.", ("Tribunaal", "ORG")),
               _record("Daarna hoort het Tribunaal de getuige.", ("Tribunaal", "ORG")),
               # whole words only; an occurrence inside another entity stays part of it
               _record("Het Tribunaal of de Tribunaalvoorzitter van het Tribunaal Arnhem.", ("Tribunaal Arnhem", "ORG"))]
    assert _names(with_letter_names(records)) == [[("Tribunaal", "ORG")], [("Tribunaal", "ORG")],
                                                  [("Tribunaal", "ORG"), ("Tribunaal Arnhem", "ORG")]]


def test_names_tagged_once_with_mixed_labels_or_not_like_a_name_do_not_spread():
    votes = LetterNames()
    for text, spans in [("De SBK en de BIA.", [(3, 6, "LAW"), (13, 16, "ORG")]), ("De SBK beslist.", [(3, 6, "ORG")]),
                        ("De BIA beslist.", [(3, 6, "ORG")]), ("Op de Maas en de Maas.", [(6, 10, "LOC")]),
                        ("De raad en de raad.", [(3, 7, "ORG"), (14, 18, "ORG")]), ("Nu EU en EU.", [(3, 5, "ORG"), (9, 11, "ORG")])]:
        votes.add(text, spans)
    # SBK: ORG once, LAW once (50%); Maas: once; "raad": lowercase; "EU": two characters; BIA: ORG twice
    assert votes.names() == {"BIA": "ORG"}


def test_docs_get_the_names_on_their_own_text_without_overlapping_entities():
    nlp = spacy.blank("nl")
    docs = [nlp.make_doc(t) for t in ["Het Tribunaal beslist.", "Het Tribunaal hoort.", "Het Tribunaal Arnhem en het Tribunaal."]]
    docs[0].ents = [Span(docs[0], 1, 2, label="ORG")]
    docs[1].ents = [Span(docs[1], 1, 2, label="ORG")]
    docs[2].ents = [Span(docs[2], 1, 3, label="ORG")]
    assert after_letter(docs, NAMES).names == {"Tribunaal": "ORG"}
    assert [(e.text, e.label_) for e in docs[2].ents] == [("Tribunaal Arnhem", "ORG"), ("Tribunaal", "ORG")]


def test_annotate_spreads_exactly_what_the_records_repeat(tiny_pipeline):
    """With the setting on, each letter's records are those made with it off, with the repeated names added."""
    import kamerbrief
    from kamerbrief.pipeline.letters import annotate_letters
    from kamerbrief.pipeline.reader.letter import Letter, Paragraph

    nlp = kamerbrief.load(tiny_pipeline)
    # the road rules tag "Kerkdriel" in the road table's rows (LOC), not in the sentence after it
    rows = [Paragraph(f"A2: afrit {i} (Kerkdriel) – Knp. Deil", "body") for i in (18, 19)]
    letters = [Letter(f"brief-{i}", [*rows, Paragraph("Kerkdriel ligt aan de Maas.", "body")], {}, None) for i in range(2)]
    off = [record for _, record, _ in annotate_letters(letters, nlp, keep_docs=False)]
    nlp.get_pipe("kamerbrief_rules").letter_names = True
    on = [record for _, record, _ in annotate_letters(letters, nlp, keep_docs=False)]
    assert [r["paragraphs"] for r in on] == [with_letter_names(r["paragraphs"]) for r in off]
    last = on[0]["paragraphs"][-1]
    assert {"start": 0, "end": 9, "label": "LOC"} in last["entities"]

"""Commitments: the component on Docs with hand-placed entities (the model's output), the letter-level
signer and recommendation link, the gold format (markup, validator) and the scores."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TESTS

from kamerbrief.data.markup import compile_markup, render_markup
from kamerbrief.data.validate import paragraph_problems
from kamerbrief.errors import RecordError
from kamerbrief.evaluation.metrics import ScoredParagraph, commitment_counts, evaluate_items, score_commitments
from kamerbrief.pipeline.commitments import ministry_of, resolve_actors, signer_of
from kamerbrief.pipeline.letters import link_recommendations, paragraph_record
from kamerbrief.pipeline.reader import read_letter
from kamerbrief.pipeline.tokenizer import blank

DEMO = Path(__file__).resolve().parent.parent / "data" / "examples" / "reactie-rapport-waterveiligheid.txt"


@pytest.fixture(scope="module")
def nlp():
    nlp = blank()
    nlp.add_pipe("kamerbrief_deadlines")
    nlp.add_pipe("kamerbrief_commitments")
    return nlp


def annotated_doc(nlp, text: str, ents: list[tuple[str, str]], labels: list[str], letter_date: str, kind: str = "body",
                  stance: str | None = None):
    """A Doc as the transformer leaves it (entities, labels, scores), then the deadline and commitment components."""
    doc = nlp.make_doc(text)
    spans, cursor = [], 0
    for surface, label in ents:
        start = text.index(surface, cursor)
        spans.append(doc.char_span(start, start + len(surface), label=label))
        cursor = start + len(surface)
    doc.ents = spans
    doc._.labels, doc._.stance, doc._.letter_date, doc._.kind = labels, stance, letter_date, kind
    doc.cats = {label: (0.99 if label in labels else 0.01) for label in ("recommendation", "adoption", "action", "deadline")}
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def demo_paragraphs() -> dict[str, str]:
    letter = read_letter(DEMO)
    return {"answer": next(p.text for p in letter.paragraphs if "Rijkswaterstaat zal" in p.text),
            "heading": next(p.text for p in letter.paragraphs if p.text.startswith("Aanbeveling 1.")),
            "recommendation": next(p.text for p in letter.paragraphs if "beveelt aan" in p.text),
            "signature": letter.paragraphs[-1].text, "date": letter.meta["date"]}


def test_demo_letter_two_commitments_in_one_paragraph_each_with_its_actor_and_deadline(nlp):
    demo = demo_paragraphs()
    doc = annotated_doc(nlp, demo["answer"], [("Rijkswaterstaat", "ORG"), ("Unie van Waterschappen", "ORG"),
                                              ("het zomerreces van 2024", "DATE"), ("eind 2024", "DATE")],
                        ["adoption", "action", "deadline"], demo["date"], stance="adopted")
    found = doc._.commitments
    assert [doc.text[c["start"]:c["end"]] for c in found] == [
        "Rijkswaterstaat zal samen met de Unie van Waterschappen voor het zomerreces van 2024 een ontwerp voor het "
        "informatiepunt opstellen.", "Ik informeer uw Kamer eind 2024 over de voortgang."]
    # The partner after "samen met" is not the actor; "voor het zomerreces" ends the day before the recess.
    assert found[0]["actor"]["text"] == "Rijkswaterstaat" and found[0]["due"] == ["2024-03-12", "2024-07-04"]
    assert found[1]["actor"] == {"signer": True, "word": "Ik"} and found[1]["due"] == ["2024-10-01", "2024-12-31"]
    assert doc.text[slice(*found[0]["deadline"])] == "het zomerreces van 2024"

    # The letter level: "Ik" is the minister who signs, and both answer recommendation 1, which is adopted.
    heading = annotated_doc(nlp, demo["heading"], [], ["recommendation"], demo["date"], kind="heading")
    recommendation = annotated_doc(nlp, demo["recommendation"], [("Onderzoeksraad", "ORG")], ["recommendation"], demo["date"])
    signature = annotated_doc(nlp, demo["signature"], [], [], demo["date"], kind="signature")
    paragraphs = [paragraph_record(d, d._.kind) for d in (heading, recommendation, doc, signature)]
    record = resolve_actors({"id": "demo", "meta": {"date": demo["date"]}, "paragraphs": paragraphs,
                             "links": link_recommendations(paragraphs)})
    commitments = record["paragraphs"][2]["commitments"]
    assert [c["actor"]["text"] for c in commitments] == ["Rijkswaterstaat", "Minister van Infrastructuur en Waterstaat"]
    assert [c["deadline"]["text"] for c in commitments] == ["het zomerreces van 2024", "eind 2024"]
    assert all(c["recommendation"] == 0 and c["stance"] == "adopted" for c in commitments)
    assert ministry_of(record) == "Infrastructuur en Waterstaat"


@pytest.mark.parametrize("text, ents, actor", [
    ("Ik vraag het RIVM de analyse voortaan jaarlijks uit te voeren.", [("RIVM", "ORG")], "RIVM"),
    ("Die verkenning laat ik uitvoeren door Aedes en ActiZ gezamenlijk.", [("Aedes", "ORG"), ("ActiZ", "ORG")], "Aedes"),
    ("Samen met de VNG en het Nederlands Genootschap van Burgemeesters laat ik een model ontwikkelen.",
     [("VNG", "ORG"), ("Nederlands Genootschap van Burgemeesters", "ORG")], None),
    ("De CDIU wordt in 2026 uitgebreid met veertig fte.", [("CDIU", "ORG"), ("2026", "DATE")], None),
    ("De zorgkantoren zullen per aanbieder vastleggen hoeveel personeel wordt aangenomen.", [], "zorgkantoren"),
])
def test_actor_rules(nlp, text, ents, actor):
    doc = annotated_doc(nlp, text, ents, ["action"], "2018-03-08")
    (commitment,) = doc._.commitments
    assert commitment["actor"].get("text") == actor
    assert commitment["actor"].get("signer", False) == (actor is None)


# Regression cases by class of error (tests/cases/commitments/*.json, each a list of {"text", "ents": [[surface,
# label], ...], "labels", "letter_date", "commitments": [{"text", "actor" (null: the signer), "due"}], "note"}).
CASE_FILES = sorted((TESTS / "cases" / "commitments").glob("*.json"))
CASES = [(path.stem, case) for path in CASE_FILES for case in json.loads(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("theme,case", CASES, ids=[f"{theme}:{c['text'][:50]}" for theme, c in CASES])
def test_case(nlp, theme, case):
    doc = annotated_doc(nlp, case["text"], [tuple(e) for e in case["ents"]], case["labels"], case["letter_date"],
                        kind=case.get("kind", "body"))
    found = [{"text": doc.text[c["start"]:c["end"]], "actor": None if c["actor"].get("signer") else c["actor"]["text"],
              "due": c["due"]} for c in doc._.commitments]
    assert found == case["commitments"], case["note"]


def test_there_are_cases_for_every_class_of_error():
    assert {path.stem for path in CASE_FILES} >= {"actors", "clauses", "due", "milestones", "not-promises"} and len(CASES) >= 30


def test_findings_positions_and_recommendations_are_no_commitments(nlp):
    text = ("De Raad beveelt aan om een register in te richten. Ik neem deze aanbeveling over. "
            "Ik zal het register in de eerste helft van 2025 openstellen.")
    doc = annotated_doc(nlp, text, [("Raad", "ORG"), ("de eerste helft van 2025", "DATE")], ["adoption", "action"], "2024-06-01")
    assert [doc.text[c["start"]:c["end"]] for c in doc._.commitments] == [
        "Ik zal het register in de eerste helft van 2025 openstellen."]
    assert doc._.commitments[0]["due"] == ["2025-01-01", "2025-06-30"]


def test_a_milestone_sentence_joins_the_commitment_before_it(nlp):
    text = "De MIVD richt een afdeling Compliance in. De afdeling is in het derde kwartaal van 2017 operationeel."
    doc = annotated_doc(nlp, text, [("MIVD", "ORG"), ("het derde kwartaal van 2017", "DATE")], ["action", "deadline"],
                        "2017-02-14")
    (commitment,) = doc._.commitments
    assert (commitment["start"], commitment["end"]) == (0, len(text))
    assert commitment["actor"]["text"] == "MIVD" and commitment["due"] == ["2017-07-01", "2017-09-30"]


def test_start_dates_are_no_due_period_and_the_budget_falls_due_on_prinsjesdag(nlp):
    doc = annotated_doc(nlp, "Het BAS krijgt met ingang van 1 juli 2026 extra capaciteit.", [("BAS", "ORG"), ("1 juli 2026", "DATE")],
                        ["action"], "2026-03-19")
    assert doc._.commitments[0]["due"] is None
    doc = annotated_doc(nlp, "Ik informeer uw Kamer daarover bij de begroting voor 2016.", [("2016", "DATE")],
                        ["action", "deadline"], "2014-09-25")
    assert doc._.commitments[0]["due"] == ["2015-09-15", "2015-09-15"]


def test_headings_and_paragraphs_without_actions_hold_none(nlp):
    assert annotated_doc(nlp, "Ik zal dit doen.", [], ["action"], "2020-01-01", kind="heading")._.commitments == []
    assert annotated_doc(nlp, "Ik zal dit doen.", [], [], "2020-01-01")._.commitments == []


def test_signer_from_meta_or_signature():
    assert signer_of({"meta": {"sender": "Minister voor Medische Zorg"}, "paragraphs": []}) == "Minister voor Medische Zorg"
    record = {"meta": {}, "paragraphs": [{"text": "Tekst.", "kind": "body"},
                                         {"text": "De Staatssecretaris van Financiën, J. Jansen", "kind": "signature"}]}
    assert signer_of(record) == "Staatssecretaris van Financiën" and ministry_of(record) == "Financiën"


# -- gold: markup and validator ----------------------------------------------------------------------

MARKUP = """---
id: kb-test-1
date: 2024-03-12
sender: Minister van Infrastructuur en Waterstaat
commitments: annotated
---
@body adoption=adopted action deadline
Het kabinet neemt deze aanbeveling over. {{Rijkswaterstaat|2024-03-12..2024-07-04|[[Rijkswaterstaat|ORG]] zal voor [[het zomerreces van 2024|DATE|2024-07-05..2024-08-30]] een ontwerp opstellen.}} {{@|2024-10-01..2024-12-31|Ik informeer uw Kamer [[eind 2024|DATE|2024-10-01..2024-12-31]] over de voortgang.}}

@body
Geen toezegging hier.
"""


def test_markup_compiles_commitments_and_renders_back():
    record = compile_markup(MARKUP)
    first, second = record["paragraphs"][0]["commitments"]
    text = record["paragraphs"][0]["text"]
    assert text[first["start"]:first["end"]].startswith("Rijkswaterstaat zal")
    assert first["actor"] == {"text": "Rijkswaterstaat", "start": first["start"], "end": first["start"] + 15}
    assert [text[d["start"]:d["end"]] for d in first["dates"]] == ["het zomerreces van 2024"]
    assert second["actor"] == {"text": "Minister van Infrastructuur en Waterstaat", "signer": True}
    assert second["due"] == {"start": "2024-10-01", "end": "2024-12-31"}
    assert record["paragraphs"][1]["commitments"] == [] and "commitments" not in record["meta"]
    assert compile_markup(render_markup(record)) == record
    assert paragraph_problems(record["paragraphs"][0]) == []


@pytest.mark.parametrize("broken, message", [
    (MARKUP.replace("commitments: annotated\n", ""), "without 'commitments: annotated'"),
    (MARKUP.replace("over de voortgang.}}", "over de voortgang."), "not closed"),
    (MARKUP.replace("|2024-10-01..2024-12-31|Ik", "|eind 2024|Ik"), "bad due period"),
])
def test_markup_errors(broken, message):
    with pytest.raises(RecordError, match=message):
        compile_markup(broken)


@pytest.mark.parametrize("change, message", [
    (lambda c: c[0]["actor"].update(end=c[0]["actor"]["end"] - 1), "actor span reads"),
    (lambda c: c[0]["dates"].append({"start": 0, "end": 3}), "is not a DATE entity inside"),
    (lambda c: c[1].update(start=c[0]["start"] + 5), "overlaps"),
    (lambda c: c[1].update(due={"start": "2025-01-01", "end": "2024-01-01"}), "due must be null"),
    (lambda c: c[0].pop("due"), "due is missing"),
    (lambda c: c[0].update(actor={"text": ""}), "non-empty text"),
])
def test_validator_reports_bad_commitments(change, message):
    paragraph = compile_markup(MARKUP)["paragraphs"][0]
    change(paragraph["commitments"])
    assert any(message in problem for problem in paragraph_problems(paragraph))


# -- scores ---------------------------------------------------------------------------------------

def test_commitment_counts_match_by_overlap_one_to_one():
    gold = [{"start": 0, "end": 40, "actor": "de NVWA", "due": ("2024-01-01", "2024-06-30")},
            {"start": 41, "end": 80, "actor": "Minister", "due": None}]
    pred = [{"start": 5, "end": 30, "actor": "NVWA", "due": ("2024-01-01", "2024-06-30")},
            {"start": 30, "end": 38, "actor": "NVWA", "due": None},
            {"start": 90, "end": 99, "actor": "Minister", "due": None}]
    counts = commitment_counts(gold, pred)
    assert (counts["commit:tp"], counts["commit:fp"], counts["commit:fn"]) == (1, 2, 1)
    assert counts["commit:actor_correct"] == 1 and counts["commit:due_correct"] == counts["commit:due_total"] == 1
    assert commitment_counts(None, pred) == {}


def test_commitment_scores_with_bootstrap_by_letter():
    def item(letter, gold, pred):
        return ScoredParagraph(letter_id=letter, text="x" * 100, gold_commitments=gold, pred_commitments=pred)
    g = {"start": 0, "end": 10, "actor": "ik", "due": ("2024-01-01", "2024-01-31")}
    items = [item("a", [g], [g]), item("b", [g], [{**g, "actor": "RIVM"}]), item("c", [g], []), item("d", None, [g])]
    report = evaluate_items(items, n_bootstrap=200, by_source=False)["commitments"]
    assert report["detection"]["f"] == score_commitments(items)["detection"]["f"]
    assert report["n_letters"] == 3 and report["gold"] == 3 and report["predicted"] == 2
    assert report["detection"]["p"] == 1.0 and report["detection"]["r"] == pytest.approx(2 / 3)
    assert report["actor"]["accuracy"] == 0.5 and report["due"]["accuracy"] == 1.0
    lo, hi = report["detection"]["f_ci95"]
    assert 0.0 <= lo <= report["detection"]["f"] <= hi <= 1.0

"""REF and DATE rules: regression cases (tests/cases/rules/*.json), the component's merge policy,
and the pre-annotation guard (pre-filled spans never reach gold unchecked)."""
from __future__ import annotations

import json

import pytest
import spacy
from conftest import TESTS
from spacy.tokens import Span

from kamerbrief.data.markup import compile_markup
from kamerbrief.errors import RecordError
from kamerbrief.pipeline.rules import rule_spans
from kamerbrief.pipeline.tokenizer import blank

CASES = [case for path in sorted((TESTS / "cases" / "rules").glob("*.json")) for case in json.loads(path.read_text(encoding="utf-8"))]
# Cases of the steps that act on the model's entities: text, the model's entities, the entities after the rules
# (``config``: the rules component's settings, its defaults if absent).
MERGE_CASES = [case for path in sorted((TESTS / "cases" / "merge").glob("*.json"))
               for case in json.loads(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_rule_spans(case):
    found = [[case["text"][s["start"]:s["end"]], s["label"]] for s in rule_spans(case["text"])]
    assert found == case["spans"]


def test_component_loads_by_name_and_merges_by_policy():
    def merged(prefer=None):
        nlp = spacy.blank("nl")
        nlp.add_pipe("kamerbrief_rules", config={} if prefer is None else {"prefer": prefer})
        doc = nlp.make_doc("Zie Kamerstuk 28 638, nr. 185 van 2020 en eind 2021.")
        # A model's guesses: a partial REF over "Kamerstuk 28" and a DATE that misses "eind".
        doc.ents = [Span(doc, 1, 3, label="ORG"), Span(doc, 11, 12, label="DATE")]
        doc = nlp.get_pipe("kamerbrief_rules")(doc)
        assert {s.label_ for s in doc.spans["rules"]} == {"REF", "DATE"}
        return [(e.text, e.label_) for e in doc.ents]

    # Default: rule spans win for REF and DATE.
    assert merged() == [("Kamerstuk 28 638, nr. 185", "REF"), ("2020", "DATE"), ("eind 2021", "DATE")]
    # A larger model entity of another label around a rule span keeps it ("Wmo 2015" is a LAW, not a DATE).
    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_rules")
    doc = nlp.make_doc("De Wmo 2015 geldt sinds 2015.")
    doc.ents = [Span(doc, 1, 3, label="LAW")]
    assert [(e.text, e.label_) for e in nlp.get_pipe("kamerbrief_rules")(doc).ents] == [("Wmo 2015", "LAW"), ("2015", "DATE")]
    # A label left out of ``prefer`` keeps the model's span; the rule only fills gaps ("2020").
    assert merged(["REF"]) == [("Kamerstuk 28 638, nr. 185", "REF"), ("2020", "DATE"), ("2021", "DATE")]


def test_component_completes_the_models_references_and_laws():
    """After merging: a REF takes the parts named before its article and the number and parts after a cut one; a LAW
    takes the year after it; a REF without a locator and a head word after "deze" are dropped (ANNOTATION.md)."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_rules")
    doc = nlp.make_doc("Zie het tweede lid van artikel 36a, artikel 98, derde lid, het Rwb 1959, bijlage 2, de bijlage en deze Aanwijzing.")
    # A model's guesses: the bare article without its part, an article cut after its word, the abbreviation without
    # its year (the year a DATE), two REFs of which one has no locator, and the document naming itself.
    doc.ents = [Span(doc, 5, 7, label="REF"), Span(doc, 8, 9, label="REF"), Span(doc, 15, 16, label="LAW"),
                Span(doc, 16, 17, label="DATE"), Span(doc, 18, 20, label="REF"), Span(doc, 22, 23, label="REF"),
                Span(doc, 25, 26, label="LAW")]
    assert [(e.text, e.label_) for e in nlp.get_pipe("kamerbrief_rules")(doc).ents] == [
        ("tweede lid van artikel 36a", "REF"), ("artikel 98, derde lid", "REF"), ("Rwb 1959", "LAW"), ("bijlage 2", "REF")]


def test_a_count_in_a_table_is_no_date_whoever_proposed_it():
    """A one-word DATE between table cells of counts goes, the model's as well as a pattern's ("| 81  | 1903  | 4");
    a row of years stays, and so does a year in prose."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_rules")
    for text, year, kept in [("Knooppunt Oost  | --- | 10421  | 877  | 2009  | 0  | 57", "2009", False),
                             ("Schaal 3 | 3104 | 2711 | 1928 | 79,0%", "1928", False),
                             ("| 2019 | 2020 | 2021 |", "2020", True), ("In 1875 werd de wet aangenomen.", "1875", True)]:
        doc = nlp.make_doc(text)
        doc.ents = [next(Span(doc, t.i, t.i + 1, label="DATE") for t in doc if t.text == year)]
        assert (year in [e.text for e in nlp.get_pipe("kamerbrief_rules")(doc).ents]) is kept, text


def test_prefilled_spans_must_be_checked_before_they_enter_gold():
    markup = "---\nid: x\n---\n@body\nZie [[Kamerstuk 28 638, nr. 185|REF?]].\n"
    with pytest.raises(RecordError, match="never checked"):
        compile_markup(markup)
    record = compile_markup(markup.replace("REF?", "REF"))
    assert record["paragraphs"][0]["entities"][0]["label"] == "REF"


@pytest.mark.parametrize("mode, expected", [
    # "rule": the rule span replaces both (the model's "Wmo 2015 Huishoudelijke" has the rule's own label, so no exception).
    ("rule", [("Wet milieubeheer", "LAW"), ("Wmo 2015", "LAW")]),
    ("extend", [("Wet milieubeheer", "LAW"), ("Wmo 2015 Huishoudelijke", "LAW")]),
    ("longer", [("Wet milieubeheer", "LAW"), ("Wmo 2015 Huishoudelijke", "LAW")]),
    ("model", [("Wet", "ORG"), ("Wmo 2015 Huishoudelijke", "LAW")]),
])
def test_each_merge_policy(mode, expected):
    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_rules", config={"policy": {"LAW": mode, "REF": "rule", "DATE": "rule"}})
    doc = nlp.make_doc("De Wet milieubeheer en de Wmo 2015 Huishoudelijke hulp.")
    # "Wet" as ORG: the rule's LAW span covers it; "Wmo 2015 Huishoudelijke" as LAW: longer than the rule's "Wmo 2015" and not
    # covered by it, so "extend" and "longer" keep it.
    doc.ents = [Span(doc, 1, 2, label="ORG"), Span(doc, 5, 8, label="LAW")]
    assert [(e.text, e.label_) for e in nlp.get_pipe("kamerbrief_rules")(doc).ents] == expected


def test_extend_and_longer_differ_where_the_rule_span_is_longer_but_does_not_cover():
    def merged(mode):
        nlp = spacy.blank("nl")
        nlp.add_pipe("kamerbrief_rules", config={"policy": {"REF": mode}, "labels": ["REF"]})
        doc = nlp.make_doc("Zie Stb. 2020, 123 voor meer.")
        doc.ents = [Span(doc, 4, 7, label="REF")]   # "123 voor meer": starts inside the rule span, ends after it
        return [(e.text, e.label_) for e in nlp.get_pipe("kamerbrief_rules")(doc).ents]

    assert merged("longer") == [("Stb. 2020, 123", "REF")]
    assert merged("extend") == [("123 voor meer", "REF")]
    assert merged("rule") == [("Stb. 2020, 123", "REF")]


def test_unknown_policy_is_a_clear_error():
    from kamerbrief.errors import KamerbriefError

    nlp = spacy.blank("nl")
    with pytest.raises(KamerbriefError, match="policy for REF is 'always'"):
        nlp.add_pipe("kamerbrief_rules", config={"policy": {"REF": "always"}})


def test_unicode_spaces_match_like_ascii_spaces():
    plain = "Zie Kamerstukken II 2019/20, 31 015, nr. 190 van 12 maart 2019."
    for space in ("\u00a0", "\u202f", "\u2009", "\u2007", "\u3000"):
        text = plain.replace(" ", space)
        assert [(s["start"], s["end"], s["label"]) for s in rule_spans(text)] == \
               [(s["start"], s["end"], s["label"]) for s in rule_spans(plain)], repr(space)


GATE_EDGES = [  # one per kind of trigger the pattern groups' tests look for (pipeline/rules.py GROUPS)
    "Dit duurt de komende jaren, vier jaren of twaalf werkdagen, tot het zomerreces of Prinsjesdag.",
    "Dat geldt op grond van artikel 3, eerste lid, van de Awb en art. 12 van de Wet milieubeheer.",
    "Zie de Beschikking van 12 maart 2019, houdende regels over de Aanwijzing en de Instructie.",
    "Volgens Kamerstuk 28 638, nr. 185 en Stcrt. 2017, nr. 48321 is richtlijn 2010/75/EU van belang.",
    "Een zin zonder cijfers of wetten, over het einde van het jaar en het eerste kwartaal.",
    "Het Besluit van 3 jan. 2019 en Stcrt. 2019, nr. 5 van 4 febr. 2019 gelden sinds mrt. 2019.",
]


def test_grouped_matcher_finds_what_one_matcher_of_all_patterns_finds():
    """The groups skip a paragraph only when it lacks what every pattern of the group needs: on team-written
    letters, the rule cases and the triggers' edge cases the grouped matcher finds exactly the matches of one
    Matcher over all patterns."""
    from spacy.matcher import Matcher

    from kamerbrief.pipeline import rules

    nlp = spacy.blank("nl")
    single = Matcher(nlp.vocab)
    for label, patterns, _ in rules.GROUPS:
        single.add(label, patterns)
    grouped = rules.GroupedMatcher(nlp.vocab)
    letters = [json.loads(line) for line in (TESTS.parent / "data" / "letters" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = GATE_EDGES + [case["text"] for case in CASES] + [p["text"] for r in letters[:12] for p in r["paragraphs"]]
    assert len(texts) > 200
    for text in texts:
        doc = nlp.make_doc(text)
        assert sorted(grouped(doc)) == sorted(single(doc)), text


LAW_TITLE_CASES = [
    # (mode, text, the model's entities as (text, label), expected entities)
    ("extend", "Dit volgt uit de Wet overheidspersoneel onder de werknemersverzekeringen.",
     [("Wet overheidspersoneel", "LAW")], [("Wet overheidspersoneel onder de werknemersverzekeringen", "LAW")]),
    ("extend", "Voor de Zorgverzekeringswet commissarissen geldt iets anders.",
     [("Zorgverzekeringswet commissarissen", "LAW")], [("Zorgverzekeringswet commissarissen", "LAW")]),
    ("snap", "Voor de Zorgverzekeringswet commissarissen geldt iets anders.",
     [("Zorgverzekeringswet commissarissen", "LAW")], [("Zorgverzekeringswet", "LAW")]),
    # a title followed by a capitalised word may be the start of a longer title the lexicon lacks
    ("snap", "De Zorgverzekeringswet BES geldt daar.", [("Zorgverzekeringswet BES", "LAW")], [("Zorgverzekeringswet BES", "LAW")]),
    # inside a REF the law stays part of the reference, and a REF that cut the title short takes the rest of it
    ("extend", "Zie artikel 3 van de Wet overheidspersoneel onder de werknemersverzekeringen.",
     [("artikel 3 van de Wet overheidspersoneel", "REF")],
     [("artikel 3 van de Wet overheidspersoneel onder de werknemersverzekeringen", "REF")]),
    # a REF that runs on past the law's title into the sentence ends with the title, not where a part is joined
    ("snap", "Hij krijgt op grond van artikel 96b van de Ambtenarenwet ontslag.",
     [("artikel 96b van de Ambtenarenwet ontslag", "REF")], [("artikel 96b van de Ambtenarenwet", "REF")]),
    ("extend", "Hij krijgt op grond van artikel 96b van de Ambtenarenwet ontslag.",
     [("artikel 96b van de Ambtenarenwet ontslag", "REF")], [("artikel 96b van de Ambtenarenwet ontslag", "REF")]),
    ("snap", "Zie artikel 5 Ambtenarenwet jo artikel 6 van het besluit.",
     [("artikel 5 Ambtenarenwet jo artikel 6", "REF")], [("artikel 5 Ambtenarenwet jo artikel 6", "REF")]),
    # a longer title that names the law is left whole
    ("snap", "De Wet tot wijziging van de Wet overheidspersoneel onder de werknemersverzekeringen is aangenomen.",
     [("Wet tot wijziging van de Wet overheidspersoneel", "LAW")], [("Wet tot wijziging van de Wet overheidspersoneel", "LAW")]),
    # the LAW patterns alone cut the title after its first word; the lexicon's title covers it (any Unicode space)
    ("off", "Dit volgt uit de Wet\u00a0overheidspersoneel onder de werknemersverzekeringen.", [],
     [("Wet\u00a0overheidspersoneel", "LAW")]),
    ("extend", "Dit volgt uit de Wet\u00a0overheidspersoneel onder de werknemersverzekeringen.", [],
     [("Wet\u00a0overheidspersoneel onder de werknemersverzekeringen", "LAW")]),
    # where neither the model nor a pattern found it
    ("off", "Dit volgt uit het Algemeen militair ambtenarenreglement.", [], []),
    ("add", "Dit volgt uit het Algemeen militair ambtenarenreglement.", [], [("Algemeen militair ambtenarenreglement", "LAW")]),
]


def _after_rules(config: dict, text: str, model: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The entities after the rules component (``config``) ran on ``text`` carrying a model's entities ``model``
    (kamerbrief's tokenizer: it splits what a model's span may not take along, "2006/nr")."""
    nlp = blank(normalize=False)
    nlp.add_pipe("kamerbrief_rules", config=config)
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(text.index(t), text.index(t) + len(t), label=label) for t, label in model]
    return [(e.text, e.label_) for e in nlp.get_pipe("kamerbrief_rules")(doc).ents]


@pytest.mark.parametrize("mode,text,model,expected", LAW_TITLE_CASES, ids=[f"{c[0]}:{c[1][:30]}" for c in LAW_TITLE_CASES])
def test_law_titles_fit_the_models_laws_to_the_lexicon(mode, text, model, expected):
    assert _after_rules({"labels": ["LAW"], "law_titles": mode}, text, model) == expected


@pytest.mark.parametrize("case", MERGE_CASES, ids=[c["text"][:40] for c in MERGE_CASES])
def test_the_rules_tidy_the_models_entities(case):
    expected = [tuple(e) for e in case["expected"]]
    assert _after_rules(case.get("config", {}), case["text"], [tuple(e) for e in case["model"]]) == expected, case["why"]


def test_law_titles_setting_is_checked():
    from kamerbrief.errors import KamerbriefError

    nlp = spacy.blank("nl")
    with pytest.raises(KamerbriefError, match="law_titles"):
        nlp.add_pipe("kamerbrief_rules", config={"law_titles": "always"})


def test_law_title_lexicon_is_read_from_citation_clauses():
    from kamerbrief.training.law_titles import clean_title, law_titles

    assert clean_title("Wet op de expertisecentra. ") == "Wet op de expertisecentra"
    assert clean_title("Archiefwet met vermelding van het jaartal van het *Staatsblad* waarin zij zal worden geplaatst.") == "Archiefwet"
    assert clean_title('"Algemene wet inzake rijksbelastingen".  ') == "Algemene wet inzake rijksbelastingen"
    assert clean_title("Algemeen militair ambtenarenreglement, afgekort AMAR") == "Algemeen militair ambtenarenreglement"
    assert clean_title("Wet.") is None and clean_title("de wet") is None and clean_title("Subsidieplafonds 2020.") is None
    records = [{"id": "BWBR1", "text": "Artikel 9\n\nDeze wet wordt aangehaald als: Wet overheidspersoneel onder de "
                                       "werknemersverzekeringen.\n"},
               {"id": "BWBR2", "text": "Dit besluit wordt aangehaald als: Besluit geheim.\n"},
               {"id": "BWBR3", "title": "Wet van 1 november 2012, houdende nieuwe regels (Aanbestedingswet 2012)", "text": ""}]
    assert law_titles(records, excluded={"BWBR2"}) == ["Aanbestedingswet 2012", "Wet overheidspersoneel onder de werknemersverzekeringen"]


def test_law_title_lexicon_takes_the_laws_amending_acts_list():
    from kamerbrief.training.law_titles import amended_laws, law_titles

    title = ("Wet van 7 juli 2010 tot wijziging van de Wet kinderopvang, de Wet op het hoger onderwijs en wetenschappelijk "
             "onderzoek, het Wetboek van Strafrecht en enkele andere wetten in verband met de kwaliteit")
    assert amended_laws(title) == ["Wet kinderopvang", "Wet op het hoger onderwijs en wetenschappelijk onderzoek",
                                   "Wetboek van Strafrecht"]
    assert amended_laws("Besluit van 3 mei 2001 houdende regels voor subsidies") == []
    # a name must come from two titles at least
    once = [{"id": "A", "title": title, "text": ""}]
    assert law_titles(once, excluded=set()) == []
    assert "Wetboek van Strafrecht" in law_titles(once + [{"id": "B", "title": title, "text": ""}], excluded=set())


def test_days_that_recur_every_year_are_no_date_whoever_proposed_them():
    """A model's DATE of a yearless day followed by "van het schooljaar" goes like a pattern's (ANNOTATION.md: recurring
    dates are not DATE); with a year after it, it stays."""
    for text, expected in [("Na 31 maart van het schooljaar telt de groei.", []),
                           ("Na 31 maart van het jaar 2020 telt de groei.", [("31 maart", "DATE")])]:
        assert _after_rules({"labels": ["LAW"]}, text, [("31 maart", "DATE")]) == expected
    # the cycle inside the model's span, after a range of days
    for span in ["31 maart van het schooljaar", "1 augustus tot en met 31 maart van het schooljaar"]:
        text = f"Als in de periode {span} het aantal leerlingen stijgt, volgt groeiformatie."
        assert _after_rules({"labels": ["LAW"]}, text, [(span, "DATE")]) == []
    # the period of a rate is no DATE either ("per jaar" is not, so neither is "per zes maanden"); a duration stays
    text = "De beloning bedraagt vierduizend gulden per zes maanden, voor de duur van zes maanden."
    assert _after_rules({"labels": ["LAW"]}, text, [("zes maanden", "DATE")]) == []
    assert _after_rules({"labels": ["LAW"]}, "Dit geldt voor de duur van zes maanden.", [("zes maanden", "DATE")]) == [
        ("zes maanden", "DATE")]
    text = "De index van september 2011 van het voorgaande jaar geldt."
    assert _after_rules({"labels": ["LAW"]}, text, [("september 2011", "DATE")]) == [("september 2011", "DATE")]


def test_entity_edges_lose_spaces_and_keep_the_apostrophe_of_s_names():
    """A model's span taking the spaces after a name along, or leaving the split-off apostrophe of "’s-Gravenhage" out,
    is fitted to the name (the gold never starts or ends a span on a space)."""
    assert _after_rules({"labels": ["LAW"]}, "’s-Gravenhage, 4 september 2006", [("s-Gravenhage", "LOC")]) == [
        ("’s-Gravenhage", "LOC")]
    assert _after_rules({"labels": ["LAW"]}, "Het Loo  den 31sten October 1894", [("Loo  ", "LOC")]) == [("Loo", "LOC")]
    # an apostrophe that opens a quotation stays outside: "s-" must begin the name
    assert _after_rules({"labels": ["LAW"]}, "Het ‘Sociaal Akkoord’ geldt.", [("Sociaal Akkoord", "LAW")]) == [
        ("Sociaal Akkoord", "LAW")]


def test_names_of_public_bodies_fill_gaps_only():
    """``org_names``: a body of pipeline/org_names.txt is ORG where the model found nothing; inside a longer entity it
    stays part of that one, and with the setting off nothing is added."""
    text = "Verordening van het Europees Parlement en de Raad; gehoord de Voorzitter van de Tweede Kamer der Staten-Generaal."
    model = [("Voorzitter van de Tweede Kamer der Staten-Generaal", "ORG")]
    assert _after_rules({"labels": ["LAW"], "org_names": True}, text, model) == [
        ("Europees Parlement", "ORG"), ("Voorzitter van de Tweede Kamer der Staten-Generaal", "ORG")]
    assert _after_rules({"labels": ["LAW"]}, text, model) == model

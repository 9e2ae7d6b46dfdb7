"""Rule patterns for REF and DATE spans (spaCy ``Matcher``), as a pipeline component and for
pre-annotation.

Merge policy with a model's entities (``kamerbrief_rules`` component): rule spans always go to
``doc.spans["rules"]``. For labels in ``prefer`` (default: REF and DATE) a rule span replaces the
model entities it overlaps, unless a larger model entity of another label contains it; for other
labels a rule span is added only where it overlaps no entity.
REF formats are closed and regular. DATE spans feed the deadline normaliser, and the model's DATE
boundaries drift ("2021" of "eind 2021"): letting DATE rules win raised DATE F1 on the dev split
from 0.763 to 0.816 and deadline accuracy from 0.868 to 0.898, REF and LAW unchanged (default model).
"""
from __future__ import annotations

from functools import lru_cache

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december", "jan.", "feb.", "mrt.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "okt.", "nov.", "dec."]
NUMBER_WORDS = ["een", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf",
                "vijftien", "twintig", "dertig", "veertig", "vijftig", "honderd", "enkele", "enige", "meerdere", "anderhalf", "anderhalve", "half", "halve"]
UNITS = ["dag", "dagen", "werkdag", "werkdagen", "week", "weken", "maand", "maanden", "jaar", "jaren", "uur", "uren", "kwartaal", "kwartalen", "decennium", "decennia"]
ORDINALS = ["eerste", "tweede", "derde", "vierde", "laatste"]
SEASONS = ["voorjaar", "najaar", "zomer", "winter", "lente", "herfst"]
RECESSES = ["zomerreces", "kerstreces", "voorjaarsreces", "herfstreces", "meireces", "krokusreces", "paasreces", "reces"]
CALENDAR_DAYS = ["prinsjesdag", "verantwoordingsdag", "begrotingsbehandeling", "jaarwisseling", "vandaag"]

YEAR = {"TEXT": {"REGEX": r"^(1[89]|20)\d\d$"}}
DAY = {"TEXT": {"REGEX": r"^([1-9]|[12]\d|3[01])$"}}
MONTH = {"LOWER": {"IN": MONTHS}}
NUMBER = {"TEXT": {"REGEX": r"^\d+$"}}
ARTICLE = {"LOWER": {"IN": ["het", "de"]}, "OP": "?"}
SUFFIX = {"LOWER": {"IN": ["jl.", "a.s.", "jongstleden", "aanstaande"]}, "OP": "?"}
NR = {"LOWER": {"IN": ["nr.", "nr", "nrs.", "no."]}}
COMMA = {"ORTH": ",", "OP": "?"}
ROMAN_CHAMBER = {"TEXT": {"IN": ["I", "II"]}, "OP": "?"}
SESSION = {"TEXT": {"REGEX": r"^\d{4}/\d{2,4}$"}}

DATE_PATTERNS = [
    [DAY, MONTH, {**YEAR, "OP": "?"}, SUFFIX],
    [DAY, MONTH, {"LOWER": {"IN": ["t/m", "tot", "–", "-"]}}, {"LOWER": {"IN": ["en"]}, "OP": "?"}, {"LOWER": "met", "OP": "?"}, DAY, MONTH, {**YEAR, "OP": "?"}],
    [MONTH, YEAR],
    [{"LOWER": {"IN": ["begin", "medio", "eind", "midden", "half"]}}, {**MONTH, "OP": "?"}, YEAR],
    [{"LOWER": {"IN": ["begin", "medio", "eind"]}}, {"LOWER": {"IN": ["dit", "volgend", "vorig"]}}, {"LOWER": "jaar"}],
    [{"LOWER": "het"}, {"LOWER": "einde"}, {"LOWER": "van"}, {"LOWER": {"IN": ["het", "dit"]}, "OP": "?"}, {"LOWER": {"IN": ["jaar"]}, "OP": "?"}, {**YEAR, "OP": "?"}],
    [ARTICLE, {"LOWER": {"IN": ORDINALS}}, {"LOWER": {"IN": ["kwartaal", "helft", "tertiaal"]}}, {"LOWER": "van", "OP": "?"}, {**YEAR, "OP": "?"}],
    [{"TEXT": {"REGEX": r"^Q[1-4]$"}}, YEAR],
    [ARTICLE, {"LOWER": {"IN": SEASONS}}, {"LOWER": "van", "OP": "?"}, {**YEAR, "OP": "?"}],
    [{"LOWER": {"IN": ["dit", "deze", "komend", "komende", "volgend", "afgelopen"]}}, {"LOWER": {"IN": SEASONS}}],
    [ARTICLE, {"LOWER": {"IN": RECESSES}}, {"LOWER": "van", "OP": "?"}, {**YEAR, "OP": "?"}],
    [ARTICLE, {"LOWER": {"IN": CALENDAR_DAYS}}, {**YEAR, "OP": "?"}],
    [{"LOWER": {"IN": ["dit", "volgend", "vorig", "komend", "afgelopen"]}}, {"LOWER": "jaar"}],
    [{"LOWER": "het"}, {"LOWER": {"IN": ["komende", "volgende", "afgelopen", "vorige"]}}, {"LOWER": "jaar"}],
    [{"LOWER": "de"}, {"LOWER": {"IN": ["komende", "afgelopen", "laatste"]}}, {"LOWER": {"IN": NUMBER_WORDS}, "OP": "?"}, {"LOWER": {"IN": ["dagen", "weken", "maanden", "jaren", "jaar"]}}],
    [{"LOWER": {"IN": NUMBER_WORDS}}, {"LOWER": {"IN": UNITS}}],
    [NUMBER, {"LOWER": {"IN": UNITS}}],
    [{"TEXT": {"REGEX": r"^(1[89]|20)\d\d[–-](1[89]|20)?\d\d$"}}],
    [YEAR],
]

ARTICLE_HEAD = [
    {"LOWER": {"IN": ["artikel", "artikelen", "art."]}},
    {"TEXT": {"REGEX": r"^([IVX]+-)?[A-Z]?\d+[a-z]{0,2}(:\d+[a-z]?)?(\.\d+)*$"}},
    {"ORTH": ",", "OP": "?"}, {"LOWER": {"IN": ORDINALS + ["vijfde", "zesde", "zevende"]}, "OP": "?"}, {"LOWER": "lid", "OP": "?"},
    {"ORTH": ",", "OP": "?"}, {"LOWER": "onder", "OP": "?"}, {"TEXT": {"REGEX": r"^[a-z]$"}, "OP": "?"}, {"ORTH": ",", "OP": "?"},
]
OF_THE = [{"LOWER": {"IN": ["van", "uit"]}, "OP": "?"}, {"LOWER": {"IN": ["de", "het"]}, "OP": "?"}]
LAW_WORD = r"(wet|wetboek|besluit|regeling|verdrag|code|reglement|verordening|richtlijn|maatregel)"
EU_INSTRUMENT = [{"LOWER": {"IN": ["verordening", "richtlijn", "besluit", "uitvoeringsverordening", "gedelegeerde"]}},
                 {"ORTH": "("}, {"TEXT": {"IN": ["EU", "EG", "EEG", "Euratom"]}}, {"ORTH": ")"}, {**NR, "OP": "?"},
                 {"TEXT": {"REGEX": r"^\d+/\d+$"}}]
# The law after an article: "Gemeentewet", "Wmo 2015", "Wet milieubeheer", "Wet op het primair onderwijs",
# "Wetboek van Strafrecht", "Algemene verordening gegevensbescherming", "Tijdelijke wet Groningen".
LAW_NAMES = [
    [{"TEXT": {"REGEX": r"^[A-Z][a-z]+" + LAW_WORD + r"$"}}, {**YEAR, "OP": "?"}],
    [{"TEXT": {"REGEX": r"^[A-Z][A-Za-z]{1,6}$"}, "IS_UPPER": False, "LOWER": {"NOT_IN": ["de", "het"]}}, {**YEAR, "OP": "?"}],
    [{"TEXT": {"REGEX": r"^[A-Z]{2,6}$"}}, {**YEAR, "OP": "?"}],
    [{"TEXT": {"IN": ["Wet", "Besluit", "Regeling", "Verdrag"]}}, {"IS_LOWER": True, "LENGTH": {">": 4}}, {**YEAR, "OP": "?"}],
    [{"TEXT": {"IN": ["Wet", "Wetboek", "Besluit", "Regeling", "Verdrag"]}}, {"LOWER": {"IN": ["op", "van", "tot", "inzake", "voor"]}},
     {"LOWER": {"IN": ["de", "het"]}, "OP": "?"}, {"IS_ALPHA": True}, {"IS_LOWER": True, "OP": "?"}, {"IS_LOWER": True, "LENGTH": {">": 8}, "OP": "?"}, {**YEAR, "OP": "?"}],
    [{"IS_TITLE": True}, {"LOWER": {"REGEX": LAW_WORD + r"$"}}, {"IS_TITLE": True, "OP": "?"}],
    [{"IS_TITLE": True}, {"LOWER": {"IN": ["verordening"]}}, {"IS_LOWER": True}],
    EU_INSTRUMENT,
]
DOSSIER = [{"TEXT": {"REGEX": r"^\d{1,6}$"}}, {"TEXT": {"REGEX": r"^\d{3}(-[A-Z0-9]+)?$"}, "OP": "?"}, {"TEXT": {"REGEX": r"^[A-Z]{1,5}$"}, "OP": "?"}]
NUMBERS = [{"TEXT": {"REGEX": r"^\d+[A-Z]?$"}}, {"LOWER": {"IN": ["tot", "en"]}, "OP": "?"}, {"LOWER": "en", "OP": "?"}, {"LOWER": "met", "OP": "?"},
           {"TEXT": {"REGEX": r"^\d+$"}, "OP": "?"}]

REF_PATTERNS = [
    # Kamerstuk 28 638, nr. 185 / Kamerstukken II 2019/20, 31 015, nr. 190 / Kamerstuk 32 500 VII, nrs. 262 tot en met 267
    [{"LOWER": {"IN": ["kamerstuk", "kamerstukken"]}}, ROMAN_CHAMBER, {**SESSION, "OP": "?"}, COMMA, *DOSSIER, COMMA, NR, *NUMBERS],
    [{"LOWER": {"IN": ["kamerstuk", "kamerstukken"]}}, {"TEXT": {"REGEX": r"^\d{4,6}(-[A-Z0-9]+)?-\d+$"}}],
    # 31 015, nr. 190 without the word Kamerstuk
    [{"TEXT": {"REGEX": r"^\d{2}$"}}, {"TEXT": {"REGEX": r"^\d{3}(-[A-Z0-9]+)?$"}}, {"ORTH": ","}, NR, {"TEXT": {"REGEX": r"^\d+[A-Z]?$"}}],
    [{"LOWER": "aanhangsel", "OP": "?"}, {"LOWER": "handelingen"}, ROMAN_CHAMBER, SESSION, COMMA, NR, NUMBER,
     {"ORTH": ",", "OP": "?"}, {"LOWER": "item", "OP": "?"}, {"TEXT": {"REGEX": r"^\d+$"}, "OP": "?"}],
    # Stb. 2020, 123 / Stcrt. 2017, nr. 48321 / Trb. 2019, 12
    [{"LOWER": {"IN": ["stb.", "stcrt.", "trb.", "staatsblad", "staatscourant", "tractatenblad"]}}, YEAR, COMMA, {**NR, "OP": "?"}, NUMBER],
    # artikel 3, eerste lid, van de Wet milieubeheer: only with the law named (a bare "artikel 7" may be internal)
    *[ARTICLE_HEAD + OF_THE + law for law in LAW_NAMES],
    EU_INSTRUMENT,
    [{"LOWER": "kenmerk"}, {"TEXT": {"REGEX": r"^[A-Z0-9][\w/.-]*\d[\w/.-]*$"}}],
    [{"TEXT": {"IN": ["PbEG", "PbEU", "PB"]}}, {**YEAR, "OP": "?"}, COMMA, {"TEXT": {"IN": ["L", "C"]}}, NUMBER],
]

TRAILING = {"van", "de", "het", ",", "onder", "lid"}


def build_matcher(vocab) -> Matcher:
    matcher = Matcher(vocab)
    matcher.add("DATE", DATE_PATTERNS)
    matcher.add("REF", REF_PATTERNS)
    return matcher


def match_spans(doc: Doc, matcher: Matcher, labels: tuple[str, ...] = ("DATE", "REF")) -> list[Span]:
    """Non-overlapping rule spans (the longest match wins), trailing function words trimmed."""
    spans = []
    for match_id, start, end in matcher(doc):
        label = doc.vocab.strings[match_id]
        if label not in labels:
            continue
        while end - start > 1 and doc[end - 1].lower_ in TRAILING:
            end -= 1
        spans.append(Span(doc, start, end, label=label))
    return filter_spans(spans)


class RuleMatcher:
    """The ``kamerbrief_rules`` component (see the module docstring for the merge policy)."""

    def __init__(self, nlp: Language, name: str, labels: list[str], prefer: list[str]):
        self.name = name
        self.labels = tuple(labels)
        self.prefer = set(prefer)
        self.matcher = build_matcher(nlp.vocab)

    def __call__(self, doc: Doc) -> Doc:
        rule_spans = match_spans(doc, self.matcher, self.labels)
        doc.spans["rules"] = rule_spans
        entities = list(doc.ents)
        for span in rule_spans:
            overlapping = [e for e in entities if e.start < span.end and span.start < e.end]
            if span.label_ in self.prefer:
                # A larger model entity of another label around the rule span ("Wmo 2015" as LAW
                # around the year) is a different, bigger unit: it stays and the rule span is dropped.
                if any(e.label_ != span.label_ and e.start <= span.start and span.end <= e.end and len(e) > len(span)
                       for e in overlapping):
                    continue
                entities = [e for e in entities if e not in overlapping] + [span]
            elif not overlapping:
                entities.append(span)
        doc.ents = filter_spans(entities)
        return doc


@Language.factory("kamerbrief_rules", default_config={"labels": ["DATE", "REF"], "prefer": ["REF", "DATE"]})
def make_rules(nlp: Language, name: str, labels: list[str], prefer: list[str]) -> RuleMatcher:
    return RuleMatcher(nlp, name, labels, prefer)


@lru_cache(maxsize=1)
def _rule_nlp() -> Language:
    import spacy

    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_rules")
    return nlp


def rule_spans(text: str) -> list[dict]:
    """Rule spans of a text as ANNOTATION.md entities (character offsets), for pre-annotation."""
    doc = _rule_nlp()(text)
    return [{"start": s.start_char, "end": s.end_char, "label": s.label_} for s in doc.spans["rules"]]

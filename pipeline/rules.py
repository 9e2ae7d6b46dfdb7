"""Rule patterns for REF, LAW and DATE spans and for roads (LOC) (spaCy ``Matcher``), as a pipeline component and
for pre-annotation.

The patterns accept any Unicode space where a space is written (no-break, narrow no-break, thin,
zero-width ...): they match on a copy of the text with every such character replaced by an ASCII
space (same offsets), so "31\u00a0015, nr.\u00a0190" matches like "31 015, nr. 190", also in raw text.

Merge policy with a model's entities (``kamerbrief_rules`` component): rule spans always go to
``doc.spans["rules"]``; ``policy`` says per label what happens where a rule span overlaps model entities:

* ``rule``: the rule span replaces them, unless a larger model entity of another label contains it
  ("Wmo 2015" as LAW around the year 2015) or a model's REF goes on from it in words to a year (a regulation's whole
  title: "artikel 28b van de Regeling geldelijke steun voorzieningen" + "aan huurwoningen 1987");
* ``extend``: the rule span replaces them only where it covers every one of them (it extends or
  relabels the model's span); otherwise the model's entities stay;
* ``longer``: the longer of the rule span and the longest overlapping entity wins (the rule on a tie);
* ``model``: the model's entities stay.

Under every policy a rule span that overlaps no entity is added. Under ``rule`` a model's article REF that runs into
a rule's decree or gazette citation joins it ("artikelen 3, 4 en 5 van Ons" + "besluit van 24 Maart 1951, *Stb.* 87"). The factory default is REF and DATE ``rule``,
LAW ``extend``, no law-title lexicon; a saved model's config.cfg holds the settings chosen for it on the dev split,
per source kind: the best entity F1 on real documents that loses nothing measurable on team-written letters (for
the default model REF ``rule``, DATE and LAW ``longer``, law titles ``snap``); every candidate is in
``evaluation/reports/rules-policy-dev.json`` (``python -m kamerbrief.evaluation.rules_policy``).

Public bodies (``org_names``: true or false): the names in ``pipeline/org_names.txt`` ("Raad van State", "Europees
Parlement", "Belastingdienst") are ORG where no entity covers them and replace a model's entities inside one ("het
[openbaar] ministerie"); inside a longer name they belong to it. The royal palaces decrees are signed at
(:data:`PALACES`) are LOC so, always ("Paleis Huis ten Bosch").

Names a letter repeats (``letter_names``: true or false) and a regulation's own articles (``own_articles``: true or
false): whoever annotates whole letters (``annotate``, ``evaluate``) gives every occurrence of a name the model tagged
at least twice with one label that label (``pipeline/letter_names.py``), and in a letter with article headings of its
own ("Artikel 15") drops the REFs that cite its own articles ("bedoeld in artikel 15, tweede lid";
``pipeline/own_articles.py``); the component itself works on one paragraph and only carries the settings
(``pipeline/letter_pass.py``).

Law titles (``law_titles``: ``off``, ``add``, ``extend``, ``snap``; :func:`fitted_to_titles`): a ``PhraseMatcher``
of the citation titles Dutch laws and regulations give themselves (``pipeline/law_titles.txt``, built from the
shared nl-gov-text corpus by ``python -m kamerbrief.training.law_titles``) fits the merged LAW and REF spans to whole
titles: a LAW or REF that cut a title short is widened to it (over the title's year, which is no DATE of its own),
and one that ran on past it into the sentence
("Zorgverzekeringswet commissaris", "artikel 96b van de Ambtenarenwet eervol") is cut at its end.

After merging, the component completes what a pattern or the model cut (ANNOTATION.md): a REF takes the parts
named before its article and the number and parts after a bare "artikel"; a law named right before or after a bare
article joins its REF ("Gemeentewet, artikel 44", "afdeling 4.2.8 Awb"); a REF that runs on past its law into the
sentence is cut at the clause word ("van de Wet achterwege"), and one with an unclosed bracket is cut there or takes
its closing bracket; a LAW or REF takes the year right after it; a REF to the document's own articles ("artikel 2 van
deze verordening") goes; a REF
without a locator ("bijlage" alone), a head word after "deze" ("deze Aanwijzing": the document itself), a DATE of
days that recur every year, of a rate's period ("per zes maanden"), of speaking time ("drie minuten spreektijd") or of
an age ("jonger dan 4 jaar", "17 jaar geworden") go, and so do a law's head word alone ("het Besluit"), a lowercase
office word ("de staatssecretaris"), a debate's meeting ("het AO") and an adjective of a place ("de Zeeuwse
economie"); an office with its holders' names ("Staatssecretaris Keijzer") becomes a PER for each name; no span
starts or ends on a space, "Onze" before an office or "motie-" before a mover, and a
"'s-Gravenhage" keeps the apostrophe the tokenizer split off; a short form in brackets after an ORG or LAW
("Bureau Interne Onderzoeken (BIO)", "Wet politiegegevens (hierna: Wpg)") takes the name's label.

Roads (label LOC, only in a paragraph that speaks of roads: "afrit", "knooppunt", "Knp.", "rijksweg", ...): road
numbers ("A2", "Rijksweg A2/N2"), junctions with their names ("Knp. Deil") and the place an exit is named after
("afrit 19 (Kerkdriel)"), as the road tables of traffic regulations write them.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline.reader.dates import MONTH_ABBREVIATIONS
from kamerbrief.pipeline.reader.dates import MONTHS as DUTCH_MONTHS
from kamerbrief.pipeline.time_expressions import NUMBER_WORDS as WRITTEN_NUMBERS
from kamerbrief.pipeline.time_expressions import ORDINAL_DAYS

# A month as one token: its name, an abbreviation without its full stop ("1 sept 2019"), or one the tokenizer keeps
# whole with its stop ("dec."). Most abbreviations lose their stop to a token of its own: see with_abbreviated_months.
MONTHS = [*DUTCH_MONTHS, *MONTH_ABBREVIATIONS, *(f"{abbreviation}." for abbreviation in MONTH_ABBREVIATIONS)]
NUMBER_WORDS = [*WRITTEN_NUMBERS, "enkele", "enige", "meerdere", "anderhalf", "anderhalve", "half", "halve"]
UNITS = ["dag", "dagen", "werkdag", "werkdagen", "kalenderdag", "kalenderdagen", "week", "weken", "kalenderweek", "kalenderweken",
         "maand", "maanden", "kalendermaand",
         "kalendermaanden", "jaar", "jaren", "kalenderjaar", "kalenderjaren", "uur", "uren", "kwartaal", "kwartalen", "decennium", "decennia"]
# Units as tables of penalties write them ("GS 2 - 4 wkn", "HTS 16 dgn", "6 mnd. gev."; a penalty's term is a DATE).
ABBREVIATED_UNITS = ["mnd", "wkn", "wk", "dgn", "jr", "mnd.", "wkn.", "wk.", "dgn.", "jr."]
ORDINALS = ["eerste", "tweede", "derde", "vierde", "laatste"]
SEASONS = ["voorjaar", "najaar", "zomer", "winter", "lente", "herfst"]
RECESSES = ["zomerreces", "kerstreces", "voorjaarsreces", "herfstreces", "meireces", "krokusreces", "paasreces", "reces"]
YEAR_KINDS = ["jaar", "kalenderjaar", "verslagjaar", "boekjaar", "aangiftejaar", "belastingjaar", "begrotingsjaar",
              "schooljaar", "studiejaar", "cursusjaar", "dienstjaar", "subsidiejaar"]
YEARS_KINDS = [kind.replace("jaar", "jaren") for kind in YEAR_KINDS[1:]]   # "de schooljaren 2001-2002" ("de jaren": split in the gold)
CALENDAR_DAYS = ["prinsjesdag", "verantwoordingsdag", "begrotingsbehandeling", "jaarwisseling", "vandaag"]
# Days named from the day of writing or speaking, like "vandaag" of CALENDAR_DAYS (ANNOTATION.md: DATE).
DEICTIC_DAYS = ["gisteren", "eergisteren", "overmorgen", "vanochtend", "vanmorgen", "vanmiddag", "vanavond",
                "gisteravond", "gisterenavond", "gisterochtend", "gisterenochtend", "gistermiddag", "gisterenmiddag"]
WEEKDAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]

YEAR_TOKEN = re.compile(r"^(1[89]|20)\d\d$")
YEAR = {"TEXT": {"REGEX": YEAR_TOKEN.pattern}}
DAY = {"TEXT": {"REGEX": r"^([1-9]|[12]\d|3[01])$"}}
MONTH = {"LOWER": {"IN": MONTHS}}
FULL_MONTH = {"LOWER": {"IN": list(DUTCH_MONTHS)}}   # a month written out: what a range of months without a year needs
NUMBER = {"TEXT": {"REGEX": r"^\d+$"}}
ARTICLE = {"LOWER": {"IN": ["het", "de"]}, "OP": "?"}
SUFFIX = {"LOWER": {"IN": ["jl.", "a.s.", "jongstleden", "aanstaande"]}, "OP": "?"}
NR = {"LOWER": {"IN": ["nr.", "nr", "nrs.", "nrs", "no.", "nummer"]}}
COMMA = {"ORTH": ",", "OP": "?"}
ROMAN_CHAMBER = {"TEXT": {"IN": ["I", "II"]}, "OP": "?"}
SESSION = {"TEXT": {"REGEX": r"^\d{4}/\d{2,4}$"}}

RANGE = [{"LOWER": {"IN": ["t/m", "tot", "–", "-"]}}, {"LOWER": "en", "OP": "?"}, {"LOWER": "met", "OP": "?"}]
YEAR_PAIR = {"TEXT": {"REGEX": r"^(1[89]|20)\d\d[–-](1[89]|20)?\d\d$"}}   # "2001-2002" as one token
DASH = {"ORTH": {"IN": ["-", "–"]}}
COUNT = {"TEXT": {"REGEX": r"^\d+$"}}
SPAN_UNITS = [unit for unit in UNITS if unit not in ("uur", "uren")] + ABBREVIATED_UNITS   # hours: see _not_a_date


def with_abbreviated_months(patterns: list[list[dict]]) -> list[list[dict]]:
    """``patterns`` and, for each, every variant with an abbreviation and its full stop in place of a MONTH token:
    the tokenizer cuts "jan." into "jan" and ".", so "3 jan. 2021" would otherwise match as "2021" alone."""
    out = []
    for pattern in patterns:
        variants = [[]]
        for token in pattern:
            if token.get("LOWER") is not MONTH["LOWER"]:
                variants = [[*variant, token] for variant in variants]
                continue
            operator = {"OP": token["OP"]} if "OP" in token else {}
            abbreviated = [{"LOWER": {"IN": list(MONTH_ABBREVIATIONS)}, **operator}, {"ORTH": ".", **operator}]
            variants = [extended for variant in variants for extended in ([*variant, token], [*variant, *abbreviated])]
        out.extend(variants)
    return out


DATE_PATTERNS = [
    [DAY, MONTH, {**YEAR, "OP": "?"}, SUFFIX],
    # A day written as an ordinal, as decrees are signed, its emphasis inside: "de *zevende* september 2010".
    [{"ORTH": "*"}, {"LOWER": {"IN": ORDINAL_DAYS}}, {"ORTH": "*"}, MONTH, YEAR],
    [{"LOWER": {"IN": ORDINAL_DAYS}}, MONTH, YEAR],
    # A range is one span (ANNOTATION.md): "5 september t/m 16 oktober 2000", "1 april 1995 – 1 april 1997",
    # "oktober tot en met december 1995", "september 1995 tot januari 1996".
    [DAY, MONTH, *RANGE, DAY, MONTH, {**YEAR, "OP": "?"}],
    [MONTH, YEAR],
    [DAY, MONTH, YEAR, *RANGE, DAY, MONTH, YEAR],
    [MONTH, {**YEAR, "OP": "?"}, *RANGE, MONTH, YEAR],
    [FULL_MONTH, *RANGE, FULL_MONTH],   # "(januari tot en met november)"; a yearly one is dropped (_recurs_yearly)
    [{"LOWER": "de"}, {"LOWER": "maanden"}, FULL_MONTH, *RANGE, FULL_MONTH, {**YEAR, "OP": "?"}],
    [{"LOWER": {"IN": ["begin", "medio", "eind", "midden", "half"]}}, {**MONTH, "OP": "?"}, YEAR],
    [{"LOWER": {"IN": ["begin", "medio", "eind"]}}, {"LOWER": {"IN": ["dit", "volgend", "vorig"]}}, {"LOWER": "jaar"}],
    [{"LOWER": "het"}, {"LOWER": "einde"}, {"LOWER": "van"}, {"LOWER": {"IN": ["het", "dit"]}}, {"LOWER": "jaar"}, {**YEAR, "OP": "?"}],
    [{"LOWER": "het"}, {"LOWER": "einde"}, {"LOWER": "van"}, YEAR],
    [ARTICLE, {"LOWER": {"IN": ORDINALS}}, {"LOWER": {"IN": ["kwartaal", "helft", "tertiaal"]}}, {"LOWER": "van", "OP": "?"}, {**YEAR, "OP": "?"}],
    [{"TEXT": {"REGEX": r"^Q[1-4]$"}}, YEAR],
    [ARTICLE, {"LOWER": {"IN": SEASONS}}, {"LOWER": "van", "OP": "?"}, {**YEAR, "OP": "?"}],
    [{"LOWER": {"IN": ["dit", "deze", "komend", "komende", "volgend", "afgelopen"]}}, {"LOWER": {"IN": SEASONS}}],
    [ARTICLE, {"LOWER": {"IN": RECESSES}}, {"LOWER": "van", "OP": "?"}, {**YEAR, "OP": "?"}],
    [ARTICLE, {"LOWER": {"IN": CALENDAR_DAYS}}, {**YEAR, "OP": "?"}],
    [{"LOWER": {"IN": ["dit", "volgend", "vorig", "komend", "afgelopen"]}}, {"LOWER": "jaar"}],
    [{"LOWER": "de", "OP": "?"}, {"LOWER": {"IN": ["vorige", "volgende", "komende", "deze", "afgelopen"]}}, {"LOWER": {"IN": ["week", "maand"]}}],
    [{"LOWER": {"IN": DEICTIC_DAYS}}],
    # A weekday before a date belongs to it: "Donderdag 5 april 2018".
    [{"LOWER": {"IN": WEEKDAYS}}, {"ORTH": ",", "OP": "?"}, DAY, MONTH, {**YEAR, "OP": "?"}],
    [{"LOWER": "het"}, {"LOWER": {"IN": ["komende", "volgende", "afgelopen", "vorige"]}}, {"LOWER": "jaar"}],
    [{"LOWER": "de"}, {"LOWER": {"IN": ["komende", "afgelopen", "laatste"]}}, {"LOWER": {"IN": NUMBER_WORDS}, "OP": "?"}, {"LOWER": {"IN": ["dagen", "weken", "maanden", "jaren", "jaar"]}}],
    [{"LOWER": {"IN": ["tweemaal", "driemaal"]}, "OP": "?"}, {"LOWER": {"IN": NUMBER_WORDS}}, {"LOWER": {"IN": UNITS}}],
    [{"LOWER": "een"}, {"LOWER": {"IN": ["half", "halve"]}}, {"LOWER": {"IN": UNITS}}],   # "een half jaar": the article belongs
    [NUMBER, {"LOWER": {"IN": UNITS}}],
    [NUMBER, {"LOWER": {"IN": ABBREVIATED_UNITS}}],
    # Ranges of a duration, of days and of years are one span too: "1 tot 3 maanden", "2 – 4 wkn", "23 en 24 februari
    # 1984" ("en" joins the days of one month; ANNOTATION.md), "2002 - 2003", "de schooljaren 2001 t/m 2003".
    [COUNT, *RANGE, COUNT, {"LOWER": {"IN": SPAN_UNITS}}],
    [DAY, {"LOWER": "en"}, DAY, MONTH, {**YEAR, "OP": "?"}],
    [YEAR_PAIR],
    [YEAR, DASH, YEAR],
    [ARTICLE, {"LOWER": {"IN": ["lopende", "komende", "volgende", "afgelopen", "vorige"]}, "OP": "?"},
     {"LOWER": {"IN": YEAR_KINDS + YEARS_KINDS}}, YEAR_PAIR],
    [ARTICLE, {"LOWER": {"IN": YEARS_KINDS}}, YEAR, *RANGE, YEAR],
    [YEAR],
    # The time words of a DATE stay in its span (ANNOTATION.md): "de maand december 1995", "het verslagjaar 1998",
    # "het schooljaar 2004 - 2005". Without a year "de maand september" is often a recurring month: not matched.
    [{"LOWER": "de"}, {"LOWER": "maand"}, MONTH, YEAR],
    [ARTICLE, {"LOWER": {"IN": YEAR_KINDS}}, YEAR],
    [ARTICLE, {"LOWER": {"IN": YEAR_KINDS}}, YEAR, {"ORTH": {"IN": ["-", "–", "/"]}}, YEAR],
    # Vague periods are DATE with range null (ANNOTATION.md: "geruime tijd", "enige tijd").
    [{"LOWER": "te"}, {"LOWER": "zijner"}, {"LOWER": "tijd"}],
    [{"LOWER": {"IN": ["geruime", "enige", "langere"]}}, {"LOWER": "tijd"}],
    [{"LOWER": "de"}, {"LOWER": "komende"}, {"LOWER": "tijd"}],
]

ORDINAL_WORDS = ["eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende", "tiende",
                 "elfde", "twaalfde"]
# Parts of an article reference after its number: "5, tweede lid, onderdeel b,", "1, eerste lid, onder c, onder 1°",
# "3:17 lid 1", "489 eerste lid, aanhef en onder b", "6 en 7", "3.80 tot en met 3.87".
ARTICLE_NUMBER = r"([IVX]+-)?[A-Z]?\d+[a-z]{0,2}(:\d+[a-z]?)?(\.\d+[a-z]?)*"
# "art. 348 en art. 350 Sv": articles of one law named together are one REF.
ARTICLE_PART = {"LOWER": {"REGEX": r"^(,|°|lid|leden|onderdeel|onderdelen|onder|sub|aanhef|en|of|tot|met|t/m|volzin|zin|artikel|art\.?|"
                                   r"[a-z]|[a-z]{2}|\d+°|[a-z]°|" + "|".join(ORDINAL_WORDS) + "|" + ARTICLE_NUMBER.lower() + r")$"},
                "OP": "*"}
ARTICLE_WORDS = ["artikel", "artikelen", "art.", "art"]
ARTICLE_HEAD = [{"LOWER": {"IN": ARTICLE_WORDS}}, {"TEXT": {"REGEX": f"^{ARTICLE_NUMBER}$"}},
                ARTICLE_PART]
OF_THE = [{"LOWER": {"IN": ["van", "uit"]}, "OP": "?"}, {"LOWER": {"IN": ["de", "het"]}, "OP": "?"}]
LAW_WORD = r"(wet|wetboek|besluit|regeling|verdrag|code|reglement|verordening|richtlijn|maatregel|circulaire|beleidsregel|beleidsregels)"
LAW_HEADS = ["Wet", "Wetboek", "Besluit", "Regeling", "Verdrag", "Beleidsregel", "Beleidsregels", "Circulaire", "Aanwijzing",
             "Instructie", "Reglement", "Uitvoeringsbesluit", "Uitvoeringsregeling", "Overgangsregeling", "Verordening"]
# Law abbreviations in common use (ANNOTATION.md: a law named on its own is LAW, however short).
LAW_ABBREVIATIONS = ["Awb", "Wmo", "Wlz", "Zvw", "Wob", "Woo", "Wabo", "AVG", "Wro", "WRO", "Wbb", "Wvg", "Wtw", "Wm", "BW", "Sr",
                     "Sv", "Rv", "Fw", "Wft", "Wwft", "Wpg", "WW", "WIA", "WAO", "AOW", "Anw", "ANW", "AWBZ", "Wajong", "Wsw",
                     "Wzd", "Wvggz", "Wkkgz", "Wgbo", "WIV", "Wiv", "Wpol", "WVW", "Wvw", "Wgh", "Wkb", "Wbp", "Wnb", "Bor",
                     "Bbl", "Bal", "Bkl", "Vw", "Vb", "WOZ", "Wet WOZ", "Wbtr", "Wpo", "Wvo", "WEB", "WHW", "Wsnp", "Wav", "Wik",
                     "Wtcg", "WTZi", "Wtzi", "Wvb", "Wjz", "Wgr", "WGR", "Awir", "AWR", "Wlb", "Wvbbs", "Wgs", "Wsv", "Wwz",
                     "BBRA"]
NOT_A_LAW_TITLE_WORD = (r"(?!(" + "|".join(LAW_HEADS + ["Kamerstuk", "Kamerstukken", "Staatsblad", "Staatscourant", "Minister",
                                                       "Staatssecretaris"]) + r")$)(?!(?i:[a-z]*" + LAW_WORD + r")$)")
# Words that end a law's title: verbs, pronouns and clause words ("de Wet milieubeheer is ...", "... die ...").
TITLE_STOP = ["is", "zijn", "was", "waren", "wordt", "worden", "werd", "werden", "geldt", "gelden", "gold", "heeft", "hebben",
              "had", "kan", "kunnen", "moet", "moeten", "zal", "zullen", "mag", "mogen", "blijft", "blijven", "treedt", "treden",
              "bepaalt", "bepaald", "bedoeld", "genoemd", "bevat", "regelt", "biedt", "kent", "vraagt", "verplicht", "stelt",
              "gaat", "komt", "vervalt", "vervallen", "gewijzigd", "ingetrokken", "vastgesteld", "opgenomen", "die", "dat",
              "welke", "waarin", "waarbij", "waarvan", "waarop", "waarmee", "wanneer", "indien", "als", "zoals", "ook", "niet",
              "nog", "wel", "echter", "dus", "daarom", "immers", "er", "hier", "daar", "u", "ik", "wij", "we", "zij", "hij",
              "ze", "het", "te", "om", "door", "aan", "naar", "na", "sinds", "vanaf", "per", "tot", "uiterlijk", "nu", "thans",
              "reeds", "al", "alleen", "maar", "want", "omdat", "of", "dan", "nader", "zich", "een", "geen", "artikel", "artikelen", "lid",
              "leden", "onderdeel", "hoofdstuk", "paragraaf", "bijlage", "juncto", "jo.", "minister", "ministers",
              "staatssecretaris", "ministerie", "onder", "meer", "beginsel", "algemeen", "principe", "bijzonder", "elk", "elke",
              "iedere", "alle", "deze", "dit", "zijn", "hun", "haar", "mijn", "onze", "hiervan", "daarvan", "hierin", "daarin",
              # verbs and participles that follow a law's name in legal prose ("het Rechtspositiebesluit wethouders wijzigt",
              # "in het Besluit btv valt", "de in artikel 27 van de Wet opgenomen ..."), and closed-class words
              # ("artikel 3 van de Wet dezelfde betekenis", "van de Wet achterwege")
              "wijzigt", "wijzigen", "wijzigde", "ontvangt", "luidt", "luiden", "luidde", "bedraagt", "bedroeg", "valt", "vallen",
              "viel", "kunt", "ziet", "zien", "zag", "bieden", "kennen", "vragen", "gaan", "komen", "verplichten", "voorziet",
              "voorzien", "voorzag", "bevatten", "bevatte", "vindt", "vinden", "geeft", "geven", "gaf", "legt", "leggen", "staan", "stond", "ligt", "liggen", "noemt", "noemen", "vermeldt",
              "verwijst", "verwijzen", "omschrijft", "beschrijft", "houdt", "maakt", "maken", "laat", "laten", "betreft",
              "betreffen", "omvat", "omvatten", "eist", "vereist", "strekt", "beoogt", "verstaat", "schrijft", "voorschrijft",
              "spreekt", "verklaart", "verleent", "bepalen", "regelen", "regelde", "verving", "vervangt", "kende", "bood", "trad",
              "heet", "beschreven", "omschreven", "vermeld", "vermelde", "bedoelde", "genoemde", "bepaalde", "verleend", "ontleend",
              "herzien", "verankerd", "toegekend", "uitgevoerd", "verstrekt", "betaald",
              "dezelfde", "hetzelfde", "zelfde", "buiten", "binnen", "uitsluitend", "slechts", "eveneens", "tevens",
              "mede", "voorts", "verder", "daarnaast", "zodanig", "dusdanig", "inmiddels", "destijds", "toen", "zo", "zodat",
              "zodra", "voordat", "nadat", "terwijl", "respectievelijk", "e.v.", "enz.", "naast", "zonder", "tijdens", "volgens", "conform", "krachtens",
              "ingevolge", "waar", "hoe", "wat", "wie", "hetgeen", "hetwelk", "minder", "eerst", "pas", "zelf", "zelfs", "steeds",
              "altijd", "nooit", "soms", "vaak", "namelijk", "bijvoorbeeld", "men", "hen", "hem", "ons", "uw", "zulke", "welk"]
TITLE_CONNECTORS = ["van", "op", "de", "het", "der", "en", "voor", "bij", "inzake", "betreffende", "in", "met", "tot", "door",
                    "aan", "ter", "houdende", "tussen"]
LOWER_WORD, NAME_WORD = r"[a-zà-ÿ][a-zà-ÿ'’-]*", r"[A-Z][a-zà-ÿ'’-]+"
# Short forms with two capitals or more: "VpB", "DivBel", "IB", "WTZi".
ABBREVIATION = r"(?=[A-Za-z]*[A-Z][a-z]*[A-Z])[A-Z][A-Za-z]{1,6}"
# Inside the title of a decree or an EU act other laws may be named ("tot wijziging van het Besluit omgevingsrecht").
CLAUSE_WORD = {"TEXT": {"REGEX": r"^(" + NAME_WORD + "|" + LOWER_WORD + r"|\d{1,4}|[A-Z]{2,6}|\d+/\d+(/[A-Za-z]+)?)$"},
               "LOWER": {"NOT_IN": [w for w in TITLE_STOP if w not in TITLE_CONNECTORS + ["een"]]}}
# A law's title after its head word: phrases of lowercase words then names ("sector Rijk", "commissarissen van de
# Koning"), at most three joined by a preposition or "en" ("Besluit bovenwettelijke uitkeringen bij werkloosheid voor
# de sector Rijk"). A lowercase word after a name is the sentence going on ("het Wetboek van Strafrecht vallen"), and a
# participle ends the title ("in werking getreden", "daarin vastgelegd", "hierboven aangegeven", "in de bijlage opgenomen").
# Participles of separable verbs are listed: a pattern for them takes compounds too ("omgevingsrecht").
SEPARABLE_PARTICIPLES = ["vastgelegd", "aangegeven", "aangeduid", "aangewezen", "neergelegd", "uitgewerkt", "ingevoerd", "toegepast",
                         "voorgeschreven", "opgesteld", "ingediend", "afgegeven", "aangevraagd", "opgelegd", "bijgevoegd", "aangepast",
                         "ingesteld", "aangehaald", "uitgebreid", "uitgegeven"]
LOWER_CONTENT = {"TEXT": {"REGEX": r"^(?!ge[a-zà-ÿ]+(?<!hei)[td]$)[a-zà-ÿ][a-zà-ÿ'’-]{2,}$"},
                 "LOWER": {"NOT_IN": TITLE_STOP + TITLE_CONNECTORS + SEPARABLE_PARTICIPLES}}
NAME_CONTENT = {"TEXT": {"REGEX": r"^(" + NOT_A_LAW_TITLE_WORD + NAME_WORD + "|" + ABBREVIATION + r")$"},
                "LOWER": {"NOT_IN": TITLE_STOP}}
PHRASES = [[LOWER_CONTENT, {**LOWER_CONTENT, "OP": "{,2}"}, {**NAME_CONTENT, "OP": "{,2}"}], [NAME_CONTENT, {**NAME_CONTENT, "OP": "{,2}"}]]
JOINS = [[{"LOWER": {"IN": ["en", "of"]}}],
         [{"LOWER": {"IN": ["van", "voor", "bij", "inzake", "betreffende", "in", "op", "tegen", "ter", "tussen"]}},
          {"LOWER": {"IN": ["de", "het", "der"]}, "OP": "?"}]]
TITLE_TAILS = [[]] + [[*join, *phrase] for join in JOINS for phrase in PHRASES]
LAW_TITLES = [[*phrase, *tail, *more] for phrase in PHRASES for tail in TITLE_TAILS for more in (TITLE_TAILS if tail else [[]])]
NAMED_TITLES = [title for title in LAW_TITLES if title[0] is NAME_CONTENT]
# The law after an article, and a law on its own: "Gemeentewet", "Wmo 2015", "Wet milieubeheer", "Wet op het primair
# onderwijs", "Wetboek van Strafrecht", "Algemene verordening gegevensbescherming", "Besluit bovenwettelijke
# uitkeringen bij werkloosheid voor de sector Rijk", "Wet IB 2001".
LAW_NAMES = [
    [{"TEXT": {"REGEX": r"^[A-Z][a-z]+(-[a-z]+)?" + LAW_WORD + r"$"}},
     {"TEXT": {"REGEX": "^(" + ABBREVIATION + "|" + NOT_A_LAW_TITLE_WORD + NAME_WORD + ")$"}, "OP": "{,2}"}, {**YEAR, "OP": "?"}],
    # "Rechtspositiebesluit wethouders", "Rechtspositiebesluit staten- en commissieleden", "Reisbesluit binnenland"
    *[[{"TEXT": {"REGEX": r"^[A-Z][a-z]+(besluit|regeling|reglement)$"}}, *title, {**YEAR, "OP": "?"}]
      for title in LAW_TITLES],
    [{"TEXT": {"IN": LAW_ABBREVIATIONS}}, {**YEAR, "OP": "?"}],
    *[[{"TEXT": {"IN": LAW_HEADS}}, {"LOWER": {"IN": ["op", "tot", "inzake", "voor", "betreffende"]}, "OP": "?"},
       {"LOWER": {"IN": ["de", "het"]}, "OP": "?"}, *title, {**YEAR, "OP": "?"}] for title in LAW_TITLES],
    # "van" joins a head to a name only ("Wetboek van Strafrecht", "Verdrag van Lissabon"): after "van de" comes the issuer
    # ("Besluit van de Raad van Bestuur van ...", "Verordening van het Productschap Vis": ORG), and "van toepassing" is no title.
    *[[{"TEXT": {"IN": LAW_HEADS}}, {"LOWER": "van"}, *title, {**YEAR, "OP": "?"}] for title in NAMED_TITLES],
    *[[{"TEXT": {"IN": ["Algemene", "Tijdelijke", "Europees", "Europese"]}}, {"LOWER": {"REGEX": "^" + LAW_WORD + "$"}}, *title]
      for title in LAW_TITLES],
    [{"TEXT": {"IN": ["Algemene", "Tijdelijke"]}}, {"TEXT": {"REGEX": r"^[A-Z][a-z]+" + LAW_WORD + r"$"}}],
]
# Generic names of a law the text has named before: "artikel 9 van de wet", "artikel 2 der wet", "van de verordening".
LAW_AS_NAMED = [[{"LOWER": {"IN": ["de", "der", "die"]}}, {"LOWER": {"IN": ["wet", "verordening", "richtlijn"]}}]]

SPACE_OPT = {"IS_SPACE": True, "OP": "?"}
EU_NUMBER = {"TEXT": {"REGEX": r"^\d{2,4}/\d{1,4}/(EU|EG|EEG|EGKS|Euratom|GBVB|JBZ)$"}}
EU_WORD = {"LOWER": {"IN": ["verordening", "richtlijn", "besluit", "kaderbesluit", "uitvoeringsverordening", "uitvoeringsbesluit",
                            "beschikking", "aanbeveling"]}}
DATED = [{"LOWER": "van"}, DAY, MONTH, YEAR]
# A title that follows directly ("tot wijziging van ...", "houdende ..."), up to punctuation or a clause word.
TITLE_CLAUSE = [{"LOWER": {"IN": ["tot", "houdende"]}}, {**CLAUSE_WORD, "OP": "+"}]
EU_INSTRUMENT = [{"LOWER": {"IN": ["gedelegeerde", "uitvoerings"]}, "OP": "?"}, EU_WORD,
                 {"ORTH": "("}, {"TEXT": {"IN": ["EU", "EG", "EEG", "Euratom"]}}, {"ORTH": ")"}, {**NR, "OP": "?"},
                 {"TEXT": {"REGEX": r"^\d+/\d+$"}}]
# An EU act cited by its number is a REF of the instrument word and the number ("Verordening (EU) 2016/679",
# "richtlijn nr. 2008/98/EG", "2010/75/EU"); its issuer, date and title after it are left out.
EU_REFERENCES = [
    [*EU_INSTRUMENT],
    [EU_WORD, {**NR, "OP": "?"}, EU_NUMBER],
    [EU_NUMBER],
]


def starred(word: dict) -> list[list[dict]]:
    """A gazette word as it stands, or between the asterisks of markdown italics ("*Stb.*"); a lone asterisk is no part."""
    return [[word], [{"ORTH": "*"}, word, {"ORTH": "*"}]]


# A law or decree cited by its date and publication is one REF ("Wet van 4 juli 1996, Stb. 389"); a decision cited by
# date and number has the number as its REF ("circulaire van 4 september 2003, nr. BK03/76642": DATE, then REF).
# Old decrees in the shared corpora set the gazette in markdown italics ("*Stb.* 126"): the asterisks go inside.
PUBLICATIONS_WORD = {"LOWER": {"IN": ["stb.", "stcrt.", "stb", "stcrt", "staatsblad", "staatscourant"]}}
PUBLICATION_TAILS = [[{"ORTH": ","}, *gazette, {"TEXT": {"REGEX": r"^\d{4}$"}, "OP": "?"}, {"ORTH": ",", "OP": "?"},
                      {**NR, "OP": "?"}, NUMBER] for gazette in starred(PUBLICATIONS_WORD)]
DECREE_WORDS = ["wet", "besluit", "regeling", "wijzigingsbesluit", "wijzigingswet", "wijzigingsregeling"]
DECREE = {"LOWER": {"IN": DECREE_WORDS}}
DECREE_PATTERNS = [[DECREE, *DATED, *publication] for publication in PUBLICATION_TAILS]
IDENTIFIER = {"TEXT": {"REGEX": r"^(?=.*\d)(?=.*([A-Za-z/-]|\d{4}))[A-Z0-9][\w/.-]*$"}}
# The word that names the number is inside the REF ("kenmerk: GEG/2003/65753N", "rekestnummer R04/001/12").
NUMBER_WORDS_REF = ["nr.", "nr", "no.", "nummer", "kenmerk", "zaaknummer", "rolnr.", "rolnummer", "rekestnummer", "parketnummer",
                    "dossiernummer", "registratienummer", "referentienummer", "publicatienummer", "beschikkingsnummer", "zaaknr."]
NUMBERED = [[{"LOWER": {"IN": NUMBER_WORDS_REF}}, {"ORTH": ":", "OP": "?"}, IDENTIFIER,
             {"TEXT": {"REGEX": r"^[A-Z0-9/.-]*\d[\w/.-]*$"}, "OP": "?"}],
            [{"LOWER": {"IN": ["nr.", "nr", "no."]}}, {"TEXT": {"REGEX": r"^[A-Z]{2,5}$"}}, IDENTIFIER]]
# The old spelling of "nr." ("n°. 93", "Staatsblad n°. 4"), which the tokenizer cuts into "n", "°", ".": a number of a
# voordracht or advice is a REF like "nr." today, a Staatsblad citation one REF with its (markdown-starred) gazette.
OLD_NR = [{"LOWER": "n"}, {"ORTH": "°"}, {"ORTH": ".", "OP": "?"}]
OLD_NUMBERED = [[*OLD_NR, {"TEXT": {"REGEX": r"^\d+[a-z]?$"}}],
                [{"ORTH": "*", "OP": "?"}, {"LOWER": {"IN": ["staatsblad", "stb.", "stb"]}}, {"ORTH": "*", "OP": "?"},
                 *OLD_NR, {"TEXT": {"REGEX": r"^\d+[a-z]?$"}}]]
# The formal title of a decree, with its date, is its name: one LAW ("Besluit van 12 maart 2019 tot wijziging van het
# Besluit omgevingsrecht in verband met ..."); a number after it is a REF of its own.
DECREE_TITLES = [[{"TEXT": {"IN": ["Besluit", "Regeling", "Wet", "Beschikking"]}}, *DATED, COMMA, *TITLE_CLAUSE]]
DOSSIER = [{"TEXT": {"REGEX": r"^\d{1,6}$"}}, {"TEXT": {"REGEX": r"^\d{3}(-[A-Z0-9]+)?$"}, "OP": "?"}, {"TEXT": {"REGEX": r"^[A-Z]{1,5}$"}, "OP": "?"}]
NUMBERS = [{"TEXT": {"REGEX": r"^\d+[A-Z]?([–-]\d+)?$"}}, {"LOWER": {"IN": ["tot", "en", "t/m"]}, "OP": "?"}, {"LOWER": "en", "OP": "?"}, {"LOWER": "met", "OP": "?"},
           {"TEXT": {"REGEX": r"^\d+$"}, "OP": "?"}]
PAGE = [{"ORTH": ",", "OP": "?"}, {"LOWER": {"IN": ["blz.", "p.", "pag."]}, "OP": "?"}, {"TEXT": {"REGEX": r"^\d+([–-]\d+)?$"}, "OP": "?"}]
SESSION_ANY = {"TEXT": {"REGEX": r"^\d{4}[/–-]\d{2,4}$"}}

GAZETTES = ["stb.", "stcrt.", "trb.", "stb", "stcrt", "trb", "staatsblad", "staatscourant", "tractatenblad"]
GAZETTE = {"LOWER": {"IN": GAZETTES}}
JOURNALS = ["NJ", "AB", "JB", "BNB", "V-N", "NJB", "RvdW", "JV", "JOR", "JAR", "RSV", "USZ", "FED", "WFR"]

CITATION_PATTERNS = [
    # Kamerstuk 28 638, nr. 185 / Kamerstukken II 2019/20, 31 015, nr. 190 / Kamerstuk 32 500 VII, nrs. 262 tot en met 267
    [{"LOWER": {"IN": ["kamerstuk", "kamerstukken"]}}, ROMAN_CHAMBER, COMMA, {**SESSION_ANY, "OP": "?"}, COMMA, *DOSSIER, COMMA,
     NR, *NUMBERS, *PAGE],
    [{"LOWER": {"IN": ["kamerstuk", "kamerstukken"]}}, {"TEXT": {"REGEX": r"^\d{4,6}(-[A-Z0-9]+)?-\d+$"}}],
    # Tweede Kamer, vergaderjaar 2005–2006, 28 974, nr. 5
    [{"LOWER": {"IN": ["tweede", "eerste"]}}, {"LOWER": "kamer"}, COMMA, {"LOWER": "vergaderjaar", "OP": "?"}, SESSION_ANY, COMMA,
     *DOSSIER, COMMA, NR, *NUMBERS, *PAGE],
    # 31 015, nr. 190 without the word Kamerstuk
    [{"TEXT": {"REGEX": r"^\d{2}$"}}, {"TEXT": {"REGEX": r"^\d{3}(-[A-Z0-9]+)?$"}}, {"ORTH": ","}, NR, {"TEXT": {"REGEX": r"^\d+[A-Z]?$"}}],
    [{"LOWER": "aanhangsel", "OP": "?"}, {"LOWER": "handelingen"}, ROMAN_CHAMBER, SESSION, COMMA, NR, NUMBER,
     {"ORTH": ",", "OP": "?"}, {"LOWER": "item", "OP": "?"}, {"TEXT": {"REGEX": r"^\d+$"}, "OP": "?"}],
    # Stb. 2020, 123 / Stcrt. 2017, nr. 48321 / Trb. 2019, 12 / Stcrt. 252 / Staatscourant van 2 februari 2006, nr. 24 /
    # *Stb.* 1948, I 543 (an old series number)
    *[[*gazette, YEAR, COMMA, {**NR, "OP": "?"}, ROMAN_CHAMBER, *NUMBERS, *dated] for dated in ([], DATED)
      for gazette in starred(GAZETTE)],
    *[[*gazette, {**NR, "OP": "?"}, {"TEXT": {"REGEX": r"^(?!(1[89]|20)\d\d$)\d+$"}}] for gazette in starred(GAZETTE)],
    [GAZETTE, {"LOWER": "van", "OP": "?"}, DAY, MONTH, YEAR, COMMA, NR, NUMBER, *PAGE],
    # Case law and tax journals: NJ 1984, 684 / V-N 1992, blz. 1156 / BNB 1993/248; LJN: BQ6520; ECLI:NL:HR:2006:AU4666
    [{"TEXT": {"IN": JOURNALS}}, YEAR, {"ORTH": ","}, {"LOWER": {"IN": ["blz.", "p.", "nr."]}, "OP": "?"}, NUMBER],
    [{"TEXT": {"IN": JOURNALS}}, {"TEXT": {"REGEX": r"^(1[89]|20)\d\d/\d+$"}}],
    [{"TEXT": "LJN"}, {"ORTH": ":", "OP": "?"}, {"TEXT": {"REGEX": r"^[A-Z]{2}\d{4}$"}}],
    [{"TEXT": {"REGEX": r"^ECLI:[A-Z]{2}:[A-Z]+:\d{4}:[A-Z0-9.]+$"}}],
    [{"TEXT": "ECLI"}, {"ORTH": ":"}, {"TEXT": {"REGEX": r"^[A-Z]{2}$"}}, {"ORTH": ":"}, {"TEXT": {"REGEX": r"^[A-Z]+:\d{4}:[A-Z0-9.]+$"}}],
    *EU_REFERENCES,
    *DECREE_PATTERNS,
    *NUMBERED,
    *OLD_NUMBERED,
    # standards cited by number (ANNOTATION.md, v2.6): NEN 5861, NEN-EN 1090-2, ISO 7350, BRL 5050
    [{"TEXT": {"IN": ["NEN", "NEN-EN", "NEN-ISO", "NEN-EN-ISO", "ISO", "BRL", "NPR"]}}, {"TEXT": {"REGEX": r"^\d{3,5}(-\d+)?(:\d{4})?$"}}],
    [{"TEXT": {"IN": ["PbEG", "PbEU", "PB"]}}, {**YEAR, "OP": "?"}, COMMA, {"TEXT": {"IN": ["L", "C"]}}, NUMBER],
    [{"TEXT": {"IN": ["PbEG", "PbEU", "PB"]}}, {**YEAR, "OP": "?"}, COMMA, {"TEXT": {"REGEX": r"^[LC]\d+$"}}],
]
# artikel 3, eerste lid, van de Wet milieubeheer: only with the law named (a bare "artikel 7" may be internal)
ARTICLE_PATTERNS = [
    *[ARTICLE_HEAD + OF_THE + law for law in LAW_NAMES],
    *[ARTICLE_HEAD + [{"LOWER": "van", "OP": "?"}] + law for law in LAW_AS_NAMED],
    *[ARTICLE_HEAD + OF_THE + pattern for pattern in EU_REFERENCES],
]
REF_PATTERNS = [*CITATION_PATTERNS, *ARTICLE_PATTERNS]
LAW_PATTERNS = [*LAW_NAMES, *DECREE_TITLES]

# Roads (ANNOTATION.md: motorways are LOC), as the road tables of traffic regulations write them ("A2: Knp. Deil -
# afrit 19 (Kerkdriel)"): a road number, "Rijksweg A2", a junction with its name, and the place an exit is named
# after. Only in a paragraph that speaks of roads (ROAD_WORDS), since "A2" alone is also a licence or paper size.
ROAD_NUMBER = {"TEXT": {"REGEX": r"^[AN]\d{1,3}[a-z]?(/[AN]\d{1,3}[a-z]?)?$"}}
PLACE_WORD = {"TEXT": {"REGEX": r"^([A-Z][\w'’.-]*|'s-[A-Z][\w-]*|op|aan|den|de|bij)$"}}
EXIT_WORDS = {"afrit", "afslag", "aansluiting"}
ROAD_PATTERNS = [
    [ROAD_NUMBER],
    [{"LOWER": "rijksweg"}, ROAD_NUMBER],
    [{"LOWER": {"IN": ["knp", "kp"]}}, {"ORTH": "."}, {"IS_TITLE": True, "OP": "+"}],
    [{"LOWER": {"IN": ["knp.", "kp.", "knooppunt"]}}, {"IS_TITLE": True, "OP": "+"}],
    # the place an exit is named after: the whole parenthesis, cut to its inside by match_spans
    [{"LOWER": {"IN": sorted(EXIT_WORDS)}}, {"TEXT": {"REGEX": r"^\d{1,3}[a-z]?$"}}, {"ORTH": "("}, {**PLACE_WORD, "OP": "+"},
     {"ORTH": ")"}],
]

# Function words and separators a span never ends on.
TRAILING = {"van", "de", "het", "der", ",", "onder", "lid", "en", "of", "tot", "met", "t/m", "op", "voor", "bij", "in", "inzake",
            "betreffende", "houdende", "ter", "door", "aan", "aanhef", "onderdeel", "sub", "(", "-"}
LABELS = ("DATE", "REF", "LAW", "LOC")
POLICIES = ("rule", "extend", "longer", "model")
# The citation titles of Dutch laws and regulations (built by ``python -m kamerbrief.training.law_titles``).
LAW_TITLES_FILE = Path(__file__).with_name("law_titles.txt")
# The royal palaces decrees are signed at, LOC as a whole (ANNOTATION.md: "Paleis Huis ten Bosch", "Paleis op de Dam").
PALACES = ["Paleis Het Loo", "Het Loo", "het Loo", "Paleis Huis ten Bosch", "Huis ten Bosch", "Paleis Noordeinde",
           "Paleis op de Dam", "Paleis Soestdijk", "Soestdijk", "Paleis Lange Voorhout"]
# Names of public bodies that are ORG wherever they stand (written by the team; setting ``org_names``).
ORG_NAMES_FILE = Path(__file__).with_name("org_names.txt")
# Characters that are spaces for the patterns (str.isspace() covers U+00A0, U+2009, U+202F, U+3000 ...; U+200B is not).
OTHER_SPACE = re.compile(r"[^\S ]|\u200b|\u2060|\ufeff")


# Each group of patterns with a test on the paragraph's text that every match of the group needs: a group whose
# test fails cannot match there and is not run. Running all ~300 patterns over every token was most of the rules'
# time, and most paragraphs lack digits, "art" or a law word. (Checked per pattern: every citation and article
# pattern has a required token with a digit; every law pattern starts with a law word, an abbreviation or a head.)
DATE_WORDS = re.compile(r"\d|jaar|jaren|einde|kwarta|helft|tertiaal|zomer|winter|lente|herfst|reces|dag|week|weken|maand|uur|uren"
                        r"|decenni|begrotingsbehandeling|tijd\b|vandaag|gister|morgen|middag|avond|ochtend|" + "|".join(DUTCH_MONTHS))
LAW_WORDS = re.compile(LAW_WORD)
LAW_CASED = re.compile("|".join(re.escape(w) for w in [*LAW_ABBREVIATIONS, *LAW_HEADS, "Beschikking"]))
# ("aansluiting" is left out: "in aansluiting op bijlage A1" is no road.)
ROAD_WORDS = re.compile(r"\b(knp\.|kp\.|knooppunt|afrit|afslag|rijksweg|snelweg|autosnelweg|hectometer)")
DIGIT = re.compile(r"\d")  # what the patterns' REGEX predicates call a digit
GROUPS = (  # (label, patterns, test on (text, lowercased text, whether the text has a digit))
    ("DATE", with_abbreviated_months(DATE_PATTERNS), lambda text, lower, digit: DATE_WORDS.search(lower) is not None),
    ("REF", with_abbreviated_months(CITATION_PATTERNS), lambda text, lower, digit: digit),
    ("REF", with_abbreviated_months(ARTICLE_PATTERNS), lambda text, lower, digit: digit and "art" in lower),
    ("LAW", with_abbreviated_months(LAW_PATTERNS), lambda text, lower, digit: LAW_WORDS.search(lower) is not None or LAW_CASED.search(text) is not None),
    ("LOC", ROAD_PATTERNS, lambda text, lower, digit: digit or "knp" in lower or "kp." in lower or "knooppunt" in lower),
)


class GroupedMatcher:
    """The rule patterns as one ``Matcher`` per group of :data:`GROUPS`; calling it on a ``Doc`` gives the matches
    of the groups whose test the text passes: the same (label, start, end) matches as one ``Matcher`` of all."""

    def __init__(self, vocab):
        self.groups = []
        for label, patterns, test in GROUPS:
            matcher = Matcher(vocab)
            matcher.add(label, patterns)
            self.groups.append((test, matcher))

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        text = doc.text
        lower, digit = text.lower(), DIGIT.search(text) is not None
        return [match for test, matcher in self.groups if test(text, lower, digit) for match in matcher(doc)]


def _unglued_end(doc: Doc, start: int, end: int) -> int:
    """A match ends where the tokenizer split two words glued by a missing break ("Artikel 284Artikel 43": no space
    between a word or number and a capitalised word of three letters or more): what follows is a match of its own."""
    for i in range(start, end - 1):
        nxt = doc[i + 1]
        if not doc[i].whitespace_ and (doc[i].is_alpha or doc[i].like_num) and nxt.is_title and nxt.is_alpha and len(nxt) >= 3:
            return i + 1
    return end


def _trimmed(doc: Doc, start: int, end: int) -> tuple[int, int]:
    while end - start > 1 and (doc[end - 1].lower_ in TRAILING or doc[end - 1].is_space):
        end -= 1
    while end - start > 1 and doc[start].is_space:
        start += 1
    return start, end


# A number of years or hours that is no DATE (ANNOTATION.md): an age ("65 jaar of ouder", "de leeftijd van 18 jaar"),
# a rate ("8 uur per week") and an amount of hours ("995 uur", "TS 48 uur"): hours are a DATE only as a time limit or a
# duration the text marks as one ("binnen 24 uur", "ten minste 72 uur"). A day that recurs every year is a frequency
# ("per 1 januari van elk jaar", "op 1 januari en 1 juli van ieder kalenderjaar").
# "acht jaar of meer" is no age: a sentence's length ("een strafbedreiging van acht jaar of meer"), a DATE in the gold.
AGE_AFTER = [["oud"], ["ouder"], ["jonger"], ["of", "ouder"], ["en", "ouder"], ["of", "jonger"], ["en", "jonger"]]
HOUR_SIGNALS = {"binnen", "na", "gedurende", "minste", "tenminste", "minimaal", "hoogste", "uiterlijk", "bijna",
                "ongeveer", "circa", "ruim", "duurde"}
HOUR_PERIODS = {"periode", "tijdsruimte", "termijn", "duur"}   # "een termijn van 24 uur"
HOUR_AFTER = {"na", "nadat", "durende", "voorafgaand", "voorafgaande"}   # "36 uur na het overlijden"
RATE_UNITS = {"dag", "week", "maand", "etmaal"}   # "8 uur per week"; "zes maanden per kalenderjaar" stays a duration
EVERY = {"elk", "elke", "ieder", "iedere"}
CYCLE_DETERMINERS = {"het", "enig", "dat"}   # "van het (betrokken) kalenderjaar", "van enig kalenderjaar"
CYCLE_ADJECTIVES = {"betrokken", "lopende", "desbetreffende", "betreffende", "voorafgaande", "voorgaande",
                    "daaropvolgende", "volgende", "komende"}
DATE_LIST_WORDS = {"en", ",", "of", "t/m", "tot", "met", "–", "-"}


def _among_numbers(view: Doc, i: int) -> bool:
    """Whether token ``i`` is a table cell next to a cell that holds a number other than a year ("| 96 | 1875 | 0 |",
    "| 96  | 1875  |": extra spaces are tokens of their own): then a number like a year is a count."""
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(view) and view[j].is_space:
            j += step
        if not (0 <= j < len(view) and view[j].text == "|"):
            continue
        j += step
        while 0 <= j < len(view) and view[j].is_space:
            j += step
        if 0 <= j < len(view) and view[j].like_num and not YEAR_TOKEN.match(view[j].text):
            return True
    return False


POSTCODE_LETTERS = re.compile(r"^[A-Z]{2}$")


def _postcode(view: Doc, i: int) -> bool:
    """Whether token ``i`` is the number of a Dutch postcode ("Postbus 1603, 2003 BR Haarlem"), not a year."""
    return (i + 1 < len(view) and view[i].text.isdigit() and len(view[i]) == 4 and bool(view[i].whitespace_)
            and POSTCODE_LETTERS.match(view[i + 1].text) is not None)


TWO_DIGITS = re.compile(r"^\d\d$")


def _code(view: Doc, i: int) -> bool:
    """Whether token ``i`` opens a number written in groups of two digits after it, as goods codes are ("GN-code 2004
    10 10"): no date is written so."""
    return (i + 2 < len(view) and view[i].text.isdigit() and bool(view[i].whitespace_) and bool(view[i + 1].whitespace_)
            and TWO_DIGITS.match(view[i + 1].text) is not None and TWO_DIGITS.match(view[i + 2].text) is not None)


def _number_not_year(view: Doc, i: int) -> bool:
    """Whether the one-word DATE at token ``i`` is a count in a table, a postcode's number or a code (above)."""
    return _among_numbers(view, i) or _postcode(view, i) or _code(view, i)


def without_table_counts(entities: list[Span]) -> list[Span]:
    """``entities`` without a one-word DATE that is a count in a table or a postcode's number (:func:`_number_not_year`),
    whoever proposed it: the model reads "| 81 | 1903 | 4 |" and "2003 BR Haarlem" as years as readily as the
    patterns do."""
    return [e for e in entities if not (e.label_ == "DATE" and len(e) == 1 and _number_not_year(e.doc, e.start))]


def _own_title(view: Doc, start: int) -> bool:
    """Whether a decree title with its date opens the paragraph: the document's own title ("Besluit van 8 juli 2000,
    houdende wijziging van ..."), which is tagged inside (its date DATE, the laws it names LAW), not as one LAW."""
    return (all(not t.is_alpha and not t.like_num for t in view[:start]) and start + 3 < len(view) and view[start + 1].lower_ == "van"
            and view[start + 2].like_num and view[start + 3].lower_ in MONTHS)


# Who has an age: "leerlingen van 4 tot en met 7 jaar", "kinderen tot en met 12 jaar", "leerlingen vanaf 8 jaar".
AGE_HOLDERS = {"leerling", "leerlingen", "kind", "kinderen", "jongere", "jongeren", "jeugdige", "jeugdigen", "minderjarige",
               "minderjarigen", "patiënt", "patiënten", "persoon", "personen", "werknemer", "werknemers",
               "gelegenheid", "viering", "jubileum"}   # an anniversary is an age too: "ter gelegenheid van 200 jaar Belastingdienst"
# Between an age's holder (or the word "leeftijd") and its years: "van", "vanaf", a range "4 tot en met 7".
AGE_LEAD_WORDS = {"van", "vanaf", "tot", "en", "met", "t/m", "-", "–", "boven", "beneden", "onder", "de", ":"}
HALVES = {"half", "halve", "anderhalf", "anderhalve"}
PERIOD_AFTER = {"na", "nadat", "geleden", "later", "eerder", "voordat"}
# An age reached or had: "17 jaar geworden", "de dag dat hij 18 jaar wordt.", "de ambtenaar die 20 jaar is;".
AGE_VERBS = {"geworden", "wordt", "werd", "is", "was"}


def _counts(token) -> bool:
    return token.like_num or token.lower_ in NUMBER_WORDS


def _age(view: Doc, start: int, end: int) -> bool:
    """Whether "N jaar" (or a range "4 tot en met 7 jaar") at ``start:end`` is an age: "65 jaar of ouder", "zeven jaren
    oud", "de leeftijd van 18 jaar", "de leeftijdsgrens van 30 jaar", "jonger dan 4 jaar", "ouder zijn dan 25 jaar",
    "leerlingen van 4 tot en met 7 jaar", "kinderen tot en met 12 jaar", "de viering van 400 jaar Nederland-Australië"
    (ANNOTATION.md: not DATE)."""
    span = view[start:end]
    if not (len(span) >= 2 and span[-1].lower_ in ("jaar", "jaren") and _counts(span[0])
            and all(_counts(t) or t.lower_ in AGE_LEAD_WORDS for t in span[1:-1])) or HALVES & {t.lower_ for t in span}:
        return False   # "niet ouder dan een half jaar": a document's age, a duration
    after = [t.lower_ for t in view[end:end + 2]]
    before = [t.lower_ for t in view[max(0, start - 3):start]]
    if any(after[:len(a)] == a for a in AGE_AFTER) or before[-1:] == ["dan"] and bool({"ouder", "jonger"} & set(before)):
        return True
    if after[:1] and after[0] in AGE_VERBS and (after[0] == "geworden" or (len(after) < 2 or view[end + 1].is_punct)
                                                and (after[0] in ("wordt", "werd") or before[-1:] == ["die"])):
        return True
    if after[:1] and after[0] in PERIOD_AFTER:
        return False   # "werknemers tot 3 jaar na hun ontslag": a period counted from an event
    i = start - 1   # back over "van", "vanaf" and the start of a range to the word that has the age
    while i >= 0 and start - i <= 6 and (view[i].lower_ in AGE_LEAD_WORDS or _counts(view[i])):
        i -= 1
    return i >= 0 and i < start - 1 and view[i].lower_ in AGE_HOLDERS or i >= 0 and "leeftijd" in view[i].lower_


def without_ages(entities: list[Span]) -> list[Span]:
    """``entities`` without a DATE that is an age (:func:`_age`), whoever proposed it, also where the model left the
    word "jaar" out ("leerlingen vanaf [8] jaar")."""
    def age(e: Span) -> bool:
        start = e.start + (len(e) > 1 and e[0].lower_ == "de")   # "onder [de zestien jaar]"
        end = e.end + (e.end < len(e.doc) and e.doc[e.end].lower_ in ("jaar", "jaren") and e[-1].like_num)
        return _age(e.doc, start, end)
    return [e for e in entities if not (e.label_ == "DATE" and age(e))]


def _not_a_date(view: Doc, start: int, end: int) -> bool:
    """Whether a DATE match is an age, a rate, an amount of hours, a count in a table, a postcode or a day of every
    year (above)."""
    words = [t.lower_ for t in view[start:end]]
    after = [t.lower_ for t in view[end:end + 2]]
    before = [t.lower_ for t in view[max(0, start - 2):start]]
    if _age(view, start, end):
        return True
    if 2 <= len(words) <= 3 and words[-1] in UNITS and all(t.like_num or t.lower_ in NUMBER_WORDS for t in view[start:end - 1]):
        if after[:1] == ["per"] and after[1:2] and after[1] in RATE_UNITS:
            return True
        if words[-1] in ("uur", "uren") and not (HOUR_SIGNALS.intersection(before) or after[:1] and after[0] in HOUR_AFTER or
                                               before[-1:] == ["van"] and len(before) == 2 and before[0] in HOUR_PERIODS):
            return True
    if len(words) == 1 and _number_not_year(view, start):
        return True
    return words[-1] in MONTHS and _recurs_yearly(view, end)


def _recurs_yearly(view: Doc, end: int) -> bool:
    """Whether the days or months before token ``end`` recur every year: "1 januari en 1 juli van elk jaar", "31 maart
    van het schooljaar", "1 maart van het betrokken kalenderjaar" (a frequency, ANNOTATION.md: not DATE), but not
    "1 maart van het jaar 2020"."""
    i = end   # over the rest of a list of days ("1 januari en 1 juli") to what follows it
    while i < len(view) and (view[i].lower_ in DATE_LIST_WORDS or view[i].lower_ in MONTHS or view[i].like_num):
        i += 1
    following = [t.lower_ for t in view[i:i + 5]]
    if following[:1] != ["van"] or len(following) < 2:
        return False
    if following[1] in EVERY:
        return True
    j = 2 if following[1] in CYCLE_DETERMINERS else 0
    if j and j < len(following) and following[j] in CYCLE_ADJECTIVES:
        j += 1
    return bool(j) and j < len(following) and following[j] in YEAR_KINDS and not (
        j + 1 < len(following) and YEAR_TOKEN.match(following[j + 1]))


def _recurring_days(span: Span) -> bool:
    """Whether a DATE span names days or months without a year that recur every year, the cycle after the span ("31
    maart" + "van het schooljaar") or inside it ("1 april tot en met 31 mei van het schooljaar")."""
    months = [t.i for t in span if t.lower_ in MONTHS]
    if not months or any(YEAR_TOKEN.match(t.text) for t in span):
        return False
    return _recurs_yearly(span.doc, months[-1] + 1)


def _rate(span: Span) -> bool:
    """Whether a DATE span is the period of a rate: "vierduizend gulden per zes maanden" (ANNOTATION.md: not DATE)."""
    return (len(span) == 2 and span[-1].lower_ in UNITS and (span[0].like_num or span[0].lower_ in NUMBER_WORDS)
            and span.start > 0 and span.doc[span.start - 1].lower_ == "per")


def _speaking_time(span: Span) -> bool:
    """Whether a DATE span is a debate's speaking time, an amount like hours of work (ANNOTATION.md: not DATE): "drie
    minuten spreektijd", "iedereen heeft vier minuten." ("een paar minuten schorsen" stays a duration)."""
    doc = span.doc
    if span[-1].lower_ not in ("minuut", "minuten"):
        return False
    if span.end < len(doc) and doc[span.end].lower_ == "spreektijd":
        return True
    return (span.start > 0 and doc[span.start - 1].lower_ in ("heeft", "hebt", "hebben", "krijgt")
            and (span.end == len(doc) or doc[span.end].is_punct))


def without_frequencies(entities: list[Span]) -> list[Span]:
    """``entities`` without a DATE of days or months without a year that recur every year (:func:`_recurring_days`), of
    a rate's period (:func:`_rate`) or of speaking time (:func:`_speaking_time`), whoever proposed it."""
    return [e for e in entities if not (e.label_ == "DATE" and (_recurring_days(e) or _rate(e) or _speaking_time(e)))]


# An office named in lowercase without its portfolio: "het woord aan de staatssecretaris" is no ORG (ANNOTATION.md:
# generic offices; none of the 300 such words in train's and dev's gold is tagged, where "de Minister" often is).
BARE_OFFICES = {"minister", "ministers", "staatssecretaris", "staatssecretarissen"}
# A debate's meeting is no body and no law: "in het AO", "het VAO Wmo", "het WGO" (the gold tags none of 32 in train
# and dev; the model took 11 for ORG and 13 for LAW).
MEETINGS = {"AO", "VAO", "WGO", "SO", "NO"}
# An adjective of a place or people, one word: "de Zeeuwse economie", "het Europese vasteland", "de Friese taal" (no
# gold span of train or dev is one; the model took 13 for LOC, ORG or LAW). "Lisse" and "Familienkasse" are names.
PLACE_ADJECTIVE = re.compile(r"^[A-Z][a-zà-ÿ-]+(?<!s)(se|sche)$")
# A law's head word alone is how a document names itself or one it named before ("dit Besluit", "de Regeling"): no
# LAW (the gold tags 1 of 252 in train and dev). "Wet", "Verdrag", "Richtlijn" and "Overeenkomst" alone are tagged
# where a document defines them, so they are left to the model.
BARE_LAW_HEADS = {"Besluit", "Regeling", "Verordening", "Aanwijzing", "Circulaire", "Beleidsregel"}


def without_non_names(entities: list[Span]) -> list[Span]:
    """``entities`` without an ORG that is only a lowercase office word (:data:`BARE_OFFICES`), a LAW that is only a
    head word (:data:`BARE_LAW_HEADS`), an ORG or LAW that names a debate's meeting (:data:`MEETINGS`) and a one-word
    LOC, ORG or LAW that is an adjective of a place (:data:`PLACE_ADJECTIVE`), whoever proposed them."""
    return [e for e in entities if not (e.label_ == "ORG" and e.text in BARE_OFFICES
                                        or e.label_ == "LAW" and e.text in BARE_LAW_HEADS
                                        or e.label_ in ("ORG", "LAW") and e[0].text in MEETINGS
                                        or e.label_ in ("LOC", "ORG", "LAW") and len(e) == 1 and PLACE_ADJECTIVE.match(e.text))]


# An office before its holders' names: "Staatssecretaris Keijzer", "ministers Wiebes en Schouten" tag the holders, PER
# (the gold does so in all 63 such places of train's and dev's debates; the model took 7 whole for ORG).
HOLDER_OFFICES = {"minister", "ministers", "staatssecretaris", "staatssecretarissen", "premier", "minister-president"}


def office_holders(entities: list[Span]) -> list[Span]:
    """``entities`` with an ORG that is an office and its holders' names (:data:`HOLDER_OFFICES`, then capitalised
    words, "en" or a comma) made a PER for each name, whoever proposed it."""
    out = []
    for e in entities:
        if not (e.label_ == "ORG" and len(e) > 1 and e[0].lower_ in HOLDER_OFFICES and e[1].is_title
                and all(t.is_title or t.lower_ == "en" or t.text == "," for t in e[1:])):
            out.append(e)
            continue
        start = e.start + 1
        for t in e[1:]:
            if t.lower_ == "en" or t.text == ",":
                if start < t.i:
                    out.append(Span(e.doc, start, t.i, label="PER"))
                start = t.i + 1
        if start < e.end:
            out.append(Span(e.doc, start, e.end, label="PER"))
    return out


ARTICLE_NUMBER_TOKEN = re.compile(f"^{ARTICLE_NUMBER}$")


def _ordinal_parts(doc: Doc, i: int) -> int:
    """The end of the parts named by ordinals from token ``i`` on (", tweede lid", "eerste en tweede lid"), or ``i``."""
    j = i + (i < len(doc) and doc[i].text == ",")
    if j >= len(doc) or doc[j].lower_ not in ORDINAL_WORDS:
        return i
    j += 1
    while j + 1 < len(doc) and doc[j].lower_ in ("en", ",") and doc[j + 1].lower_ in ORDINAL_WORDS:
        j += 2
    return j + 1 if j < len(doc) and doc[j].lower_ in ("lid", "leden") else i


def completed_reference(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """A REF's tokens with the parts a pattern or the model left out (ANNOTATION.md: a REF swallows its parts): a
    capital the tokenizer split off its number ("nr. CPP2004/2730M" as "2730", "M"); the parts named before the article
    ("het tweede lid van artikel 15a van ...", "het eerste en tweede lid van genoemd artikel 3"); and an article cut
    after its word or its number ("artikel" of "artikel 98, derde lid")."""
    last = doc[end - 1]
    if (end < len(doc) and not last.whitespace_ and last.text[-1].isdigit() and doc[end].is_alpha and doc[end].is_upper
            and len(doc[end]) <= 2):
        end += 1
    if doc[start].lower_ in ARTICLE_WORDS:
        head = start - 1 if start > 0 and doc[start - 1].lower_ == "genoemd" else start
        if head >= 3 and doc[head - 1].lower_ == "van" and doc[head - 2].lower_ in ("lid", "leden"):
            first = head - 2
            while first > 0 and (doc[first - 1].lower_ in ORDINAL_WORDS or
                                 (doc[first - 1].lower_ in ("en", ",") and first > 1 and doc[first - 2].lower_ in ORDINAL_WORDS)):
                first -= 1
            if first < head - 2:
                start = first
    if doc[end - 1].lower_ in ARTICLE_WORDS and end < len(doc) and ARTICLE_NUMBER_TOKEN.match(doc[end].text):
        end += 1
    if ARTICLE_NUMBER_TOKEN.match(doc[end - 1].text) and end >= 2 and doc[end - 2].lower_ in ARTICLE_WORDS:
        end = _ordinal_parts(doc, end)
    elif doc[end - 1].lower_ in ORDINAL_WORDS and end < len(doc) and doc[end].lower_ in ("lid", "leden"):
        end += 1
    return start, end


def rule_view(doc: Doc, tokenizer=None) -> Doc:
    """``doc`` as the patterns read it: Unicode spaces made ASCII spaces (same offsets, see the module docstring) and,
    with ``tokenizer``, cut by that tokenizer, not as ``doc``'s tokens, which the model may have split at its entity
    edges (``nr|.`` after an entity "nr")."""
    plain = OTHER_SPACE.sub(" ", doc.text)
    return doc if plain == doc.text and tokenizer is None else _tokenizer_doc(doc, plain, tokenizer)


def match_spans(doc: Doc, matcher: GroupedMatcher, labels: tuple[str, ...] = LABELS, tokenizer=None,
                view: Doc | None = None) -> list[Span]:
    """Non-overlapping rule spans of ``doc`` (the longest match wins; a tie goes to REF, then LAW, then
    DATE, then LOC), trailing function words trimmed, matched on :func:`rule_view` (``view`` if the caller made it)."""
    view = rule_view(doc, tokenizer) if view is None else view
    rank = {"REF": 0, "LAW": 1, "DATE": 2, "LOC": 3}
    roads = "LOC" in labels and ROAD_WORDS.search(view.text.lower()) is not None
    found = []
    for match_id, start, end in matcher(view):
        label = view.vocab.strings[match_id]
        if label not in labels or label == "LOC" and not roads:
            continue
        start, end = _trimmed(view, start, _unglued_end(view, start, end))
        if label == "DATE" and _not_a_date(view, start, end) or label == "LAW" and _own_title(view, start):
            continue
        if label == "REF":
            start, end = completed_reference(view, start, end)
        if label == "LOC" and view[start].lower_ in EXIT_WORDS:
            if view[end - 1].text != ")":
                continue
            start, end = start + 3, end - 1   # "afrit 19 (Kerkdriel)": the place inside the parenthesis
        end_char = view[end - 1].idx + len(view[end - 1])
        if view[end - 1].text.endswith(".") and any(c.isdigit() for c in view[end - 1].text):
            end_char -= 1   # the sentence's full stop glued to a number ("nr. CPP2002/1006M.")
        found.append((view[start].idx, end_char, label))
    spans = []
    for start_char, end_char, label in sorted(found, key=lambda f: (rank.get(f[2], 3), f[0])):
        span = doc.char_span(start_char, end_char, label=label, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    return filter_spans(spans)


def _tokenizer_doc(doc: Doc, text: str, tokenizer=None) -> Doc:
    """``text`` (``doc.text`` with its Unicode spaces made ASCII, same length) tokenised by ``tokenizer``, or
    like a blank Dutch pipeline's ``doc``."""
    if tokenizer is not None:
        return tokenizer(text)
    tokenizer = _TOKENIZERS.get(id(doc.vocab))
    if tokenizer is None:
        from spacy.lang.nl import Dutch

        tokenizer = _TOKENIZERS.setdefault(id(doc.vocab), Dutch(vocab=doc.vocab).tokenizer)
    return tokenizer(text)


_TOKENIZERS: dict[int, object] = {}


def check_policy(policy: dict[str, str]) -> dict[str, str]:
    for label, mode in policy.items():
        if mode not in POLICIES:
            raise KamerbriefError(f"kamerbrief_rules: policy for {label} is {mode!r}; choose one of {', '.join(POLICIES)}")
    return dict(policy)


def merge(entities: list[Span], span: Span, mode: str) -> list[Span]:
    """The entities after merging one rule ``span`` into them under ``mode`` (see the module docstring)."""
    overlapping = [e for e in entities if e.start < span.end and span.start < e.end]
    if not overlapping:
        return entities + [span]
    if mode == "rule" and span.label_ == "REF":
        # a model's article REF that runs into a rule's decree or gazette citation names what that cites: "artikelen 3,
        # 4 en 5 van Ons" + "besluit van 24 Maart 1951, *Stb.* 87" is one REF (cut_references splits a gazette in
        # brackets off again: "artikel 70a van de Pachtwet (*Stb.* 1958, 37)")
        cites = span[0].text == "*" or span[0].lower_ in GAZETTES or span[0].lower_ in DECREE_WORDS
        before = [e for e in overlapping if e.label_ == "REF" and e.start < span.start and e[0].lower_ in ARTICLE_WORDS]
        if cites and before:
            span = Span(span.doc, min(e.start for e in before), max(span.end, *(e.end for e in before)), label="REF")
            overlapping = [e for e in entities if e.start < span.end and span.start < e.end]
    if mode == "rule":
        # A larger model entity of another label around the rule span ("Wmo 2015" as LAW around the year)
        # is a different, bigger unit: it stays and the rule span is dropped. So does a model's REF that goes on from
        # the rule's to a year, in words alone: a regulation's whole title ("artikel 28b van de Regeling geldelijke
        # steun voorzieningen" + "aan huurwoningen 1987"; the year belongs to the name).
        wins = not any((e.label_ != span.label_ and e.start <= span.start and span.end <= e.end and len(e) > len(span))
                       or _goes_on_to_a_year(e, span) for e in overlapping)
    elif mode == "extend":
        wins = all(span.start <= e.start and e.end <= span.end for e in overlapping)
    elif mode == "longer":
        wins = len(span.text) >= max(len(e.text) for e in overlapping)
    else:
        wins = False
    return [e for e in entities if e not in overlapping] + [span] if wins else entities


def _goes_on_to_a_year(entity: Span, span: Span) -> bool:
    """Whether ``entity`` is a REF that starts with the REF ``span`` and goes on past it in words to a year."""
    if entity.label_ != "REF" or span.label_ != "REF" or entity.start != span.start or entity.end <= span.end:
        return False
    tail = entity.doc[span.end:entity.end]
    return YEAR_TOKEN.match(tail[-1].text) is not None and all(t.is_alpha or t.i == tail.end - 1 for t in tail)


def completed_laws(entities: list[Span]) -> list[Span]:
    """``entities`` with every LAW or REF followed directly by a year taking it along: the year belongs to the name
    ("BBRA 1984", "Wmo 2015", "artikel 2 van de Regeling ... telecommunicatie 2007"; in the train and dev gold no year
    ever follows a LAW or REF outside it, 767 end on one). A DATE of that year goes. A head word after "deze" or "dit"
    is the document naming itself ("Deze Aanwijzing geldt ...", like "artikel 3 van deze beleidsregel"): no LAW."""
    out = [e for e in entities if not (e.label_ == "LAW" and len(e) == 1 and e.text in LAW_HEADS and e.start > 0
                                       and e.doc[e.start - 1].lower_ in ("deze", "dit"))]
    for entity in list(out):
        doc, end = entity.doc, entity.end
        if (entity.label_ not in ("LAW", "REF") or end >= len(doc) or not entity[-1].whitespace_
                or not YEAR_TOKEN.match(doc[end].text)):
            continue
        overlapping = [e for e in out if e.start <= end < e.end]
        if all(e.label_ == "DATE" and e.start == end and e.end == end + 1 for e in overlapping):
            out = [e for e in out if e != entity and e not in overlapping] + [Span(doc, entity.start, end + 1, label=entity.label_)]
    return sorted(out, key=lambda e: e.start)


# Words after a REF's law that are the sentence going on, not the law's title ("artikel 3 van de Wet achterwege",
# "§ 33 van de Toelichting Landbouw aangegeven", "artikel 2 van het Rwb'59 van belang"): the clause words that end a
# decree's title (as in CLAUSE_WORD), participles, and a few adverbs; a word that joins another part of the
# reference ("jo.", "onder", "lid") does not end it.
# Prepositions are left out: titles hold them ("Wet werk en inkomen naar arbeidsvermogen", "standplaatsen buiten ...").
RUN_ON_WORDS = (({*TITLE_STOP} - {*TITLE_CONNECTORS, "een", "onder", "lid", "leden", "onderdeel", "artikel", "artikelen",
                                  "hoofdstuk", "paragraaf", "bijlage", "juncto", "jo.", "naar", "buiten", "binnen", "zonder",
                                  "tijdens", "volgens", "conform", "krachtens", "ingevolge", "naast", "om", "te", "na", "sinds",
                                  "vanaf", "per", "uiterlijk", "ten"})
                | {*SEPARABLE_PARTICIPLES, "achterwege", "eervol", "belang"})


OWN_DOCUMENT = re.compile(r"\b(van|uit|in) (deze|dit|dezer) (regeling|verordening|besluit|beleidsregels?|aanwijzing|circulaire"
                          r"|beschikking|wet|instructie)\b", re.IGNORECASE)


def without_own_articles(entities: list[Span]) -> list[Span]:
    """``entities`` without a REF to the document's own articles ("artikelen 2 en 3 van deze verordening"; ANNOTATION.md:
    a regulation's own articles are not REF), whoever proposed it."""
    return [e for e in entities if not (e.label_ == "REF" and OWN_DOCUMENT.search(e.text))]


def cut_references(entities: list[Span]) -> list[Span]:
    """``entities`` with every REF cut where it runs on past its law into the sentence: at the first clause word of
    :data:`RUN_ON_WORDS` after the name that follows its last "van (de|het)" (the lexicon's titles are fitted before, by
    :func:`fitted_to_titles`; this covers the laws it lacks, "de Wet" as a document names its own law), and at an
    opening bracket the REF does not close: before a gazette two REFs ("artikel 70a van de Pachtwet (Stb. 1958, 37"),
    before a number the REF takes the closing bracket that follows it ("nr. 346 (32847" + ")")."""
    out = []
    for entity in entities:
        if entity.label_ != "REF":
            out.append(entity)
            continue
        doc, start, end = entity.doc, entity.start, entity.end
        naming = max((i for i in range(start, end - 2) if doc[i].lower_ in ("van", "der", "uit")
                      and doc[i + 1].lower_ in ("de", "het", "der")), default=None)
        if naming is not None:
            for j in range(naming + 3, end):
                if doc[j].is_lower and doc[j].is_alpha and doc[j].lower_ in RUN_ON_WORDS:
                    start, end = _trimmed(doc, start, j)
                    break
        parts = [(start, end)]
        opening = [i for i in range(start, end) if doc[i].text == "("]
        if opening and not any(doc[i].text == ")" for i in range(opening[-1], end)):
            inside = next((t for t in doc[opening[-1] + 1:end] if t.text != "*"), None)
            if inside is not None and inside.lower_ in GAZETTES:   # a gazette in brackets is a citation of its own
                parts = [_trimmed(doc, start, opening[-1]), _trimmed(doc, opening[-1] + 1, end)]
            elif inside is not None and inside.like_num and end < len(doc) and doc[end].text == ")":
                parts = [(start, end + 1)]   # "nr. 346 (32847" short of its bracket
        for part_start, part_end in parts:
            part = entity if (part_start, part_end) == (entity.start, entity.end) else Span(doc, part_start, part_end, label="REF")
            if part_end > part_start and (len(parts) == 1 or has_locator(part)):
                out.append(part)
    return out


APOSTROPHES = {"'", "’", "‘"}


LOOSE_END_WORDS = {"te", "van", "de", "het", "der", "en", "voor", "bij", "in", "op", "met"}


def _loose_end(span: Span) -> bool:
    """Whether a span's last token belongs to what follows it: punctuation that closes something outside the span or
    the sentence (a bracket the span did not open, "(D66):" read as "D66):"; a colon, slash, semicolon or comma,
    "Belastingdienst/", or a word a slash opens, "2006/nr"; an emphasis asterisk it did not open; a full stop after a
    number, "september 2010."), or a function word ("Nuclear Research and consultancy Group v.o.f. te"). No gold span
    of train or dev ends so; "jl.", "N.V." and "(*Stb.* 1987, 552)" keep theirs."""
    last, text = span[-1].text, span.text
    if last in LOOSE_END_WORDS:
        return True
    if re.fullmatch(r"[)\]]+:?", last):
        return text.count("(") + text.count("[") < text.count(")") + text.count("]")
    if re.fullmatch(r"[:/;,]+", last) or last.startswith("/"):   # "17 november 2006/nr. STG ...": "/nr" is the next part
        return True
    if last == "*":
        return text.count("*") % 2 == 1
    return last == "." and len(span) > 1 and span[-2].text[-1:].isdigit()


MOTION_WORDS = {"motie", "moties", "amendement", "-"}   # before a mover's name, glued by a hyphen: "motie-Wassenberg"
# What a broken link leaves in a corpus's text ("15 mei 2006/BWBR0019871/README.md)"): a path, no entity.
LINK_PATH = re.compile(r"^/|/README\b|\.md$")


def tidied_edges(entities: list[Span]) -> list[Span]:
    """``entities`` without spaces at their edges (a model's span can take the run of spaces after "Het Loo" in a
    signature line along) or a last token that belongs to what follows (:func:`_loose_end`), and a place
    name of the "'s-Gravenhage" kind with its apostrophe, which the tokenizer splits off ("’" | "s-Gravenhage") and a
    model's span may leave out; a span that is a link's path (:data:`LINK_PATH`) is dropped."""
    out = []
    for entity in entities:
        doc, start, end = entity.doc, entity.start, entity.end
        if LINK_PATH.search(entity.text):
            continue
        while end - start > 1 and (doc[end - 1].is_space or _loose_end(doc[start:end])):
            end -= 1
        while end - start > 1 and (doc[start].is_space or entity.label_ == "ORG" and doc[start].text in ("Onze", "Onzen")
                                   or entity.label_ == "PER" and doc[start].lower_ in MOTION_WORDS):
            start += 1   # "Onze Minister van Financiën", "motie-Wassenberg": the office, the mover (ANNOTATION.md)
        if (start > 0 and doc[start - 1].text in APOSTROPHES and not doc[start - 1].whitespace_
                and doc[start].text[:2].lower() == "s-" and not any(e.start <= start - 1 < e.end for e in entities)):
            start -= 1
        out.append(entity if (start, end) == (entity.start, entity.end) else Span(doc, start, end, label=entity.label_))
    return out


# A short form in brackets: "SUK", "Wpg", "Appa", "R.O.O." (not "BTW-constructies", "Warenwet").
ABBREVIATION = re.compile(r"^[A-Z][A-Za-z.]{1,7}$")


def bracketed_abbreviations(entities: list[Span]) -> list[Span]:
    """``entities`` with the short form in brackets after an ORG or LAW name ("Stichting Uitvoering
    Kinderopvangregelingen (SUK)", "Wet politiegegevens (hierna: Wpg)") tagged with the name's label, as
    ANNOTATION.md has it; the model leaves such a short form out or gives it the other label. The short
    form starts with a letter that starts a word of the name, which keeps out "(Warenwet)" and the like."""
    out = list(entities)
    for name in entities:
        if name.label_ not in ("ORG", "LAW"):
            continue
        doc, i = name.doc, name.end
        if i >= len(doc) or doc[i].text != "(":
            continue
        i += 1
        if i < len(doc) and doc[i].lower_ == "hierna":
            i += 1 + (i + 1 < len(doc) and doc[i + 1].text == ":")
        if i + 1 >= len(doc) or doc[i + 1].text != ")" or not ABBREVIATION.match(doc[i].text):
            continue
        if doc[i].text[0].lower() not in {token.text[0].lower() for token in name if token.is_alpha}:
            continue
        overlapping = [e for e in out if e.start <= i < e.end]
        if any((e.start, e.end) != (i, i + 1) for e in overlapping):
            continue   # inside a longer span (a REF): that span decides
        out = [e for e in out if e not in overlapping] + [Span(doc, i, i + 1, label=name.label_)]
    return sorted(out, key=lambda e: e.start)


LOCATOR = re.compile(r"\d|^([IVXLC]+|[A-Z])$")


def has_locator(span: Span) -> bool:
    """Whether a REF points somewhere: a number, a roman numeral or a letter ("bijlage B"), or a longer phrase that
    names what it refers to ("Bijlage bij de Wet ..."). "bijlage", "artikel" or "koninklijk besluit" alone is no REF."""
    return len(span) > 2 or any(LOCATOR.search(token.text) for token in span)


def completed_references(entities: list[Span]) -> list[Span]:
    """``entities`` with every REF completed by :func:`completed_reference` where that overlaps no other entity (a
    REF inside the completed span joins it: "tweede lid" and "artikel 36a" of "tweede lid van artikel 36a"); a REF
    without a locator (:func:`has_locator`) is dropped."""
    out = list(entities)
    for entity in entities:
        if entity.label_ != "REF" or entity not in out:
            continue
        start, end = completed_reference(entity.doc, entity.start, entity.end)
        if (start, end) == (entity.start, entity.end):
            continue
        overlapping = [e for e in out if e.start < end and start < e.end and e is not entity]
        if all(e.label_ == "REF" and start <= e.start and e.end <= end for e in overlapping):
            out = [e for e in out if e is not entity and e not in overlapping] + [Span(entity.doc, start, end, label="REF")]
    return sorted((e for e in out if e.label_ != "REF" or has_locator(e)), key=lambda e: e.start)


ARTICLE_HEADS = {"artikel", "artikelen", "art.", "art", "afdeling", "hoofdstuk", "paragraaf", "§", "§§"}
PUBLICATIONS = {"staatsblad", "staatscourant", "stb.", "stcrt."}
NAMING_WORDS = {"van", "der", "bij", "uit"}   # "artikel 3 van de Wet X": the REF names its law itself


def _bare_article(span: Span) -> bool:
    """Whether a REF is an article (or section) that names no law of its own ("artikel 44", "afdeling 4.2.8")."""
    return span[0].lower_ in ARTICLE_HEADS and not any(t.lower_ in NAMING_WORDS for t in span)


def joined_law_references(entities: list[Span]) -> list[Span]:
    """``entities`` with a law named right before or after a bare article REF joined into one REF, as the gold marks it
    (32 times in train and dev, never apart): "Gemeentewet, artikel 44", "WVO artikelen 10, 10b en 10d", "afdeling
    4.2.8 Awb"; likewise the publication that names the article ("Staatsblad artikel V, onderdeel F")."""
    out = sorted(entities, key=lambda e: e.start)
    joined: list[Span] = []
    i = 0
    while i < len(out):
        entity, after = out[i], out[i + 1] if i + 1 < len(out) else None
        doc = entity.doc
        if (entity.label_ == "LAW" and after is not None and after.label_ == "REF" and _bare_article(after)
                and (after.start == entity.end or after.start == entity.end + 1 and doc[entity.end].text == ",")):
            joined.append(Span(doc, entity.start, after.end, label="REF"))
            i += 2
            continue
        if (entity.label_ == "REF" and _bare_article(entity) and after is not None and after.label_ == "LAW"
                and after.start == entity.end and not entity[-1].is_punct):
            joined.append(Span(doc, entity.start, after.end, label="REF"))
            i += 2
            continue
        if (entity.label_ == "REF" and _bare_article(entity) and entity.start > 0 and doc[entity.start - 1].lower_ in PUBLICATIONS
                and not (joined and joined[-1].end > entity.start - 1)):
            entity = Span(doc, entity.start - 1, entity.end, label="REF")
        joined.append(entity)
        i += 1
    return joined


TITLE_MODES = ("off", "add", "extend", "snap")


def read_lexicon(path: Path = LAW_TITLES_FILE) -> list[str]:
    """The names of a lexicon file, ``law_titles.txt`` or ``org_names.txt`` (one per line; ``#`` starts a comment
    line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise KamerbriefError(f"kamerbrief_rules: cannot read the lexicon {path.name}: {err}") from err
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def title_matcher(vocab, tokenizer, titles: list[str]) -> PhraseMatcher:
    matcher = PhraseMatcher(vocab, attr="ORTH")
    matcher.add("LAW", list(tokenizer.pipe(titles)))
    return matcher


def title_spans(doc: Doc, matcher: PhraseMatcher, view: Doc, label: str = "LAW") -> list[Span]:
    """The longest non-overlapping names of a lexicon (law titles, or the bodies of ``org_names``) in ``doc`` as
    spans of ``label``, matched on ``view`` (:func:`rule_view`: Unicode spaces count as spaces)."""
    spans = []
    for _, start, end in matcher(view):
        span = doc.char_span(view[start].idx, view[end - 1].idx + len(view[end - 1]), label=label, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    return filter_spans(spans)


def with_names(entities: list[Span], names: list[Span]) -> list[Span]:
    """``entities`` with the ``names`` of a lexicon (the palaces, the bodies of ``org_names``): a name fills a gap and
    replaces the model's entities that lie inside it ("het [openbaar] ministerie", "[Paleis] Huis ten Bosch",
    "[Paleis] op de [Dam]"); inside a longer entity a name belongs to that one ("directeur van het stafbureau openbaar
    ministerie")."""
    out = list(entities)
    for name in names:
        overlapping = [e for e in out if e.start < name.end and name.start < e.end]
        if all(name.start <= e.start and e.end <= name.end for e in overlapping):
            out = [e for e in out if e not in overlapping] + [name]
    return out


def fitted_to_titles(entities: list[Span], titles: list[Span], mode: str) -> list[Span]:
    """``entities`` with the lexicon's law ``titles`` (ANNOTATION.md: a law's name is its whole title) under ``mode``:
    ``add`` a title where no entity is; ``extend`` also widens a LAW that lies inside a title ("Wet overheidspersoneel"
    of "Wet overheidspersoneel onder de werknemersverzekeringen"); ``snap`` also cuts a LAW that starts with a title
    and runs on into a lowercase word or punctuation ("Zorgverzekeringswet commissaris"). A title inside a REF or any
    other entity stays inside it ("artikel 3 van de Wet milieubeheer" is one REF), and a LAW that starts before a title
    is a longer title naming that law ("Wet tot wijziging van de Wet X ..."): it stays."""
    if mode == "off":
        return entities
    out = list(entities)
    for title in titles:
        overlapping = [e for e in out if e.start < title.end and title.start < e.end]
        if not overlapping:
            out.append(title)
            continue
        # a year inside the title is the title's, not a DATE of its own ("... Buitenlandse Zaken 2006")
        years = [e for e in overlapping if e.label_ == "DATE" and len(e) == 1 and YEAR_TOKEN.match(e.text)
                 and title.start <= e.start and e.end <= title.end]
        references = [e for e in overlapping if e not in years]
        if mode != "add" and len(references) == 1 and references[0].label_ == "REF" and references[0].start < title.start:
            out = [e for e in out if e is not references[0] and e not in years] + [_reference_to_title(references[0], title, mode)]
            continue
        if mode == "add" or any(e.label_ != "LAW" for e in overlapping):
            continue
        inside = all(title.start <= e.start and e.end <= title.end for e in overlapping)
        after = title.doc[title.end] if title.end < len(title.doc) else None
        runs_on = (mode == "snap" and len(overlapping) == 1 and overlapping[0].start == title.start
                   and overlapping[0].end > title.end and after is not None and (after.is_lower or after.is_punct))
        if inside or runs_on:
            out = [e for e in out if e not in overlapping] + [title]
    return sorted(out, key=lambda e: e.start)


REFERENCE_JOINS = {"jo", "jo.", "juncto", "en", "of", "tot", "t/m", "onder", "sub", "lid"}


def _reference_to_title(reference: Span, title: Span, mode: str) -> Span:
    """A REF that names a law of the lexicon at its end ("artikel 1.10 van de Wet normering ..."): widened to the
    title's end where it cut the title short; under ``snap`` also cut at the title's end where it runs on into the
    sentence ("artikel 96b van het ARAR eervol"), unless a lowercase word joins another part ("jo.", "onder")."""
    doc = reference.doc
    if reference.end < title.end:
        return Span(doc, reference.start, title.end, label="REF")
    after = doc[title.end] if title.end < reference.end else None
    if mode == "snap" and after is not None and after.is_alpha and after.is_lower and after.lower_ not in REFERENCE_JOINS:
        return Span(doc, reference.start, title.end, label="REF")
    return reference


class RuleMatcher:
    """The ``kamerbrief_rules`` component (see the module docstring for the merge policy)."""

    def __init__(self, nlp: Language, name: str, labels: list[str], policy: dict[str, str], prefer: list[str] | None = None,
                 law_titles: str = "off", org_names: bool = False, letter_names: bool = False, own_articles: bool = False):
        self.name = name
        self.labels = tuple(labels)
        if prefer is not None:   # the older setting: the labels in ``prefer`` win ("rule"), the others fill gaps ("model")
            policy = {label: "rule" if label in prefer else "model" for label in self.labels}
        self.policy = check_policy(policy)
        if law_titles not in TITLE_MODES:
            raise KamerbriefError(f"kamerbrief_rules: law_titles is {law_titles!r}; choose one of {', '.join(TITLE_MODES)}")
        self.law_titles = law_titles if "LAW" in self.labels else "off"
        self.matcher = GroupedMatcher(nlp.vocab)
        # The pipeline's own tokenizer without its normalisation (the Doc's text is normalised already).
        self.tokenizer = getattr(nlp.tokenizer, "tokenizer", nlp.tokenizer)
        self.titles = title_matcher(nlp.vocab, self.tokenizer, read_lexicon()) if self.law_titles != "off" else None
        self.org_names = (title_matcher(nlp.vocab, self.tokenizer, read_lexicon(ORG_NAMES_FILE))
                          if org_names else None)
        self.palaces = title_matcher(nlp.vocab, self.tokenizer, PALACES)
        # read by whoever annotates whole letters (pipeline/letter_pass.py): not per-paragraph steps
        self.letter_names = bool(letter_names)
        self.own_articles = bool(own_articles) and "REF" in self.labels

    def __call__(self, doc: Doc) -> Doc:
        view = rule_view(doc, self.tokenizer)   # once, for the patterns and the titles
        rule_spans = match_spans(doc, self.matcher, self.labels, view=view)
        doc.spans["rules"] = rule_spans
        entities = list(doc.ents)
        for span in rule_spans:
            entities = merge(entities, span, self.policy.get(span.label_, "model"))
        entities = filter_spans(entities)
        if self.titles is not None:
            entities = fitted_to_titles(entities, title_spans(doc, self.titles, view), self.law_titles)
        names = title_spans(doc, self.palaces, view, label="LOC")
        if self.org_names is not None:
            names += title_spans(doc, self.org_names, view, label="ORG")
        entities = with_names(entities, names)
        doc.ents = bracketed_abbreviations(tidied_edges(office_holders(without_non_names(without_ages(without_frequencies(without_table_counts(
            completed_laws(without_own_articles(cut_references(joined_law_references(completed_references(entities))))))))))))
        return doc


DEFAULT_POLICY = {"REF": "rule", "DATE": "rule", "LAW": "extend"}
#: The component's optional settings at their factory values (evaluation/rules_policy.py writes them where a chosen
#: policy leaves one unset).
OPTIONAL_SETTINGS = {"law_titles": "off", "org_names": False, "letter_names": False, "own_articles": False}


# Like spaCy's entity_ruler it requires no entities: it merges with whatever entities the Doc has.
@Language.factory("kamerbrief_rules", default_config={"labels": list(LABELS), "policy": DEFAULT_POLICY, "prefer": None,
                                                      **OPTIONAL_SETTINGS},
                  assigns=["doc.ents", "doc.spans"])
def make_rules(nlp: Language, name: str, labels: list[str], policy: dict[str, str], prefer: list[str] | None,
               law_titles: str, org_names: bool, letter_names: bool, own_articles: bool) -> RuleMatcher:
    return RuleMatcher(nlp, name, labels, policy, prefer, law_titles, org_names, letter_names, own_articles)


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

"""The ``kamerbrief_commitments`` component: every promise in a paragraph, who makes it and by when.

Runs after ``kamerbrief_deadlines`` and derives commitments by rules from what the model found: the
paragraph's labels and scores, its entities (ORG, PER, DATE with their ranges) and a small lexicon of
Dutch actor words, each paragraph read once (:class:`ParagraphIndex`). The rules are those of
``data/ANNOTATION.md``, "Commitments":

1. Units: the paragraph's sentences, cut also into clauses at ";", before "en zal" / "en zullen", and at
   ", en" where a subject of its own follows ("..., en vanaf 2012 rapporteren de inrichtingen ..."; not in a
   list, an infinitive or after a relative clause). Clauses joined by "en" that promise by the same actor are
   one commitment; "en zal" takes the actor of the clause before it. A unit in a paragraph the model scores
   as an action (or deadline) is a commitment when it promises something in its main clause (future,
   intention, informing the Kamer, a present-tense measure, a request to a named party) and is not a past
   measure, a finding, a position, a question, a recommendation, standing practice, an obligation on others,
   a vague intention or the letter's own act (findings and the like count only outside subordinate clauses). A
   paragraph the model labels `recommendation` but neither `action` nor `adoption` asks and promises nothing.
2. A unit without an actor of its own that only says when the deliverable of the commitment before it is
   ready, starts, appears or goes into consultation, or what its target is ("het streven is ..."), joins that
   commitment, and so do the signer expecting or receiving it ("het eerste verslag ontvang ik eind 2025"), the party
   asked delivering it with a date ("Het Zorginstituut brengt zijn advies uit in ...", "De inspecties rapporteren
   hierover in ...") and the first of the reports it promises ("De eerstvolgende rapportage ontvangt u voor ...");
   informing the Kamer in the main clause is a commitment of its own.
3. Actor: the agent after "door" (not in a relative clause); the party asked or ordered to act ("Ik vraag
   het RIVM ..."); else the first actor candidate not governed by a preposition (an ORG or PER entity, a
   one-word LAW/LOC entity in an organisation's slot, a lexicon word, "ik", "wij", "het kabinet");
   first-person words, an agentless passive and no candidate mean the signer, resolved at the letter level
   (:func:`resolve_actors`) from ``meta.sender`` or the signature.
4. Dates: every DATE entity in the commitment; its due period is that of its deadline DATE, computed by
   :func:`kamerbrief.pipeline.time_expressions.due_period` (the same rule as a deadline paragraph's): the DATE
   with the latest due end among those that are not a start ("vanaf", "met ingang van", "na", "na het
   advies, dat in mei wordt verwacht") or past, DATEs after "van" or in a relative clause only where no
   other is left, and so do DATEs in a purpose clause (", zodat ..."); a year after "over" ("het jaarverslag over
   2025") is what a report covers and never a due; "bij de begroting voor 2026" falls due on Prinsjesdag 2025.

``doc._.commitments`` is a list of plain dicts with character offsets into ``doc.text`` (so DocBins
serialise): ``start``, ``end``, ``actor`` (``{"text", "start", "end"}`` or ``{"signer": True, "word":
<the word or "">}``), ``dates`` (``[[start, end], ...]``), ``deadline`` (``[start, end]`` or None) and
``due`` (``[iso_start, iso_end]`` or None).
"""
from __future__ import annotations

import re
from datetime import date

from spacy.attrs import IDX, LOWER, ORTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc, Span

from kamerbrief.pipeline import extensions  # noqa: F401
from kamerbrief.pipeline.time_expressions import as_date, due_period, prinsjesdag

SKIPPED_KINDS = {"heading", "footnote", "signature", "addressee", "date_line", "salutation"}
ABBREVIATION = re.compile(r"(?:(?<!['’])\b(?-i:[A-Z])|\b(?:dr|prof|mr|drs|ir|ing|nr|nrs|art|jl|blz|ca|bijv|resp|o\.a|e\.a|m\.b\.t|i\.p\.v))\.$",
                          re.IGNORECASE)
UNIT_BREAK = re.compile(r"(?P<sentence>(?<=[.!?])[\"'”’)]*\s+(?=[A-Z\"„‘'(]))|(?<=;)\s+|\s+(?=en (?:zal|zullen)\b)|(?<=,)\s+(?=en\s)")
VERB_BEFORE_SUBJECT = re.compile(r"^(?:en|zal|kan|moet|wil|is|\w+(?:en|t|d))$", re.IGNORECASE)
# "... en zal ...": a clause without a subject of its own; its actor is that of the clause before it.
ELIDED_SUBJECT = re.compile(r"en (?:zal|zullen)\b")
# Words for the signer ("het kabinet" resolves to the minister who signs), looked up as lowercase token sequences.
SIGNER_WORDS = frozenset({("ik",), ("wij",), ("we",), ("het", "kabinet"), ("de", "regering"), ("het", "rijk"), ("mijn", "ministerie"),
                          ("ons", "ministerie")})
PREPOSITIONS = {"met", "aan", "bij", "voor", "van", "naar", "over", "op", "in", "tot", "uit", "tegen", "namens", "via",
                "zonder", "onder", "tussen", "binnen", "door", "om", "rond", "na", "tijdens", "vanuit", "richting", "zoals"}
ARTICLES = {"de", "het", "een", "'t", "haar", "zijn", "hun"}
LAW_WORD = re.compile(r"wet|besluit|regeling|verordening|richtlijn|code|akkoord|verdrag|\d", re.IGNORECASE)
# Bodies that receive letters rather than act in them.
RECIPIENTS = re.compile(r"^(?:(?:Tweede |Eerste )?Kamer|Voorzitter van de|Staten-Generaal)", re.IGNORECASE)
# Lowercase plural or generic actors (ANNOTATION.md leaves them untagged), matched at the start of a unit or
# as the party asked to act.
ACTOR_WORDS = ["gemeenten", "provincies", "waterschappen", "veiligheidsregio's", "netbeheerders", "zorgkantoren",
               "zorgverzekeraars", "zorgaanbieders", "werkgevers", "scholen", "schoolbesturen", "inrichtingen",
               "inspectie", "politie", "partijen", "fondsbeheerders", "ambassades", "sociale partners", "toezichthouders",
               "uitvoeringsorganisaties", "ministerie", "ministeries", "corporaties", "woningcorporaties"]

# -- what a unit says -------------------------------------------------------------------------------
def at_word_starts(pattern: str) -> re.Pattern:
    """A case-blind regex each of whose matches starts a word, told so up front: Python's engine otherwise tries
    every alternative of a long list at every character (about 2.5 times slower for NOT_A_PROMISE)."""
    return re.compile(rf"(?=\b\w)(?:{pattern})", re.IGNORECASE)


FIRST_PERSON = re.compile(r"ik|wij|we", re.IGNORECASE)
PASSIVE = re.compile(r"\b(?:wordt|worden|krijgt|krijgen)\b", re.IGNORECASE)
PROMISE = at_word_starts(
    r"\b(?:zal|zullen|ga|gaat|gaan|wil|willen|voornemens|streef|streeft|streven|verwacht|verwachten|"
    r"informeer|informeert|informeren|rapporteer|rapporteert|rapporteren|(?<!het )(?<!dit )(?<!een )bericht|berichten|meld|stuur|zend|ontvangt u|ontvangt uw kamer|"
    r"ontvangt de kamer|uw kamer ontvangt|leg .{0,80}voor|zeg .{0,40}toe|"
    r"(?<!de )(?<!een )(?<!op )(?:vraag|verzoek)(?! naar)(?!\s+\d)|(?<!voor )vragen(?! over)|laat(?![^.;]{0,40}?\bzien\b)|heb .{0,60}(?:gevraagd|verzocht|opgedragen)|"
    r"hebben .{0,60}(?:gevraagd|verzocht)|(?:heeft|hebben)\s+(?:\S+\s+){0,3}?(?:toegezegd|aangeboden)|"
    r"wordt momenteel|worden momenteel|werk .{0,40}aan|werken .{0,40}aan|werk .{0,80}uit|start|starten|"
    r"komt er|er komt)\b")
# Findings, positions, recommendations, the letter's own act, past and standing practice.
NOT_A_PROMISE = at_word_starts(
    r"\b(?:beveelt|adviseert|adviseren|verzoekt|verzoeken|vraagt|roept .{0,40}op|concludeert|constateert|"
    r"stelt vast|wijst erop|oordeelt|schat|bepleit|onderschrijf|onderschrijft|onderschrijven|acht ik|achten wij|"
    r"acht het|vind ik|ik zie|herken|herkent|dank|vertrouw|hierbij|met deze brief|in deze brief|deze brief bevat|"
    r"hieronder|blijf|blijft|blijven|zet(?:ten)? .{0,60}voort|geef .{0,20}uitvoering aan|geef .{0,40}invulling aan|"
    r"sta .{0,20}open|ben .{0,20}bereid|in lijn met|wijk\w* .{0,40}\baf\b|regelt dat|treedt .{0,60}in werking|"
    r"treden .{0,60}in werking|dienen .{0,80}\bte\b|(?:motie|verzoek)\w* (?:uit|uitvoeren)\b|afgesproken|aangekondigd|"
    r"hecht|hechten|erkentelijk|dankbaar|waardeer|waarderen|voortgezet|vooropstellen|opmerken|sympathie|wees|wezen|"
    r"ontraden|ontraad|tegemoet|geen reden|te ver)\b"
    r"|\b(?:wijs|wijst|wijzen)\b(?:\s+\S+){0,3}?\s+erop\b"
    # remarks and judgements: "Ik merk daarbij op dat ...", "In sommige regio's gaat het om ...", "... ligt niet voor de
    # hand", "... is naar mijn mening te lang", "Het is aan de colleges om ..."
    r"|\b(?:merk|merken)\b[^.;]{0,40}\bop\b|\b(?:gaat|gaan)\s+het\b[^.;]{0,60}\bom\b|\bligt\b[^.;]{0,80}\bvoor de hand\b"
    r"|\bnaar (?:mijn|ons) (?:mening|oordeel)\b|^het is\b[^.;]{0,30}\baan (?:de|het)\b"
    # rejecting: "Een bilaterale missie wijzen wij af"; executing a motion is a position: "Aan deze motie wordt
    # uitvoering gegeven"; what a motion asks: "In de motie ... wordt de regering verzocht ..."; asking the addressee of a
    # circulaire: "Ik verzoek u mij ... te laten weten"
    r"|\b(?:wijs|wijst|wijzen)\b(?:\s+\S+){0,6}?\s+af\b|\buitvoering (?:wordt )?gegeven\b(?!\s*(?:doordat|door|via|met)\b)"
    r"|\bwordt\b[^.;]{0,60}\buitvoering gegeven\b(?!\s*(?:doordat|door|via|met)\b)"
    r"|\bmotie\b[^.;]{0,160}\bverzocht\b|\b(?:verzoek|vraag)\s+(?:ik\s+)?u\b"
    # refusals: "Extra middelen stel ik niet beschikbaar", "kan ik nu geen toezegging doen", "leggen we niet op"
    r"|\b(?:ik|we|wij|het kabinet)\s+(?:\S+\s+){0,2}?(?:niet|geen)\b(?!\s+(?:alleen|later|eerder|pas|langer dan|besluit)\b)"
    # positions: "Aan deze motie geef ik uitvoering", "motie X: wordt uitgevoerd", "Met de gedachte ... stem ik in",
    # "Die oproep steun ik in haar strekking", "Het kabinet kan zich verenigen met ...", "gaat voorbij aan ..."
    r"|\b(?:geef|geven)\s+(?:ik|we|wij|het kabinet)\s+uitvoering\b|\bwordt uitgevoerd\s*[.;]?$"
    r"|\bstem(?:t|men)?\s+(?:ik|we|wij|het kabinet)\s+in\b|\bin (?:haar|zijn) strekking\b|\bverenigen\b"
    r"|\bga(?:at|an)\s+voorbij\b|\b(?:deel|deelt|delen)\b[^.;]{0,20}\b(?:uitgangspunt|zorg|analyse|strekking|mening|opvatting)\b"
    # expecting something of others; a lead-in to a list of measures
    r"|\bverwacht\w*\s+van\b|\bvolgende\b[^.;]{0,40}:\s*$"
    r"|(?<!een )\b(?:deel|deelt|delen)\s+(?:ik|wij|we|het kabinet|de|het)\b"
    # judgements: "... vinden wij niet uitvoerbaar", "Het kabinet vindt ...", "... past niet binnen de regels"
    r"|\b(?:vind(?:t|en)? (?:ik|wij|we|het kabinet)|(?:ik|wij|we|het kabinet) vind(?:t|en)?)\b"
    r"|\bpast\b(?:\s+\S+){0,2}?\s+niet\s+(?:binnen|in|bij)\b"
    # support for what others propose: "Het kabinet steunt het voorstel"
    r"|\bsteun(?:t|en)?\b(?:\s+\S+){0,3}?\s+(?:het|de|dit|deze)\s+(?:voorstel|motie|aanbeveling|advies|strekking|"
    r"initiatief|oproep|conclusie|verzoek)"
    # vague intentions: "Daar zal het kabinet zich op richten", "Ik houd uw Kamer op de hoogte"
    r"|\bzich\b[^.;]{0,60}?\b(?:op richten|richten op|inzetten)\b|\b(?:richt|richten)\s+(?:\S+\s+){0,3}?zich\b"
    r"|\b(?:houd|houdt|houden)\b[^.;]{0,60}?\bop de hoogte\b|\bop de hoogte (?:houden|blijven)\b"
    # what the letter itself does or is about: "Tevens ga ik in op de motie ...", "Het advies gaat over ...",
    # "Ik wil benadrukken dat ..."
    r"|\b(?:benadruk|benadrukt|benadrukken|onderstreep|onderstrepen)\b"
    r"|\b(?:ga|gaan)\b[^.;]{0,60}?\bin op\b|\bga(?:a)?t over\b(?!\s+(?:tot|op)\b)|\bgaan over\b(?!\s+(?:tot|op)\b)"
    # leaving a matter to someone: "Het verzoek ... laat het kabinet aan uw Kamer."
    r"|\blaat\b[^,.;]{0,60}\baan (?:uw|de) kamer(?:\s+over)?\s*(?:[,.;]|$)"
    r"|\b(?:neem|neemt|nemen)\b.{0,80}\bover(?=\s*(?:[.,;:]|$|en\b|maar\b|voor zover\b|met de kanttekening\b))")
# A perfect or past passive: the participle with "ge-", also after a separable particle ("opgezet", "ingesteld"),
# with an unstressed prefix instead ("bezocht", "verbeterd", "ontwikkeld"), or a finding ("heeft laten zien").
# Statements in the present tense: a measure only where they promise it. Standing practice and the law as it is,
# findings and views ("Uit het onderzoek blijkt ...", "Het rapport laat zien ...", "Ik erken ..."), references, and
# obligations on others ("Gemeenten moeten ...").
STATEMENT = at_word_starts(
    r"\b(?:houdt|houden) toezicht\b|\bop grond van\b|\beens in de \w+ (?:jaar|maanden|weken)\b|\b(?:handhaaf|handhaaft)\b"
    r"|\b(?:blijkt|blijken|bleek|ziet|betekent|betekenen|erken|erkent|erkennen|begrijp|begrijpt|begrijpen|verwijs|verwijzen|moet|"
    r"moeten)\b"
    r"|\b(?:ben|zijn|is)\s+het\b[^.;]{0,60}\beens\b|\b(?:laat|laten)\b[^.;]{0,40}?\bzien\b"
    r"|\bgeldt\b|\b(?:is|zijn)\b[^.;]{0,30}\bbetrokken\b|\b(?:nu )?al\b|\bnu (?:pas|alleen)\b|\bge(?:eft|ven) aan\b"
    r"|\bzelf\s*[.;]?$")
PAST = re.compile(r"\b(?:heeft|hebben|heb|is|zijn|was|waren|werd|werden)\b(?:\s+\S+){0,20}?\s+"
                  r"(?:(?:op|uit|aan|in|af|toe|voor|na|mee|over|om|bij|vast|terug|samen)?ge(?!reed\b)\w+(?:d|t|en)"
                  r"|(?:be|ver|ont|her)\w+[dt]|laten (?:zien|blijken))\b", re.IGNORECASE)
RELATIVE_PRONOUN = re.compile(r"\b(?:die|welke|waar(?:in|mee|op|door|van|voor|bij))\b", re.IGNORECASE)
# Where a subordinate clause begins: what it says ("heeft laten zien dat gedetineerden ... gaan") is not the
# promise of the sentence.
CLAUSE_START = re.compile(r"\b(?:dat|die|omdat|zodat|doordat|waar\w*|hoe|wat|welke|wie)\b", re.IGNORECASE)
SUBORDINATE = re.compile(r"(?:,\s*(?:die|dat|waar\w*|zodat|omdat|doordat|terwijl)|\bnadat|\btoen|\bwaarvan|\bwaarin|\bzoals)\b",
                         re.IGNORECASE)
# Asking a party to act; "gevraagd of" asks a question.
REQUEST = re.compile(r"\b(?:(?<!de )(?<!een )(?:vraag|verzoek)(?! naar)|vragen|laat|gevraagd(?! of\b)|verzocht|opgedragen)\b",
                     re.IGNORECASE)
# When the deliverable is ready, appears or goes into consultation ("internetconsultatie" too), and when it starts
# where the subject refers back to it ("Het bureau start ...", not "In mei starten pilots ...": a new measure).
MILESTONE = at_word_starts(
    r"\b(?:gereed|klaar|beschikbaar|afgerond|operationeel|verschijnt|verschijnen|gepubliceerd|opengesteld|"
    r"\w*consultatie|ingediend|van kracht|in gebruik|te raadplegen|getest|getekend|ondertekend|gesloten|vastgesteld|"
    r"volgt|inzetbaar|bemand)\b|\b(?:wordt|worden)\b[^.;]{0,60}\bverwacht\b"
    r"|^(?:de|het|dit|deze|die)\s[^,;]{0,60}?\b(?:start|starten|begint|beginnen)\b")
# The target set for the deliverable: impersonal, whoever else it names ("het streven is alle gemeenten ...").
TARGET = re.compile(r"^(?:het|ons|mijn) (?:streven|doel) is\b", re.IGNORECASE)
POSITION_MEASURE = re.compile(r"^(?:\S+\s+){0,2}?(?:wel|in plaats daarvan)\b|\bop mijn verzoek\b|^(?:ik|wij|we)\s+(?:vraag|vragen)\b"
                              r"|\b(?:heb|hebben)\b[^.;]{0,60}\b(?:opgedragen|gevraagd|verzocht)\b", re.IGNORECASE)
STRONG_PROMISE = re.compile(r"\b(?:zal|zullen|ga|gaat|gaan)\b", re.IGNORECASE)
INFORMING = re.compile(r"\b(?:informeer|informeren|stuur|sturen|zend|zenden|toezenden|rapporteer|ontvangt|bericht|berichten|"
                       r"te delen)\b", re.IGNORECASE)
# Informing the Kamer is a commitment of its own (ANNOTATION.md), not a milestone of the one before it.
INFORMS_KAMER = re.compile(
    r"\b(?:(?:aan|naar) (?:uw|de) kamer\b.{0,40}\b(?:ge|toege)(?:zonden|stuurd)|(?:zend|stuur|informeer)\w*\b.{0,40}\b(?:uw|de) kamer|"
    r"(?:uw|de) kamer\b.{0,60}\bontvangt|ontvangt (?:uw|de) kamer|(?:uw|de) kamer te delen)\b", re.IGNORECASE)
# A relative clause ("..., die uw Kamer in mei ontvangt, ...") qualifies a noun; what the sentence says is outside it.
RELATIVE_CLAUSE = re.compile(r",\s*(?:die|dat|waar\w*)\b[^,;]*(?:,|$)", re.IGNORECASE)
# "met de provincies, de gemeenten, en de waterschappen": a short item before ", en" makes it a list.
LIST_BEFORE = re.compile(r",\s*(?:\S+\s+){0,2}\S+,$")
# "..., dat door X wordt beheerd, en met ...": the comma closes a relative clause; "en" goes on with the sentence.
CLOSES_RELATIVE_CLAUSE = re.compile(r",\s*(?:die|dat|waar\w*)\b[^,;]*,$", re.IGNORECASE)
# The signer expects or receives the deliverable: a milestone of the commitment before it.
OWN_MILESTONE = re.compile(r"^(?:\S+\s+){0,7}?(?:(?:ik|wij|we) (?:verwacht|ontvang)\w*|(?:verwacht|ontvang)\w* (?:ik|wij|we))\b",
                           re.IGNORECASE)
# What the commitment before it asked for: "De inspecties rapporteren hierover ...".
REFERS_BACK = re.compile(r"\b(?:hierover|daarover|hiervan|daarvan)\b", re.IGNORECASE)
# The first of the reports the commitment before it promises.
FIRST_REPORT = re.compile(r"^(?:de|het)\s+(?:eerste|eerstvolgende|volgende)\b", re.IGNORECASE)
# The subject only receives or undergoes something: the actor is whoever gives it (the signer, unless named).
PATIENT_VERBS = re.compile(r"^(?:\([^)]*\)\s*)?(?:wordt|worden|krijgt|krijgen)\b(?!\s+opdracht)", re.IGNORECASE)
# "de door de Raad gesignaleerde punten": "door" names the agent of an adjective, not of the clause.
ATTRIBUTIVE_PARTICIPLE = re.compile(r"^(?:ge|be|ver|ont|her)\w+[dt]e$")
START_SIGNAL = re.compile(r"\b(?:vanaf|met ingang van|per|sinds|na)\s*$", re.IGNORECASE)
# "na het advies van de SER, dat voor de zomer wordt verwacht": the DATE dates the event the commitment waits for.
AFTER_EVENT = re.compile(r"\b(?:na|vanaf|sinds)\b[^,;.]{0,80},\s*(?:die|dat|waar\w*)\b[^,;.]*$", re.IGNORECASE)
# "de verkiezingen van 2017": a DATE that dates something else; used only where no other DATE is left.
MODIFIER = re.compile(r"\bvan\s*$", re.IGNORECASE)
# "het jaarverslag over 2013": a year after "over" is what a report covers, never when it falls due.
CONTENT_YEAR = re.compile(r"\bover\s*$", re.IGNORECASE)
PURPOSE_CLAUSE = re.compile(r",\s*zodat\b[^;]*", re.IGNORECASE)
BUDGET_FOR = re.compile(r"\bbegroting(?:\s+van\s+\S+(?:\s+\S+){0,3})?\s+voor\s*$", re.IGNORECASE)


class ParagraphIndex:
    """What the rules read of a paragraph, looked up once per Doc rather than once per sentence (``doc.ents``
    builds its spans anew on every access): the entities, the DATEs, the tokens' texts, lowercase forms and
    offsets, and where the actor lexicon and the signer words occur."""

    def __init__(self, doc: Doc, actor_words: dict[tuple[str, ...], None]):
        self.doc = doc
        self.ents = list(doc.ents)
        self.dates = [e for e in self.ents if e.label_ == "DATE"]
        strings = doc.vocab.strings
        orth, lower, idx, space = doc.to_array([ORTH, LOWER, IDX, SPACY]).T.tolist() if len(doc) else ([], [], [], [])
        self.texts = [strings[h] for h in orth]
        self.lowers = [strings[h] for h in lower]
        self.idx = idx
        # ``doc.text``, without making a Token object per token as spaCy's getter does
        self.text = "".join(text + " " if ws else text for text, ws in zip(self.texts, space, strict=True))
        lengths = sorted({len(words) for words in actor_words})
        # In the Matcher's order (by end, then start), which decides between overlapping lexicon words.
        self.actor_words = sorted(((i, i + n) for i in range(len(doc)) for n in lengths
                                   if tuple(self.lowers[i:i + n]) in actor_words and i + n <= len(doc)),
                                  key=lambda match: (match[1], match[0]))
        self.signer_words = [i for i, word in enumerate(self.lowers) if (word,) in SIGNER_WORDS]
        self.signer_pairs = [i for i, pair in enumerate(zip(self.lowers, self.lowers[1:], strict=False)) if pair in SIGNER_WORDS]


class CommitmentFinder:
    def __init__(self, nlp: Language, name: str, min_action_score: float, actor_words: list[str]):
        self.name = name
        self.min_action_score = min_action_score
        # The lexicon matched as lowercase token sequences (what a spaCy Matcher on LOWER would find).
        self.actor_words = dict.fromkeys(tuple(word.lower().split()) for word in actor_words)

    # -- units ------------------------------------------------------------------------------------
    @staticmethod
    def units(paragraph: ParagraphIndex) -> list[tuple[int, int, bool]]:
        """Character spans of the paragraph's sentences and clauses (see the module docstring), each with
        whether it is a clause (cut at ";", "en zal", ", en") rather than a sentence of its own."""
        text, cuts, clause = paragraph.text, [0], [False]
        inside = [(e.start_char, e.end_char) for e in paragraph.ents]
        for match in UNIT_BREAK.finditer(text):
            if ABBREVIATION.search(text[max(0, match.start() - 8):match.start()]) and match.group(0).strip() == "":
                continue
            if any(s < match.start() < e for s, e in inside):
                continue
            cuts.append(match.end())
            clause.append(match.group("sentence") is None)
        cuts.append(len(text))
        spans = []
        for start, end, is_clause in zip(cuts, cuts[1:], clause, strict=False):
            piece = text[start:end]
            stripped = piece.strip()
            if stripped:
                offset = start + piece.index(stripped)
                spans.append((offset, offset + len(stripped), is_clause))
        return spans

    # -- decisions --------------------------------------------------------------------------------
    def promises(self, text: str, action_paragraph: bool, actor: dict, has_future_date: bool, list_item: bool = False) -> bool:
        if NOT_A_PROMISE.search(text) or text.rstrip().endswith("?"):  # a question asks, it promises nothing
            return False
        # "in zijn beheer": "zijn" after a preposition is a possessive, not an auxiliary
        past = next((m for m in PAST.finditer(text) if not self.subordinate(text, m.start())
                     and (text[:m.start()].split() or [""])[-1] not in PREPOSITIONS), None)
        if past and not REQUEST.search(text):
            clause_end = CLAUSE_START.search(text, past.end())
            if not PROMISE.search(text, 0, clause_end.start() if clause_end else len(text)):
                return False
        if any(not self.in_clause(text, m.start()) for m in PROMISE.finditer(text)):
            return True
        if not action_paragraph or any(not self.in_clause(text, m.start()) for m in STATEMENT.finditer(text)):
            return False
        # Present-tense measures in an action paragraph: by the signer, by a named party, or passive.
        passive = any(not self.in_clause(text, m.start()) for m in PASSIVE.finditer(text))  # not "waarbinnen ... wordt beslist"
        return "start" in actor or bool(actor.get("word")) or passive or (list_item and has_future_date)

    @staticmethod
    def continues(text: str, explicit: bool, dated: bool) -> bool:
        """Whether a unit only says when the deliverable of the commitment before it is ready, starts or appears,
        or what its target is (rule 2 of the module docstring)."""
        if TARGET.match(text) or (OWN_MILESTONE.match(text) and dated and not INFORMING.search(text)):
            return True
        if explicit:
            return False
        return bool(MILESTONE.search(text)) or (dated and not PROMISE.search(text)
                                                and not INFORMS_KAMER.search(RELATIVE_CLAUSE.sub(",", text)))

    @staticmethod
    def in_clause(text: str, at: int) -> bool:
        """Whether position ``at`` lies in a clause opened by a conjunction or pronoun since the last comma
        ("beschrijft wat bewoners mogen verwachten"); "dat"/"die" at the start or after a preposition ("In dat
        kader zal ik ...") points at something and opens nothing."""
        for opener in CLAUSE_START.finditer(text, text.rfind(",", 0, at) + 1, at):
            words = text[:opener.start()].split()
            if opener.group(0).lower() in ("dat", "die") and (not words or words[-1].lower() in PREPOSITIONS):
                continue
            return True
        return False

    @staticmethod
    def subordinate(text: str, at: int) -> bool:
        """Whether position ``at`` of a unit lies in a subordinate clause: a relative clause opened since the
        last comma before it ("een model die is toegesneden op ..."), or one after a comma not yet closed."""
        if RELATIVE_PRONOUN.search(text, text.rfind(",", 0, at) + 1, at):
            return True
        opened = list(SUBORDINATE.finditer(text, 0, at))
        return bool(opened) and "," not in text[opened[-1].end():at]

    @staticmethod
    def actor(paragraph: ParagraphIndex, start: int, end: int) -> dict:
        doc, texts, lowers = paragraph.doc, paragraph.texts, paragraph.lowers
        span = doc.char_span(start, end, alignment_mode="expand")
        candidates: list[tuple[int, int, str, bool]] = []  # (token index, end token, text, signer)
        for ent in paragraph.ents:
            if ent.start >= span.start and ent.end <= span.end and ent.label_ in ("ORG", "PER") \
                    and not RECIPIENTS.match(ent.text):
                candidates.append((ent.start, ent.end, ent.text, False))
            elif ent.label_ == "LOC" and ent.start == span.start:
                candidates.append((ent.start, ent.end, ent.text, False))
            elif span.start <= ent.start and ent.end <= span.end and misread_organisation(paragraph, ent):
                candidates.append((ent.start, ent.end, ent.text, False))
        # A lexicon word inside a law's or reference's name ("Wet veiligheidsregio's") names no party.
        titles = [(ent.start, ent.end) for ent in paragraph.ents if ent.label_ in ("LAW", "REF")]
        for s, e in paragraph.actor_words:
            if s >= span.start and e <= span.end and not any(c[0] <= s < c[1] for c in candidates) \
                    and not any(t0 <= s and e <= t1 for t0, t1 in titles):
                candidates.append((s, e, doc[s:e].text, False))
        for i in paragraph.signer_words:
            if span.start <= i < span.end:
                candidates.append((i, i + 1, texts[i], True))
        for i in paragraph.signer_pairs:
            if span.start <= i < span.end - 1:
                candidates.append((i, i + 2, f"{texts[i]} {texts[i + 1]}", True))
        candidates.sort()

        def before(index: int) -> str | None:
            j = index - 1
            while j >= span.start and lowers[j] in ARTICLES:
                j -= 1
            return lowers[j] if j >= span.start else None

        # A candidate is governed by a preposition, or coordinated with / in brackets after one that is.
        governed: dict[int, str | None] = {}
        for k, (s_, _e, _text, _signer) in enumerate(candidates):
            word = before(s_)
            if k and word in {"en", ",", "(", "of"} and candidates[k - 1][1] >= s_ - 3:
                word = governed[k - 1]
            governed[k] = word if word in PREPOSITIONS else None

        def as_actor(candidate) -> dict:
            s_, e_, text, signer = candidate
            if signer:
                return {"signer": True, "word": text}
            return {"text": doc[s_:e_].text, "start": doc[s_].idx, "end": doc[e_ - 1].idx + len(doc[e_ - 1].text)}

        # The agent of a relative clause ("..., dat door het Zorginstituut is opgesteld, ...") acts in that clause only.
        relative = [m.span() for m in RELATIVE_CLAUSE.finditer(paragraph.text, span.start_char, span.end_char)]
        agents = [c for k, c in enumerate(candidates) if not c[3] and governed[k] == "door"
                  and not any(s <= paragraph.idx[c[0]] < e for s, e in relative)
                  and not (c[1] < len(lowers) and ATTRIBUTIVE_PARTICIPLE.match(lowers[c[1]]))]
        if agents:
            return as_actor(agents[0])
        free = [c for k, c in enumerate(candidates) if governed[k] is None]
        # A party named in a subordinate clause ("... aangegeven hoe gemeenten ...", "een coördinator die de inrichtingen
        # ondersteunt") is not the unit's subject.
        unit_text = paragraph.text[span.start_char:span.end_char]
        free = [c for c in free if c[3] or not CommitmentFinder.in_clause(unit_text, paragraph.idx[c[0]] - span.start_char)]
        for request in REQUEST.finditer(unit_text):
            at = doc.char_span(span.start_char + request.start(), span.start_char + request.end(), alignment_mode="expand")
            asked = [c for c in free if not c[3] and (abs(c[0] - at.end) <= 4 or abs(at.start - c[1]) <= 4)]
            # asked by the signer ("Ik heb Vilans gevraagd"), or by the party named first: the one asked is the one
            # next to the request ("De Minister van BZK zal de Veiligheidsregio Utrecht vragen ...")
            if asked and any(c[3] for c in free):
                return as_actor(asked[0])
            nearest = min(asked, key=lambda c: min(abs(c[0] - at.end), abs(at.start - c[1])), default=None)
            if nearest is not None and nearest is not free[0]:
                return as_actor(nearest)
        if free and not free[0][3] and PATIENT_VERBS.match(
                paragraph.text[paragraph.idx[free[0][1] - 1] + len(texts[free[0][1] - 1]):span.end_char].lstrip()):
            return {"signer": True, "word": ""}
        if free:
            return as_actor(free[0])
        return {"signer": True, "word": ""}

    def subject(self, paragraph: ParagraphIndex, start: int, end: int) -> dict:
        """The actor of a unit, where a signer word ("het kabinet") counts only near its start."""
        actor = self.actor(paragraph, start, end)
        if actor.get("word") and not FIRST_PERSON.fullmatch(actor["word"]) \
                and not re.search(rf"^(?:\S+\s+){{0,5}}{re.escape(actor['word'])}\b", paragraph.text[start:end]):
            actor = {"signer": True, "word": ""}  # "het kabinet" deep in a subordinate clause is not its subject
        return actor

    def own_subject(self, paragraph: ParagraphIndex, start: int, end: int) -> bool:
        """Whether a clause has a subject of its own among its first words (a named party or a signer word),
        not followed by an infinitive with "te"."""
        actor = self.subject(paragraph, start, end)
        if "start" in actor:
            at = actor["start"]
            after = paragraph.text[actor["end"]:end]
            # A named subject comes right after "en" or after the finite verb ("en in mei rapporteren de
            # inrichtingen"), not after a noun it stands in apposition to ("en in het bijzonder de onderzoekers X").
            word = re.search(r"(\S+)\s+(?:(?:de|het|een)\s+)?$", paragraph.text[start:at])
            if word is None or not VERB_BEFORE_SUBJECT.match(word.group(1)):
                return False
        elif actor.get("word"):
            found = re.search(rf"\b{re.escape(actor['word'])}\b", paragraph.text[start:end])
            if found is None:
                return False
            at, after = start + found.start(), paragraph.text[start + found.end():end]
        else:
            return False
        return len(paragraph.text[start:at].split()) <= 8 and not re.match(r"(?:\s+\S+){0,2}?\s+te\s+\w+", after)

    @staticmethod
    def due(text: str, dates: list[Span], letter_date: str | None) -> tuple[Span | None, tuple[str, str] | None]:
        """The deadline DATE of a commitment and its due period (see the module docstring)."""
        ref = as_date(letter_date)
        best: tuple[Span | None, tuple[str, str] | None] = (None, None)
        # A DATE after "van" ("het akkoord van mei") or in a relative clause ("het onderzoek, dat eind 2025 wordt
        # afgerond,") dates something else; it bounds the commitment only where no other DATE does.
        dates = [d for d in dates if not (CONTENT_YEAR.search(text, max(0, d.start_char - 10), d.start_char)
                                          and re.fullmatch(r"\d{4}", d.text.strip()))]
        # A DATE in a purpose clause ("..., zodat het besluit per 1 juli in werking kan treden") is what the commitment
        # serves, like one in a relative clause.
        relative = [m.span() for m in RELATIVE_CLAUSE.finditer(text)] + [m.span() for m in PURPOSE_CLAUSE.finditer(text)]
        plain = [d for d in dates if not MODIFIER.search(text[max(0, d.start_char - 10):d.start_char])
                 and not any(s < d.start_char < e for s, e in relative)]
        for span in plain or dates:
            before = text[max(0, span.start_char - 60):span.start_char]
            if START_SIGNAL.search(before) or AFTER_EVENT.search(text, max(0, span.start_char - 200), span.start_char):
                continue
            rng = span._.date_range
            year = re.fullmatch(r"(?:1[89]|2[01])\d\d", span.text.strip())
            if year and BUDGET_FOR.search(before):
                day = prinsjesdag(int(year.group(0)) - 1)[0].isoformat()
                period = (day, day)
            elif rng is None:
                continue
            else:
                period = due_period(span.text, rng, before[-40:], letter_date)
            if period is None or (ref is not None and date.fromisoformat(period[1]) < ref):
                continue
            if best[1] is None or period[1] > best[1][1] or (period[1] == best[1][1] and period[0] > best[1][0]):
                best = (span, period)
        return best

    # -- the component ----------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        doc._.commitments = self.find(doc)
        return doc

    def find(self, doc: Doc) -> list[dict]:
        if doc._.kind in SKIPPED_KINDS:
            return []
        labels = set(doc._.labels or [])
        action_paragraph = "action" in labels or doc.cats.get("action", 0.0) >= self.min_action_score
        # A position paragraph ("neemt niet over. Wel zal ik ...") counts only its explicit promises.
        position_only = not (action_paragraph or "deadline" in labels)
        # A recommendation that nobody answers in the paragraph ("laat binnen een jaar onderzoeken ...") asks, it promises nothing.
        if "recommendation" in labels and not labels & {"action", "adoption"}:
            return []
        if position_only and "adoption" not in labels:
            return []
        letter_date = doc._.letter_date
        ref = as_date(letter_date)
        paragraph = ParagraphIndex(doc, self.actor_words)
        found: list[dict] = []
        previous_was_commitment = False
        units: list[tuple[int, int, bool]] = []
        for start, end, clause in self.units(paragraph):
            # ", en ..." starts a clause only where a subject of its own follows ("..., en ik ga ..."), not
            # in a list or an infinitive ("..., en gemeenten te ondersteunen").
            if units and clause and not ELIDED_SUBJECT.match(paragraph.text, start) and paragraph.text.startswith("en", start) \
                    and (CLOSES_RELATIVE_CLAUSE.search(paragraph.text, units[-1][0], units[-1][1])
                         or LIST_BEFORE.search(paragraph.text, units[-1][0], units[-1][1])
                         or not self.own_subject(paragraph, start, end)):
                units[-1] = (units[-1][0], end, units[-1][2])
            else:
                units.append((start, end, clause))
        previous_actor: dict | None = None
        for start, end, clause in units:
            text = paragraph.text[start:end]
            dates = [e for e in paragraph.dates if start <= e.start_char and e.end_char <= end]
            future = any(e._.date_range and (ref is None or e._.date_range[1] >= ref.isoformat()) for e in dates)
            actor = self.subject(paragraph, start, end)
            named = "start" in actor
            explicit = named or bool(actor.get("word"))
            if ELIDED_SUBJECT.match(text) and not named and previous_actor is not None:
                actor = previous_actor
            previous_actor = actor
            previous = paragraph.text[found[-1]["start"]:found[-1]["end"]] if found else ""
            # "Over de voortgang informeren wij u jaarlijks. De eerstvolgende rapportage ontvangt u voor het zomerreces."
            first_report = bool(dates) and FIRST_REPORT.match(text) is not None and INFORMING.search(previous) is not None
            # "Ik heb het Zorginstituut gevraagd ... Het Zorginstituut brengt zijn advies uit in het eerste kwartaal van 2017."
            # and "De inspecties rapporteren hierover in het voorjaar van 2017.": when the party asked delivers.
            delivers = bool(dates) and found and not INFORMING.search(text) and (
                (named and same_party(actor, found[-1]["actor"])) or (not explicit and REFERS_BACK.search(text) is not None))
            if previous_was_commitment and found and (self.continues(text, explicit, bool(dates)) or first_report or delivers) \
                    and not NOT_A_PROMISE.search(text):
                found[-1]["end"] = end
                found[-1]["_dates"] += dates
                continue
            # In a position paragraph, a measure the signer takes instead or as well ("Wel leg ik ... vast", "In plaats
            # daarvan start het kabinet ...") or asks of a party ("Ik vraag de Kinderombudsman ...") counts too.
            measure = position_only and POSITION_MEASURE.search(text) is not None
            promise = (not position_only or STRONG_PROMISE.search(text) or measure) \
                and self.promises(text, action_paragraph or measure, actor, future, doc._.kind == "list_item")
            # Clauses joined by "en" that promise something by the same actor are one commitment (after ";" a
            # clause stays apart: "...; ik streef ernaar het wetsvoorstel voor de zomer in te dienen").
            if promise and clause and text.startswith("en ") and previous_was_commitment and found \
                    and same_actor(actor, found[-1]["actor"]):
                found[-1]["end"] = end
                found[-1]["_dates"] += dates
            elif promise:
                found.append({"start": start, "end": end, "actor": actor, "_dates": dates})
                previous_was_commitment = True
            else:
                previous_was_commitment = False
        for commitment in found:
            dates = commitment.pop("_dates")
            deadline, due = self.due(paragraph.text, dates, letter_date)
            commitment["dates"] = [[d.start_char, d.end_char] for d in dates]
            commitment["deadline"] = [deadline.start_char, deadline.end_char] if deadline is not None else None
            commitment["due"] = list(due) if due else None
        return found


@Language.factory("kamerbrief_commitments", default_config={"min_action_score": 0.3, "actor_words": ACTOR_WORDS})
def make_commitments(nlp: Language, name: str, min_action_score: float, actor_words: list[str]) -> CommitmentFinder:
    return CommitmentFinder(nlp, name, min_action_score, actor_words)


def misread_organisation(paragraph: ParagraphIndex, ent: Span) -> bool:
    """A one-word name the model read as a law or a place where only an organisation fits: the party asked to
    act ("Ik heb Vilans gevraagd ...") or the first of organisations listed together ("ActiZ, Zorgthuisnl en ...")."""
    if ent.label_ not in ("LAW", "LOC") or len(ent) != 1 or not ent.text[:1].isupper() or LAW_WORD.search(ent.text):
        return False
    following = paragraph.lowers[ent.end:ent.end + 2]
    if following[:1] and following[0] in ("gevraagd", "verzocht", "opgedragen"):
        return True
    return following[:1] in ([","], ["en"]) and any(e.start == ent.end + 1 and e.label_ == "ORG" for e in paragraph.ents)


def same_party(one: dict, other: dict) -> bool:
    """Whether two named actors are the same party written two ways ("Zorginstituut Nederland", "het Zorginstituut")."""
    if "text" not in one or "text" not in other or one.get("signer") or other.get("signer"):
        return False
    first, second = one["text"].lower().split()[:1], other["text"].lower().split()[:1]
    return bool(first and second) and len(first[0]) >= 3 and first[0][:5] == second[0][:5]


def same_actor(one: dict, other: dict) -> bool:
    """Whether two unit actors are the same party: both the signer, or the same name."""
    if one.get("signer") or other.get("signer"):
        return bool(one.get("signer") and other.get("signer"))
    return one["text"].lower() == other["text"].lower()


# -- the letter level -------------------------------------------------------------------------------
UNKNOWN_SIGNER = "(signer unknown)"
SIGNATURE_OFFICE = re.compile(r"^(?:De|Het)\s+((?:Minister|Staatssecretaris|Minister-President)[^,]*)", re.IGNORECASE)
MINISTRY_OF = re.compile(r"^(?:Minister|Staatssecretaris)\s+(?:van|voor)\s+(.+)$", re.IGNORECASE)
# Where a ministry's name as the reader found it runs on into the signature or the text.
NAME_ENDS = re.compile(r"\s*(?:[.:;(]|\s{2}|voor deze|\b(?:namens|reikt|neemt|wordt|is)\b).*$", re.IGNORECASE | re.DOTALL)


def signer_of(record: dict) -> str | None:
    """Who signs the letter: ``meta.sender``, the reader's ``signatory_offices``, else the office in the
    signature (or last) paragraph, else the ministry or organisation."""
    meta = record.get("meta") or {}
    if meta.get("sender"):
        return str(meta["sender"])
    offices = meta.get("signatory_offices")
    if isinstance(offices, list) and offices and offices[0]:
        return str(offices[0])
    paragraphs = record.get("paragraphs") or []
    for paragraph in sorted(paragraphs, key=lambda p: p.get("kind") != "signature")[:1] + paragraphs[-3:][::-1]:
        found = SIGNATURE_OFFICE.match(paragraph.get("text", "").strip())
        if found:
            return found.group(1).strip()
    return meta.get("organisation") or meta.get("ministry") or None


def ministry_of(record: dict) -> str | None:
    """The ministry a letter comes from: ``meta.ministry``, else what its signer's title names."""
    meta = record.get("meta") or {}
    signer = signer_of(record)
    found = MINISTRY_OF.match(signer.split(";")[0].split(",")[0].strip()) if signer else None
    name = meta.get("ministry") or (found.group(1) if found else (meta.get("organisation") or signer))
    return NAME_ENDS.sub("", str(name)).strip() or None if name else None


def resolve_actors(record: dict) -> dict:
    """Fill in the signer for commitments whose actor is "ik", "wij", "het kabinet" or implicit, and link
    each commitment to the recommendation it answers and the stance taken on it (``links``)."""
    for _ in resolve_paragraphs(record, record.get("paragraphs") or [], signer_of(record)):
        pass
    return record


def resolve_paragraphs(skeleton: dict, paragraphs, signer: str | None):
    """:func:`resolve_actors` one paragraph at a time (a spooled letter is never whole in memory): each
    paragraph of ``paragraphs`` resolved in place and yielded, with the letter's ``links`` from ``skeleton``."""
    answered: dict[int, dict] = {}
    for link in skeleton.get("links") or []:
        first, last = link["scope"]
        for j in range(first, last + 1):
            answered.setdefault(j, link)
    for index, paragraph in enumerate(paragraphs):
        for commitment in paragraph.get("commitments") or []:
            actor = commitment["actor"]
            if actor.get("signer"):
                actor["text"] = signer or UNKNOWN_SIGNER
            link = answered.get(index)
            commitment["recommendation"] = link["recommendation"] if link else None
            commitment["stance"] = (link.get("position") or {}).get("stance") if link else None
        yield paragraph


def commitment_records(doc: Doc) -> list[dict]:
    """``doc._.commitments`` as record dicts: offsets into the text as given (``doc._.source_text``), with
    the texts, each DATE's range, the deadline and the due period."""
    source = doc._.source_text or doc.text
    ranges = {(e.start_char, e.end_char): e._.date_range for e in doc.ents if e.label_ == "DATE"}

    def place(start: int, end: int) -> dict:
        s, e = doc._.to_source(start, end)
        return {"start": s, "end": e, "text": source[s:e]}

    out = []
    for commitment in doc._.commitments or []:
        actor = dict(commitment["actor"])
        if "start" in actor:
            actor = {**place(actor["start"], actor["end"])}
        dates = []
        for start, end in commitment["dates"]:
            rng = ranges.get((start, end))
            dates.append({**place(start, end), "range": {"start": rng[0], "end": rng[1]} if rng else None})
        deadline = place(*commitment["deadline"]) if commitment.get("deadline") else None
        due = commitment.get("due")
        out.append({**place(commitment["start"], commitment["end"]), "actor": actor, "dates": dates, "deadline": deadline,
                    "due": {"start": due[0], "end": due[1]} if due else None})
    return out

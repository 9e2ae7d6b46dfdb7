"""``kamerbrief.Tokenizer.v1``: spaCy's Dutch tokenizer behind the normalisation step.

Every way text enters a kamerbrief pipeline (``nlp(text)``, ``nlp.make_doc``, ``nlp.pipe`` of strings,
the reader's paragraphs, records that bring their own ``text``, ``annotate``, ``evaluate``) passes the
pipeline's tokenizer, so the normalisation lives here, once: the Doc is built on the normalised text
(:mod:`kamerbrief.pipeline.normalize`) and keeps the user's text in ``doc._.source_text`` and the
offset map in ``doc._.source_offsets`` (``doc._.to_source``, ``span._.source_start``/``_end`` map back).

Extra infix rules split words glued together by a missing break in the source, so no entity takes
its neighbour along: a lowercase-to-capital boundary (``UtrechtPostbus``: at least three lowercase
letters before, a capital and two lowercase letters after, so ``PvdA``, ``KvK``, ``DigiD`` and
``McDonald`` stay whole), a digit-to-word boundary (``284Artikel``: a capital and two lowercase letters after
the digit, so ``125c`` and ``2730M`` stay whole), a year glued to what a link left behind (``2006/BWBR0019871``,
``2010vergoeding``: a year opening a word, then a slash and two letters or four lowercase letters; ``09-1187/AR``,
``ISO 1073/II`` and ``AD 2000/U50677`` stay whole), a full stop or closing bracket before a capitalised word
(``WLZ.Daarnaast``, ``88).De``, ``Jeugdwet(2014)Daarna``; spaCy's Dutch rules split only ``Wlz.Daarnaast``), a
table's cell bar before a word (``|maart 2004``), and a motion or amendment from its mover's name
(``motie-Wassenberg``). Set in config.cfg::

    [nlp.tokenizer]
    @tokenizers = "kamerbrief.Tokenizer.v1"
    normalize = true
    split_glued = true
    star_emphasis = false
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, registry

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline import extensions  # noqa: F401  (registers doc._.source_text and friends)
from kamerbrief.pipeline.normalize import normalize_text

LOWER = "a-zà-öø-ÿ"
GLUED_INFIXES = [
    rf"(?<=[{LOWER}]{{3}})(?=[A-Z][{LOWER}]{{2}})",  # UtrechtPostbus
    rf"(?<=[0-9])(?=[A-Z][{LOWER}]{{2}})",  # 284Artikel 43, 2019Het (an article's letter stays: 125c, 2730M)
    rf"(?<=[A-Za-z0-9\)\]]{{2}})\.(?=[A-Z][{LOWER}])",  # WLZ.Daarnaast, ARAR.Na, 88).De
    rf"[\)\]](?=[A-Za-z{LOWER}.])",  # (2019)Het, [1]zie, 88).De
    rf"(?<=[A-Za-z{LOWER}0-9])[\(\[]",  # Jeugdwet(2014
    rf"(?<=^(?:1[89]|20)[0-9]{{2}})(?=/[A-Za-z]{{2}}|[{LOWER}]{{4}})",  # a link's path: 2006/BWBR0019871, 2010vergoeding
    r"(?<=[Mm]otie)-(?=[A-Z])", r"(?<=[Aa]mendement)-(?=[A-Z])",  # motie-Wassenberg: the motion and its mover
]
# A table's cell bar glued to the word after it ("2004 |maart 2004" in converted tables): spaCy splits a bar
# off a word's end, not its start.
GLUED_PREFIXES = [r"\|"]
# Patterns the saved tokenizer file holds too: they are made from code and config, not loaded, so a
# pipeline saved before a rule changed gets the current rules.
RULE_KEYS = ["prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match"]


class TextInputError(KamerbriefError):
    code = "E107"


class NormalizingTokenizer:
    """Wraps a spaCy ``Tokenizer``: normalise, tokenise the normalised text, keep the map back."""

    def __init__(self, tokenizer: Tokenizer, normalize: bool = True, star_emphasis: bool = False):
        self.tokenizer = tokenizer
        self.normalize = normalize
        self.star_emphasis = star_emphasis

    def __call__(self, text: str) -> Doc:
        if not isinstance(text, str):
            raise TextInputError(f"text must be a string, not {type(text).__name__}")
        normalized = normalize_text(text, star_emphasis=self.star_emphasis) if self.normalize else None
        if normalized is None or not normalized.changed:
            doc = self.tokenizer(text)
            doc._.source_text = text
            return doc
        doc = self.tokenizer(normalized.text)
        doc._.source_text = text
        doc._.source_offsets = normalized.offsets.to_json()
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    def __getattr__(self, name):  # explain, add_special_case, rules, vocab, ...: the wrapped tokenizer's
        if name == "tokenizer":
            raise AttributeError(name)
        return getattr(self.tokenizer, name)

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return self.tokenizer.to_bytes(exclude=exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()):
        return self._keep_rules(lambda: self.tokenizer.from_bytes(bytes_data, exclude=exclude))

    def to_disk(self, path, *, exclude=tuple()) -> None:
        self.tokenizer.to_disk(path, exclude=exclude)

    def from_disk(self, path, *, exclude=tuple()):
        return self._keep_rules(lambda: self.tokenizer.from_disk(path, exclude=exclude))

    def _keep_rules(self, load) -> NormalizingTokenizer:
        kept = {key: getattr(self.tokenizer, key) for key in RULE_KEYS}
        load()
        for key, value in kept.items():
            setattr(self.tokenizer, key, value)
        return self


@registry.tokenizers("kamerbrief.Tokenizer.v1")
def create_tokenizer(normalize: bool = True, split_glued: bool = True, star_emphasis: bool = False):
    from spacy.language import create_tokenizer as spacy_tokenizer

    def make(nlp) -> NormalizingTokenizer:
        tokenizer = spacy_tokenizer()(nlp)
        if split_glued:
            tokenizer.infix_finditer = compile_infix_regex([*(nlp.Defaults.infixes or []), *GLUED_INFIXES]).finditer
            tokenizer.prefix_search = compile_prefix_regex([*(nlp.Defaults.prefixes or []), *GLUED_PREFIXES]).search
        return NormalizingTokenizer(tokenizer, normalize, star_emphasis)

    return make


TOKENIZER_CONFIG = {"@tokenizers": "kamerbrief.Tokenizer.v1", "normalize": True, "split_glued": True, "star_emphasis": False}


def blank(**tokenizer_settings):
    """An empty Dutch pipeline with the kamerbrief tokenizer (rules and models are added to it)."""
    import spacy

    return spacy.blank("nl", config={"nlp": {"tokenizer": {**TOKENIZER_CONFIG, **tokenizer_settings}}})

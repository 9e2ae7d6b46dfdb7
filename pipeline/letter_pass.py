"""What is done to a letter's entities once all its paragraphs are back: the model reads one paragraph at a time, and
some decisions need the whole letter.

* ``names`` (``pipeline/letter_names.py``): a name the model tagged at least twice with one label gets that label
  wherever it stands untagged;
* ``own_articles`` (``pipeline/own_articles.py``): in a regulation with article headings of its own, a bare article
  reference ("bedoeld in artikel 15, tweede lid") is no REF.

Both are settings of the ``kamerbrief_rules`` component (``letter_names``, ``own_articles``), read by whoever annotates
whole letters: :func:`letter_pass_of`. Their facts are gathered in one pass over the letter (:meth:`LetterPass.facts`,
on paragraph records or on Docs) and applied to records (:func:`records_after`) and Docs (:func:`apply_to_docs`), so
``annotate``'s JSONL, its DocBin and ``evaluate`` agree.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from spacy.tokens import Doc
from spacy.util import filter_spans

from kamerbrief.pipeline.letter_names import LetterNames, name_spans, names_pattern
from kamerbrief.pipeline.own_articles import article_heading, own_article_references, own_articles

Entities = Iterable[tuple[int, int, str]]


@dataclass(frozen=True)
class LetterFacts:
    """What one letter's pass found: the names to spread, and the article numbers of its own headings if it is a
    regulation (``pipeline/own_articles.py``)."""

    names: dict[str, str] = field(default_factory=dict)
    articles: frozenset[str] = frozenset()
    pattern: re.Pattern | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", names_pattern(self.names))   # once per letter, not per paragraph

    def __bool__(self) -> bool:
        return bool(self.names) or bool(self.articles)

    def entities(self, text: str, entities: list[tuple[int, int, str]]) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        """``(added, dropped)`` for one paragraph's ``entities`` (``(start, end, label)`` in ``text``)."""
        dropped = sorted(own_article_references(text, entities, self.articles)) if self.articles else []
        added = name_spans(text, self.names, ((s, e) for s, e, _ in entities), self.pattern) if self.names else []
        return added, dropped


@dataclass(frozen=True)
class LetterPass:
    """Which letter-level decisions to make (the ``kamerbrief_rules`` settings ``letter_names`` and ``own_articles``)."""

    names: bool = False
    own_articles: bool = False

    def __bool__(self) -> bool:
        return self.names or self.own_articles

    def facts(self, paragraphs: Iterable[tuple[str, Entities]]) -> LetterFacts:
        """The facts of a letter given as ``(text, entities)`` per paragraph."""
        if not self:
            return LetterFacts()
        votes, headings = LetterNames(), set()
        for text, entities in paragraphs:   # one pass, keeping no text: a spooled letter can be 60 MB
            if self.names:
                votes.add(text, entities)
            if self.own_articles and (heading := article_heading(text)) is not None:
                headings.add(heading)
        return LetterFacts(votes.names() if self.names else {}, own_articles(headings))

    def facts_of_records(self, paragraphs: Iterable[dict]) -> LetterFacts:
        return self.facts((p["text"], ((e["start"], e["end"], e["label"]) for e in p["entities"])) for p in paragraphs)

    def facts_of_docs(self, docs: Iterable[Doc]) -> LetterFacts:
        return self.facts((doc.text, ((e.start_char, e.end_char, e.label_) for e in doc.ents)) for doc in docs)


NO_LETTER_PASS = LetterPass()


def letter_pass_of(nlp) -> LetterPass:
    """The letter-level settings of ``nlp``'s ``kamerbrief_rules`` (none without that component)."""
    if "kamerbrief_rules" not in nlp.pipe_names:
        return NO_LETTER_PASS
    rules = nlp.get_pipe("kamerbrief_rules")
    return LetterPass(bool(getattr(rules, "letter_names", False)), bool(getattr(rules, "own_articles", False)))


def records_after(paragraphs: Iterable[dict], facts: LetterFacts) -> Iterator[dict]:
    """Each paragraph record (``text``, ``entities``) after the letter's pass: a new dict where something changed,
    else the same one."""
    for paragraph in paragraphs:
        if facts:
            entities = [(e["start"], e["end"], e["label"]) for e in paragraph["entities"]]
            added, dropped = facts.entities(paragraph["text"], entities)
            if added or dropped:
                gone = set(dropped)
                kept = [e for e in paragraph["entities"] if (e["start"], e["end"], e["label"]) not in gone]
                paragraph = {**paragraph, "entities": sorted(
                    [*kept, *({"start": s, "end": e, "label": label} for s, e, label in added)], key=lambda e: e["start"])}
        yield paragraph


def apply_to_docs(docs: Iterable[Doc], facts: LetterFacts) -> None:
    """Apply the letter's pass to each Doc's entities, on the Doc's own (normalised) text."""
    if not facts:
        return
    for doc in docs:
        added, dropped = facts.entities(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents])
        if not added and not dropped:
            continue
        gone = set(dropped)
        kept = [e for e in doc.ents if (e.start_char, e.end_char, e.label_) not in gone]
        spans = [doc.char_span(s, e, label=label) for s, e, label in added]
        # a name that does not fall on token edges stays out
        doc.ents = filter_spans([*kept, *(span for span in spans if span is not None)])


def after_letter(docs: list[Doc], letter_pass: LetterPass) -> LetterFacts:
    """Gather the facts on ``docs`` (one letter's paragraphs) and apply them; returns the facts."""
    facts = letter_pass.facts_of_docs(docs)
    apply_to_docs(docs, facts)
    return facts


__all__ = ["NO_LETTER_PASS", "LetterFacts", "LetterPass", "after_letter", "apply_to_docs", "letter_pass_of", "records_after"]

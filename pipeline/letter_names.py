"""Names a letter repeats: where the model tagged a name at least twice with one label, every other occurrence of it
in the same letter gets that label too.

A model reads one paragraph at a time, so it can tag "het Tribunaal" in one article of a decree and miss it in the
next. After a letter's paragraphs are done, :class:`LetterNames` counts the model's ORG, LOC and PER spans by their
text; a name tagged :data:`MIN_TAGS` times or more, with one label for at least :data:`MIN_SHARE` of its tags,
starting with a capital and at least three characters long, is added where it stands untagged and overlaps no
entity (whole words only). On dev (``evaluation/reports/README.md``, "Roads, royal decrees and span edges") this took
the real documents' ORG F1 from 0.779 to 0.812, but `test-real` fell (0.729 -> 0.717, not significant), so the
default model leaves it off.

The same pass runs on paragraph records (offsets into the record's text: :func:`with_letter_names`) and on Docs
(:func:`add_letter_names`), so ``annotate``'s JSONL, its DocBin and ``evaluate`` agree. It is the
``kamerbrief_rules`` setting ``letter_names`` (:func:`letter_names_on`).
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from spacy.tokens import Doc
from spacy.util import filter_spans

LABELS = ("ORG", "LOC", "PER")
MIN_TAGS = 2
MIN_SHARE = 0.8
MIN_CHARS = 3


class LetterNames:
    """The votes of one letter: ``add`` each paragraph's text and entities, then ``names()``."""

    def __init__(self) -> None:
        self.votes: dict[str, Counter] = defaultdict(Counter)

    def add(self, text: str, entities: Iterable[tuple[int, int, str]]) -> None:
        for start, end, label in entities:
            self.votes[text[start:end]][label] += 1

    def names(self) -> dict[str, str]:
        """Name -> label for the names to spread through the letter."""
        names = {}
        for name, votes in self.votes.items():
            label, count = votes.most_common(1)[0]
            if (label in LABELS and count >= MIN_TAGS and count >= MIN_SHARE * sum(votes.values())
                    and len(name) >= MIN_CHARS and name[:1].isupper()):
                names[name] = label
        return names


def _pattern(names: dict[str, str]) -> re.Pattern | None:
    if not names:
        return None
    # the longest name first, as whole words: "Raad" does not match inside "Raadslid" or "Raad-"
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def name_spans(text: str, names: dict[str, str], taken: Iterable[tuple[int, int]], pattern: re.Pattern | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of the names in ``text`` that overlap none of the ``taken`` spans."""
    pattern = pattern or _pattern(names)
    if pattern is None:
        return []
    taken = list(taken)
    found = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if all(end <= a or start >= b for a, b in taken):
            found.append((start, end, names[match.group()]))
            taken.append((start, end))
    return found


def names_of_records(paragraphs: Iterable[dict]) -> dict[str, str]:
    """The names to spread through a letter, counted on its paragraph records (``text`` and ``entities``)."""
    votes = LetterNames()
    for paragraph in paragraphs:
        votes.add(paragraph["text"], ((e["start"], e["end"], e["label"]) for e in paragraph["entities"]))
    return votes.names()


def with_letter_names(paragraphs: list[dict]) -> list[dict]:
    """Paragraph records (``text`` and ``entities`` with offsets into it) with the letter's names added."""
    return list(records_with_names(paragraphs, names_of_records(paragraphs)))


def records_with_names(paragraphs: Iterable[dict], names: dict[str, str]):
    """Each paragraph record with ``names`` added (a new dict where something was added, else the same one)."""
    pattern = _pattern(names)
    for paragraph in paragraphs:
        entities = paragraph["entities"]
        added = name_spans(paragraph["text"], names, ((e["start"], e["end"]) for e in entities), pattern)
        if added:
            entities = sorted([*entities, *({"start": s, "end": e, "label": label} for s, e, label in added)],
                              key=lambda e: e["start"])
            paragraph = {**paragraph, "entities": entities}
        yield paragraph


def add_letter_names(docs: list[Doc], names: dict[str, str] | None = None) -> dict[str, str]:
    """Add the letter's names (counted on ``docs`` unless given) to each Doc's entities, matched on the Doc's own
    (normalised) text; returns the names."""
    if names is None:
        votes = LetterNames()
        for doc in docs:
            votes.add(doc.text, ((e.start_char, e.end_char, e.label_) for e in doc.ents))
        names = votes.names()
    pattern = _pattern(names)
    if pattern is None:
        return names
    for doc in docs:
        added = name_spans(doc.text, names, ((e.start_char, e.end_char) for e in doc.ents), pattern)
        spans = [doc.char_span(s, e, label=label) for s, e, label in added]
        spans = [span for span in spans if span is not None]   # a name that does not fall on token edges stays out
        if spans:
            doc.ents = filter_spans([*doc.ents, *spans])
    return names


def letter_names_on(nlp) -> bool:
    """Whether ``nlp`` spreads the names a letter repeats (the ``kamerbrief_rules`` setting ``letter_names``)."""
    return "kamerbrief_rules" in nlp.pipe_names and getattr(nlp.get_pipe("kamerbrief_rules"), "letter_names", False)


__all__ = ["LetterNames", "add_letter_names", "letter_names_on", "name_spans", "names_of_records", "records_with_names",
           "with_letter_names"]

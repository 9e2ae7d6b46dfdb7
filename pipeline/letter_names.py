"""Names a letter repeats: where the model tagged a name at least twice with one label, every other occurrence of it
in the same letter gets that label too.

A model reads one paragraph at a time, so it can tag "het Tribunaal" in one article of a decree and miss it in the
next. After a letter's paragraphs are done, :class:`LetterNames` counts the model's ORG, LOC and PER spans by their
text; a name tagged :data:`MIN_TAGS` times or more, with one label for at least :data:`MIN_SHARE` of its tags,
starting with a capital and at least three characters long, is added where it stands untagged and overlaps no
entity (whole words only). On dev (``evaluation/reports/README.md``, "Roads, royal decrees and span edges") this took
the real documents' ORG F1 from 0.779 to 0.812, but `test-real` fell (0.729 -> 0.717, not significant), so the
default model leaves it off.

It is the ``kamerbrief_rules`` setting ``letter_names``, one of the letter-level decisions of
``pipeline/letter_pass.py``, which runs it on paragraph records and on Docs alike.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

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


def names_pattern(names: dict[str, str]) -> re.Pattern | None:
    if not names:
        return None
    # the longest name first, as whole words: "Raad" does not match inside "Raadslid" or "Raad-"
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def name_spans(text: str, names: dict[str, str], taken: Iterable[tuple[int, int]], pattern: re.Pattern | None = None) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of the names in ``text`` that overlap none of the ``taken`` spans."""
    pattern = pattern or names_pattern(names)
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


__all__ = ["LetterNames", "name_spans", "names_pattern"]

"""The ``kamerbrief_deadlines`` component: a date range on every DATE span, and the deadline of each
``deadline`` paragraph.

``span._.date_range`` is ``(start, end)`` in ISO dates (inclusive) or None, from
``kamerbrief.pipeline.time_expressions`` resolved against ``doc._.letter_date`` (or the component's
``default_letter_date``; without either, year-less expressions stay None).

``doc._.deadline`` is the DATE span a ``deadline`` paragraph is about: the one introduced by a
deadline signal ("uiterlijk", "voor", "binnen", ...) and with a range, preferring ranges that do not
end before the letter; None when the paragraph has no DATE span. ``doc._.deadline_due`` is the period
in which it falls due (``kamerbrief.pipeline.time_expressions.due_period``).
"""
from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc, Span

from kamerbrief.pipeline import extensions  # noqa: F401
from kamerbrief.pipeline.time_expressions import due_period, normalise_in_context

DEADLINE_SIGNAL = re.compile(r"\b(uiterlijk|voor|vóór|binnen|tot|uiterst|deadline|einde?|per|in|rond)\s*$", re.IGNORECASE)
CONTEXT_CHARS = 40


def preceding(span: Span, text: str | None = None) -> str:
    """The paragraph text just before a span: where its signal word ("voor", "binnen") stands. Pass
    ``text`` (``doc.text``) when calling this for many spans: spaCy joins every token to make ``doc.text``,
    so reading it per span made the component quadratic in DATE-dense Docs."""
    text = span.doc.text if text is None else text
    return text[max(0, span.start_char - CONTEXT_CHARS):span.start_char]


class DeadlineResolver:
    def __init__(self, nlp: Language, name: str, default_letter_date: str):
        self.name = name
        self.default_letter_date = default_letter_date or None

    def __call__(self, doc: Doc) -> Doc:
        letter_date = doc._.letter_date or self.default_letter_date
        dates = [e for e in doc.ents if e.label_ == "DATE"]
        text = doc.text if dates else ""
        for span in dates:
            span._.date_range = normalise_in_context(
                span.text, preceding_text=preceding(span, text),
                following_text=text[span.end_char:span.end_char + CONTEXT_CHARS], letter_date=letter_date)
        labels = doc._.labels or []
        span = self.pick_deadline(doc, dates, letter_date, text) if "deadline" in labels else None
        doc._.deadline_chars = (span.start_char, span.end_char) if span is not None else None
        doc._.deadline_due = due_period(span.text, span._.date_range, preceding(span, text), letter_date) if span is not None else None
        return doc

    @staticmethod
    def pick_deadline(doc: Doc, dates: list[Span], letter_date: str | None, text: str | None = None) -> Span | None:
        text = doc.text if text is None else text

        def score(span: Span) -> tuple:
            before = text[max(0, span.start_char - 20):span.start_char]
            has_range = span._.date_range is not None
            future = has_range and (letter_date is None or span._.date_range[1] >= letter_date)
            return (bool(DEADLINE_SIGNAL.search(before)), has_range, future, -span.start)
        return max(dates, key=score) if dates else None


# ``doc._.letter_date`` is the caller's (the letter's date), not a component's, so it is not required here.
@Language.factory("kamerbrief_deadlines", default_config={"default_letter_date": ""},
                  requires=["doc.ents", "doc._.labels"],
                  assigns=["span._.date_range", "doc._.deadline_chars", "doc._.deadline_due"])
def make_deadlines(nlp: Language, name: str, default_letter_date: str) -> DeadlineResolver:
    return DeadlineResolver(nlp, name, default_letter_date)

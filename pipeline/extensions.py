"""The custom attributes kamerbrief sets on spaCy objects (registered once, on import).

- ``doc._.labels``: predicted paragraph labels (``doc.cats`` holds the scores);
- ``doc._.stance`` / ``doc._.stance_scores``: the cabinet's stance for ``adoption`` paragraphs;
- ``doc._.letter_date``: the letter's date (ISO) that relative time expressions resolve against;
- ``doc._.kind``: the reader's paragraph kind (heading, body, list_item, ...);
- ``doc._.deadline``: for ``deadline`` paragraphs, the DATE span that states the deadline (a getter over
  ``doc._.deadline_chars``, its character offsets, which is what is stored so DocBins serialise);
- ``doc._.deadline_due``: ``(start, end)`` ISO dates, the period in which that deadline falls due (the
  span's range with its signal word applied: "voor het zomerreces van 2021" ends on 2021-07-01);
- ``span._.date_range``: for DATE spans, ``(start, end)`` ISO dates inclusive, or None.
"""
from spacy.tokens import Doc, Span

for _name, _default in (("labels", None), ("stance", None), ("stance_scores", None), ("letter_date", None),
                        ("kind", None), ("deadline_chars", None), ("deadline_due", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def _deadline(doc):
    chars = doc._.deadline_chars
    # The label is part of the key spaCy stores span extensions under, so date_range stays readable.
    return doc.char_span(chars[0], chars[1], label="DATE") if chars else None


if not Doc.has_extension("deadline"):
    Doc.set_extension("deadline", getter=_deadline)
if not Span.has_extension("date_range"):
    Span.set_extension("date_range", default=None)

"""The custom attributes kamerbrief sets on spaCy objects (registered once, on import).

- ``doc._.labels``: predicted paragraph labels (``doc.cats`` holds the scores);
- ``doc._.stance`` / ``doc._.stance_scores``: the cabinet's stance for ``adoption`` paragraphs;
- ``doc._.letter_date``: the letter's date (ISO) that relative time expressions resolve against;
- ``doc._.kind``: the reader's paragraph kind (heading, body, list_item, ...);
- ``doc._.context``: ``{"heading": ..., "previous": ...}``, the paragraph's neighbours in its letter, set only for a
  model that reads them (``kamerbrief.data.context``; None: read without context);
- ``doc._.deadline``: for ``deadline`` paragraphs, the DATE span that states the deadline (a getter over
  ``doc._.deadline_chars``, its character offsets, which is what is stored so DocBins serialise);
- ``doc._.deadline_due``: ``(start, end)`` ISO dates, the period in which that deadline falls due (the
  span's range with its signal word applied: "voor het zomerreces van 2021" ends on 2021-07-01);
- ``doc._.commitments``: the paragraph's commitments (``kamerbrief.pipeline.commitments``), plain dicts with
  character offsets into ``doc.text``;
- ``span._.date_range``: for DATE spans, ``(start, end)`` ISO dates inclusive, or None;
- ``doc._.source_text``: the text as the user gave it, before normalisation (``kamerbrief.pipeline.normalize``;
  None when the Doc was made without it); ``doc._.source_offsets`` the offset map (None when nothing
  changed); ``doc._.to_source(start_char, end_char)`` maps a span of ``doc.text`` into the source text and
  ``span._.source_start`` / ``span._.source_end`` / ``span._.source_text`` give a span's place there.
"""
from spacy.tokens import Doc, Span

for _name, _default in (("source_text", None), ("source_offsets", None), ("labels", None), ("stance", None), ("stance_scores", None), ("letter_date", None),
                        ("kind", None), ("context", None), ("deadline_chars", None), ("deadline_due", None), ("commitments", None)):
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


def _to_source(doc, start: int, end: int) -> tuple[int, int]:
    from kamerbrief.pipeline.normalize import OffsetMap

    offsets = doc._.source_offsets
    return OffsetMap.from_json(offsets).to_source(start, end) if offsets else (start, end)


def _span_source(span) -> tuple[int, int]:
    return span.doc._.to_source(span.start_char, span.end_char)


def _span_source_text(span) -> str:
    start, end = _span_source(span)
    return (span.doc._.source_text or span.doc.text)[start:end]


if not Doc.has_extension("to_source"):
    Doc.set_extension("to_source", method=_to_source)
for _name, _getter in (("source_start", lambda span: _span_source(span)[0]), ("source_end", lambda span: _span_source(span)[1]),
                       ("source_text", _span_source_text)):
    if not Span.has_extension(_name):
        Span.set_extension(_name, getter=_getter)

"""The label inventory of ANNOTATION.md, in one place."""
from __future__ import annotations

PARAGRAPH_LABELS = ("recommendation", "adoption", "action", "deadline")
STANCES = ("adopted", "partial", "rejected", "endorsed")
ENTITY_LABELS = ("ORG", "PER", "LOC", "DATE", "REF", "LAW")
PARAGRAPH_KINDS = (
    "heading",
    "body",
    "list_item",
    "footnote",
    "signature",
    "addressee",
    "date_line",
    "salutation",
)

"""The label inventory of ANNOTATION.md and the tag ids the model reads and writes, in one place."""
from __future__ import annotations

PARAGRAPH_LABELS = ("recommendation", "adoption", "action", "deadline")
STANCES = ("adopted", "partial", "rejected", "endorsed")
ENTITY_LABELS = ("ORG", "PER", "LOC", "DATE", "REF", "LAW")
# The model's tag per tokenizer piece: strict IOB2 over the entity labels, "O" first.
BIO_TAGS = ["O"] + [f"{prefix}-{label}" for label in ENTITY_LABELS for prefix in ("B", "I")]
TAG_TO_ID = {tag: i for i, tag in enumerate(BIO_TAGS)}
# The target id a loss skips (special tokens, paragraphs without a gold stance): PyTorch's ``ignore_index`` default.
IGNORE = -100
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

# Corpus splits, by document. The v1 splits are hashed by id; the writer splits hold every letter of the writers
# named in ``data/letters/writers.json``, so no letter of theirs is trained on; ``test-real`` holds real documents
# only, imported with ``data build --split test-real``. Frozen splits change only with
# ``kamerbrief data build --allow-test-change``.
SPLITS = ("train", "dev", "test", "dev-writer", "test-writer", "test-real")
FROZEN_SPLITS = ("test", "dev-writer", "test-writer", "test-real")

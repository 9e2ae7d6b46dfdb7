"""Paragraph context: what the model reads beside a paragraph, built the same way for training and inference.

A model's ``context`` setting (:class:`~kamerbrief.pipeline.model.multitask.KamerbriefConfig`) says what it reads:

- ``none``: the paragraph alone (the encoding of every model trained before this setting existed);
- ``heading``: the nearest heading before the paragraph, then the paragraph;
- ``heading+previous``: that heading and the paragraph right before (when that is not the heading itself).

The context and the paragraph are read as a tokenizer pair, the context first (``context_position = "before"``) or
after the paragraph (``"after"``: the paragraph keeps the positions it has without context, which a model
fine-tuned from a context-free one knows). A long paragraph is cut into windows as before (only the paragraph is
truncated) and every window reads the same context. The context is cut to ``context_tokens`` pieces: the heading keeps its start and the previous paragraph its end (the end is
what leads into the paragraph: "De Raad beveelt aan:"). Pieces of the context get no offsets (``(0, 0)``, as
special tokens have), so they are never tagged in training, never decoded into entities, and every offset
still points into the paragraph; the paragraph and stance heads pool over the paragraph's pieces only.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

CONTEXTS = ("none", "heading", "heading+previous")
CONTEXT_POSITIONS = ("before", "after")
# Characters kept of a heading (its start) and of a previous paragraph (its end) before tokenising: far more
# than any piece budget needs, and a megabyte paragraph is not copied next to its neighbour.
NEIGHBOUR_CHARS = 1_000
# Special pieces of a pair (``<s> A </s></s> B </s>`` for XLM-R) and the separator between heading and previous.
PAIR_OVERHEAD = 6


def paragraph_neighbours(paragraphs: Iterable[tuple[str | None, str]]) -> Iterator[dict]:
    """For each paragraph, given as ``(kind, text)`` in reading order: ``{"heading": ..., "previous": ...}``,
    the text of the nearest heading before it and of the paragraph right before it, ``""`` where there is none.
    ``previous`` is empty when the paragraph before is that heading, so it is not read twice. Lazy, so a long
    letter streams through it."""
    heading = previous = ""
    for kind, text in paragraphs:
        yield {"heading": heading, "previous": previous}
        if kind == "heading":
            heading, previous = text[:NEIGHBOUR_CHARS], ""
        else:
            previous = text[-NEIGHBOUR_CHARS:]


def check_context(context: str) -> str:
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    return context


def context_texts(tokenizer, neighbours: list[dict | None], context: str, context_tokens: int) -> list[str]:
    """The context text of each paragraph (``""`` for ``None``: a paragraph read without its letter), at most
    ``context_tokens`` pieces: the heading gets what the previous paragraph leaves of the budget, the previous
    paragraph at least half of it."""
    check_context(context)
    headings = [n["heading"] if n else "" for n in neighbours]
    previous = [n["previous"] if n and context == "heading+previous" else "" for n in neighbours]
    heading_offsets = tokenizer(headings, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    previous_offsets = tokenizer(previous, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    out = []
    for heading, heading_pieces, before, before_pieces in zip(headings, heading_offsets, previous, previous_offsets, strict=True):
        keep_heading = min(len(heading_pieces), context_tokens - min(len(before_pieces), context_tokens // 2))
        keep_before = min(len(before_pieces), context_tokens - keep_heading)
        parts = [heading[:heading_pieces[keep_heading - 1][1]] if keep_heading else "",
                 before[before_pieces[len(before_pieces) - keep_before][0]:] if keep_before else ""]
        out.append("\n".join(part.strip() for part in parts if part.strip()))
    return out


def pair_sizes(max_length: int, stride: int, context_tokens: int) -> tuple[int, int]:
    """``(context_tokens, stride)`` that leave every window room for more paragraph pieces than the stride."""
    budget = min(context_tokens, max_length // 4)
    return budget, max(0, min(stride, (max_length - budget - PAIR_OVERHEAD) // 2))


def encode_with_context(tokenizer, texts: list[str], neighbours: list[dict | None], context: str, context_tokens: int,
                        max_length: int, stride: int, position: str = "before") -> dict:
    """The tokenizer's windows of each text, its context (:func:`context_texts`) ``position`` each window.

    Returns ``input_ids``, ``attention_mask``, ``offsets`` (character offsets into the text; ``(0, 0)`` for
    special and context pieces), ``pool_mask`` (1 on every piece but the context's) and ``owners`` (the text
    each window belongs to)."""
    budget, stride = pair_sizes(max_length, stride, context_tokens)
    if position not in CONTEXT_POSITIONS:
        raise ValueError(f"context_position must be one of {', '.join(CONTEXT_POSITIONS)}, not {position!r}")
    contexts = context_texts(tokenizer, neighbours, context, budget)
    if position == "before":
        encoded = tokenizer(contexts, texts, truncation="only_second", max_length=max_length, stride=stride,
                            return_overflowing_tokens=True, return_offsets_mapping=True)
    else:
        encoded = tokenizer(texts, contexts, truncation="only_first", max_length=max_length, stride=stride,
                            return_overflowing_tokens=True, return_offsets_mapping=True)
    text_sequence, context_sequence = (1, 0) if position == "before" else (0, 1)
    offsets, pool_mask = [], []
    for w in range(len(encoded["input_ids"])):
        sequences = encoded.sequence_ids(w)
        offsets.append([tuple(o) if s == text_sequence else (0, 0) for s, o in zip(sequences, encoded["offset_mapping"][w], strict=True)])
        pool_mask.append([0 if s == context_sequence else 1 for s in sequences])
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "offsets": offsets,
            "pool_mask": pool_mask, "owners": list(encoded["overflow_to_sample_mapping"])}

"""From model outputs on tokenizer pieces back to the paragraph: character spans and label scores.

Shared by training (dev metrics) and the spaCy component, so both read the model the same way.
"""
from __future__ import annotations

import numpy as np


def tags_to_spans(tags: list[str], offsets: list[tuple[int, int]], text: str) -> list[dict]:
    """Strict IOB2 decoding of piece tags into ``{"start", "end", "label"}`` character spans.

    A span starts at ``B-X`` and takes the following ``I-X`` pieces; an ``I-X`` without a matching
    open span is dropped (strict, as seqeval's IOB2 mode scores it). Piece offsets may include the
    leading space of a metaspace tokenizer; spans are trimmed to their text.
    """
    spans: list[dict] = []
    current: dict | None = None
    for tag, (start, end) in zip(tags, offsets, strict=True):
        if start == end:  # special token or padding
            continue
        if tag.startswith("B-"):
            current = {"start": start, "end": end, "label": tag[2:]}
            spans.append(current)
        elif tag.startswith("I-") and current is not None and current["label"] == tag[2:]:
            current["end"] = end
        else:
            current = None
    out = []
    for span in spans:
        start, end = span["start"], span["end"]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            out.append({"start": start, "end": end, "label": span["label"]})
    return out


# A piece of a name that the model tags inside another label ("Tweede" B-ORG, "Kamer" I-LAW) stays in
# the name's span while its own inside tag has at least this probability. Strict IOB2 cut such names
# short ("Tweede", "Stichting Uitvoering"); chosen on dev among 0.05/0.1/0.2 (evaluation/reports/README.md,
# "Names that keep their pieces"). 1 (or more): strict IOB2.
DEFAULT_SPAN_CONTINUATION = 0.1


def decode_tags(probs: np.ndarray, tags: list[str], span_continuation: float = DEFAULT_SPAN_CONTINUATION) -> list[str]:
    """IOB2 tags for one sequence of pieces from their tag distributions ``(n_pieces, n_tags)``.

    Each piece takes its most probable tag, read as strict IOB2 (an ``I-X`` with no open span is
    ``O``), with one allowance: an ``I-Y`` piece continues an open span of label X when its ``I-X``
    probability is at least ``span_continuation``, and is then tagged ``I-X``. A span keeps the label
    its first piece gave it. Joint decoding (constrained Viterbi, or a label voted over the whole span)
    was tried and lost on dev: it turns stray inside-pieces into spans of their own.
    """
    inside = {tag[2:]: i for i, tag in enumerate(tags) if tag.startswith("I-")}
    out: list[str] = []
    label = None
    for piece, best in zip(probs, probs.argmax(-1), strict=True):
        tag = tags[best]
        if tag.startswith("B-"):
            label = tag[2:]
        elif tag.startswith("I-") and label is not None and (
                tag[2:] == label or (span_continuation < 1 and piece[inside[label]] >= span_continuation)):
            tag = "I-" + label
        else:
            tag, label = "O", None
        out.append(tag)
    return out


def merge_window_logits(windows: list[tuple[np.ndarray, list[tuple[int, int]]]]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Merge overlapping windows of one paragraph into one sequence of piece logits.

    ``windows`` are ``(token_logits, offsets)`` in order. A piece seen in several windows keeps the
    logits from the window where it sits furthest from an edge (it saw the most context there).
    """
    by_piece: dict[tuple[int, int], tuple[int, np.ndarray]] = {}
    for logits, offsets in windows:
        real = [i for i, (s, e) in enumerate(offsets) if s != e]
        for rank, i in enumerate(real):
            margin = min(rank, len(real) - 1 - rank)
            key = tuple(offsets[i])
            if key not in by_piece or margin > by_piece[key][0]:
                by_piece[key] = (margin, logits[i])
    keys = sorted(by_piece)
    if not keys:
        return np.zeros((0, windows[0][0].shape[-1] if windows else 0), dtype=np.float32), []
    return np.stack([by_piece[k][1] for k in keys]), keys


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)

"""Extra NER sources (CoNLL-2002 Dutch, Europeana Dutch newspapers) as ANNOTATION.md records.

A source that annotates only some labels says so in ``meta.annotated_labels`` (entity labels) and
``meta.annotated_paragraph_labels`` (paragraph labels, empty here): training then treats an
unannotated label as unknown rather than absent, so CoNLL does not teach "no DATE here".
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_LABELS

CONLL_LABELS = {"per": "PER", "org": "ORG", "loc": "LOC"}  # misc is dropped: no such label here
FULLY_ANNOTATED = {"annotated_labels": list(ENTITY_LABELS), "annotated_paragraph_labels": list(PARAGRAPH_LABELS)}


def annotated_labels(record: dict) -> tuple[list[str], list[str]]:
    """``(entity labels, paragraph labels)`` a record annotates; team corpora annotate all of them."""
    meta = record.get("meta", {})
    return (list(meta.get("annotated_labels", ENTITY_LABELS)),
            list(meta.get("annotated_paragraph_labels", PARAGRAPH_LABELS)))


def _tokens_to_paragraph(tokens: list[tuple[str, str]]) -> dict:
    """Whitespace-joined tokens with BIO tags -> a paragraph with character-offset entities."""
    text_parts: list[str] = []
    entities: list[dict] = []
    cursor = 0
    current: dict | None = None
    for token, tag in tokens:
        start = cursor
        text_parts.append(token)
        cursor += len(token) + 1
        prefix, _, kind = tag.partition("-")
        label = CONLL_LABELS.get(kind.lower()) if kind else None
        if prefix == "I" and current is not None and current["label"] == label:
            current["end"] = start + len(token)
            continue
        current = None
        if prefix in ("B", "I") and label:
            current = {"start": start, "end": start + len(token), "label": label}
            entities.append(current)
    return {"text": " ".join(text_parts), "kind": "body", "labels": [], "entities": entities}


def _read_token_lines(path: Path) -> Iterator[list[tuple[str, str]] | None]:
    """Token/tag pairs; ``None`` marks a blank line (a sentence break)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if not parts:
                yield None
            elif parts[0] == "-DOCSTART-":
                continue
            elif len(parts) >= 2:
                yield [(parts[0], parts[-1])]


def conll2002_records(path: str | Path, sentences_per_record: int = 1) -> Iterator[dict]:
    """CoNLL-2002 Dutch (``token TAG`` lines, blank line between sentences) as one record per sentence."""
    path = Path(path)
    meta = {"annotated_labels": sorted(CONLL_LABELS.values()), "annotated_paragraph_labels": [], "kind": "ner"}
    sentence: list[tuple[str, str]] = []
    n = 0
    for item in [*_read_token_lines(path), None]:
        if item is None:
            if sentence:
                yield {"id": f"{path.stem}-{n:05d}", "source": f"conll2002:{path.name}", "meta": meta,
                       "paragraphs": [_tokens_to_paragraph(sentence)]}
                n += 1
                sentence = []
        else:
            sentence.extend(item)


def europeana_records(path: str | Path, max_tokens: int = 60) -> Iterator[dict]:
    """Europeana NER (no sentence breaks): cut into pseudo-sentences at sentence-final tokens."""
    path = Path(path)
    meta = {"annotated_labels": ["LOC", "ORG", "PER"], "annotated_paragraph_labels": [], "kind": "ner"}
    chunk: list[tuple[str, str]] = []
    n = 0
    for item in [*_read_token_lines(path), None]:
        if item:
            chunk.extend(item)
        at_end = item is None
        if chunk and (at_end or (len(chunk) >= 8 and chunk[-1][0].endswith((".", "?", "!")) and chunk[-1][1] == "O")
                      or (len(chunk) >= max_tokens and chunk[-1][1] == "O")):
            yield {"id": f"europeana-{n:05d}", "source": f"europeana:{path.name}", "meta": meta,
                   "paragraphs": [_tokens_to_paragraph(chunk)]}
            n += 1
            chunk = []

"""Extra training sources as ANNOTATION.md records: CoNLL-2002 Dutch and Europeana Dutch newspapers
(NER only), and unlabeled corpus paragraphs (a transfer set for distillation).

A source that annotates only some labels says so in ``meta.annotated_labels`` (entity labels) and
``meta.annotated_paragraph_labels`` (paragraph labels, empty here): training then treats an
unannotated label as unknown rather than absent, so CoNLL does not teach "no DATE here". An
unlabeled source annotates nothing: its windows carry no gold loss and teach only through a teacher.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_LABELS
from kamerbrief.errors import KamerbriefError

CONLL_LABELS = {"per": "PER", "org": "ORG", "loc": "LOC"}  # misc is dropped: no such label here


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


def conll2002_records(path: str | Path) -> Iterator[dict]:
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


def unlabeled_records(path: str | Path, exclude: list | tuple = (), max_paragraphs: int | None = None,
                      min_chars: int = 40, seed: int = 13) -> Iterator[dict]:
    """Paragraphs of a shared corpus (``*.jsonl.gz`` of corpus records), read as ``kamerbrief annotate``
    reads them, with no labels at all: a transfer set on which a student learns from its teacher.

    Documents named by any record in ``exclude`` (record files, e.g. the dev and test standoff files)
    are left out by ``doc_id``, all versions of them: a student must not see held-out letters, even
    unlabeled. ``max_paragraphs`` draws that many paragraphs at random (``seed``) from the rest;
    paragraphs shorter than ``min_chars`` (headings, list stubs) are skipped.
    """
    import numpy as np

    from kamerbrief.data.records import read_jsonl, read_records
    from kamerbrief.pipeline.reader import read_corpus_record

    path = Path(path)
    held_out = {r.get("doc_id") or r["id"] for file in exclude for r in read_records(file)}
    meta = {"annotated_labels": [], "annotated_paragraph_labels": [], "kind": "unlabeled"}
    paragraphs: list[tuple[str, dict]] = []  # (record id, paragraph)
    for _, record in read_jsonl(path):
        if record.get("id") in held_out or "text" not in record:
            continue
        try:
            letter = read_corpus_record(record, str(path))
        except KamerbriefError:
            continue  # a record the reader rejects is no loss to a transfer set
        key = record.get("path") or record["id"]
        paragraphs.extend((f"{key}#{i}", {"text": p.text, "kind": p.kind, "labels": [], "entities": []})
                          for i, p in enumerate(letter.paragraphs) if len(p.text) >= min_chars)
    if max_paragraphs is not None and max_paragraphs < len(paragraphs):
        chosen = np.random.default_rng(seed).choice(len(paragraphs), size=max_paragraphs, replace=False)
        paragraphs = [paragraphs[i] for i in sorted(chosen)]
    for record_id, paragraph in paragraphs:
        yield {"id": record_id, "source": f"unlabeled:{path.name}", "meta": meta, "paragraphs": [paragraph]}

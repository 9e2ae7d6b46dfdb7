"""Records -> spaCy ``Doc`` s / ``DocBin``, and records -> a ``datasets.Dataset`` for a tokenizer.

One paragraph is one example. For the transformer, BIO tags are aligned to the tokenizer's pieces by
character offsets (every piece inside an entity is tagged; the first one ``B-``), paragraph labels
are multi-hot, and long paragraphs become overlapping windows. Each example also carries which labels
its source annotates, so partially annotated sources (CoNLL) can be trained on honestly.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from kamerbrief.data.records import resolve
from kamerbrief.data.schema import ENTITY_LABELS, IGNORE, PARAGRAPH_LABELS, STANCES, TAG_TO_ID
from kamerbrief.data.sources import annotated_labels


def iter_paragraphs(records: Iterable[dict], shared_dir=None) -> Iterator[tuple[dict, int, dict]]:
    """``(record, index, paragraph)`` for every paragraph, standoff records resolved."""
    for record in records:
        record = resolve(record, shared_dir)
        for index, paragraph in enumerate(record["paragraphs"]):
            yield record, index, paragraph


def records_to_docs(records: Iterable[dict], nlp, shared_dir=None) -> Iterator:
    """One ``Doc`` per paragraph: ``doc.ents`` from the gold spans, ``doc.cats`` multi-hot, and the
    letter id, paragraph index, kind, stance and annotated labels in ``doc.user_data``.
    Spans that do not fall on token boundaries are snapped outward (``alignment_mode="expand"``)."""
    for record, index, paragraph in iter_paragraphs(records, shared_dir):
        doc = nlp.make_doc(paragraph["text"])
        spans = []
        for entity in paragraph.get("entities", []):
            span = doc.char_span(entity["start"], entity["end"], label=entity["label"], alignment_mode="expand")
            if span is not None and not any(s.start < span.end and span.start < s.end for s in spans):
                spans.append(span)
        doc.ents = sorted(spans, key=lambda s: s.start)
        entity_labels, paragraph_labels = annotated_labels(record)
        doc.cats = {label: float(label in paragraph.get("labels", [])) for label in paragraph_labels}
        doc.user_data.update({
            "letter_id": record["id"], "paragraph": index, "kind": paragraph.get("kind"),
            "stance": paragraph.get("stance"), "letter_date": record.get("meta", {}).get("date"),
            "annotated_labels": entity_labels, "annotated_paragraph_labels": paragraph_labels,
        })
        yield doc


def records_to_docbin(records: Iterable[dict], nlp, shared_dir=None):
    from spacy.tokens import DocBin

    docbin = DocBin(store_user_data=True)
    for doc in records_to_docs(records, nlp, shared_dir):
        docbin.add(doc)
    return docbin


def align_tags(offsets: list[tuple[int, int]], entities: list[dict]) -> list[int]:
    """BIO tag ids for tokenizer pieces given their character offsets; special tokens get -100."""
    ids: list[int] = []
    spans = sorted(entities, key=lambda e: e["start"])
    for start, end in offsets:
        if start == end:
            ids.append(IGNORE)
            continue
        tag = "O"
        for entity in spans:
            if entity["start"] <= start < entity["end"] or (start < entity["start"] < end):
                tag = ("B-" if start <= entity["start"] else "I-") + entity["label"]
                break
        ids.append(TAG_TO_ID[tag])
    return ids


def encode_paragraph(tokenizer, text: str, entities: list[dict], max_length: int = 256, stride: int = 64) -> list[dict]:
    """Tokenise one paragraph into one or more overlapping windows with aligned BIO tag ids."""
    encoded = tokenizer(text, truncation=True, max_length=max_length, stride=stride,
                        return_overflowing_tokens=True, return_offsets_mapping=True)
    # [UNK] is a special token to the tokenizer but stands for real text here.
    special_ids = set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
    windows = []
    for w in range(len(encoded["input_ids"])):
        offsets = [(0, 0) if i in special_ids else tuple(o) for i, o in zip(encoded["input_ids"][w], encoded["offset_mapping"][w], strict=True)]
        windows.append({"input_ids": encoded["input_ids"][w], "attention_mask": encoded["attention_mask"][w],
                        "offsets": offsets, "tags": align_tags(offsets, entities)})
    return windows


def encode_paragraph_in_context(tokenizer, text: str, entities: list[dict], neighbours: dict, context: str,
                                context_tokens: int, max_length: int, stride: int, position: str = "before") -> list[dict]:
    """:func:`encode_paragraph` with the paragraph's context read before each window
    (:func:`~kamerbrief.data.context.encode_with_context`); context pieces get no tag."""
    from kamerbrief.data.context import encode_with_context

    encoded = encode_with_context(tokenizer, [text], [neighbours], context, context_tokens, max_length, stride, position)
    return [{"input_ids": ids, "attention_mask": mask, "offsets": offsets, "pool_mask": pool, "tags": align_tags(offsets, entities)}
            for ids, mask, offsets, pool in zip(encoded["input_ids"], encoded["attention_mask"], encoded["offsets"],
                                                encoded["pool_mask"], strict=True)]


def records_to_dataset(records: Iterable[dict], tokenizer, max_length: int = 256, stride: int = 64, shared_dir=None,
                       context: str = "none", context_tokens: int = 48, context_position: str = "before"):
    """A ``datasets.Dataset``: one row per paragraph window with ``input_ids``, ``attention_mask``,
    ``labels`` (BIO ids, -100 on special tokens), ``cats`` (multi-hot), ``cats_mask`` (which paragraph
    labels the source annotates), ``entity_mask`` (which entity labels it annotates), ``stance``
    (id or -100) and the letter id, paragraph index and window number. With a ``context`` other than
    ``"none"`` (``kamerbrief.data.context``) each window reads its paragraph's context first, and
    a ``pool_mask`` column marks the pieces that are not context."""
    from datasets import Dataset

    from kamerbrief.data.context import check_context, paragraph_neighbours

    with_context = check_context(context) != "none"
    rows: dict[str, list] = {k: [] for k in ("input_ids", "attention_mask", "labels", "offsets", "cats", "cats_mask",
                                              "entity_mask", "stance", "letter_id", "paragraph", "window")}
    if with_context:
        rows["pool_mask"] = []
    neighbours: list[dict] = []
    for record, index, paragraph in iter_paragraphs(records, shared_dir):
        if index == 0:
            neighbours = list(paragraph_neighbours((p.get("kind"), p["text"]) for p in record["paragraphs"]))
        entity_labels, paragraph_labels = annotated_labels(record)
        cats = [float(label in paragraph.get("labels", [])) for label in PARAGRAPH_LABELS]
        cats_mask = [float(label in paragraph_labels) for label in PARAGRAPH_LABELS]
        entity_mask = [float(label in entity_labels) for label in ENTITY_LABELS]
        stance = STANCES.index(paragraph["stance"]) if paragraph.get("stance") in STANCES else IGNORE
        entities = paragraph.get("entities", [])
        windows = (encode_paragraph_in_context(tokenizer, paragraph["text"], entities, neighbours[index], context, context_tokens,
                                               max_length, stride, context_position)
                   if with_context else encode_paragraph(tokenizer, paragraph["text"], entities, max_length, stride))
        for w, window in enumerate(windows):
            # A source annotating no entity label has no gold tags: its pieces must not count in (and
            # dilute) the mean of the token loss.
            tags = window["tags"] if entity_labels else [IGNORE] * len(window["tags"])
            if with_context:
                rows["pool_mask"].append(window["pool_mask"])
            for key, value in (("input_ids", window["input_ids"]), ("attention_mask", window["attention_mask"]),
                               ("labels", tags), ("offsets", [list(o) for o in window["offsets"]]),
                               ("cats", cats), ("cats_mask", cats_mask), ("entity_mask", entity_mask),
                               ("stance", stance), ("letter_id", record["id"]), ("paragraph", index), ("window", w)):
                rows[key].append(value)
    return Dataset.from_dict(rows)

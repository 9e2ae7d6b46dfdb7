"""The letter level: run a letter's paragraphs through the pipeline and link what it finds.

``annotate_letters`` pipes the paragraphs of many letters through ``nlp.pipe`` together (one
length-sorted stream, so batches stay full) and returns, per letter, the ANNOTATION.md record with
predictions plus ``links``: for every recommendation, the cabinet's position on it, the actions that
follow it and their deadlines, all within its section.

Section rule: a recommendation's scope runs from its paragraph to the next heading or the next
recommendation paragraph, whichever comes first; when the recommendation is itself a heading
("Aanbeveling 2. ..."), the scope runs to the next heading, and a body paragraph inside it that is
also labelled ``recommendation`` (it quotes or answers the heading's recommendation: "in reactie op de
aanbeveling ...") belongs to that section instead of opening a link of its own. Footnotes and the
signature are outside every scope and open none.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from spacy.tokens import Doc

from kamerbrief.pipeline import extensions  # noqa: F401
from kamerbrief.pipeline.reader.letter import Letter

OUTSIDE_SCOPE = {"footnote", "signature", "addressee", "salutation"}


def paragraph_record(doc: Doc, kind: str) -> dict:
    """The paragraph as a record. ``text`` is the text as given (``doc._.source_text``, before
    normalisation) and every offset points into it."""
    entities = []
    for span in doc.ents:
        entity = {"start": span._.source_start, "end": span._.source_end, "label": span.label_}
        if span.label_ == "DATE":
            rng = span._.date_range
            entity["range"] = {"start": rng[0], "end": rng[1]} if rng else None
        entities.append(entity)
    record = {"text": doc._.source_text or doc.text, "kind": kind, "labels": list(doc._.labels or []), "entities": entities,
              "scores": {label: round(score, 4) for label, score in doc.cats.items()}}
    if "adoption" in record["labels"]:
        record["stance"] = doc._.stance
    if doc._.deadline is not None:
        span = doc._.deadline
        record["deadline"] = {"start": span._.source_start, "end": span._.source_end, "text": span._.source_text,
                              "range": ({"start": span._.date_range[0], "end": span._.date_range[1]}
                                        if span._.date_range else None),
                              "due": {"start": doc._.deadline_due[0], "end": doc._.deadline_due[1]} if doc._.deadline_due else None}
    return record


def link_recommendations(paragraphs: list[dict]) -> list[dict]:
    """recommendation -> cabinet position -> actions -> deadlines, per the section rule above."""
    links = []
    in_heading_section = False
    for i, paragraph in enumerate(paragraphs):
        if paragraph["kind"] == "heading" or paragraph["kind"] in OUTSIDE_SCOPE:
            in_heading_section = paragraph["kind"] == "heading" and "recommendation" in paragraph["labels"]
        if "recommendation" not in paragraph["labels"] or paragraph["kind"] in OUTSIDE_SCOPE \
                or (in_heading_section and paragraph["kind"] != "heading"):
            continue
        scope = [i]
        for j in range(i + 1, len(paragraphs)):
            other = paragraphs[j]
            if other["kind"] == "heading" or other["kind"] in OUTSIDE_SCOPE:
                break
            if "recommendation" in other["labels"] and paragraph["kind"] != "heading":
                break
            scope.append(j)
        position = next((j for j in scope if "adoption" in paragraphs[j]["labels"]), None)
        actions = [j for j in scope if "action" in paragraphs[j]["labels"]]
        deadlines = [{"paragraph": j, **paragraphs[j]["deadline"]} for j in scope
                     if "deadline" in paragraphs[j]["labels"] and paragraphs[j].get("deadline")]
        links.append({"recommendation": i, "scope": [scope[0], scope[-1]],
                      "position": None if position is None else {"paragraph": position, "stance": paragraphs[position].get("stance")},
                      "actions": actions, "deadlines": deadlines})
    return links


def _letter_docs(nlp, letter: Letter, position: int) -> Iterator[tuple[Doc, tuple]]:
    for index, paragraph in enumerate(letter.paragraphs):
        doc = nlp.make_doc(paragraph.text)
        doc._.letter_date = letter.meta.get("date")
        doc._.kind = paragraph.kind
        yield doc, (position, index)


def annotate_letters(letters: Iterable[Letter], nlp, batch_size: int = 64, n_process: int = 1) -> Iterator[tuple[Letter, dict, list[Doc]]]:
    """``(letter, annotated record, paragraph Docs)`` for each letter, in input order. Letters are processed in
    groups so that paragraphs of several letters share batches."""
    group: list[Letter] = []
    for letter in letters:
        group.append(letter)
        if sum(len(l.paragraphs) for l in group) >= batch_size * 4:
            yield from _annotate_group(group, nlp, batch_size, n_process)
            group = []
    if group:
        yield from _annotate_group(group, nlp, batch_size, n_process)


def _annotate_group(letters: list[Letter], nlp, batch_size: int, n_process: int) -> Iterator[tuple[Letter, dict, list[Doc]]]:
    # Keyed by position: corpus records of several versions share one id.
    stream = [item for position, letter in enumerate(letters) for item in _letter_docs(nlp, letter, position)]
    results = [[None] * len(letter.paragraphs) for letter in letters]
    for doc, (position, index) in nlp.pipe(stream, as_tuples=True, batch_size=batch_size, n_process=n_process):
        results[position][index] = doc
    for letter, docs in zip(letters, results):
        yield letter, letter_record(letter, docs), docs


def letter_record(letter: Letter, docs: list[Doc]) -> dict:
    paragraphs = [paragraph_record(doc, p.kind) for doc, p in zip(docs, letter.paragraphs)]
    return {"id": letter.id, "source": letter.path or "", "meta": dict(letter.meta), "paragraphs": paragraphs,
            "links": link_recommendations(paragraphs)}


def annotate_letter(letter: Letter | str, nlp=None) -> dict:
    """One letter (a ``Letter`` or a path) -> its annotated record. Loads the default pipeline when
    ``nlp`` is not given."""
    from kamerbrief.pipeline.nlp import load
    from kamerbrief.pipeline.reader import read_letter

    if not isinstance(letter, Letter):
        letter = read_letter(letter)
    nlp = nlp or load()
    return next(annotate_letters([letter], nlp))[1]

"""The letter level: run a letter's paragraphs through the pipeline and link what it finds.

``annotate_letters`` pipes the paragraphs of many letters through ``nlp.pipe`` together (one lazy
stream, so batches stay full and memory bounded; over-long paragraphs in pieces) and returns, per letter, the ANNOTATION.md record with
predictions plus ``links``: for every recommendation, the cabinet's position on it, the actions that
follow it and their deadlines, all within its section; each paragraph's ``commitments`` (who promises what
by when, ``kamerbrief.pipeline.commitments``) get the signer for "ik"/"wij"/"het kabinet" and the
recommendation and stance of the section they stand in.

Section rule: a recommendation's scope runs from its paragraph to the next heading or the next
recommendation paragraph, whichever comes first; when the recommendation is itself a heading
("Aanbeveling 2. ..."), the scope runs to the next heading, and a body paragraph inside it that is
also labelled ``recommendation`` (it quotes or answers the heading's recommendation: "in reactie op de
aanbeveling ...") belongs to that section instead of opening a link of its own. Footnotes and the
signature are outside every scope and open none.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.tokens import Doc
from tqdm import tqdm

from kamerbrief.data.context import paragraph_neighbours
from kamerbrief.pipeline import extensions  # noqa: F401
from kamerbrief.pipeline.letter_pass import NO_LETTER_PASS, LetterPass, letter_pass_of
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE
from kamerbrief.pipeline.reader.letter import Letter
from kamerbrief.pipeline.transformer import reads_context

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
    if doc._.commitments is not None:
        from kamerbrief.pipeline.commitments import commitment_records

        record["commitments"] = commitment_records(doc)
    if doc._.deadline is not None:
        span = doc._.deadline
        record["deadline"] = {"start": span._.source_start, "end": span._.source_end, "text": span._.source_text,
                              "range": ({"start": span._.date_range[0], "end": span._.date_range[1]}
                                        if span._.date_range else None),
                              "due": {"start": doc._.deadline_due[0], "end": doc._.deadline_due[1]} if doc._.deadline_due else None}
    return record


class Linker:
    """Builds the links paragraph by paragraph, per the section rule above. At most one section is open at
    a time, so only it and the links found are kept, never the letter's paragraphs: a letter streams."""

    def __init__(self):
        self.links: list[dict] = []
        self.count = 0  # paragraphs seen
        self.in_heading_section = False
        self._open: dict | None = None  # the open section: its recommendation, last paragraph, position, ...

    def add(self, paragraph: dict) -> None:
        """The next paragraph of the letter (its ``kind``, ``labels``, ``stance`` and ``deadline``)."""
        i, kind, labels = self.count, paragraph["kind"], paragraph["labels"]
        self.count += 1
        boundary = kind == "heading" or kind in OUTSIDE_SCOPE
        if self._open is not None:
            if boundary or ("recommendation" in labels and not self._open["heading"]):
                self._close()
            else:
                self._extend(i, paragraph)
        if boundary:
            self.in_heading_section = kind == "heading" and "recommendation" in labels
        if "recommendation" in labels and kind not in OUTSIDE_SCOPE and not (self.in_heading_section and kind != "heading"):
            self._open = {"recommendation": i, "heading": kind == "heading", "last": i, "position": None,
                          "actions": [], "deadlines": []}
            self._extend(i, paragraph)

    def _extend(self, i: int, paragraph: dict) -> None:
        section, labels = self._open, paragraph["labels"]
        section["last"] = i
        if section["position"] is None and "adoption" in labels:
            section["position"] = {"paragraph": i, "stance": paragraph.get("stance")}
        if "action" in labels:
            section["actions"].append(i)
        if "deadline" in labels and paragraph.get("deadline"):
            section["deadlines"].append({"paragraph": i, **paragraph["deadline"]})

    def _close(self) -> None:
        section, self._open = self._open, None
        self.links.append({"recommendation": section["recommendation"], "scope": [section["recommendation"], section["last"]],
                           "position": section["position"], "actions": section["actions"], "deadlines": section["deadlines"]})

    def finish(self) -> list[dict]:
        """The links, once the letter's last paragraph has been added."""
        if self._open is not None:
            self._close()
        return self.links


def link_recommendations(paragraphs: list[dict]) -> list[dict]:
    """recommendation -> cabinet position -> actions -> deadlines, per the section rule above."""
    linker = Linker()
    for paragraph in paragraphs:
        linker.add(paragraph)
    return linker.finish()


# Paragraphs longer than this are annotated in pieces cut at sentence or whitespace boundaries and
# merged back: spaCy refuses texts over ``nlp.max_length`` (E088), and reading a span's extension
# attributes walks the whole Doc, so the deadline component costs (DATE spans x tokens) per Doc: a
# 1 MB paragraph in 100k-character pieces took 290 s with the tiny test model, in 10k pieces 26 s.
# The model sees windows of ~1,000 characters anyway, so the cut changes little.
MAX_PIECE_CHARS = 10_000
# Letters with more characters than this get their own progress bar over their paragraphs.
BIG_LETTER_CHARS = 1_000_000
SENTENCE_END = re.compile(r"[.!?;:][\"'”’)\]]*\s+|\n+")
SPACE = re.compile(r"\s+")


def piece_starts(text: str, limit: int = MAX_PIECE_CHARS) -> list[int]:
    """Where the pieces of ``text`` start, none longer than ``limit``: cut after the last sentence end
    (or else the last whitespace) in the second half of each window; a hard cut only where a window
    holds no whitespace at all. The pieces joined give back ``text`` exactly."""
    starts, position = [0], 0
    while len(text) - position > limit:
        window = text[position:position + limit]
        cut = None
        for pattern in (SENTENCE_END, SPACE):
            ends = [m.end() for m in pattern.finditer(window, limit // 2)]
            if ends:
                cut = ends[-1]
                break
        position += cut or limit
        starts.append(position)
    return starts


def merge_pieces(pieces: list[tuple[int, dict]], text: str, kind: str) -> dict:
    """One paragraph record from the records of its pieces (``(start, record)``): entities and the
    deadline shifted to paragraph offsets; a label and its score as in the piece that scores it highest
    (as the transformer does for the windows of a paragraph); the stance of the most adoption-like piece."""
    if len(pieces) == 1:
        return pieces[0][1]
    first = pieces[0][1]
    scores = {label: max(p["scores"].get(label, 0.0) for _, p in pieces) for label in first["scores"]}
    labels = [label for label in first["scores"] if any(label in p["labels"] for _, p in pieces)]
    entities = [{**e, "start": e["start"] + start, "end": e["end"] + start} for start, p in pieces for e in p["entities"]]
    record = {"text": text, "kind": kind, "labels": labels, "entities": entities, "scores": scores}
    if "adoption" in labels:
        stanced = [p for _, p in pieces if p.get("stance")]
        record["stance"] = max(stanced, key=lambda p: p["scores"].get("adoption", 0.0))["stance"] if stanced else None
    if any("commitments" in p for _, p in pieces):
        record["commitments"] = [_shifted(c, start) for start, p in pieces for c in p.get("commitments", [])]
    deadline = next(((start, p["deadline"]) for start, p in pieces if p.get("deadline")), None)
    if deadline:
        start, d = deadline
        record["deadline"] = {**d, "start": d["start"] + start, "end": d["end"] + start}
    return record


def _shifted(commitment: dict, offset: int) -> dict:
    """A piece's commitment in paragraph offsets."""
    def move(part):
        return {**part, "start": part["start"] + offset, "end": part["end"] + offset} if part and "start" in part else part
    return {**move(commitment), "actor": move(commitment["actor"]), "dates": [move(d) for d in commitment["dates"]],
            "deadline": move(commitment.get("deadline"))}


def _merge_docs(docs: list[Doc], scores: dict) -> Doc:
    if len(docs) == 1:
        return docs[0]
    doc = Doc.from_docs(docs, ensure_whitespace=False)
    doc.cats = dict(scores)
    return doc


class RecordSink:
    """Where :func:`annotate_letters` puts a letter's paragraphs as they are done: this one keeps them in
    memory and gives the record as a dict (and the paragraph Docs with ``keep_docs``). A sink has
    ``keep_docs``, ``add(paragraph record, Doc or None)`` and ``finish(skeleton, letter_pass) -> (record, docs)`` (``letter_pass``: the letter-level decisions, ``pipeline/letter_pass.py``),
    where the skeleton is the letter's record with no paragraphs (``pipeline/batch.py`` spools them)."""

    def __init__(self, letter: Letter, keep_docs: bool = True):
        self.keep_docs = keep_docs
        self.paragraphs: list[dict] = []
        self.docs: list[Doc] = []

    def add(self, paragraph: dict, doc: Doc | None) -> None:
        self.paragraphs.append(paragraph)
        if doc is not None:
            self.docs.append(doc)

    def finish(self, skeleton: dict, letter_pass: LetterPass = NO_LETTER_PASS) -> tuple[dict, list[Doc]]:
        from kamerbrief.pipeline.commitments import resolve_actors
        from kamerbrief.pipeline.letter_pass import apply_to_docs, records_after

        paragraphs = self.paragraphs
        if letter_pass:   # the letter-level decisions (pipeline/letter_pass.py), in the records and the Docs
            facts = letter_pass.facts_of_records(paragraphs)
            paragraphs = list(records_after(paragraphs, facts))
            apply_to_docs(self.docs, facts)
        # the commitments' signer and answered recommendation need the whole letter's links
        return resolve_actors({**skeleton, "paragraphs": paragraphs}), self.docs


class _LetterResult:
    """A letter coming back from the pipeline: the pieces of its current paragraph; each paragraph, once
    complete, goes to the sink and the linker and is not kept here."""

    def __init__(self, letter: Letter, sink, progress: bool, letter_pass: LetterPass = NO_LETTER_PASS):
        self.letter, self.sink, self.linker = letter, sink, Linker()
        self.letter_pass = letter_pass
        self.index: int | None = None
        self.pieces: list[tuple[int, dict]] = []
        self.docs: list[Doc] = []
        big = progress and sum(len(p.text) for p in letter.paragraphs) > BIG_LETTER_CHARS
        self.bar = tqdm(total=len(letter.paragraphs), desc=f"  {letter.id}"[:60], unit=" paragraphs", leave=False) if big else None

    def add(self, doc: Doc, index: int, start: int) -> None:
        if index != self.index:  # the pieces of a paragraph come back one after another, in order
            self._complete()
            self.index = index
        self.pieces.append((start, paragraph_record(doc, self.letter.paragraphs[index].kind)))
        if self.sink.keep_docs:
            self.docs.append(doc)

    def _complete(self) -> None:
        if self.index is None:
            return
        paragraph = self.letter.paragraphs[self.index]
        record = merge_pieces(self.pieces, paragraph.text, paragraph.kind)
        self.linker.add(record)
        self.sink.add(record, _merge_docs(self.docs, record["scores"]) if self.docs else None)
        self.pieces, self.docs = [], []
        if self.bar is not None:
            self.bar.update(1)

    def finish(self) -> tuple[Letter, dict, list[Doc]]:
        self._complete()
        if self.bar is not None:
            self.bar.close()
        return (self.letter, *self.sink.finish(_record(self.letter, [], self.linker.finish()), letter_pass=self.letter_pass))


def annotate_letters(letters: Iterable[Letter], nlp, batch_size: int = DEFAULT_BATCH_SIZE, n_process: int = 1, keep_docs: bool = True,
                     progress: bool = False, max_piece_chars: int = MAX_PIECE_CHARS,
                     sink=RecordSink) -> Iterator[tuple[Letter, dict, list[Doc]]]:
    """``(letter, annotated record, paragraph Docs)`` for each letter, in input order.

    The paragraphs of all letters go through ``nlp.pipe`` as one lazy stream, so paragraphs of several
    letters share batches while memory stays bounded by the batch: a letter's Docs are made as the
    pipeline asks for them, and turned into records as they come back (the Docs are kept only with
    ``keep_docs``, for DocBin output). Paragraphs over ``max_piece_chars`` are annotated in pieces (see
    :func:`piece_starts`) and merged back. ``progress`` shows a bar over the paragraphs of big letters.
    Each paragraph goes to ``sink(letter, keep_docs)`` (:class:`RecordSink`) as soon as it is complete and
    the linking keeps one section, so a long letter need not be held in memory: ``pipeline/batch.py``
    spools its paragraphs to disk."""

    limit = max(1, min(max_piece_chars, nlp.max_length))
    pending: dict[int, _LetterResult] = {}
    with_context = reads_context(nlp)
    letter_pass = letter_pass_of(nlp)

    def stream():
        for position, letter in enumerate(letters):
            pending[position] = _LetterResult(letter, sink(letter, keep_docs), progress, letter_pass)
            neighbours = paragraph_neighbours((p.kind, p.text) for p in letter.paragraphs) if with_context else None
            for index, paragraph in enumerate(letter.paragraphs):
                text = paragraph.text
                context = next(neighbours) if with_context else None
                starts = piece_starts(text, limit)
                for start, end in zip(starts, starts[1:] + [len(text)], strict=True):
                    doc = nlp.make_doc(text[start:end])
                    doc._.letter_date = letter.meta.get("date")
                    doc._.kind = paragraph.kind
                    if with_context:  # every piece of a long paragraph reads the paragraph's context
                        doc._.context = context
                    yield doc, (position, index, start)

    done = 0  # every letter before this position has been yielded
    for doc, (position, index, start) in nlp.pipe(stream(), as_tuples=True, batch_size=batch_size, n_process=n_process):
        while done < position:  # letters before this one (also letters without paragraphs) are complete
            yield pending.pop(done).finish()
            done += 1
        pending[position].add(doc, index, start)
    while done in pending:
        yield pending.pop(done).finish()
        done += 1


def _record(letter: Letter, paragraphs: list[dict], links: list[dict] | None = None) -> dict:
    from kamerbrief.pipeline.commitments import resolve_actors

    return resolve_actors({"id": letter.id, "source": letter.path or "", "meta": dict(letter.meta), "paragraphs": paragraphs,
                           "links": link_recommendations(paragraphs) if links is None else links})


def letter_record(letter: Letter, docs: list[Doc]) -> dict:
    return _record(letter, [paragraph_record(doc, p.kind) for doc, p in zip(docs, letter.paragraphs, strict=True)])


def annotate_letter(letter: Letter | str, nlp=None) -> dict:
    """One letter (a ``Letter`` or a path) -> its annotated record. Loads the default pipeline when
    ``nlp`` is not given."""
    from kamerbrief.pipeline.nlp import load
    from kamerbrief.pipeline.reader import read_letter

    if not isinstance(letter, Letter):
        letter = read_letter(letter)
    nlp = nlp or load()
    return next(annotate_letters([letter], nlp))[1]

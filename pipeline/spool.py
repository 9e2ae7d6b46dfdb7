"""A letter's annotated record held on disk while ``kamerbrief annotate`` writes it, so that a long letter is
never in memory as records (a 60 MB letter's records are several GB of Python objects).

:class:`SpooledLetter` is the sink :func:`kamerbrief.pipeline.letters.annotate_letters` gives each
finished paragraph to: its record goes to a temporary file as one JSON line (in memory up to
:data:`SPOOL_BYTES`, then in an unnamed file in the output folder that vanishes when closed or killed),
its Doc (for DocBin output) into the letter's ``DocBin``. Only the record's skeleton (id, meta,
links) stays in memory. The writer reads a letter back paragraph by paragraph through the same
interface for a spooled letter and for a record given as a dict (:func:`open_record`): ``skeleton``,
``n_paragraphs``, ``words``, ``paragraphs()``, ``ledger_line()`` and ``html_parts()``. The ledger
line is byte for byte ``json.dumps({"input": key, **record}, ensure_ascii=False)``.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kamerbrief.pipeline.letter_pass import NO_LETTER_PASS, LetterFacts, LetterPass, apply_to_docs, records_after
from kamerbrief.pipeline.reader.letter import Letter

__all__ = ["SpooledLetter", "InMemoryLetter", "open_record", "SPOOL_BYTES"]

# A letter's paragraph records stay in memory up to this many bytes of JSON, then go to disk: most
# letters never touch the disk, and a group of letters holds at most a few of these in memory.
SPOOL_BYTES = 4 * 1024 * 1024


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _line_ends(first: dict, skeleton: dict) -> tuple[bytes, bytes]:
    """The JSON of ``{**first, **skeleton}`` before and after the paragraphs' list items, with the
    separators ``json.dumps`` uses (``", "`` and ``": "``), so head + items joined by ``", "`` + tail is
    exactly what ``json.dumps`` gives for the whole record."""
    items = [(key, f"{_dumps(key)}: {_dumps(value)}") for key, value in {**first, **skeleton}.items()]
    keys = [key for key, _ in items]
    at = keys.index("paragraphs")
    head = "{" + "".join(f"{item}, " for _, item in items[:at]) + '"paragraphs": ['
    tail = "]" + "".join(f", {item}" for _, item in items[at + 1:]) + "}\n"
    return head.encode("utf-8"), tail.encode("utf-8")


class SpooledLetter:
    """The sink for one letter (see the module docstring); made by ``annotate_letters`` as
    ``SpooledLetter.factory(folder, key)(letter, keep_docs)``."""

    def __init__(self, letter: Letter, keep_docs: bool, folder: str | Path, key: str):
        self.keep_docs, self.key, self.letter_id = keep_docs, key, letter.id
        self.folder = folder
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=folder)
        self.n_paragraphs = self.words = self._json_bytes = 0
        self.has_commitments = False
        self.vocab = None   # the Docs' vocabulary, to read the DocBin back when the letter's names are added
        self.recommendation_texts: dict[int, str] = {}  # what the HTML report's links table shows of them
        self.skeleton: dict | None = None
        self.docbin = None
        if keep_docs:
            from spacy.tokens import DocBin

            self.docbin = DocBin(store_user_data=True)

    @classmethod
    def factory(cls, folder: str | Path, key: str):
        return lambda letter, keep_docs: cls(letter, keep_docs, folder, key)

    # the sink --------------------------------------------------------------------------------------
    def add(self, paragraph: dict, doc) -> None:
        data = _dumps(paragraph).encode("utf-8")  # one line: json.dumps escapes every newline in a string
        self.file.write(data + b"\n")
        self._json_bytes += len(data)
        if "recommendation" in paragraph["labels"]:
            from kamerbrief.pipeline.render import LINK_TEXT_CHARS

            self.recommendation_texts[self.n_paragraphs] = paragraph["text"][:LINK_TEXT_CHARS]
        if doc is not None:
            doc.user_data["input"], doc.user_data["letter_id"], doc.user_data["paragraph"] = self.key, self.letter_id, self.n_paragraphs
            self.docbin.add(doc)
            self.vocab = doc.vocab
        self.n_paragraphs += 1
        self.words += len(paragraph["text"].split())
        self.has_commitments = self.has_commitments or bool(paragraph.get("commitments"))

    def finish(self, skeleton: dict, letter_pass: LetterPass = NO_LETTER_PASS):
        """``(record, docs)`` as ``annotate_letters`` yields them: this letter, and its DocBin (or None).
        The commitments' signer and answered recommendations need the whole letter's links, and the letter-level
        decisions (``letter_pass``, ``pipeline/letter_pass.py``) the whole letter's entities, so the spool is rewritten
        once with them (paragraph by paragraph, as it was written), and the DocBin rebuilt with them. Their facts are
        gathered on the spool only then, in one more pass over it."""
        self.skeleton = skeleton
        facts = letter_pass.facts_of_records(self.paragraphs())
        if self.has_commitments or facts:
            self._rewrite(facts)
        if facts and self.docbin is not None and self.vocab is not None:
            from spacy.tokens import DocBin

            docs = list(self.docbin.get_docs(self.vocab))
            apply_to_docs(docs, facts)
            self.docbin = DocBin(docs=docs, store_user_data=True)
        return self, self.docbin

    def _rewrite(self, facts: LetterFacts) -> None:
        from collections import deque

        from kamerbrief.pipeline.commitments import resolve_paragraphs, signer_of

        paragraphs = self.paragraphs()
        if self.has_commitments:
            signature, last = None, deque(maxlen=3)  # what signer_of reads of the paragraphs
            for paragraph in self.paragraphs():
                if signature is None and paragraph.get("kind") == "signature":
                    signature = paragraph
                last.append(paragraph)
            signer = signer_of({**self.skeleton, "paragraphs": ([signature] if signature else []) + list(last)})
            paragraphs = resolve_paragraphs(self.skeleton, paragraphs, signer)
        rewritten = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=self.folder)
        self._json_bytes = 0
        for paragraph in records_after(paragraphs, facts):
            data = _dumps(paragraph).encode("utf-8")
            rewritten.write(data + b"\n")
            self._json_bytes += len(data)
        self.file.close()
        self.file = rewritten

    # reading it back -------------------------------------------------------------------------------
    def _lines(self) -> Iterator[bytes]:
        self.file.seek(0)
        for line in self.file:
            yield line[:-1]

    def paragraphs(self) -> Iterator[dict]:
        for line in self._lines():
            yield json.loads(line)

    def ledger_line(self, first: dict) -> tuple[int, Iterator[bytes]]:
        """The ledger line of ``{**first, **record}``: its size in bytes and its bytes in pieces."""
        head, tail = _line_ends(first, self.skeleton)
        size = len(head) + self._json_bytes + 2 * max(self.n_paragraphs - 1, 0) + len(tail)

        def pieces():
            yield head
            for index, line in enumerate(self._lines()):
                yield line if index == 0 else b", " + line
            yield tail

        return size, pieces()

    def html_parts(self) -> Iterator[str]:
        from kamerbrief.pipeline.render import letter_html_parts

        texts = {index: {"text": text} for index, text in self.recommendation_texts.items()}
        return letter_html_parts({**self.skeleton, "paragraphs": texts}, self.paragraphs())

    def close(self) -> None:
        self.file.close()


class InMemoryLetter:
    """A record given as a dict, read through the interface of :class:`SpooledLetter`."""

    def __init__(self, record: dict):
        self.record = record
        self.skeleton = {**record, "paragraphs": []}
        self.n_paragraphs = len(record["paragraphs"])
        self.words = sum(len(p["text"].split()) for p in record["paragraphs"])

    def paragraphs(self) -> Iterator[dict]:
        return iter(self.record["paragraphs"])

    def ledger_line(self, first: dict) -> tuple[int, Iterator[bytes]]:
        data = (_dumps({**first, **self.record}) + "\n").encode("utf-8")
        return len(data), iter([data])

    def html_parts(self) -> Iterator[str]:
        from kamerbrief.pipeline.render import letter_html_parts

        return letter_html_parts(self.record, self.record["paragraphs"])

    def close(self) -> None:
        pass


def open_record(record) -> SpooledLetter | InMemoryLetter:
    """A letter's record as the writer reads it: a :class:`SpooledLetter` as it is, a dict wrapped."""
    return record if isinstance(record, SpooledLetter) else InMemoryLetter(record)

"""The reader's output: a letter as metadata plus ordered, typed paragraphs with character spans."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class FootnoteMarker:
    """A footnote marker ("rapport3") in a paragraph, linked to the footnote paragraph it points to."""

    paragraph: int  # index of the paragraph that holds the marker
    start: int  # offsets of the marker digits within that paragraph's text
    end: int
    number: str
    footnote: int | None = None  # index of the footnote paragraph, None if it cannot be found


@dataclass
class Paragraph:
    text: str
    kind: str
    start: int = 0  # span in Letter.text
    end: int = 0
    source_start: int | None = None  # span in the decoded source file, when the text is a slice of it
    source_end: int | None = None
    number: str | None = None  # a footnote's own number, where the source gives one


@dataclass
class Letter:
    id: str
    paragraphs: list[Paragraph]
    meta: dict = field(default_factory=dict)
    path: str | None = None
    format: str = "plain"
    footnote_markers: list[FootnoteMarker] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The cleaned letter text: paragraphs joined by blank lines; paragraph spans index into it."""
        return "\n\n".join(p.text for p in self.paragraphs)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["n_paragraphs"] = len(self.paragraphs)
        return out

    def to_record(self) -> dict:
        """An ANNOTATION.md record with no labels yet (what annotators and the pipeline fill in)."""
        paragraphs = [{"text": p.text, "kind": p.kind, "labels": [], "entities": []} for p in self.paragraphs]
        return {"id": self.id, "source": self.path or "", "meta": dict(self.meta), "paragraphs": paragraphs}


def set_offsets(paragraphs: list[Paragraph]) -> None:
    """Fill each paragraph's span in the joined letter text (see :attr:`Letter.text`)."""
    cursor = 0
    for paragraph in paragraphs:
        paragraph.start, paragraph.end = cursor, cursor + len(paragraph.text)
        cursor = paragraph.end + 2

"""The letter reader: a file (officielebekendmakingen page text, HTML or XML, plain text, Markdown)
in, a :class:`Letter` out. The format is detected from the content, not the file name."""
from __future__ import annotations

import re
from pathlib import Path

from kamerbrief.errors import NoTextError
from kamerbrief.pipeline.reader.assemble import META_TABLE_HEADER, Block, assemble
from kamerbrief.pipeline.reader.decode import DEFAULT_MAX_BYTES, decode, read_bytes
from kamerbrief.pipeline.reader.html_format import html_blocks
from kamerbrief.pipeline.reader.letter import FootnoteMarker, Letter, Paragraph
from kamerbrief.pipeline.reader.text_formats import markdown_blocks, page_blocks, plain_blocks
from kamerbrief.pipeline.reader.xml_format import xml_blocks

FORMATS = ("obk-xml", "html", "obk-page", "markdown", "plain")
MARKDOWN_SIGNS = re.compile(r"^(?:#{1,6}\s*\S|\s*\|.*\|\s*$)|<sup>", re.MULTILINE)


def detect_format(text: str) -> str:
    head = text[:4096].lstrip().lower()
    if head.startswith(("<?xml", "<officiele-publicatie")) or (head.startswith("<") and "<officiele-publicatie" in head):
        return "obk-xml"
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return "html"
    if META_TABLE_HEADER.search(text[:6000]) or re.search(r"^Datum publicatie\s*\|", text[:6000], re.M):
        return "obk-page"
    if len(MARKDOWN_SIGNS.findall(text[:200_000])) >= 2:
        return "markdown"
    return "plain"


def read_text(text: str, letter_id: str = "letter", fmt: str | None = None, path: str | None = None, meta: dict | None = None) -> Letter:
    """Read a letter from decoded text. ``fmt`` overrides the detected format."""
    fmt = fmt or detect_format(text)
    where = path or letter_id
    extra: dict = {}
    if fmt == "obk-xml":
        blocks, extra = xml_blocks(text, where)
    elif fmt == "html":
        blocks = html_blocks(text, where)
    elif fmt == "obk-page":
        blocks = page_blocks(text)
    elif fmt == "markdown":
        blocks = markdown_blocks(text)
    elif fmt == "plain":
        blocks = plain_blocks(text)
    else:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    letter = assemble(blocks, letter_id, path, fmt, {**extra, **(meta or {})})
    if not letter.paragraphs:
        raise NoTextError(f"no paragraphs of text found (read as {fmt})", where)
    return letter


def read_letter(path: str | Path, fmt: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Letter:
    """Read one letter file; raises a :class:`kamerbrief.ReadError` subclass that names the file."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; use iter_letters() or pass files")
    text, encoding = decode(read_bytes(path, max_bytes), path)
    letter = read_text(text, path.stem, fmt, str(path))
    letter.meta.setdefault("encoding", encoding)
    return letter


def read_corpus_record(record: dict, source: str | None = None) -> Letter:
    """A letter from a ``shared/corpora/*.jsonl.*`` record (``id``, ``kind``, ``title``, ``path``, ``text``).
    Paragraph ``source_start``/``source_end`` index the record's ``text``."""
    meta = {k: record[k] for k in ("kind", "title", "path") if record.get(k)}
    return read_text(record["text"], record["id"], "markdown", source, meta)


LETTER_SUFFIXES = {".txt", ".xml", ".html", ".htm", ".md", ".markdown", ".text"}


def iter_letter_files(paths) -> list[Path]:
    """Files named directly, plus files with a letter suffix found recursively in directories."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LETTER_SUFFIXES))
        else:
            found.append(path)
    return found


__all__ = ["Letter", "Paragraph", "FootnoteMarker", "Block", "read_letter", "read_text", "read_corpus_record",
           "detect_format", "iter_letter_files", "FORMATS"]

"""The letter reader: a file (officielebekendmakingen page text, HTML or XML, plain text, Markdown)
in, a :class:`Letter` out. The format is detected from the content, not the file name."""
from __future__ import annotations

import os
import re
from pathlib import Path

from kamerbrief.errors import InvalidRecordError, NoTextError
from kamerbrief.pipeline.reader.assemble import META_TABLE_HEADER, Block, assemble
from kamerbrief.pipeline.reader.bytes_to_text import DEFAULT_MAX_BYTES, decode, read_bytes
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
    """Read one letter file; raises a :class:`kamerbrief.ReadError` subclass that names the file (a
    missing or unreadable path, a directory, FIFO or device included: they are refused, never waited on)."""
    path = Path(path)
    text, encoding = decode(read_bytes(path, max_bytes), path)
    letter = read_text(text, path.stem, fmt, str(path))
    letter.meta.setdefault("encoding", encoding)
    return letter


def read_corpus_record(record: dict, source: str | None = None) -> Letter:
    """A letter from a ``shared/corpora/*.jsonl.*`` record (``id``, ``kind``, ``title``, ``path``, ``text``).
    Paragraph ``source_start``/``source_end`` index the record's ``text``."""
    text = record.get("text")
    record_id = record.get("id")
    name = f"record {record_id!r}" if record_id is not None else "record"
    if not isinstance(text, str):
        raise InvalidRecordError(f"{name}: 'text' must be a string, not {type(text).__name__}", source)
    if record_id is not None and not isinstance(record_id, (str, int)):
        raise InvalidRecordError(f"{name}: 'id' must be a string", source)
    meta = {k: record[k] for k in ("kind", "title", "path") if record.get(k) and isinstance(record[k], str)}
    return read_text(text, str(record_id if record_id is not None else "letter"), "markdown", source, meta)


LETTER_SUFFIXES = {".txt", ".xml", ".html", ".htm", ".md", ".markdown", ".text"}


def walk_files(folder: Path, keep) -> list[Path]:
    """Files under ``folder`` whose name ``keep(name)`` accepts (recursive, symlinked folders not
    followed), sorted. A subfolder that cannot be listed is returned itself, so that reading it
    reports the coded error instead of it being skipped silently; so is a FIFO or device with an
    accepted name."""
    found: list[Path] = []
    unreadable: list[Path] = []
    for root, _, names in os.walk(folder, onerror=lambda err: unreadable.append(Path(err.filename or folder))):
        found.extend(Path(root) / name for name in names if keep(name))
    return sorted(found) + sorted(unreadable)


def _is_letter_name(name: str) -> bool:
    return Path(name).suffix.lower() in LETTER_SUFFIXES


def iter_letter_files(paths) -> list[Path]:
    """Files named directly, plus files with a letter suffix found recursively in directories.

    Nothing is dropped silently: a named path that is missing or unreadable, a subfolder that cannot
    be listed and a FIFO or device with a letter suffix are all in the list, and
    :func:`read_letter` on them raises the coded error (E107 unreadable, E108 not a regular file)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if _is_dir(path):
            found.extend(walk_files(path, _is_letter_name))
        else:
            found.append(path)
    return found


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, except that a path the system refuses to look at (a folder above it that
    cannot be searched) counts as a file, so reading it reports the coded error for that path only."""
    try:
        return path.is_dir()
    except OSError:
        return False


__all__ = ["Letter", "Paragraph", "FootnoteMarker", "Block", "read_letter", "read_text", "read_corpus_record",
           "detect_format", "iter_letter_files", "walk_files", "FORMATS"]

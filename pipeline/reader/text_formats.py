"""Blocks from line-oriented text: officielebekendmakingen page text, plain text and light Markdown.

Every block is an exact slice of the source (newlines inside a block read as spaces), so standoff
annotations can point into the original text by character offsets.
"""
from __future__ import annotations

import re

from kamerbrief.pipeline.reader.assemble import Block

MD_HEADING = re.compile(r"^(#{1,6})\s*(?=\S)")
MD_BULLET = re.compile(r"^\s*[-*+•]\s+(?=\S)")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?$")
# A footnote the source set inline: "<sup> 2  Staatscourant van 16 juni 2005, nr. 114.  </sup>".
INLINE_FOOTNOTE = re.compile(r"<sup>\s*(\d{1,3})\s*(?=[^\d\s<])(.{3,}?)\s*</sup>", re.DOTALL)
MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\s]*\)")
MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")


def markdown_inline_text(raw: str) -> str:
    """The readable text of a Markdown paragraph: links, emphasis and inline tags dropped, newlines as
    spaces. Standoff records apply the same function to their source slice (``text_transform``)."""
    text = MD_LINK.sub(r"\1", raw)
    text = MD_EMPHASIS.sub(r"\2", text)
    text = HTML_TAG.sub("", text)
    return text.replace("\n", " ").strip()


def _block(source: str, start: int, end: int, kind: str | None = None, number: str | None = None, markdown: bool = False) -> Block | None:
    """A block for ``source[start:end]`` with surrounding whitespace trimmed off the span."""
    piece = source[start:end]
    stripped_left = len(piece) - len(piece.lstrip())
    stripped_right = len(piece.rstrip())
    if stripped_right <= stripped_left:
        return None
    s, e = start + stripped_left, start + stripped_right
    text = markdown_inline_text(source[s:e]) if markdown else source[s:e].replace("\n", " ")
    if not text:
        return None
    return Block(text=text, kind=kind, source_start=s, source_end=e, number=number)


def _lines(text: str):
    """``(start, end, line)`` for every line of ``text``, end excluding the newline."""
    cursor = 0
    for line in text.split("\n"):
        yield cursor, cursor + len(line), line
        cursor += len(line) + 1


def page_blocks(text: str) -> list[Block]:
    """One block per non-empty line: how the text of an officielebekendmakingen page is laid out."""
    return [b for s, e, _ in _lines(text) if (b := _block(text, s, e))]


def plain_blocks(text: str) -> list[Block]:
    """Blank-line separated paragraphs; a text without blank lines has one paragraph per line."""
    lines = list(_lines(text))
    if not any(not line.strip() for _, _, line in lines[1:-1]):
        return page_blocks(text)
    blocks: list[Block] = []
    run: list[tuple[int, int, str]] = []

    def flush():
        if not run:
            return
        # A run whose every line is a list item is several paragraphs, one per item.
        if len(run) > 1 and all(MD_BULLET.match(line) or re.match(r"^\s*(?:\d{1,2}|[a-z])[.)]\s", line) for _, _, line in run):
            blocks.extend(b for s, e, _ in run if (b := _block(text, s, e)))
        elif block := _block(text, run[0][0], run[-1][1]):
            blocks.append(block)
        run.clear()

    for start, end, line in lines:
        if line.strip():
            run.append((start, end, line))
        else:
            flush()
    flush()
    return blocks


def _split_inline_footnotes(text: str, block: Block) -> list[Block]:
    """Cut inline ``<sup>`` footnotes out of a paragraph as footnote blocks of their own."""
    assert block.source_start is not None and block.source_end is not None
    pieces: list[Block] = []
    cursor = block.source_start
    for match in INLINE_FOOTNOTE.finditer(text, block.source_start, block.source_end):
        if head := _block(text, cursor, match.start(), block.kind, markdown=True):
            pieces.append(head)
        if note := _block(text, match.start(2), match.end(2), "footnote", match.group(1), markdown=True):
            pieces.append(note)
        cursor = match.end()
    if not pieces:
        return [block]
    if tail := _block(text, cursor, block.source_end, block.kind, markdown=True):
        pieces.append(tail)
    return pieces


def markdown_blocks(text: str) -> list[Block]:
    """``#`` headings, ``|`` table rows (one list item per row), bullets, and paragraphs between them."""
    blocks: list[Block] = []
    run: list[tuple[int, int]] = []

    def flush():
        if run and (block := _block(text, run[0][0], run[-1][1], markdown=True)):
            blocks.extend(_split_inline_footnotes(text, block))
        run.clear()

    for start, end, line in _lines(text):
        if not line.strip():
            flush()
        elif match := MD_HEADING.match(line):
            flush()
            if block := _block(text, start + match.end(), end, "heading", markdown=True):
                blocks.append(block)
        elif TABLE_ROW.match(line):
            flush()
            if TABLE_RULE.match(line) or not line.strip(" |-:"):
                continue
            inner_start = start + line.index("|") + 1
            inner_end = start + line.rindex("|")
            if block := _block(text, inner_start, inner_end, "list_item", markdown=True):
                blocks.append(block)
        elif match := MD_BULLET.match(line):
            flush()
            if block := _block(text, start + match.end(), end, "list_item", markdown=True):
                blocks.append(block)
        else:
            run.append((start, end))
    flush()
    return blocks

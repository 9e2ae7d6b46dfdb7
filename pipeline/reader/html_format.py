"""Blocks from officielebekendmakingen HTML pages (or any HTML letter): block elements in order,
site chrome dropped, footnote containers marked as footnotes."""
from __future__ import annotations

import re

import lxml.html
from lxml import etree

from kamerbrief.errors import MalformedXMLError
from kamerbrief.pipeline.reader.assemble import Block

CHROME = ("script", "style", "nav", "header", "footer", "noscript", "form", "button", "aside", "template")
BLOCK_KINDS = {"h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading", "h5": "heading", "h6": "heading",
               "p": None, "li": "list_item", "dd": None, "dt": "heading", "tr": "list_item", "blockquote": None}
MAIN_IDS = ("broodtekst", "content", "main-content", "main")
FOOTNOTE_CLASS = re.compile(r"\b(?:voetnoot|voetnoten|noot|noten|footnotes?)\b")
SIGNATURE_CLASS = re.compile(r"\bondertekening\b")


def _text(element) -> str:
    if element.tag == "tr":
        return " | ".join(" ".join(c.text_content().split()) for c in element if c.tag in ("td", "th"))
    return " ".join(element.text_content().split())


def html_blocks(text: str, path: str = "<html>") -> list[Block]:
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as err:
        raise MalformedXMLError(f"cannot parse HTML: {err}", path) from None
    for element in list(root.iter(*CHROME)):
        if element.getparent() is not None:
            element.drop_tree()
    main = next((root.get_element_by_id(i, None) for i in MAIN_IDS if root.get_element_by_id(i, None) is not None), None)
    if main is None:
        main = next(iter(root.iter("main", "article")), None)
    if main is None:
        main = root.find("body") if root.find("body") is not None else root
    blocks: list[Block] = []

    def walk(element, inherited: str | None) -> None:
        if not isinstance(element.tag, str):
            return
        css = element.get("class", "")
        kind = inherited
        if FOOTNOTE_CLASS.search(css):
            kind = "footnote"
        elif SIGNATURE_CLASS.search(css):
            blocks.append(Block(_text(element), "signature"))
            return
        if element.tag in BLOCK_KINDS and not any(c.tag in BLOCK_KINDS for c in element.iterdescendants() if c.tag != "tr" or element.tag != "table"):
            content = _text(element)
            if content:
                number = None
                if kind == "footnote" and (match := re.match(r"^(\d{1,3})\s+", content)):
                    number, content = match.group(1), content[match.end():]
                blocks.append(Block(content, kind or BLOCK_KINDS[element.tag], number=number))
            return
        if element.tag == "div" and element.text and element.text.strip() and len(element) == 0:
            blocks.append(Block(" ".join(element.text.split()), kind))
            return
        for child in element:
            walk(child, kind)

    walk(main, None)
    return blocks

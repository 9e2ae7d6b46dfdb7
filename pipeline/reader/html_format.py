"""Blocks from officielebekendmakingen HTML pages (or any HTML letter): block elements in order,
site chrome dropped, footnote containers marked as footnotes."""
from __future__ import annotations

import re

import lxml.html
from lxml import etree

from kamerbrief.errors import MalformedXMLError, TooDeeplyNestedError
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


# Tags dropped when a page nests deeper than the parser follows: layout containers and inline markup,
# never the block elements the reader keeps or the chrome it removes.
KEPT_WHEN_FLATTENED = set(BLOCK_KINDS) | set(CHROME) | {"html", "head", "body", "title", "main", "article", "table",
                                                        "thead", "tbody", "td", "th", "ul", "ol", "dl", "br"}
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")


def _parse(text: str):
    """The document and whether libxml2 stopped at its nesting limit (2,048 levels with huge_tree)."""
    parser = lxml.html.HTMLParser(huge_tree=True)
    root = lxml.html.document_fromstring(text, parser=parser)
    return root, any("Excessive depth" in entry.message for entry in parser.error_log)


def html_blocks(text: str, path: str = "<html>") -> list[Block]:
    try:
        root, too_deep = _parse(text)
        if too_deep:
            # Nesting beyond the parser's limit is layout (thousands of <div>s), not structure: read
            # the page again without container and inline tags.
            root, too_deep = _parse(TAG.sub(lambda m: m.group(0) if m.group(1).lower() in KEPT_WHEN_FLATTENED else " ", text))
    except (etree.ParserError, ValueError) as err:
        raise MalformedXMLError(f"cannot parse HTML: {err}", path) from None
    if too_deep:
        raise TooDeeplyNestedError("HTML block elements nested more than 2,048 levels deep", path)
    for element in list(root.iter(*CHROME)):
        if element.getparent() is not None:
            element.drop_tree()
    main = next((root.get_element_by_id(i, None) for i in MAIN_IDS if root.get_element_by_id(i, None) is not None), None)
    if main is None:
        main = next(iter(root.iter("main", "article")), None)
    if main is None:
        main = root.find("body") if root.find("body") is not None else root
    # Elements holding a block element somewhere below are split into those blocks: found in one
    # pass up from each block (stopping at an ancestor already marked), so deep pages stay linear.
    holds_block: set = set()
    for block in main.iter(*BLOCK_KINDS):
        parent = block.getparent()
        while parent is not None and parent not in holds_block:
            holds_block.add(parent)
            parent = parent.getparent()
    blocks: list[Block] = []
    stack: list[tuple] = [(main, None)]
    while stack:  # document order, iteratively: nesting depth cannot exhaust Python's stack
        element, inherited = stack.pop()
        if not isinstance(element.tag, str):
            continue
        css = element.get("class", "")
        kind = inherited
        if FOOTNOTE_CLASS.search(css):
            kind = "footnote"
        elif SIGNATURE_CLASS.search(css):
            blocks.append(Block(_text(element), "signature"))
            continue
        if element.tag in BLOCK_KINDS and element not in holds_block:
            content = _text(element)
            if content:
                number = None
                if kind == "footnote" and (match := re.match(r"^(\d{1,3})\s+", content)):
                    number, content = match.group(1), content[match.end():]
                blocks.append(Block(content, kind or BLOCK_KINDS[element.tag], number=number))
            continue
        if element.tag == "div" and element.text and element.text.strip() and len(element) == 0:
            blocks.append(Block(" ".join(element.text.split()), kind))
            continue
        stack.extend((child, kind) for child in reversed(element))
    return blocks

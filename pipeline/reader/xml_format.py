"""Blocks from officielebekendmakingen XML (the ``officiele-publicatie`` schema: kamerstuk, brief,
handelingen, ...). Elements decide the kind; footnotes (``noot``) become footnote paragraphs and
leave their number glued to the text where they stood, as the published page shows them."""
from __future__ import annotations

import re

from lxml import etree

from kamerbrief.errors import MalformedXMLError, TooDeeplyNestedError
from kamerbrief.pipeline.reader.assemble import Block
from kamerbrief.pipeline.reader.dates import parse_dutch_date

HEADING_ELEMENTS = {"tussenkop", "kop", "item-titel", "titel", "intitule"}
SKIP_ELEMENTS = {"metadata", "meta", "kamerstukkop", "dossier", "stuknr", "datumtekst", "noot", "nootref"}
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _clean(text: str) -> str:
    text = " ".join(text.split())
    # Pretty-printed XML puts spaces before punctuation that closed an inline element.
    return re.sub(r"\s+([,.;:)])", r"\1", re.sub(r"\(\s+", "(", text))


class _Walker:
    def __init__(self):
        self.blocks: list[Block] = []
        self.footnotes: list[Block] = []
        self.meta: dict = {}

    def text_of(self, element) -> str:
        """Text of ``element``; a ``noot`` inside leaves its number glued to the preceding word.
        Iterative (an explicit stack in document order), so deep nesting cannot exhaust Python's stack."""
        parts: list[str] = []
        stack: list[tuple[str, object]] = [("element", element)]
        while stack:
            action, item = stack.pop()
            if action == "string":
                parts.append(item)
                continue
            if action == "noot":
                number = _clean("".join(item.findtext("noot.nr") or "")) or str(len(self.footnotes) + 1)
                body = item.find("noot.al")
                note_text = _clean("".join((body if body is not None else item).itertext()))
                if body is None:
                    note_text = re.sub(r"^" + re.escape(number) + r"\s*", "", note_text)
                self.footnotes.append(Block(note_text, "footnote", number=number))
                if parts:
                    parts[-1] = parts[-1].rstrip()
                parts.append(number)
                continue
            parts.append(item.text or "")
            todo: list[tuple[str, object]] = []
            for child in item:
                tag = child.tag if isinstance(child.tag, str) else ""
                if tag == "noot":
                    todo.append(("noot", child))
                elif tag:
                    todo.append(("element", child))
                todo.append(("string", child.tail or ""))
            stack.extend(reversed(todo))
        return "".join(parts)

    def emit(self, text: str, kind: str | None) -> None:
        text = _clean(text)
        if text:
            self.blocks.append(Block(text, kind))

    def walk(self, root) -> None:
        """Emit the blocks under ``root`` in document order (iteratively: deep nesting is fine)."""
        stack = [root]
        while stack:
            stack.extend(reversed(self.visit(stack.pop())))

    def visit(self, element) -> list:
        """Emit ``element``'s own block, if it has one; returns the children still to walk."""
        tag = element.tag if isinstance(element.tag, str) else ""
        if not tag or tag in SKIP_ELEMENTS:
            self.read_meta(element, tag)
            return []
        if tag == "adres":
            self.emit(self.text_of(element), "addressee")
        elif tag == "dagtekening":
            self.emit(self.text_of(element), "date_line")
            datum = element.find(".//datum")
            if datum is not None and datum.get("isodatum"):
                self.meta.setdefault("date", datum.get("isodatum"))
        elif tag == "aanhef" and element.getparent() is not None and element.getparent().tag == "brief":
            self.emit(self.text_of(element), "salutation")
        elif tag == "ondertekening":
            lines = [_clean(self.text_of(c)) for c in element if isinstance(c.tag, str)]
            self.emit(", ".join(x.rstrip(",") for x in lines if x) or self.text_of(element), "signature")
        elif tag == "li":
            number = element.findtext("li.nr")
            rest = " ".join(self.text_of(c) for c in element if isinstance(c.tag, str) and c.tag not in ("li.nr", "lijst"))
            self.emit(f"{_clean(number)} {rest}" if number and _clean(number) not in "-–•" else rest, "list_item")
            return element.findall("lijst")
        elif tag == "kop":
            self.emit(" ".join(self.text_of(c) for c in element if isinstance(c.tag, str)), "heading")
        elif tag in HEADING_ELEMENTS:
            self.emit(self.text_of(element), "heading")
        elif tag in ("al", "spreker", "slotformule"):
            self.emit(self.text_of(element), "salutation" if tag == "slotformule" else None)
        elif len(element) == 0:
            self.emit(element.text or "", None)
        else:
            return list(element)
        return []

    def read_meta(self, element, tag: str) -> None:
        if tag == "dossier":
            if nr := element.findtext(".//dossiernr"):
                self.meta["dossier"] = re.sub(r"\s", "", nr)
            if title := element.findtext("titel"):
                self.meta["dossier_title"] = _clean(title)
        elif tag == "stuknr":
            if nr := element.findtext(".//ondernummer"):
                self.meta["number"] = _clean(nr)
        elif tag == "kamerstukkop":
            for line in element.iter("tekstregel"):
                if line.get("inhoud") == "vergaderjaar":
                    self.meta["vergaderjaar"] = _clean(line.text or "").replace("Vergaderjaar ", "")
                elif line.get("inhoud") == "kameraanduiding":
                    self.meta["organisation"] = _clean(line.text or "")
        elif tag == "datumtekst":
            datum = element.find(".//datum")
            iso = datum.get("isodatum") if datum is not None else None
            self.meta.setdefault("publication_date", iso or parse_dutch_date(" ".join(element.itertext())))
        elif tag == "meta":
            name, content = element.get("name", ""), element.get("content", "")
            if name.endswith("identifier") and content:
                self.meta.setdefault("source_id", content)


def xml_blocks(text: str, path: str = "<xml>") -> tuple[list[Block], dict]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        root = etree.fromstring(XML_DECLARATION.sub("", text, count=1).encode("utf-8"), parser)
    except etree.XMLSyntaxError as err:
        line, column = err.position if err.position else (0, 0)
        if "Excessive depth" in (err.msg or ""):
            raise TooDeeplyNestedError(f"XML nested too deeply to read ({err.msg.strip()})", path) from None
        raise MalformedXMLError(f"malformed or truncated XML at line {line}, column {column}: {err.msg}", path) from None
    walker = _Walker()
    walker.walk(root)
    for title in root.iter("titel"):
        parent = title.getparent()
        if parent is not None and parent.tag == "stuk":
            walker.meta.setdefault("title", _clean("".join(title.itertext())))
    return walker.blocks + walker.footnotes, walker.meta

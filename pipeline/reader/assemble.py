"""Turn the blocks a format reader found into a :class:`Letter`: drop site furniture, give every
paragraph its kind, read the metadata, and link footnote markers to footnotes.

Format readers only split their input into :class:`Block` s (with a kind where the markup says so);
everything that depends on reading Dutch letters lives here, so all formats behave alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kamerbrief.pipeline.reader.dates import parse_dutch_date
from kamerbrief.pipeline.reader.letter import FootnoteMarker, Letter, Paragraph, set_offsets


@dataclass
class Block:
    text: str
    kind: str | None = None  # a kind the markup states (heading, list_item, footnote, ...), else guessed
    source_start: int | None = None
    source_end: int | None = None
    number: str | None = None  # footnote number, where the markup gives one


OFFICE = r"(?:[Dd]e\s+)?(?:[Mm]inister(?:-[Pp]resident)?|[Ss]taatssecretaris)\s+(?:van|voor)\s+"
SIGNATURE_START = re.compile(r"^(?:Hoogachtend|Met vriendelijke groet|" + OFFICE + r")")
SIGNATURE_PART = re.compile(r"((?:[Dd]e\s+)?(?:[Mm]inister(?:-[Pp]resident)?|[Ss]taatssecretaris)(?:\s+(?:van|voor)\s+[^,]+)?),\s*((?:(?!\s+[Dd]e\s+(?:[Mm]inister|[Ss]taatssecretaris)).)+)")
ADDRESSEE = re.compile(r"^Aan\s+(?:de|het|alle)?\s*[A-Z]")
DATE_LINE = re.compile(r"^(?:[A-Z][\w'.-]+(?:\s[A-Z][\w'.-]+)?,\s*)?(?:\d{1,2}\s+\w+\s+\d{4}|\d{1,2}-\d{1,2}-\d{4})\s*$")
SALUTATION = re.compile(r"^(?:Geachte|Beste|L\.S\.|Zeer geachte)\b.{0,80}$")
BULLET = re.compile(r"^(?:[-–•*·]|\(?[a-z]\)|[a-z]\.|\(?\d{1,2}[.)]|[ivx]{1,4}\.)\s+")
HEADING_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.?|Aanbeveling\s+\d+[.:]?|Hoofdstuk\s+\d+)\s")
# Site furniture of officielebekendmakingen pages (navigation, table headers, the closing disclaimer).
FURNITURE = re.compile(
    r"^(?:Zoals vergunningen, bouwplannen en lokale regelgeving\.|Adressen en contactpersonen van overheidsorganisaties\."
    r"|U bent hier:?|Kopieer de link naar uw clipboard|https?://zoek\.officielebekendmakingen\.nl/\S*|-{3}(?:\|-{3})*\|?"
    r"|De hier aangeboden pdf-bestanden van het Staatsblad.*|Naar boven|Terug naar (?:begin|boven).*)$"
)
META_TABLE_HEADER = re.compile(r"^Datum publicatie\s*\|")
DOC_TYPES = {"Kamerstuk", "Kamerbrief", "Staatscourant", "Handelingen", "Circulaire", "Brief", "Aanhangsel van de Handelingen"}
MARKER = re.compile(r"(?:(?<=[a-zà-ÿ)’'»”])|(?<=[a-z]\.))(\d{1,2})(?=[\s.,;:)»”\"'’–-]|$)")
WORD = re.compile(r"[a-zà-ÿ]{5,}")


def _is_heading(text: str) -> bool:
    if len(text) > 200 or not text[:1].isupper() and not text[:1].isdigit():
        return False
    if HEADING_NUMBER.match(text) and not text.rstrip().endswith((";", ",")):
        return True
    return not text.rstrip().endswith((".", ":", ";", ",", "?", "!")) and len(text.split()) <= 14


def _parse_meta_table(row: str, meta: dict) -> None:
    for cell in (c.strip() for c in row.split("|")):
        if not cell:
            continue
        if re.fullmatch(r"\d{4}-\d{4}", cell):
            meta["vergaderjaar"] = cell
        elif match := re.fullmatch(r"(\d[\d ]*(?:-[A-Z0-9]+)?)\s*,?\s*nr\.?\s*(\w+)", cell):
            meta["dossier"] = match.group(1).replace(" ", "")
            meta["number"] = match.group(2)
        elif (iso := parse_dutch_date(cell)) and len(cell) <= 20:
            meta["publication_date"] = iso
        else:
            meta.setdefault("organisation", cell)


def _strip_furniture(blocks: list[Block], meta: dict) -> list[Block]:
    """Drop page navigation, metadata tables and disclaimers; read the metadata table on the way."""
    kept: list[Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        text = block.text.strip()
        if META_TABLE_HEADER.match(text):
            skip = 1
            while index + skip < len(blocks) and re.fullmatch(r"-{3}(\|-{3})*\|?", blocks[index + skip].text.strip()):
                skip += 1
            if index + skip < len(blocks):
                _parse_meta_table(blocks[index + skip].text, meta)
                skip += 1
            index += skip
            continue
        if FURNITURE.match(text):
            if match := re.search(r"officielebekendmakingen\.nl/([\w.-]+?)(?:\.html)?$", text):
                meta.setdefault("source_id", match.group(1))
            index += 1
            continue
        if not kept and text in DOC_TYPES:
            meta.setdefault("document_type", text)
            index += 1
            continue
        kept.append(block)
        index += 1
    return kept


def _signatories(text: str) -> list[tuple[str, str]]:
    """``[(office, name), ...]`` from a signature block ("De Staatssecretaris van X, A. Naam")."""
    parts = []
    for match in SIGNATURE_PART.finditer(text):
        office = re.sub(r"^[Dd]e\s+", "", match.group(1).strip())
        name = match.group(2).strip().rstrip(".,")
        parts.append((office, name))
    return parts


def _classify(blocks: list[Block]) -> list[str]:
    """A kind for every block: the one the markup gave, else one guessed from the letter's layout."""
    kinds = [b.kind for b in blocks]
    n = len(blocks)
    head_zone = min(n, 8)
    for i in range(head_zone):
        text = blocks[i].text.strip()
        if kinds[i]:
            continue
        if ADDRESSEE.match(text) and len(text) < 200:
            kinds[i] = "addressee"
        elif DATE_LINE.match(text):
            kinds[i] = "date_line"
        elif SALUTATION.match(text):
            kinds[i] = "salutation"
    # The signature: the last block that opens like one; unmarked blocks after it are footnotes.
    signature_at = None
    for i in range(n - 1, -1, -1):
        text = blocks[i].text.strip()
        if kinds[i] == "signature" or (not kinds[i] and SIGNATURE_START.match(text) and len(text) < 400 and _signatories(text)):
            signature_at = i
            break
    if signature_at is not None and signature_at >= n // 3:
        kinds[signature_at] = "signature"
        for i in range(signature_at + 1, n):
            if kinds[i] is None:
                kinds[i] = "footnote"
    for i, block in enumerate(blocks):
        if kinds[i]:
            continue
        text = block.text.strip()
        if BULLET.match(text) and (not HEADING_NUMBER.match(text + " ") or text.endswith((";", ","))):
            kinds[i] = "list_item"
        elif _is_heading(text):
            kinds[i] = "heading"
        else:
            kinds[i] = "body"
    return kinds


def _find_markers(paragraphs: list[Paragraph]) -> list[FootnoteMarker]:
    """Footnote digits glued to a word ("Migratie7"), kept only while the numbers run upwards."""
    markers: list[FootnoteMarker] = []
    last = 0
    for index, paragraph in enumerate(paragraphs):
        if paragraph.kind in ("footnote", "signature", "date_line"):
            continue
        for match in MARKER.finditer(paragraph.text):
            number = int(match.group(1))
            if last < number <= last + 3:
                markers.append(FootnoteMarker(index, match.start(1), match.end(1), match.group(1)))
                last = number
    return markers


def _link_footnotes(paragraphs: list[Paragraph], markers: list[FootnoteMarker]) -> None:
    footnotes = [i for i, p in enumerate(paragraphs) if p.kind == "footnote"]
    if not footnotes or not markers:
        return
    by_number = {paragraphs[i].number: i for i in footnotes if paragraphs[i].number}
    if by_number:
        for marker in markers:
            marker.footnote = by_number.get(marker.number)
        return
    if len(footnotes) == len(markers):
        for marker, footnote in zip(markers, footnotes, strict=False):
            marker.footnote = footnote
        return
    # Unnumbered footnotes and more markers than notes (the web page dropped the pure references):
    # a monotone alignment that maximises the words each note shares with the text around its marker.
    def context(marker: FootnoteMarker) -> str:
        text = paragraphs[marker.paragraph].text
        return text[max(0, marker.start - 300) : marker.end + 100].lower()

    if len(footnotes) * len(paragraphs) > 4_000_000:
        return
    contexts = [context(m) for m in markers]
    notes = [set(WORD.findall(paragraphs[i].text.lower())) for i in footnotes]
    lowered = [p.text.lower() for p in paragraphs]
    # A note word found in the text around a marker (also inside a compound: "profielen" in
    # "surfprofielen") counts for more the fewer paragraphs contain it.
    weight = {w: 1.0 / max(1, sum(w in t for t in lowered)) for note in notes for w in note if len(w) >= 5}

    def similarity(note: set[str], around: str) -> float:
        return sum(weight[w] for w in note if w in weight and w in around)

    n_notes, n_markers = len(notes), len(markers)
    if n_notes > n_markers or n_notes * n_markers > 4_000_000:
        return  # nothing sound to align, or too large to align quickly: leave the markers unlinked
    neg = float("-inf")
    best = [[neg] * (n_markers + 1) for _ in range(n_notes + 1)]
    choice = [[False] * (n_markers + 1) for _ in range(n_notes + 1)]
    for j in range(n_markers + 1):
        best[0][j] = 0.0
    for i in range(1, n_notes + 1):
        for j in range(i, n_markers + 1):
            skip = best[i][j - 1]
            take = best[i - 1][j - 1] + similarity(notes[i - 1], contexts[j - 1])
            if take >= skip:
                best[i][j], choice[i][j] = take, True
            else:
                best[i][j] = skip
    i, j = n_notes, n_markers
    while i > 0 and j > 0:
        if choice[i][j]:
            markers[j - 1].footnote = footnotes[i - 1]
            i -= 1
        j -= 1


def assemble(blocks: list[Block], letter_id: str, path: str | None, fmt: str, meta: dict | None = None) -> Letter:
    meta = dict(meta or {})
    blocks = [b for b in _strip_furniture(blocks, meta) if b.text.strip()]
    kinds = _classify(blocks)
    paragraphs = [
        Paragraph(text=b.text, kind=k, source_start=b.source_start, source_end=b.source_end, number=b.number)
        for b, k in zip(blocks, kinds, strict=True)
    ]
    set_offsets(paragraphs)
    for paragraph in paragraphs:
        if paragraph.kind == "date_line" and "date" not in meta:
            if iso := parse_dutch_date(paragraph.text):
                meta["date"] = iso
        elif paragraph.kind == "addressee" and "addressee" not in meta:
            meta["addressee"] = re.sub(r"^Aan\s+(?:de\s+|het\s+)?", "", paragraph.text.strip())
        elif paragraph.kind == "signature":
            pairs = _signatories(paragraph.text)
            if pairs:
                meta.setdefault("sender", pairs[0][0])
                meta.setdefault("signatories", [name for _, name in pairs])
                meta.setdefault("signatory_offices", [office for office, _ in pairs])
    if "date" not in meta and meta.get("publication_date"):
        meta["date"] = meta["publication_date"]
    if "sender" in meta:
        if match := re.search(r"\b(?:van|voor)\s+(.+)$", meta["sender"]):
            meta.setdefault("ministry", match.group(1))
    if meta.get("dossier") and meta.get("number"):
        letter_id = meta.get("source_id") or f"kst-{meta['dossier']}-{meta['number']}"
    letter = Letter(id=letter_id, paragraphs=paragraphs, meta=meta, path=path, format=fmt)
    letter.footnote_markers = _find_markers(paragraphs)
    _link_footnotes(paragraphs, letter.footnote_markers)
    return letter

"""The team's authoring markup for annotated letters, compiled into ANNOTATION.md records.

Annotators write one letter per ``.txt`` file (see ``data/ANNOTATION.md``, "Authoring markup")::

    ---
    id: kb-0001
    date: 2021-03-15
    sender: Minister van Justitie en Veiligheid
    ---
    @addressee
    Aan de Voorzitter van de [[Tweede Kamer der Staten-Generaal|ORG]]

    @body recommendation adoption=partial deadline
    De [[Raad van State|ORG]] adviseert ... voor [[de zomer|DATE|2021-06-01..2021-08-31]] ...

Blocks are separated by blank lines; each opens with an ``@kind`` line followed by its paragraph labels
(``adoption=STANCE`` for adoption). Entities are ``[[surface|LABEL]]``; a DATE may add its normalised
range ``|YYYY-MM-DD..YYYY-MM-DD`` or ``|null``. The compiled record keeps ``text`` without markup and
character offsets into it.

Commitments (``data/ANNOTATION.md``, "Commitments") are ``{{actor|due|sentence or clause}}`` around the
text they cover, entities inside: ``actor`` is ``@`` for the signer (``meta.sender``) or the actor's name
as written in the commitment (then it becomes an actor span) or, if not written there, as resolved;
``due`` is ``YYYY-MM-DD..YYYY-MM-DD`` or ``-`` for none. A letter whose commitments are annotated says
``commitments: annotated`` in its front matter; then every paragraph gets a ``commitments`` list.
"""
from __future__ import annotations

import re
from pathlib import Path

from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_KINDS, PARAGRAPH_LABELS, STANCES
from kamerbrief.errors import RecordError

ENTITY_MARKUP = re.compile(r"\[\[([^\[\]|]+)\|([A-Z]+\??)(?:\|([^\]]*))?\]\]")
RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
COMMITMENT_OPEN = re.compile(r"\{\{([^{}|\[\]]+)\|([^{}|\[\]]+)\|")
MARKUP = re.compile(f"(?P<open>{COMMITMENT_OPEN.pattern})|(?P<close>\\}}\\}})|(?P<entity>{ENTITY_MARKUP.pattern})")
UNCONFIRMED_ENTITY = re.compile(r"\[\[([^\[\]|]+)\|[A-Z]+\?(?:\|[^\]]*)?\]\]")
SIGNER = "@"
COMMITMENTS_FLAG = ("commitments", "annotated")


def _parse_front_matter(lines: list[str], path: Path) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        raise RecordError("must start with a '---' front-matter block (id, date, ...)", path)
    meta: dict = {}
    for index in range(1, len(lines)):
        line = lines[index].strip()
        if line == "---":
            return meta, index + 1
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise RecordError(f"front matter line {index + 1}: expected 'key: value', got {line!r}", path)
        meta[key.strip()] = value.strip()
    raise RecordError("front matter is not closed with '---'", path)


def _parse_header(header: str, where: str, path: Path) -> dict:
    tokens = header[1:].split()
    if not tokens or tokens[0] not in PARAGRAPH_KINDS:
        raise RecordError(f"{where}: header {header!r} must start with a kind, one of {', '.join(PARAGRAPH_KINDS)}", path)
    paragraph: dict = {"kind": tokens[0], "labels": []}
    for token in tokens[1:]:
        label, _, stance = token.partition("=")
        if label.endswith("?") and label[:-1] in PARAGRAPH_LABELS:
            raise RecordError(f"{where}: unconfirmed pre-annotated label {token!r}: confirm it by removing the '?', "
                              "or remove the label", path)
        if label not in PARAGRAPH_LABELS:
            raise RecordError(f"{where}: unknown paragraph label {label!r}", path)
        if label in paragraph["labels"]:
            raise RecordError(f"{where}: label {label!r} given twice", path)
        paragraph["labels"].append(label)
        if label == "adoption":
            if stance not in STANCES:
                raise RecordError(f"{where}: adoption needs a stance, adoption=<{'|'.join(STANCES)}>", path)
            paragraph["stance"] = stance
        elif stance:
            raise RecordError(f"{where}: only adoption takes a value, not {token!r}", path)
    paragraph["labels"] = [label for label in PARAGRAPH_LABELS if label in paragraph["labels"]]
    return paragraph


def _entity(match: re.Match, start: int, where: str, path: Path) -> dict:
    surface, label, extra = match.group(1), match.group(2), match.group(3)
    if label.endswith("?"):
        raise RecordError(f"{where}: pre-filled span {surface!r} ({label}) was never checked: "
                          f"confirm it by removing the '?', or remove the markup", path)
    if label not in ENTITY_LABELS:
        raise RecordError(f"{where}: unknown entity label {label!r} on {surface!r}", path)
    if surface != surface.strip():
        raise RecordError(f"{where}: entity {surface!r} has leading or trailing space", path)
    entity: dict = {"start": start, "end": start + len(surface), "label": label}
    if extra is not None:
        if label != "DATE":
            raise RecordError(f"{where}: only DATE entities take a range, not {label} {surface!r}", path)
        extra = extra.strip()
        if extra == "null":
            entity["range"] = None
        else:
            found = RANGE.match(extra)
            if not found or found.group(1) > found.group(2):
                raise RecordError(f"{where}: bad range {extra!r} on {surface!r} (YYYY-MM-DD..YYYY-MM-DD)", path)
            entity["range"] = {"start": found.group(1), "end": found.group(2)}
    return entity


def _commitment(actor: str, due: str, start: int, end: int, text: str, entities: list[dict], signer: str | None,
                where: str, path: Path) -> dict:
    """A compiled commitment: the actor as a span where it is written inside the commitment, else resolved."""
    actor, due = actor.strip(), due.strip()
    if actor == SIGNER:
        if not signer:
            raise RecordError(f"{where}: commitment actor '@' (the signer) needs 'sender' in the front matter", path)
        resolved = {"text": signer, "signer": True}
    else:
        found = re.search(rf"(?<!\w){re.escape(actor)}(?!\w)", text[start:end])
        resolved = {"text": actor, "start": start + found.start(), "end": start + found.end()} if found else {"text": actor}
    if due == "-":
        due_period = None
    else:
        found = RANGE.match(due)
        if not found or found.group(1) > found.group(2):
            raise RecordError(f"{where}: bad due period {due!r} on commitment {text[start:end][:40]!r} "
                              "(YYYY-MM-DD..YYYY-MM-DD or -)", path)
        due_period = {"start": found.group(1), "end": found.group(2)}
    dates = [{"start": e["start"], "end": e["end"]} for e in entities
             if e["label"] == "DATE" and start <= e["start"] and e["end"] <= end]
    return {"start": start, "end": end, "actor": resolved, "dates": dates, "due": due_period}


def _strip_markup(marked: str, where: str, path: Path, signer: str | None = None) -> tuple[str, list[dict], list[dict]]:
    """The text without markup, its entities and its commitments (offsets into the text)."""
    text_parts: list[str] = []
    entities: list[dict] = []
    opened: list[tuple[str, str, int]] = []
    spans: list[tuple[str, str, int, int]] = []
    cursor = length = 0
    for match in MARKUP.finditer(marked):
        before = marked[cursor:match.start()]
        text_parts.append(before)
        length += len(before)
        cursor = match.end()
        if match.group("open"):
            if opened:
                raise RecordError(f"{where}: a commitment opens inside another one", path)
            found = COMMITMENT_OPEN.match(match.group(0))
            opened.append((found.group(1), found.group(2), length))
        elif match.group("close"):
            if not opened:
                raise RecordError(f"{where}: '}}}}' closes no commitment", path)
            actor, due, start = opened.pop()
            spans.append((actor, due, start, length))
        else:
            entity = _entity(ENTITY_MARKUP.match(match.group(0)), length, where, path)
            entities.append(entity)
            surface = match.group(0)[2:2 + entity["end"] - entity["start"]]
            text_parts.append(surface)
            length += len(surface)
    text_parts.append(marked[cursor:])
    text = "".join(text_parts)
    if opened:
        raise RecordError(f"{where}: a commitment is not closed with '}}}}'", path)
    if "[[" in text or "]]" in text:
        raise RecordError(f"{where}: unbalanced or malformed entity markup in {text[:80]!r}", path)
    if "{{" in text or "}}" in text:
        raise RecordError(f"{where}: unbalanced or malformed commitment markup in {text[:80]!r}", path)
    commitments = [_commitment(actor, due, start, end, text, entities, signer, where, path) for actor, due, start, end in spans]
    return text, entities, commitments


def compile_markup(source: str, path: str | Path = "<string>") -> dict:
    """Compile one authored letter into an inline ANNOTATION.md record."""
    path = Path(path)
    lines = source.splitlines()
    meta, body_start = _parse_front_matter(lines, path)
    if "id" not in meta:
        raise RecordError("front matter needs an 'id'", path)
    blocks: list[list[str]] = [[]]
    for line in lines[body_start:]:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    annotated = meta.get(COMMITMENTS_FLAG[0]) == COMMITMENTS_FLAG[1]
    meta.pop(COMMITMENTS_FLAG[0], None)
    paragraphs = []
    for block in (b for b in blocks if b):
        where = f"paragraph {len(paragraphs) + 1} ({block[0][:40]!r})"
        if not block[0].startswith("@"):
            raise RecordError(f"{where}: every block must open with an '@kind labels' line", path)
        paragraph = _parse_header(block[0], where, path)
        if len(block) < 2:
            raise RecordError(f"{where}: header without text", path)
        text, entities, commitments = _strip_markup(" ".join(block[1:]), where, path, meta.get("sender"))
        if commitments and not annotated:
            raise RecordError(f"{where}: commitment markup in a letter without 'commitments: annotated' in its front matter",
                              path)
        paragraphs.append({"text": text, **paragraph, "entities": entities,
                           **({"commitments": commitments} if annotated else {})})
    record_id = meta.pop("id")
    return {"id": record_id, "source": f"kamerbrief team-written ({path.name})", "meta": meta, "paragraphs": paragraphs}


def compile_file(path: str | Path) -> dict:
    path = Path(path)
    return compile_markup(path.read_text(encoding="utf-8"), path)


def strip_unconfirmed(markup: str) -> str:
    """Authoring markup with every unconfirmed ('?') label and entity removed, the text kept: what a pre-annotated
    work file says before anyone confirmed anything in it."""
    markup = UNCONFIRMED_ENTITY.sub(r"\1", markup)
    return re.sub(r"^(@\w+)((?: \S+)*)$", lambda m: m.group(1) + "".join(
        f" {t}" for t in m.group(2).split() if "?" not in t), markup, flags=re.M)


def render_markup(record: dict) -> str:
    """The inverse of :func:`compile_markup`: an inline record written as authoring markup."""
    lines = ["---", f"id: {record['id']}"]
    lines += [f"{key}: {value}" for key, value in record.get("meta", {}).items() if value is not None]
    if any("commitments" in p for p in record["paragraphs"]):
        lines.append(": ".join(COMMITMENTS_FLAG))
    lines.append("---")
    for paragraph in record["paragraphs"]:
        header = [f"@{paragraph.get('kind', 'body')}"]
        for label in paragraph.get("labels", []):
            is_adoption = label.rstrip("?") == "adoption"  # "adoption?" is an unconfirmed pre-annotation
            header.append(f"{label}={paragraph['stance']}" if is_adoption and paragraph.get("stance") else label)
        text = paragraph["text"]
        # (position, order, markup): at one position closings come before openings, and a commitment
        # opens before and closes after the entities it holds.
        marks: list[tuple[int, int, str]] = []
        for entity in paragraph.get("entities", []):
            extra = ""
            if "range" in entity:
                rng = entity["range"]
                extra = "|null" if rng is None else f"|{rng['start']}..{rng['end']}"
            marks += [(entity["start"], 3, "[["), (entity["end"], 0, f"|{entity['label']}{extra}]]")]
        for commitment in paragraph.get("commitments", []):
            actor = SIGNER if commitment["actor"].get("signer") else commitment["actor"]["text"]
            due = "-" if not commitment.get("due") else f"{commitment['due']['start']}..{commitment['due']['end']}"
            marks += [(commitment["start"], 2, f"{{{{{actor}|{due}|"), (commitment["end"], 1, "}}")]
        out, cursor = [], 0
        for position, _, markup in sorted(marks, key=lambda m: (m[0], m[1])):
            out.append(text[cursor:position])
            out.append(markup)
            cursor = position
        out.append(text[cursor:])
        lines += ["", " ".join(header), "".join(out)]
    return "\n".join(lines) + "\n"

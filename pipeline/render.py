"""HTML views of annotated letters, built with displaCy: entities highlighted inline, paragraph labels
as coloured margins, the stance and the deadline range beside each paragraph, and the
recommendation links and the commitments (who promises what, by when) at the top."""
from __future__ import annotations

import html
from collections.abc import Iterable, Iterator

from spacy import displacy

LABEL_COLOURS = {"recommendation": "#e8590c", "adoption": "#2b8a3e", "action": "#1971c2", "deadline": "#ae3ec9"}
LINK_TEXT_CHARS = 160  # how much of a recommendation the links table shows
ENTITY_COLOURS = {"ORG": "#ffd8a8", "PER": "#ffc9c9", "LOC": "#b2f2bb", "DATE": "#d0bfff", "REF": "#a5d8ff", "LAW": "#fcc2d7"}
STYLE = """
body { font-family: Georgia, serif; max-width: 60em; margin: 2em auto; line-height: 1.5; color: #222; }
.para { display: flex; margin: 0.6em 0; }
.margin { display: flex; gap: 2px; width: 2.6em; flex: none; }
.bar { width: 6px; border-radius: 2px; }
.body { flex: 1; }
.body .entities { line-height: 2.2 !important; }
.tags { font: 0.75em sans-serif; color: #555; margin-top: 0.1em; }
.kind-heading .body { font-weight: bold; }
.kind-footnote .body { font-size: 0.85em; color: #444; }
.legend span, .tag { font: 0.75em sans-serif; padding: 0.1em 0.4em; border-radius: 3px; color: #fff; margin-right: 0.3em; }
table.links { border-collapse: collapse; font: 0.85em sans-serif; margin: 1em 0; }
table.links td, table.links th { border: 1px solid #ddd; padding: 0.3em 0.5em; vertical-align: top; }
"""


def entities_html(text: str, entities: list[dict], title: str | None = None) -> str:
    """displaCy's entity view of one paragraph (manual mode: no spaCy Doc needed)."""
    ents = [{"start": e["start"], "end": e["end"], "label": e["label"]} for e in sorted(entities, key=lambda e: e["start"])]
    return displacy.render({"text": text, "ents": ents, "title": title}, style="ent", manual=True, page=False,
                           options={"colors": ENTITY_COLOURS})


def paragraph_html(index: int, paragraph: dict, extra: str = "") -> str:
    labels = paragraph.get("labels", [])
    bars = "".join(f'<div class="bar" style="background:{LABEL_COLOURS[l]}" title="{l}"></div>' for l in labels if l in LABEL_COLOURS)
    tags = [f'<span class="tag" style="background:{LABEL_COLOURS.get(l, "#666")}">{html.escape(l)}</span>' for l in labels]
    if paragraph.get("stance"):
        tags.append(f"stance: <b>{html.escape(paragraph['stance'])}</b>")
    if paragraph.get("deadline"):
        d = paragraph["deadline"]
        rng = f"{d['range']['start']} – {d['range']['end']}" if d.get("range") else "no range"
        due = f"; due {d['due']['start']} – {d['due']['end']}" if d.get("due") else ""
        tags.append(f"deadline: “{html.escape(d['text'])}” = {rng}{due}")
    kind = html.escape(paragraph.get("kind") or "body")
    return (f'<div class="para kind-{kind}" id="p{index}"><div class="margin">{bars}</div><div class="body">'
            f'{entities_html(paragraph["text"], paragraph.get("entities", []))}'
            f'<div class="tags">¶{index} · {kind} {" ".join(tags)}{extra}</div></div></div>')


def links_html(record: dict) -> str:
    links = record.get("links") or []
    if not links:
        return "<p><i>No recommendations found.</i></p>"
    rows = []
    paragraphs = record["paragraphs"]
    for link in links:
        rec = paragraphs[link["recommendation"]]["text"]
        pos = link.get("position")
        position = (f'<a href="#p{pos["paragraph"]}">¶{pos["paragraph"]}</a> {html.escape(str(pos.get("stance")))}' if pos else "—")
        actions = ", ".join(f'<a href="#p{a}">¶{a}</a>' for a in link["actions"]) or "—"
        deadlines = "<br>".join(
            f'<a href="#p{d["paragraph"]}">¶{d["paragraph"]}</a> “{html.escape(d["text"])}”'
            + (f' (due {d["due"]["start"]} – {d["due"]["end"]})' if d.get("due") else "") for d in link["deadlines"]) or "—"
        rows.append(f'<tr><td><a href="#p{link["recommendation"]}">¶{link["recommendation"]}</a> {html.escape(rec[:LINK_TEXT_CHARS])}</td>'
                    f"<td>{position}</td><td>{actions}</td><td>{deadlines}</td></tr>")
    return ('<table class="links"><tr><th>recommendation</th><th>cabinet position</th><th>actions</th><th>deadlines</th></tr>'
            + "".join(rows) + "</table>")


def commitments_html(record: dict) -> str:
    """Every commitment of the letter: actor, what, deadline and due period, the recommendation it answers."""
    rows = []
    for index, paragraph in enumerate(record["paragraphs"]):
        for c in paragraph.get("commitments") or []:
            due = f"{c['due']['start']} – {c['due']['end']}" if c.get("due") else "—"
            deadline = html.escape((c.get("deadline") or {}).get("text") or "—")
            rec = c.get("recommendation")
            answers = (f'<a href="#p{rec}">¶{rec}</a> {html.escape(str(c.get("stance") or ""))}' if rec is not None else "—")
            rows.append(f'<tr><td><a href="#p{index}">¶{index}</a></td><td>{html.escape(c["actor"].get("text") or "")}</td>'
                        f"<td>{html.escape(c['text'])}</td><td>{deadline}</td><td>{due}</td><td>{answers}</td></tr>")
    if not rows:
        return "<p><i>No commitments found.</i></p>"
    return ('<table class="links"><tr><th>¶</th><th>actor</th><th>commitment</th><th>deadline</th><th>due</th>'
            "<th>answers</th></tr>" + "".join(rows) + "</table>")


def letter_html(record: dict) -> str:
    """A standalone HTML page for one annotated letter record."""
    return "".join(letter_html_parts(record, record["paragraphs"]))


def letter_html_parts(record: dict, paragraphs: Iterable[dict]) -> Iterator[str]:
    """:func:`letter_html` in pieces, for letters too long to hold: ``record`` gives the id, meta and
    links (its ``paragraphs`` need hold only the links' recommendations, by index), ``paragraphs``
    every paragraph in order."""
    meta = record.get("meta", {})
    title = html.escape(meta.get("title") or record.get("id", "letter"))
    legend = "".join(f'<span style="background:{c}">{l}</span>' for l, c in LABEL_COLOURS.items())
    facts = " · ".join(html.escape(f"{k}: {meta[k]}") for k in ("date", "sender", "dossier", "number") if meta.get(k))
    yield (f"<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head>"
           f"<body><h1>{title}</h1><p>{facts}</p><p class=\"legend\">{legend}</p><h2>Recommendations</h2>{links_html(record)}"
           f"<p><a href=\"#commitments\">Commitments</a> (after the letter)</p><h2>Letter</h2>")
    # The commitments table comes after the letter: a spooled letter's paragraphs are read once, and only
    # the commitments (small) are kept on the way.
    with_commitments: dict[int, dict] = {}
    for i, p in enumerate(paragraphs):
        yield paragraph_html(i, p)
        if p.get("commitments"):
            with_commitments[i] = {"commitments": p["commitments"]}
    listed = [with_commitments.get(i, {}) for i in range(max(with_commitments, default=-1) + 1)]
    yield f'<h2 id="commitments">Commitments</h2>{commitments_html({"paragraphs": listed})}</body></html>'

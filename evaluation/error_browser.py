"""The evaluation's HTML error browser: every false positive and false negative in context, grouped by
label, so an annotator can see what the model gets wrong (and spot gold errors).

Paragraph labels: the whole paragraph, with the model's score for the label. Entities: the
paragraph around the span (displaCy), with the overlapping span on the other side named
("gold ORG 'Nationaal Rapporteur'" next to a false positive), strict matching as in the scores.
"""
from __future__ import annotations

import html
import re
from collections import defaultdict

from kamerbrief.evaluation.metrics import ScoredParagraph
from kamerbrief.pipeline.render import ENTITY_COLOURS, LABEL_COLOURS, STYLE, entities_html

CONTEXT = 120


def _esc(value) -> str:
    """Everything from the data is escaped, quotes included: a label or letter id is never markup."""
    return html.escape(str(value), quote=True)


def _anchor(*parts) -> str:
    """An id made of letters, digits and ``-`` only, whatever the label holds (other characters as
    ``_hex_``), so it is safe in ``id`` and ``href`` and still unique per label."""
    return "-".join(re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group()):x}_", str(part)) for part in parts)


def _snippet(text: str, start: int, end: int, label: str) -> str:
    lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    # displaCy escapes the text but writes the label as it is.
    return entities_html(text[lo:hi], [{"start": start - lo, "end": end - lo, "label": _esc(label)}])


def _overlapping(spans, start, end):
    return [s for s in spans if s[0] < end and start < s[1]]


def collect_errors(items: list[ScoredParagraph]) -> dict:
    errors: dict = {"paragraph": defaultdict(lambda: {"fp": [], "fn": []}), "entity": defaultdict(lambda: {"fp": [], "fn": []})}
    for n, item in enumerate(items):
        for label in sorted(item.pred_labels - item.gold_labels):
            errors["paragraph"][label]["fp"].append((n, item))
        for label in sorted(item.gold_labels - item.pred_labels):
            errors["paragraph"][label]["fn"].append((n, item))
        keep = item.annotated_entity_labels
        gold = {tuple(s) for s in item.gold_entities if s[2] in keep}
        pred = {tuple(s) for s in item.pred_entities if s[2] in keep}
        for span in sorted(pred - gold):
            errors["entity"][span[2]]["fp"].append((n, item, span, _overlapping(gold, span[0], span[1])))
        for span in sorted(gold - pred):
            errors["entity"][span[2]]["fn"].append((n, item, span, _overlapping(pred, span[0], span[1])))
    return errors


def error_browser_html(items: list[ScoredParagraph], report: dict | None = None, title: str = "kamerbrief errors") -> str:
    errors = collect_errors(items)
    sections, toc = [], []
    for kind in ("paragraph", "entity"):
        for label in sorted(errors[kind]):
            for side, name in (("fp", "false positives"), ("fn", "false negatives")):
                entries = errors[kind][label][side]
                if not entries:
                    continue
                anchor = _anchor(kind, label, side)
                toc.append(f'<li><a href="#{anchor}">{kind} {_esc(label)}: {name}</a> ({len(entries)})</li>')
                body = []
                for entry in entries:
                    if kind == "paragraph":
                        n, item = entry
                        gold = ", ".join(sorted(item.gold_labels)) or "none"
                        pred = ", ".join(sorted(item.pred_labels)) or "none"
                        body.append(f'<div class="err"><div class="tags">{_esc(item.letter_id)} · gold: {_esc(gold)} · '
                                    f'predicted: {_esc(pred)}</div><p>{_esc(item.text)}</p></div>')
                    else:
                        n, item, span, other = entry
                        other_side = "gold" if side == "fp" else "predicted"
                        note = "; ".join(f"{other_side} {_esc(o[2])} “{_esc(item.text[o[0]:o[1]])}”" for o in other) or f"no {other_side} span here"
                        body.append(f'<div class="err"><div class="tags">{_esc(item.letter_id)} · '
                                    f'“{_esc(item.text[span[0]:span[1]])}” · {note}</div>{_snippet(item.text, *span)}</div>')
                colour = LABEL_COLOURS.get(label) or ENTITY_COLOURS.get(label, "#888")
                sections.append(f'<h2 id="{anchor}" style="border-left: 8px solid {_esc(colour)}; padding-left: .4em">'
                                f'{kind} {_esc(label)}: {name} ({len(entries)})</h2>' + "".join(body))
    summary = ""
    if report:
        from kamerbrief.evaluation.report import markdown_summary
        summary = f"<pre>{_esc(markdown_summary(report))}</pre>"
    return (f'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f'<style>{STYLE} .err {{ border-bottom: 1px solid #eee; padding: .4em 0; }}</style></head><body>'
            f'<h1>{_esc(title)}</h1>{summary}<ul>{"".join(toc)}</ul>{"".join(sections)}</body></html>')

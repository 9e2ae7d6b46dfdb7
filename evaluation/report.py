"""Render an :func:`kamerbrief.evaluation.metrics.evaluate_items` report as Markdown or terminal text.

* :func:`markdown_table`: every score, as Markdown tables (for a report file);
* :func:`markdown_summary`: a short paragraph and one table, for the model card;
* :func:`format_table`: the same scores as an aligned plain-text table, for the terminal;
* :func:`compare_table`: ``{metric: paired_bootstrap result}`` as a Markdown table.

Numbers are rounded to 3 decimals; a missing interval shows as ``-``.
"""
from __future__ import annotations

HEADER = ("scope", "label", "P", "R", "F1", "95% CI (F1)", "support")


def _num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    return f"{float(x):.3f}"


def _ci(interval) -> str:
    if not interval:
        return "-"
    lo, hi = interval
    return f"[{_num(lo)}, {_num(hi)}]"


def _row(scope: str, label: str, s: dict, ci_key: str = "f_ci95") -> tuple[str, ...]:
    return (scope, label, _num(s.get("p")), _num(s.get("r")), _num(s.get("f")), _ci(s.get(ci_key)),
            _num(s.get("support")) if "support" in s else "-")


def _score_rows(report: dict) -> list[tuple[str, ...]]:
    """One row per scored line: paragraph labels, micro, macro; entity labels, strict micro, exact, partial."""
    rows = []
    paragraphs = report.get("paragraphs", {})
    for label, s in paragraphs.get("per_label", {}).items():
        rows.append(_row("paragraph", label, s))
    for avg in ("micro", "macro"):
        if avg in paragraphs:
            rows.append(_row("paragraph", avg, paragraphs[avg]))
    entities = report.get("entities", {})
    for label, s in entities.get("per_label", {}).items():
        rows.append(_row("entity (strict)", label, s))
    if "micro" in entities:
        rows.append(_row("entity (strict)", "micro", entities["micro"]))
    if "exact_span" in entities:
        rows.append(_row("entity (exact span)", "micro", entities["exact_span"]))
    if "partial" in entities:
        rows.append(_row("entity (partial)", "micro", entities["partial"]))
    return rows


def _markdown(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _plain(header, rows) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _stance_line(report: dict) -> str:
    st = report.get("stance", {})
    if not st.get("support"):
        return "stance: no gold adoption paragraphs"
    return (f"stance accuracy {_num(st.get('accuracy'))} {_ci(st.get('accuracy_ci95'))} "
            f"on {_num(st.get('support', 0))} gold adoption paragraphs")


def _deadline_line(report: dict) -> str:
    d = report.get("deadlines", {})
    if not d.get("total"):
        return "deadline ranges: none in the gold data"
    return (f"deadline range accuracy {_num(d.get('accuracy'))} {_ci(d.get('accuracy_ci95'))} "
            f"({_num(d.get('correct', 0))} correct, {_num(d.get('found', 0))} found, of {_num(d.get('total', 0))})")


def _sizes(report: dict) -> str:
    boot = report.get("bootstrap", {})
    n = f"; 95% intervals from {boot['n']} bootstrap resamples of letters" if boot.get("n") else ""
    return f"{_num(report.get('n_paragraphs', 0))} paragraphs from {_num(report.get('n_letters', 0))} letters{n}"


def _extra_lines(report: dict) -> list[str]:
    """The deadline normaliser on gold spans and, in raw mode, segmentation scores."""
    lines = []
    normaliser = report.get("deadlines", {}).get("normaliser_on_gold_spans")
    if normaliser and normaliser.get("total"):
        lines.append(f"deadline normaliser on the gold DATE spans: {_num(normaliser['accuracy'])} "
                     f"({normaliser['correct']} of {normaliser['total']} ranges right)")
    seg = report.get("segmentation")
    if seg:
        lines.append(f"segmentation (reader vs gold paragraphs): exact P {_num(seg['exact']['p'])} R {_num(seg['exact']['r'])}; "
                     f"overlap (IoU >= 0.5) P {_num(seg['overlap_iou_0.5']['p'])} R {_num(seg['overlap_iou_0.5']['r'])} "
                     f"({seg['gold']} gold, {seg['predicted']} predicted paragraphs)")
    return lines


def markdown_table(report: dict) -> str:
    """Every score in the report, as Markdown: the score table, the stance confusion matrix, deadlines."""
    lines = [f"Scored {_sizes(report)}.", "", *_markdown(HEADER, _score_rows(report)), ""]
    stance = report.get("stance", {})
    lines += [_stance_line(report)[0].upper() + _stance_line(report)[1:] + ".", ""]
    confusion = stance.get("confusion") or {}
    if confusion:
        preds = list(next(iter(confusion.values())).keys())
        lines += _markdown(("gold \\ predicted", *preds),
                           [(gold, *(str(row.get(p, 0)) for p in preds)) for gold, row in confusion.items()])
        lines.append("")
    lines += [_deadline_line(report)[0].upper() + _deadline_line(report)[1:] + ".", ""]
    lines += [line[0].upper() + line[1:] + "." for line in _extra_lines(report)]
    return "\n".join(lines)


def markdown_summary(report: dict) -> str:
    """A short paragraph and one table, for the model card."""
    paragraphs, entities = report.get("paragraphs", {}), report.get("entities", {})
    micro, macro = paragraphs.get("micro", {}), paragraphs.get("macro", {})
    strict, partial = entities.get("micro", {}), entities.get("partial", {})
    text = (f"On {_sizes(report)}: paragraph labels micro-F1 {_num(micro.get('f'))} {_ci(micro.get('f_ci95'))}, "
            f"macro-F1 {_num(macro.get('f'))} {_ci(macro.get('f_ci95'))}; entities strict micro-F1 (seqeval IOB2) "
            f"{_num(strict.get('f'))} {_ci(strict.get('f_ci95'))}, partial-overlap F1 {_num(partial.get('f'))}; "
            f"{_stance_line(report)}; {'; '.join([_deadline_line(report), *_extra_lines(report)])}.")
    return "\n".join([text, "", *_markdown(HEADER, _score_rows(report))])


def format_table(report: dict) -> str:
    """The scores as an aligned plain-text table, with the stance and deadline lines under it."""
    lines = [_sizes(report), "", *_plain(HEADER, _score_rows(report)), "", _stance_line(report), _deadline_line(report),
             *_extra_lines(report)]
    return "\n".join(lines)


def compare_table(comparison: dict) -> str:
    """``{metric_name: paired_bootstrap(...) result}`` as Markdown: A, B, B - A with its interval, p, significant."""
    header = ("metric", "A", "B", "B - A", "95% CI (B - A)", "p", "significant")
    rows = [(name, _num(r.get("a")), _num(r.get("b")), _num(r.get("diff")), _ci(r.get("diff_ci95")),
             _num(r.get("p_value")), _num(bool(r.get("significant")))) for name, r in comparison.items()]
    return "\n".join(_markdown(header, rows))

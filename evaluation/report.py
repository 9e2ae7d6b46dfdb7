"""Render an :func:`kamerbrief.evaluation.metrics.evaluate_items` report as Markdown or terminal text.

* :func:`markdown_table`: every score, as Markdown tables (for a report file);
* :func:`markdown_summary`: a short paragraph and one table, for the model card;
* :func:`format_table`: the same scores as an aligned plain-text table, for the terminal;
* :func:`compare_table`: ``{metric: paired_bootstrap result}`` as a Markdown table;
* :func:`number`, :func:`interval`, :func:`with_interval`, :func:`markdown_lines`, :func:`corpus_rows`: the pieces, which
  :mod:`kamerbrief.evaluation.readme_tables` uses for the README's tables.

Numbers are rounded to 3 decimals; a missing interval shows as ``-``.

A report with ``by_source`` (see :func:`kamerbrief.evaluation.metrics.evaluate_items`) is rendered
per source kind: real documents first (with a table per corpus), then team-written letters; the
scores over both kinds together come last, in one line, and never as the headline.
"""
from __future__ import annotations

HEADER = ("scope", "label", "P", "R", "F1", "95% CI (F1)", "support")
KIND_TITLES = {"real": "Real documents", "team-written": "Team-written letters"}
CORPUS_HEADER = ("corpus", "letters", "paragraphs", "entity F1 (strict)", "95% CI", "ORG", "PER", "LOC", "DATE", "REF", "LAW",
                 "paragraph macro-F1")


def number(x) -> str:
    """A score as the reports print it: 3 decimals; counts as integers; None as ``-``."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    return f"{float(x):.3f}"


def interval(bounds) -> str:
    """A 95% interval as ``[lo, hi]``; ``-`` where there is none."""
    if not bounds:
        return "-"
    lo, hi = bounds
    return f"[{number(lo)}, {number(hi)}]"


def _row(scope: str, label: str, s: dict, ci_key: str = "f_ci95") -> tuple[str, ...]:
    return (scope, label, number(s.get("p")), number(s.get("r")), number(s.get("f")), interval(s.get(ci_key)),
            number(s.get("support")) if "support" in s else "-")


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


def markdown_lines(header, rows) -> list[str]:
    """A Markdown table, one line a row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _plain(header, rows) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False)))
    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def with_interval(scores: dict) -> str:
    """An accuracy with its interval: ``0.960 [0.900, 1.000]``."""
    return f"{number(scores.get('accuracy'))} {interval(scores.get('accuracy_ci95'))}"


def _stance_line(report: dict) -> str:
    st = report.get("stance", {})
    if not st.get("support"):
        return "stance: no gold adoption paragraphs"
    return f"stance accuracy {with_interval(st)} on {number(st.get('support', 0))} gold adoption paragraphs"


def _deadline_line(report: dict) -> str:
    d = report.get("deadlines", {})
    if not d.get("total"):
        return "deadline ranges: none in the gold data"
    return (f"deadline range accuracy {with_interval(d)} "
            f"({number(d.get('correct', 0))} correct, {number(d.get('found', 0))} found, of {number(d.get('total', 0))})")


def _commitment_line(report: dict) -> str | None:
    """Commitment scores (ANNOTATION.md, "Commitments"), where the gold annotates them."""
    c = report.get("commitments")
    if not c:
        return None
    d, a, due = c["detection"], c["actor"], c["due"]
    return (f"commitments ({c['n_letters']} letters, {c['gold']} gold, {c['predicted']} predicted; a match is an overlapping "
            f"span): detection P {number(d['p'])} {interval(d.get('p_ci95'))}, R {number(d['r'])} {interval(d.get('r_ci95'))}, "
            f"F1 {number(d['f'])} {interval(d.get('f_ci95'))}; actor accuracy {with_interval(a)} "
            f"({a['correct']} of {a['matched']} matched); due-period accuracy {with_interval(due)} "
            f"({due['correct']} of {due['total']} matched commitments with a gold due "
            f"period; {number(due['accuracy_all_matched'])} counting no due on both sides as right)")


def _sizes(report: dict) -> str:
    boot = report.get("bootstrap", {})
    n = f"; 95% intervals from {boot['n']} bootstrap resamples of letters" if boot.get("n") else ""
    return f"{number(report.get('n_paragraphs', 0))} paragraphs from {number(report.get('n_letters', 0))} letters{n}"


def _extra_lines(report: dict) -> list[str]:
    """The deadline normaliser on gold spans and, in raw mode, segmentation scores."""
    lines = []
    commitments = _commitment_line(report)
    if commitments:
        lines.append(commitments)
    normaliser = report.get("deadlines", {}).get("normaliser_on_gold_spans")
    if normaliser and normaliser.get("total"):
        lines.append(f"deadline normaliser on the gold DATE spans: {number(normaliser['accuracy'])} "
                     f"({normaliser['correct']} of {normaliser['total']} ranges right)")
    seg = report.get("segmentation")
    if seg:
        lines.append(f"segmentation (reader vs gold paragraphs): exact P {number(seg['exact']['p'])} R {number(seg['exact']['r'])}; "
                     f"overlap (IoU >= 0.5) P {number(seg['overlap_iou_0.5']['p'])} R {number(seg['overlap_iou_0.5']['r'])} "
                     f"({seg['gold']} gold, {seg['predicted']} predicted paragraphs)")
    return lines


def _kind_title(kind: str, sub: dict) -> str:
    corpora = ", ".join(sub.get("by_corpus", {}))
    return KIND_TITLES.get(kind, kind) + (f" ({corpora})" if corpora else "")


def _sections(report: dict) -> list[tuple[str, dict]]:
    """``[(title, report)]``: one per source kind, real documents first; the report itself if it has no split."""
    by_source = report.get("by_source")
    if not by_source:
        return [("", report)]
    return [(_kind_title(kind, sub), sub) for kind, sub in by_source.items()]


def corpus_rows(sub: dict) -> list[tuple[str, ...]]:
    """One row of :data:`CORPUS_HEADER` per corpus of a report's ``by_corpus``."""
    rows = []
    for corpus, r in sub.get("by_corpus", {}).items():
        entities, macro = r.get("entities", {}), r.get("paragraphs", {}).get("macro", {})
        per_label = entities.get("per_label", {})
        rows.append((corpus, number(r.get("n_letters", 0)), number(r.get("n_paragraphs", 0)), number(entities.get("micro", {}).get("f")),
                     interval(entities.get("micro", {}).get("f_ci95")),
                     *(number(per_label[label]["f"]) if label in per_label else "-" for label in CORPUS_HEADER[5:11]),
                     number(macro.get("f"))))
    return rows


def _headline(report: dict) -> str:
    """One sentence with the main scores of a (sub-)report."""
    paragraphs, entities = report.get("paragraphs", {}), report.get("entities", {})
    micro, macro = paragraphs.get("micro", {}), paragraphs.get("macro", {})
    strict, partial = entities.get("micro", {}), entities.get("partial", {})
    return (f"On {_sizes(report)}: paragraph labels micro-F1 {number(micro.get('f'))} {interval(micro.get('f_ci95'))}, "
            f"macro-F1 {number(macro.get('f'))} {interval(macro.get('f_ci95'))}; entities strict micro-F1 (seqeval IOB2) "
            f"{number(strict.get('f'))} {interval(strict.get('f_ci95'))}, partial-overlap F1 {number(partial.get('f'))}; "
            f"{_stance_line(report)}; {'; '.join([_deadline_line(report), *_extra_lines(report)])}.")


def _mixed_line(report: dict) -> str:
    entities, macro = report.get("entities", {}).get("micro", {}), report.get("paragraphs", {}).get("macro", {})
    return (f"Both kinds together ({number(report.get('n_letters', 0))} letters; mixed, for comparison with older reports "
            f"only): entity strict micro-F1 {number(entities.get('f'))} {interval(entities.get('f_ci95'))}, paragraph macro-F1 "
            f"{number(macro.get('f'))} {interval(macro.get('f_ci95'))}.")


def _markdown_body(report: dict) -> list[str]:
    lines = [f"Scored {_sizes(report)}.", "", *markdown_lines(HEADER, _score_rows(report)), ""]
    stance = report.get("stance", {})
    lines += [_stance_line(report)[0].upper() + _stance_line(report)[1:] + ".", ""]
    confusion = stance.get("confusion") or {}
    if confusion and stance.get("support"):
        preds = list(next(iter(confusion.values())).keys())
        lines += markdown_lines(("gold \\ predicted", *preds),
                           [(gold, *(str(row.get(p, 0)) for p in preds)) for gold, row in confusion.items()])
        lines.append("")
    lines += [_deadline_line(report)[0].upper() + _deadline_line(report)[1:] + ".", ""]
    lines += [line[0].upper() + line[1:] + "." for line in _extra_lines(report)]
    return lines


def markdown_table(report: dict) -> str:
    """Every score in the report, as Markdown: per source kind (real documents first, with a table per
    corpus) the score table, the stance confusion matrix and deadlines; the mixed scores in one line at the end."""
    if not report.get("by_source"):
        return "\n".join(_markdown_body(report))
    lines = []
    for title, sub in _sections(report):
        lines += [f"## {title}", "", *_markdown_body(sub), ""]
        if sub.get("by_corpus"):
            lines += ["Per corpus:", "", *markdown_lines(CORPUS_HEADER, corpus_rows(sub)), ""]
    if len(report["by_source"]) > 1:
        lines += ["## Both kinds together", "", _mixed_line(report), ""]
    return "\n".join(lines).rstrip("\n")


def markdown_summary(report: dict) -> str:
    """Short paragraphs and one table per source kind (real documents first), for the model card."""
    if not report.get("by_source"):
        return "\n".join([_headline(report), "", *markdown_lines(HEADER, _score_rows(report))])
    lines = []
    for title, sub in _sections(report):
        lines += [f"**{title}.** {_headline(sub)}", "", *markdown_lines(HEADER, _score_rows(sub)), ""]
        if sub.get("by_corpus"):
            lines += ["Per corpus:", "", *markdown_lines(CORPUS_HEADER, corpus_rows(sub)), ""]
    if len(report["by_source"]) > 1:
        lines.append(_mixed_line(report))
    return "\n".join(lines).rstrip("\n")


def format_table(report: dict) -> str:
    """The scores as aligned plain-text tables (one per source kind, real documents first), with the
    stance and deadline lines under each."""
    lines = []
    for title, sub in _sections(report):
        if title:
            lines += [f"== {title} ==", ""]
        lines += [_sizes(sub), "", *_plain(HEADER, _score_rows(sub)), "", _stance_line(sub), _deadline_line(sub),
                  *_extra_lines(sub)]
        if sub.get("by_corpus"):
            lines += ["", *_plain(CORPUS_HEADER, corpus_rows(sub))]
        lines.append("")
    if len(report.get("by_source") or {}) > 1:
        lines.append(_mixed_line(report))
    return "\n".join(lines).rstrip("\n")


def _compare_rows(comparison: dict) -> list[tuple[str, ...]]:
    return [(name, number(r.get("a")), number(r.get("b")), number(r.get("diff")), interval(r.get("diff_ci95")),
             number(r.get("p_value")), number(bool(r.get("significant")))) for name, r in comparison.items() if name != "by_source"]


def compare_table(comparison: dict) -> str:
    """``{metric_name: paired_bootstrap(...) result}`` as Markdown: A, B, B - A with its interval, p, significant;
    with ``by_source``, one table per source kind (real documents first), then the mixed one."""
    header = ("metric", "A", "B", "B - A", "95% CI (B - A)", "p", "significant")
    by_source = comparison.get("by_source") or {}
    if not by_source:
        return "\n".join(markdown_lines(header, _compare_rows(comparison)))
    lines = []
    for kind, sub in by_source.items():
        lines += [f"{KIND_TITLES.get(kind, kind)}:", "", *markdown_lines(header, _compare_rows(sub)), ""]
    lines += ["Both kinds together (mixed):", "", *markdown_lines(header, _compare_rows(comparison))]
    return "\n".join(lines)

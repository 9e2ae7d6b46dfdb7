"""The README's result tables, rendered from the reports in ``evaluation/reports/``.

Each table sits in README.md between ``<!-- kamerbrief:NAME:begin -->`` and ``<!-- kamerbrief:NAME:end -->``:

* ``status``: the default model per source kind (real documents and team-written letters, never mixed), from
  the held-out test reports of ``make evaluate``: entity strict micro-F1 with its interval and per label,
  paragraph macro-F1 and per label, stance, deadline range and commitment scores; then the real documents per corpus;
* ``commitments``: the commitment scores on the team-written test letters;
* ``speed``: words/s per pipeline and precision, from ``make bench`` (``benchmark.json``).

``python -m kamerbrief.evaluation.readme_tables --write`` rewrites the blocks (``make evaluate`` and
``make bench`` end with it); ``--check`` exits 1 when README.md differs from what the reports give, as
``tests/test_readme_tables.py`` does. The numbers are formatted by :mod:`kamerbrief.evaluation.report`,
as in the Markdown reports.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from kamerbrief.errors import ReadmeTablesError
from kamerbrief.evaluation.report import (
    CORPUS_HEADER,
    corpus_rows,
    interval,
    markdown_lines,
    number,
    with_interval,
)
from kamerbrief.paths import checkout_root

REPORTS = "evaluation/reports"
MODEL = "kamerbrief-nl-e5s-l4"
COMMAND = "python -m kamerbrief.evaluation.readme_tables --write"
# (test set as the README names it, report file, source kind in its by_source): real documents first.
STATUS_ROWS = (
    ("`test-real`", f"{MODEL}-test-real.json", "real"),
    ("`test` (v1), real part", f"{MODEL}-test.json", "real"),
    ("`test-writer`", f"{MODEL}-test-writer.json", "team-written"),
    ("`test` (v1), team part", f"{MODEL}-test.json", "team-written"),
)
ENTITY_LABELS = ("ORG", "PER", "LOC", "DATE", "REF", "LAW")
PARAGRAPH_LABELS = ("recommendation", "adoption", "action", "deadline")
# What one scored record is: a passage of a real document, a whole team-written letter.
RECORD_WORD = {"real": "passages", "team-written": "letters"}
BENCHMARK = "benchmark.json"
BERT_BASE = "BERT-base-sized"


def _read(reports: Path, name: str) -> dict:
    path = reports / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReadmeTablesError(f"cannot read the report ({error})", path) from None


def _part(report: dict, kind: str, path: Path) -> dict:
    part = (report.get("by_source") or {}).get(kind)
    if part is None:
        raise ReadmeTablesError(f"the report has no {kind!r} part in by_source (rerun `make evaluate`)", path)
    return part


def _label_f1(scores: dict, label: str) -> str:
    """F1 with the gold count; ``-`` for a label with no gold and no prediction (F1 undefined)."""
    s = scores.get("per_label", {}).get(label)
    if not s or (not s.get("support") and not s.get("p")):
        return f"- ({number(s.get('support', 0) if s else 0)})"
    return f"{number(s['f'])} ({number(s['support'])})"


def _commitments(part: dict) -> str:
    c = part.get("commitments")
    if not c:
        return "not annotated"
    return (f"F1 {number(c['detection']['f'])} {interval(c['detection'].get('f_ci95'))}, actor "
            f"{number(c['actor']['accuracy'])}, due {number(c['due']['accuracy'])}")


def _stance(part: dict) -> str:
    st = part.get("stance", {})
    return f"{with_interval(st)} ({number(st['support'])})" if st.get("support") else "no gold"


def _deadlines(part: dict) -> str:
    d = part.get("deadlines", {})
    return f"{with_interval(d)} ({d['correct']} of {d['total']})" if d.get("total") else "no gold"


def render_status(reports: Path) -> str:
    """Two tables per source kind (entities; paragraphs, stance, commitments), then real documents per corpus."""
    entity_rows, paragraph_rows = [], []
    for test_set, name, kind in STATUS_ROWS:
        part = _part(_read(reports, name), kind, reports / name)
        entities, paragraphs = part["entities"], part["paragraphs"]
        size = f"{number(part['n_letters'])} {RECORD_WORD[kind]}, {part['n_paragraphs']:,} paragraphs"
        entity_rows.append((test_set, kind, size,
                            f"**{number(entities['micro']['f'])}** {interval(entities['micro'].get('f_ci95'))}",
                            *(number(entities['per_label'][label]['f']) if label in entities.get('per_label', {}) else "-"
                              for label in ENTITY_LABELS)))
        paragraph_rows.append((test_set, kind,
                               f"{number(paragraphs['macro']['f'])} {interval(paragraphs['macro'].get('f_ci95'))}",
                               *(_label_f1(paragraphs, label) for label in PARAGRAPH_LABELS), _stance(part),
                               _deadlines(part), _commitments(part)))
    real_name = STATUS_ROWS[0][1]
    real = _part(_read(reports, real_name), "real", reports / real_name)
    files = ", ".join(f"`{name}`" for name in dict.fromkeys(name for _, name, _ in STATUS_ROWS))
    return "\n".join([
        f"Entities, strict micro-F1 (seqeval IOB2) [95% CI] and F1 per label (from {files} in `{REPORTS}/`):", "",
        *markdown_lines(("test set", "source kind", "scored", "entity F1 [95% CI]", *ENTITY_LABELS), entity_rows), "",
        "Paragraph labels: macro-F1 [95% CI] and F1 per label (gold paragraphs); stance accuracy on the gold adoption "
        "paragraphs; deadline ranges right end to end, of the gold ranges; commitments (detection F1, actor and "
        "due-period accuracy; annotated on the team-written v1 test letters only):", "",
        *markdown_lines(("test set", "source kind", "paragraph macro-F1", *PARAGRAPH_LABELS,
                         "stance accuracy (gold)", "deadline ranges", "commitments"),
                        paragraph_rows), "",
        f"`test-real` per corpus ({', '.join(real.get('by_corpus', {}))}):", "",
        *markdown_lines(CORPUS_HEADER, corpus_rows(real)),
    ])


def render_commitments(reports: Path) -> str:
    """The commitment scores of the team-written part of the v1 test report, then of the held-out writers' letters
    (``-test-writer``, letters by other hands)."""
    rows = []
    for name, label, required in ((f"{MODEL}-test.json", "test, team part", True),
                                  (f"{MODEL}-test-writer.json", "test-writer (other writers)", False)):
        c = _part(_read(reports, name), "team-written", reports / name).get("commitments")
        if not c:
            if required:
                raise ReadmeTablesError("the report has no commitment scores (rerun `make evaluate`)", reports / name)
            continue
        d, actor, due = c["detection"], c["actor"], c["due"]
        rows.append((f"{label} (`{REPORTS}/{name}`)", str(c["gold"]), str(c["predicted"]),
                     f"{number(d['p'])} / {number(d['r'])} / **{number(d['f'])}** {interval(d.get('f_ci95'))}",
                     f"**{with_interval(actor)}** ({actor['correct']} of {actor['matched']})",
                     f"**{with_interval(due)}** ({due['correct']} of {due['total']})"))
    return "\n".join(markdown_lines(("split", "gold", "predicted", "detection P / R / F1 [95% CI of F1]",
                                     "actor accuracy", "due-period accuracy (gold with a due period)"), rows))


def _pipeline_key(label: str) -> tuple[str, str, str]:
    """``"kamerbrief-nl-e5s (int8), 2 workers"`` -> (``kamerbrief-nl-e5s``, ``int8``, ``, 2 workers``)."""
    match = re.fullmatch(r"(.*) \(([^()]+)\)(.*)", label)
    return (match.group(1), match.group(2), match.group(3)) if match else (label, "", "")


def render_speed(reports: Path) -> str:
    """Words/s per pipeline (rows) and precision (columns), each with its speed-up over the BERT-base-sized
    encoder at that precision; the sample, the runs and the CPU below."""
    path = reports / BENCHMARK
    bench = _read(reports, BENCHMARK)
    pipelines = bench.get("pipelines") or {}
    if not pipelines:
        raise ReadmeTablesError("the benchmark report times no pipeline", path)
    table: dict[str, dict[str, float]] = {}
    for label, r in pipelines.items():
        name, precision, workers = _pipeline_key(label)
        table.setdefault(name + workers, {})[r.get("precision_setting", precision)] = r["words_per_second"]
    precisions = list(dict.fromkeys(p for row in table.values() for p in row))
    base = next((row for name, row in table.items() if name == BERT_BASE), {})

    def cell(row: dict, precision: str) -> str:
        if precision not in row:
            return "-"
        speed = f"{row[precision]:,.0f}"
        return f"{speed} ({row[precision] / base[precision]:.1f}x)" if base.get(precision) and row is not base else speed

    rows = [(f"`{name}`" + (" (default)" if name == MODEL else "") if name != BERT_BASE else
             "the same pipeline around a BERT-base-sized encoder (12 x 768)", *(cell(row, p) for p in precisions))
            for name, row in table.items()]
    first = next(iter(pipelines.values()))
    cpu = bench.get("cpu")
    cpu_text = (f"CPU {cpu.get('model')}, {cpu.get('cores')} cores, torch ISA {cpu.get('torch_capability')}, flags "
                f"{' '.join(cpu.get('flags', [])) or 'none of note'}" if cpu else
                "the CPU was not recorded in this report (it predates `benchmark`'s CPU record)")
    load = (f"; load average {bench['load_average_before']} -> {bench.get('load_average_after')}"
            if bench.get("load_average_before") else "")
    return "\n".join([
        *markdown_lines(("pipeline", *(f"{p} words/s (x BERT-base-sized)" for p in precisions)), rows), "",
        f"`{REPORTS}/{BENCHMARK}`: the first {bench['letters']} letters of `{bench['corpus']}` ({first['words']:,} words), "
        f"median of {first['runs']} runs, whole pipeline, {bench['threads']} torch threads, peak RSS "
        f"{bench['peak_rss_mb'] / 1000:.2f} GB (all pipelines loaded one after another in one process); {cpu_text}{load}.",
    ])


BLOCKS = {"status": render_status, "commitments": render_commitments, "speed": render_speed}


def render_blocks(reports: str | Path) -> dict[str, str]:
    """``{block name: its Markdown}`` from the reports in ``reports``."""
    return {name: render(Path(reports)) for name, render in BLOCKS.items()}


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- kamerbrief:{name}:begin -->", f"<!-- kamerbrief:{name}:end -->"


def fill(readme: str, blocks: dict[str, str], path: str | Path = "README.md") -> str:
    """``readme`` with each block's lines between its markers replaced by ``blocks[name]``."""
    for name, body in blocks.items():
        begin, end = _markers(name)
        if readme.count(begin) != 1 or readme.count(end) != 1 or readme.index(begin) > readme.index(end):
            raise ReadmeTablesError(f"needs exactly one {begin} followed by one {end}", path)
        head, rest = readme.split(begin)
        _, tail = rest.split(end)
        readme = f"{head}{begin}\n{body}\n{end}{tail}"
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="rewrite the tables in README.md")
    action.add_argument("--check", action="store_true", help="exit 1 if README.md's tables differ from the reports")
    parser.add_argument("--root", type=Path, default=checkout_root() or Path.cwd(),
                        help="the checkout holding README.md and evaluation/reports/ (default: this one)")
    args = parser.parse_args(argv)
    readme_path = args.root / "README.md"
    try:
        readme = readme_path.read_text(encoding="utf-8")
        wanted = fill(readme, render_blocks(args.root / REPORTS), readme_path)
    except OSError as error:
        print(ReadmeTablesError(f"cannot read the README ({error})", readme_path), file=sys.stderr)
        return 2
    except ReadmeTablesError as error:
        print(error, file=sys.stderr)
        return 2
    if args.write:
        if wanted != readme:
            readme_path.write_text(wanted, encoding="utf-8")
        print(f"{readme_path}: tables {'rewritten' if wanted != readme else 'unchanged'} ({', '.join(BLOCKS)})")
        return 0
    if wanted != readme:
        print(f"{readme_path}: the result tables differ from {REPORTS}/; regenerate them with `{COMMAND}`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``kamerbrief register``: the commitments of many letters as one register, with their status on a date.

Input: annotated records (``annotations.jsonl`` of ``kamerbrief annotate``, or its folder), read without a
model; letters and collections are annotated first into ``<out>/annotations/`` by the batch annotator
(:func:`kamerbrief.pipeline.batch.annotate_corpus`, crash-safe and resumable). Output in ``<out>``:

- ``register.parquet`` and ``register.csv``: one row per commitment (:data:`COLUMNS`);
- ``index.html``: counts per ministry, per stance and per status, a bar chart of what falls due per month
  (inline SVG; its numbers are also in the page as JSON, ``<script id="register-data">``), and every
  commitment, overdue first, each linked to its letter's view in ``letters/``;
- ``letters/<letter>-<hash>.html``: the letter view (``kamerbrief.pipeline.render``) with its commitments;
- ``errors.jsonl``: every letter that could not be entered (``E605``) or annotated (from ``annotations/``).

Status on the ``as_of`` date: ``overdue`` (the due period ended before it), ``due`` (it lies in the due
period), ``open`` (due later), ``no deadline`` (no due period).
"""
from __future__ import annotations

import csv
import html
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from tqdm import tqdm

from kamerbrief.errors import RegisterEntryError
from kamerbrief.pipeline.batch import ERRORS, LEDGER, annotate_corpus, check_output, html_name, load_checked
from kamerbrief.pipeline.commitments import ministry_of, resolve_actors
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE

COLUMNS = ("letter_id", "input", "dossier", "date", "ministry", "paragraph", "recommendation", "stance", "actor", "action",
           "deadline_text", "due_start", "due_end", "status", "letter_html")
STATUSES = ("overdue", "due", "open", "no deadline")
NO_STANCE = "(none)"


def status(due_start: str | None, due_end: str | None, as_of: date) -> str:
    if not due_end:
        return "no deadline"
    if date.fromisoformat(due_end) < as_of:
        return "overdue"
    if due_start and date.fromisoformat(due_start) <= as_of:
        return "due"
    return "open"


def is_annotation_output(path: Path) -> bool:
    """A folder holding ``annotations.jsonl``, or a ``.jsonl`` file whose first record has ``links`` (annotated)."""
    if path.is_dir():
        return (path / LEDGER).is_file()
    if not path.name.endswith(".jsonl") or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "links" in record and "paragraphs" in record


def read_annotations(path: Path) -> Iterator[tuple[str, dict | None, str | None]]:
    """``(key, record, None)`` per annotated letter, or ``(key, None, error)`` for a line that cannot be used."""
    ledger = path / LEDGER if path.is_dir() else path
    with open(ledger, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            key = f"{ledger.as_posix()}#{line_number}"
            try:
                record = json.loads(line)
            except ValueError as err:
                yield key, None, str(RegisterEntryError(f"line {line_number} is not JSON ({err})", ledger))
                continue
            if not isinstance(record, dict) or not isinstance(record.get("paragraphs"), list):
                yield key, None, str(RegisterEntryError(f"line {line_number} is not an annotated letter record", ledger))
                continue
            yield record.get("input") or key, record, None


def rows_of(key: str, record: dict, as_of: date) -> list[dict]:
    """The register rows of one annotated letter (its signer resolved again, as this version resolves it)."""
    record = resolve_actors(record)
    meta = record.get("meta") or {}
    paragraphs = record["paragraphs"]
    page = f"letters/{html_name(str(record.get('id')), key)}"
    rows = []
    for index, paragraph in enumerate(paragraphs):
        for commitment in paragraph.get("commitments") or []:
            due = commitment.get("due") or {}
            rec = commitment.get("recommendation")
            rows.append({
                "letter_id": str(record.get("id")), "input": key, "dossier": meta.get("dossier"),
                "date": None if meta.get("date") is None else str(meta.get("date")), "ministry": ministry_of(record),
                "paragraph": index,
                "recommendation": paragraphs[rec]["text"] if isinstance(rec, int) and 0 <= rec < len(paragraphs) else None,
                "stance": commitment.get("stance"), "actor": commitment["actor"].get("text"), "action": commitment["text"],
                "deadline_text": (commitment.get("deadline") or {}).get("text"), "due_start": due.get("start"),
                "due_end": due.get("end"), "status": status(due.get("start"), due.get("end"), as_of),
                "letter_html": f"{page}#p{index}"})
    return rows


def counts(rows: list[dict]) -> dict:
    """What the overview shows: commitments per ministry, stance, status and due month (by the due period's end)."""
    return {"n_commitments": len(rows), "n_letters": len({r["input"] for r in rows}),
            "per_ministry": dict(Counter(r["ministry"] or "(unknown)" for r in rows).most_common()),
            "per_stance": dict(Counter(r["stance"] or NO_STANCE for r in rows).most_common()),
            "per_status": {s: sum(r["status"] == s for r in rows) for s in STATUSES},
            "per_month": dict(sorted(Counter(r["due_end"][:7] for r in rows if r["due_end"]).items()))}


def write_table(rows: list[dict], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.int64() if c == "paragraph" else pa.string()) for c in COLUMNS])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), out / "register.parquet")
    with open(out / "register.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _bars_svg(per_month: dict[str, int], as_of: date) -> str:
    """A bar per month with commitments falling due in it; the month of ``as_of`` marked."""
    if not per_month:
        return "<p><i>No commitment has a due period.</i></p>"
    months = list(per_month)
    top = max(per_month.values())
    width, height, bar = max(600, 14 * len(months)), 220, 14
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
             f'aria-label="commitments falling due per month">']
    for i, month in enumerate(months):
        n = per_month[month]
        h = round(height * n / top)
        colour = "#c92a2a" if month < as_of.isoformat()[:7] else "#1971c2"
        parts.append(f'<rect class="bar" data-month="{month}" data-count="{n}" x="{i * bar}" y="{height - h}" '
                     f'width="{bar - 2}" height="{h}" fill="{colour}"><title>{month}: {n}</title></rect>')
        if i % max(1, len(months) // 12) == 0:
            parts.append(f'<text x="{i * bar}" y="{height + 14}" font-size="10">{month}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _count_table(title: str, values: dict) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v}</td></tr>" for k, v in values.items())
    return f"<table class='counts'><tr><th>{html.escape(title)}</th><th>commitments</th></tr>{rows}</table>"


STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 1em 1em 0; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
.counts { display: inline-table; }
.overdue { color: #c92a2a; font-weight: bold; } .due { color: #e67700; font-weight: bold; }
"""


def overview_html(rows: list[dict], summary: dict, as_of: date, failed: int) -> str:
    """The self-contained overview page (no scripts or styles from outside)."""
    order = {s: i for i, s in enumerate(STATUSES)}
    listed = sorted(rows, key=lambda r: (order[r["status"]], r["due_end"] or "9999", r["letter_id"], r["paragraph"]))
    body = "".join(
        f"<tr><td class='{r['status'].replace(' ', '-')}'>{r['status']}</td><td>{r['due_start'] or ''} – {r['due_end'] or ''}</td>"
        f"<td>{html.escape(r['actor'] or '')}</td><td>{html.escape(r['action'])}</td>"
        f"<td>{html.escape(r['deadline_text'] or '')}</td><td>{html.escape(r['ministry'] or '')}</td>"
        f"<td>{html.escape(r['stance'] or '')}</td>"
        f"<td><a href=\"{html.escape(r['letter_html'])}\">{html.escape(r['letter_id'])} ¶{r['paragraph']}</a></td></tr>"
        for r in listed)
    data = json.dumps({"as_of": as_of.isoformat(), **summary}, ensure_ascii=False).replace("</", "<\\/")
    return (f"<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Commitment register</title>"
            f"<style>{STYLE}</style></head><body><h1>Commitment register</h1>"
            f"<p>{summary['n_commitments']} commitments in {summary['n_letters']} letters, status as of "
            f"<b>{as_of.isoformat()}</b>; {failed} letter(s) failed (errors.jsonl).</p>"
            f"<script type='application/json' id='register-data'>{data}</script>"
            f"{_count_table('status', summary['per_status'])}{_count_table('ministry', summary['per_ministry'])}"
            f"{_count_table('stance', summary['per_stance'])}<h2>Falling due per month</h2>"
            f"{_bars_svg(summary['per_month'], as_of)}<h2>Commitments, overdue first</h2>"
            f"<table><tr><th>status</th><th>due</th><th>actor</th><th>commitment</th><th>deadline</th><th>ministry</th>"
            f"<th>stance</th><th>letter</th></tr>{body}</table></body></html>")


def build_register(sources: Iterable[Path], out: Path, as_of: date, progress: bool = True,
                   failed_before: Iterable[dict] = ()) -> dict:
    """Read every annotated letter under ``sources``, write the register files; returns the counts.
    ``failed_before``: letters that failed earlier (annotation), listed in errors.jsonl too."""
    from kamerbrief.pipeline.render import letter_html

    out.mkdir(parents=True, exist_ok=True)
    (out / "letters").mkdir(exist_ok=True)
    rows: list[dict] = []
    failures: list[dict] = list(failed_before)
    seen: set[str] = set()
    for source in sources:
        for key, record, error in tqdm(read_annotations(source), desc=f"register {source.name}", unit=" letters",
                                       disable=not progress):
            if error is not None:
                failures.append({"input": key, "file": str(source), "code": RegisterEntryError.code, "error": error})
                continue
            if key in seen:
                continue
            seen.add(key)
            try:
                letter_rows = rows_of(key, record, as_of)
                if letter_rows:
                    (out / "letters" / html_name(str(record.get("id")), key)).write_text(letter_html(record), encoding="utf-8")
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                failures.append({"input": key, "file": str(source), "code": RegisterEntryError.code,
                                 "error": str(RegisterEntryError(f"{type(err).__name__}: {err}", key))})
                continue
            rows.extend(letter_rows)
    summary = counts(rows)
    write_table(rows, out)
    (out / "index.html").write_text(overview_html(rows, summary, as_of, len(failures)), encoding="utf-8")
    with open(out / "errors.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(f, ensure_ascii=False) + "\n" for f in failures)
    return {**summary, "failed": len(failures), "letters_read": len(seen)}


def register_letters(paths: Iterable[Path], out: Path, as_of: date, model: str | Path | None = None, resume: bool = False,
                     batch_size: int = DEFAULT_BATCH_SIZE, max_bytes: int = 50 * 1024 * 1024) -> dict:
    """`kamerbrief register`: annotation output is read as it is; letters, folders and collections among ``paths``
    are annotated first into ``out/annotations/`` (crash-safe; ``resume`` goes on with an earlier run), their
    failures listed in the register's errors.jsonl. Returns :func:`build_register`'s counts, with the
    annotation's counts as ``annotation`` (None when nothing was annotated)."""
    paths = list(paths)
    annotated = [p for p in paths if is_annotation_output(p)]
    letters = [p for p in paths if p not in annotated]
    failed_before: list[dict] = []
    annotation = None
    out.mkdir(parents=True, exist_ok=True)
    if letters:
        work = check_output(out / "annotations", resume)
        nlp = load_checked(model, batch_size=batch_size)
        annotation = annotate_corpus(letters, work, nlp, formats=("jsonl",), html=False, resume=resume,
                                     batch_size=batch_size, max_bytes=max_bytes)
        annotated.append(work)
        if (work / ERRORS).is_file():
            failed_before = [json.loads(line) for line in (work / ERRORS).read_text(encoding="utf-8").splitlines() if line]
    summary = build_register([p if p.is_dir() or p.name.endswith(".jsonl") else p / LEDGER for p in annotated], out,
                             as_of, failed_before=failed_before)
    return {**summary, "annotation": annotation}

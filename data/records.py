"""Read and write ANNOTATION.md records (JSONL, one letter per line), inline and standoff.

An inline record carries each paragraph's ``text``. A standoff record points into a document kept
outside the repository (``source`` relative to the shared folder, ``doc_id``, ``path``) and gives each
paragraph's ``start``/``end`` in that document's text plus ``text_sha256``, so third-party text never
enters the repository; :func:`resolve` turns it into an inline record and checks the hash. With
``"text_transform": "markdown-inline"`` a paragraph's text is the source slice read as Markdown
(links, emphasis and inline tags dropped), as the reader gives it.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from kamerbrief.errors import RecordError, StandoffResolutionError

HASH_CHARS = 16


def text_sha256(text: str) -> str:
    """Short content hash of a paragraph's text (first 16 hex digits of SHA-256 over UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def stable_hash(text: str) -> int:
    """A hash of ``text`` that is the same in every process (unlike ``hash``): for ids and splits."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def _open_text(path: Path, mode: str = "rt"):
    name = path.name
    if name.endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8")
    if name.endswith(".xz"):
        return lzma.open(path, mode, encoding="utf-8")
    return open(path, mode[0], encoding="utf-8")


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)`` from a JSONL file (plain, .gz or .xz)."""
    path = Path(path)
    with _open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise RecordError(f"line {line_number}: not valid JSON ({err.msg})", path) from None
            if not isinstance(record, dict):
                raise RecordError(f"line {line_number}: a record must be a JSON object", path)
            yield line_number, record


def read_records(path: str | Path) -> Iterator[dict]:
    for _, record in read_jsonl(path):
        yield record


def write_records(path: str | Path, records: Iterable[dict]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with _open_text(path, "wt") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def is_standoff(record: dict) -> bool:
    return "doc_id" in record and any("text" not in p for p in record.get("paragraphs", []))


def find_shared_dir(explicit: str | Path | None = None) -> Path | None:
    """The read-only ``shared/`` folder: ``explicit``, ``$KAMERBRIEF_SHARED``, or ``../shared`` beside
    the working directory or the checkout."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("KAMERBRIEF_SHARED"):
        candidates.append(Path(os.environ["KAMERBRIEF_SHARED"]))
    repo_root = Path(__file__).resolve().parent.parent
    candidates += [Path.cwd().parent / "shared", repo_root.parent / "shared", Path.cwd() / "shared"]
    for candidate in candidates:
        if (candidate / "corpora").is_dir():
            return candidate
    return None


@lru_cache(maxsize=8)
def _corpus_index(corpus_file: str) -> dict[str, str]:
    """``path -> text`` for one JSONL corpus file (``path`` is unique per record there)."""
    return {record["path"]: record["text"] for record in read_records(corpus_file)}


def source_text(source: str, doc_path: str, shared_dir: str | Path | None = None) -> str:
    """The full text of document ``doc_path`` in corpus ``source`` (relative to the shared folder)."""
    shared = find_shared_dir(shared_dir)
    if shared is None:
        raise StandoffResolutionError(
            "cannot find the shared folder with corpora/ (set KAMERBRIEF_SHARED or pass --shared)"
        )
    corpus_file = shared / source
    if not corpus_file.is_file():
        raise StandoffResolutionError(f"source corpus {source!r} not found under {shared}")
    if corpus_file.suffix in {".txt", ".xml", ".html", ".md"}:
        from kamerbrief.pipeline.reader import read_letter

        return read_letter(corpus_file).text
    texts = _corpus_index(str(corpus_file))
    if doc_path not in texts:
        raise StandoffResolutionError(f"document {doc_path!r} not found in {source}")
    return texts[doc_path]


def resolve(record: dict, shared_dir: str | Path | None = None) -> dict:
    """Return an inline copy of ``record``; standoff paragraphs get their text, checked against the hash."""
    if not is_standoff(record):
        return record
    from kamerbrief.pipeline.reader.text_formats import markdown_inline_text

    text = source_text(record["source"], record["path"], shared_dir)
    paragraphs = []
    for index, paragraph in enumerate(record["paragraphs"]):
        start, end = paragraph.get("start"), paragraph.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            raise StandoffResolutionError(
                f"record {record.get('id')!r} paragraph {index}: span {start}..{end} is outside the document"
            )
        piece = text[start:end]
        if record.get("text_transform") == "markdown-inline":
            piece = markdown_inline_text(piece)
        if paragraph.get("text_sha256") and text_sha256(piece) != paragraph["text_sha256"]:
            raise StandoffResolutionError(
                f"record {record.get('id')!r} paragraph {index}: text hash mismatch (the source changed)"
            )
        inline = {k: v for k, v in paragraph.items() if k not in ("start", "end", "text_sha256")}
        inline["text"] = piece
        inline["source_start"], inline["source_end"] = start, end
        paragraphs.append(inline)
    resolved = {k: v for k, v in record.items() if k != "paragraphs"}
    resolved["paragraphs"] = paragraphs
    return resolved


def to_standoff(record: dict, spans: list[tuple[int, int]], source: str, doc_id: str, doc_path: str,
                text_transform: str | None = None) -> dict:
    """Turn an inline record into a standoff one, given each paragraph's span in the source document."""
    if len(spans) != len(record["paragraphs"]):
        raise RecordError(f"record {record.get('id')!r}: {len(spans)} spans for {len(record['paragraphs'])} paragraphs")
    paragraphs = []
    for (start, end), paragraph in zip(spans, record["paragraphs"]):
        out = {"start": start, "end": end, "text_sha256": text_sha256(paragraph["text"])}
        out.update({k: v for k, v in paragraph.items() if k not in ("text", "source_start", "source_end")})
        paragraphs.append(out)
    standoff = {k: v for k, v in record.items() if k != "paragraphs"}
    standoff.update({"source": source, "doc_id": doc_id, "path": doc_path})
    if text_transform:
        standoff["text_transform"] = text_transform
    standoff["paragraphs"] = paragraphs
    return standoff


def iter_record_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand files and directories (recursively) into the ``*.jsonl`` record files they hold."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        else:
            yield path

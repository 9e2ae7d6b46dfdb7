"""Read and write ANNOTATION.md records (JSONL, one letter per line), inline and standoff.

An inline record carries each paragraph's ``text``. A standoff record points into a document kept
outside the repository (``source`` relative to the shared folder, ``doc_id``, ``path``) and gives each
paragraph's ``start``/``end`` in that document's text plus ``text_sha256``, so third-party text never
enters the repository; :func:`resolve` turns it into an inline record and checks the hash. With
``"text_transform": "markdown-inline"`` a paragraph's text is the source slice read as Markdown
(links, emphasis and inline tags dropped), as the reader gives it. A ``source`` that is a letter file (an
officielebekendmakingen XML file, say) is one document: offsets index the reader's text of that file.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath

from kamerbrief.errors import (
    CorruptCollectionError,
    InvalidLineError,
    InvalidRecordError,
    RecordError,
    StandoffResolutionError,
    UnsafeSourceError,
)
from kamerbrief.paths import find_shared_dir

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


class InvalidLine(dict):
    """What :func:`read_jsonl` yields for a line that is not a record (not JSON, not an object, bad
    UTF-8, nested too deeply): an empty dict, so code that reads records as dicts finds no fields in
    it, with ``error`` (an :class:`~kamerbrief.errors.InvalidLineError` naming the file and line) to
    record or raise."""

    def __init__(self, error: InvalidLineError):
        super().__init__()
        self.error = error


def _parse_line(raw: bytes, line_number: int, path: Path) -> dict:
    def invalid(problem: str) -> InvalidLine:
        return InvalidLine(InvalidLineError(f"line {line_number}: {problem}", path))

    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return invalid(f"not UTF-8 (byte {err.start})")
    if line_number == 1:
        line = line.lstrip("\ufeff")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return invalid(f"not valid JSON ({err.msg}, column {err.colno})")
    except RecursionError:
        return invalid("JSON nested too deeply to read")
    if not isinstance(record, dict):
        return invalid(f"a record must be a JSON object, not {type(record).__name__}")
    return record


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)`` for every non-blank line of a JSONL file (plain, .gz or .xz).

    Contract (callers rely on it, ``pipeline/batch.py`` among them):
    - a line that is not a JSON object is yielded as ``(line_number, InvalidLine)``: an empty dict
      whose ``error`` is the coded error for that line; the lines after it are read as usual, so one
      bad line costs that line only (``isinstance(record, InvalidLine)``; :func:`read_records`
      raises it instead);
    - a file that cannot be read at all (missing, unreadable, a FIFO or device) raises a
      :class:`~kamerbrief.errors.ReadError` before anything is yielded;
    - a compressed file that is truncated or corrupt yields every record before the cut, then raises
      :class:`~kamerbrief.errors.CorruptCollectionError` naming the file and the last good line.
    """
    from kamerbrief.pipeline.reader.bytes_to_text import regular_file_size

    path = Path(path)
    regular_file_size(path)
    line_number = 0
    try:
        with open(path, "rb") as raw:
            if path.name.endswith(".xz"):
                lines = _xz_lines(raw)
            elif path.name.endswith(".gz"):
                lines = gzip.GzipFile(fileobj=raw, mode="rb")
            else:
                lines = raw
            for line_number, line in enumerate(lines, start=1):
                if line and not line.isspace():
                    yield line_number, _parse_line(line, line_number, path)
    except (EOFError, OSError, lzma.LZMAError, zlib.error) as err:
        where = f"after line {line_number} (the lines before it were read)" if line_number else "before the first line"
        reason = "truncated" if isinstance(err, EOFError) else "corrupt or unreadable"
        raise CorruptCollectionError(f"{reason} {where}: {err}", path) from None


def _xz_lines(raw) -> Iterator[bytes]:
    """The lines of an .xz file, every stream in it decoded. Unlike ``lzma.open``, which takes damage
    at the start of a later stream for the end of the file, any damage is an error."""
    decompressor, pending, data = lzma.LZMADecompressor(), [], b""
    while True:
        if not data:
            data = raw.read(1 << 16)
            if not data:
                break
        if decompressor.eof:
            data = data.lstrip(b"\0")  # stream padding between streams
            if not data:
                continue
            decompressor = lzma.LZMADecompressor()
        chunk = decompressor.decompress(data)
        data = decompressor.unused_data if decompressor.eof else b""
        cut = chunk.rfind(b"\n")
        if cut < 0:
            pending.append(chunk)
            continue
        block, pending = b"".join(pending) + chunk[:cut], [chunk[cut + 1:]]
        yield from block.split(b"\n")
    if not decompressor.eof:
        raise EOFError("compressed file ended before the end-of-stream marker was reached")
    if b"".join(pending):
        yield b"".join(pending)


def read_records(path: str | Path) -> Iterator[dict]:
    """The records of a JSONL file; a line that is not a record raises its coded error."""
    for _, record in read_jsonl(path):
        if isinstance(record, InvalidLine):
            raise record.error
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
    paragraphs = record.get("paragraphs")
    return "doc_id" in record and isinstance(paragraphs, list) and any(isinstance(p, dict) and "text" not in p for p in paragraphs)


def check_structure(record: dict, where: str | Path | None = None) -> None:
    """Raise :class:`~kamerbrief.errors.InvalidRecordError` unless ``record`` has the shape the
    pipeline reads: a ``paragraphs`` list of objects, each with a string ``text`` (inline) or integer
    ``start``/``end`` (standoff). Labels and offsets are the validator's business (``data/validate.py``)."""
    name = f"record {record.get('id')!r:.80}"
    if not isinstance(record.get("id"), str) or not record["id"]:
        raise InvalidRecordError(f"{name}: a record needs a string 'id'", where)
    if not isinstance(record.get("meta", {}), dict):
        raise InvalidRecordError(f"{name}: 'meta' must be an object", where)
    paragraphs = record.get("paragraphs")
    if not isinstance(paragraphs, list):
        raise InvalidRecordError(f"{name}: 'paragraphs' must be a list, not {type(paragraphs).__name__}", where)
    standoff = is_standoff(record)
    for index, paragraph in enumerate(paragraphs):
        if not isinstance(paragraph, dict):
            raise InvalidRecordError(f"{name} paragraph {index}: must be an object, not {type(paragraph).__name__}", where)
        if standoff:
            continue
        if not isinstance(paragraph.get("text"), str) or not paragraph["text"].strip():
            raise InvalidRecordError(f"{name} paragraph {index}: has no text", where)


@lru_cache(maxsize=8)
def _corpus_index(corpus_file: str) -> dict[str, str]:
    """``path -> text`` for one JSONL corpus file (``path`` is unique per record there)."""
    return {record["path"]: record["text"] for record in read_records(corpus_file)
            if isinstance(record.get("path"), str) and isinstance(record.get("text"), str)}


def shared_file(shared: Path, source, where: str | Path | None = None) -> Path:
    """``shared / source``, refused unless ``source`` is a relative path that stays inside ``shared``:
    a standoff record must never make the tools read (and print) any other file on the machine."""
    if not isinstance(source, str) or not source.strip():
        raise StandoffResolutionError(f"source must be a path relative to the shared folder, not {source!r}", where)
    posix, windows = PurePosixPath(source), PureWindowsPath(source)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or ".." in posix.parts or ".." in windows.parts:
        raise UnsafeSourceError(f"source {source!r} is absolute or leaves the shared folder ('..'): refused", where)
    path = shared / source
    if not path.resolve().is_relative_to(shared.resolve()):
        raise UnsafeSourceError(f"source {source!r} resolves outside the shared folder: refused", where)
    return path


def is_document_file(source: str | Path) -> bool:
    """Whether a standoff ``source`` is one document in a letter file (XML, HTML, text, Markdown), whose text
    is the reader's text of the whole file, rather than a JSONL collection of documents."""
    from kamerbrief.pipeline.reader import LETTER_SUFFIXES

    return PurePosixPath(str(source)).suffix.lower() in LETTER_SUFFIXES


def source_text(source: str, doc_path: str, shared_dir: str | Path | None = None) -> str:
    """The full text of document ``doc_path`` in corpus ``source`` (relative to the shared folder,
    which it may not leave); for a letter file (:func:`is_document_file`) the reader's text of the file."""
    shared = find_shared_dir(shared_dir)
    if shared is None:
        raise StandoffResolutionError(
            "cannot find the shared folder with corpora/ (set KAMERBRIEF_SHARED or pass --shared)"
        )
    corpus_file = shared_file(shared, source)
    if not corpus_file.is_file():
        raise StandoffResolutionError(f"source corpus {source!r} not found under {shared}")
    if is_document_file(corpus_file):
        from kamerbrief.pipeline.reader import read_letter

        return read_letter(corpus_file).text
    texts = _corpus_index(str(corpus_file))
    if doc_path not in texts:
        raise StandoffResolutionError(f"document {doc_path!r} not found in {source}")
    return texts[doc_path]


def resolve(record: dict, shared_dir: str | Path | None = None) -> dict:
    """Return an inline copy of ``record``; standoff paragraphs get their text, checked against the hash."""
    check_structure(record)
    if not is_standoff(record):
        return record
    from kamerbrief.pipeline.reader.text_formats import markdown_inline_text

    if not isinstance(record.get("path"), str):
        raise StandoffResolutionError(f"record {record.get('id')!r}: a standoff record needs the document's 'path' (a string)")
    text = source_text(record.get("source"), record["path"], shared_dir)
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
    for (start, end), paragraph in zip(spans, record["paragraphs"], strict=True):
        out = {"start": start, "end": end, "text_sha256": text_sha256(paragraph["text"])}
        out.update({k: v for k, v in paragraph.items() if k not in ("text", "source_start", "source_end")})
        paragraphs.append(out)
    standoff = {k: v for k, v in record.items() if k != "paragraphs"}
    standoff.update({"source": source, "doc_id": doc_id, "path": doc_path})
    if text_transform:
        standoff["text_transform"] = text_transform
    standoff["paragraphs"] = paragraphs
    return standoff


# A record's source kind: every score is reported per kind (README, "Status").
REAL, TEAM_WRITTEN = "real", "team-written"


def source_kind(record: dict) -> tuple[str, str]:
    """``(kind, corpus)`` of a gold record: ``("real", "circulaires")`` for a document of a corpus in
    ``../shared`` (a standoff record: ``source`` is the corpus file relative to ``shared/``, with
    ``doc_id`` / ``path``), ``("team-written", "team-written")`` for a letter the team wrote (inline
    text, ``source`` "kamerbrief team-written ..."). A document that is a letter file belongs to the
    folder it lies in (``corpora/handelingen-xml/h-tk-....xml``: ``handelingen-xml``)."""
    source = str(record.get("source") or "")
    if "doc_id" in record or "path" in record or source.startswith(("corpora/", "seeds/")):
        parts = source.split("/")
        name = parts[-2] if is_document_file(source) and len(parts) > 1 else parts[-1]
        return REAL, name.split(".", 1)[0] or "unknown"
    return TEAM_WRITTEN, TEAM_WRITTEN


def iter_record_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand files and directories (recursively) into the ``*.jsonl`` record files they hold. A
    subfolder that cannot be listed is yielded itself, so that reading it reports the coded error."""
    for path in map(Path, paths):
        try:
            is_dir = path.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            yield path
            continue
        from kamerbrief.pipeline.reader import walk_files

        yield from walk_files(path, lambda name: name.endswith(".jsonl"))

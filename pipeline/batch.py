"""``kamerbrief annotate``: annotate a corpus of letters, incrementally, resumably and crash-safely.

Inputs: letter files, directories (searched recursively by suffix), and JSONL collections
(``.jsonl``, ``.jsonl.gz``, ``.jsonl.xz``) of either corpus records (``id``, ``path``, ``text``) or
ANNOTATION.md records (``paragraphs``: their paragraphs are kept as given).

Outputs in ``out_dir``:
- ``annotations.jsonl``: one annotated record per letter, ``input`` first (always written: it is also
  the ledger that ``--resume`` reads);
- ``paragraphs/part-NNNNN.parquet`` (``--format parquet``): one row per paragraph, entities and commitments as list
  columns;
- ``docbin/part-NNNNN.spacy`` (``--format docbin``): the paragraph Docs, letter input, id and index in user data;
- ``html/<letter>-<hash>.html`` (``--html``): the displaCy report per letter;
- ``errors.jsonl``: one line per letter that failed in this run, with the input, file, error code and reason.

Letter keys (``input``): a file's resolved path relative to the output folder, a collection record's
``<collection key>#<record path or id>``; so how an argument is spelled (relative, absolute, ``./``)
does not matter, and no absolute path is written while inputs and output share a root.

Crash safety. Letters are annotated in groups; a group is committed as one transaction:
1. a journal ``.inflight.json`` (the ledger's and errors file's sizes, the output files the group will
   create) is written to a temporary file, fsynced and renamed into place;
2. every output file (Parquet part, DocBin part, HTML reports) is written to a hidden ``.*.tmp`` file,
   fsynced and renamed to its final name;
3. the group's lines are appended to ``errors.jsonl`` and, last, to ``annotations.jsonl`` (fsynced);
4. the journal is removed: the group is done.
A kill anywhere leaves the journal; the next ``--resume`` rolls the group back (truncates the ledger
and errors file to the recorded sizes, deletes the group's files), removes ``.*.tmp`` leftovers,
repairs a torn last line, removes parts whose letters are not in the ledger, and redoes the group.
So every letter is in every output exactly once, and a resumed run's ``annotations.jsonl`` and
Parquet rows equal those of an uninterrupted run. A failed write (disk full) rolls the group back the
same way and stops the run with ``E603``.

Failures: every exception while reading or annotating a letter is contained (``errors.jsonl``, the run
goes on). A failed letter is never recorded as done: ``--resume`` retries every letter that is not in
the ledger, so after fixing a model the failures are redone; ``errors.jsonl`` is rewritten by each
run and lists the failures of the latest one.

Fault injection for the tests: ``KAMERBRIEF_FAULT=<point>:<n>`` kills the process with SIGKILL the
``n``-th time it reaches ``point`` (one of :data:`FAULT_POINTS`); ``<point>:<n>:<ERRNO>`` (e.g.
``ENOSPC``) raises that ``OSError`` there instead. ``worker-group`` is reached in a worker process (or
Ray actor) as it starts on a group; each process counts for itself, so a restarted worker would die
again: ``KAMERBRIEF_FAULT_ONCE=<file>`` fires the fault only where that file can still be created, once
in all processes of a run.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from kamerbrief.errors import (
    AnnotationError,
    KamerbriefError,
    ModelCheckError,
    OutputError,
    OutputExistsError,
)
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE
from kamerbrief.pipeline.reader.letter import Letter, Paragraph, set_offsets
from kamerbrief.pipeline.spool import SpooledLetter, open_record

__all__ = ["annotate_corpus", "annotate_group", "LocalEngine", "check_output", "check_model", "load_checked", "iter_inputs", "html_name",
           "OutputExistsError", "FORMATS", "FAULT_POINTS"]

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.xz")
FORMATS = ("jsonl", "parquet", "docbin")
LEDGER, ERRORS, JOURNAL = "annotations.jsonl", "errors.jsonl", ".inflight.json"
PART_FOLDERS = {"parquet": "paragraphs", "docbin": "docbin"}
PART_NAME = re.compile(r"^part-(\d+)\.(parquet|spacy)$")
FAULT_ENV, FAULT_ONCE_ENV = "KAMERBRIEF_FAULT", "KAMERBRIEF_FAULT_ONCE"
FAULT_POINTS = ("probe", "group-start", "part-write", "before-rename", "after-rename", "before-ledger", "mid-ledger",
                "after-ledger", "error-write", "mid-errors", "worker-group")
PARQUET_ROWS_PER_GROUP = 10_000

_fault_hits: Counter = Counter()


def fault(point: str) -> None:
    """The fault-injection hook (see the module docstring); does nothing unless ``$KAMERBRIEF_FAULT`` names ``point``."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    name, _, rest = spec.partition(":")
    if name != point:
        return
    count, _, error = rest.partition(":")
    _fault_hits[point] += 1
    if _fault_hits[point] != int(count or 1):
        return
    once = os.environ.get(FAULT_ONCE_ENV)
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    if error:
        code = getattr(errno, error)
        raise OSError(code, f"{os.strerror(code)} (injected at {point})")
    os.kill(os.getpid(), signal.SIGKILL)


# -- inputs -------------------------------------------------------------------------------------------

@dataclass
class Item:
    """One letter to annotate: its stable key (``input``), the file it comes from, and either a Letter or
    the error reading it."""

    key: str
    file: str
    letter: Letter | None = None
    error: str | None = None
    code: str | None = None


def stable_key(path: Path, root: Path) -> str:
    """The letter key of a file: its resolved path relative to ``root`` (the resolved output folder)."""
    resolved = Path(os.path.abspath(path)).resolve()
    try:
        return Path(os.path.relpath(resolved, root)).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return resolved.as_posix()


def letter_from_record(record: dict, source: str) -> Letter:
    """A Letter from a record: corpus records go through the reader; ANNOTATION.md records keep their paragraphs."""
    from kamerbrief.data.records import resolve
    from kamerbrief.pipeline.reader import read_corpus_record

    if "paragraphs" in record:
        record = resolve(record)
        paragraphs = [Paragraph(p["text"], p.get("kind") or "body") for p in record["paragraphs"]]
        set_offsets(paragraphs)
        return Letter(str(record["id"]), paragraphs, dict(record.get("meta", {})), record.get("source") or source, "record")
    if "text" not in record:
        raise KamerbriefError("record has neither 'paragraphs' nor 'text'", source)
    return read_corpus_record(record, source)


def collection_letters(path: Path) -> Iterator[Letter | str]:
    """The letters of a JSONL collection (corpus records with ``text`` or ANNOTATION.md records), for
    ``kamerbrief read``: each bad line or record as its error message in its place (file and line in front),
    and a file cut short ends with its error."""
    from kamerbrief.data.records import InvalidLine, read_jsonl

    try:
        for line, record in read_jsonl(path):
            if isinstance(record, InvalidLine):
                yield str(record.error)
                continue
            try:
                yield letter_from_record(record, str(path))
            except KamerbriefError as err:
                message = err.message if err.message.startswith(f"line {line}:") else f"line {line}: {err.message}"
                yield f"[{err.code}] {path}: {message}"
    except KamerbriefError as err:
        yield str(err)


def annotate_records(records: list[dict], nlp) -> list[list[dict]]:
    """The annotated paragraphs of each record (corpus or ANNOTATION.md record) under ``nlp``, in order."""
    from kamerbrief.pipeline.letters import annotate_letters

    letters = [letter_from_record(record, str(record.get("source", ""))) for record in records]
    return [annotated["paragraphs"] for _, annotated, _ in annotate_letters(letters, nlp)]


def html_by_default(paths) -> bool:
    """Whether ``kamerbrief annotate`` writes HTML reports unasked: for up to 50 letter files, no collections."""
    from kamerbrief.pipeline.reader import iter_letter_files

    try:
        files = iter_letter_files(paths)
    except OSError:
        files = []
    return len(files) <= 50 and not any(f.name.endswith(JSONL_SUFFIXES) for f in files)


def _failure(key: str, file: str, err: BaseException, default_code: str) -> Item:
    if isinstance(err, KamerbriefError):
        return Item(key, file, error=str(err), code=err.code)
    reason = err.strerror if isinstance(err, OSError) and err.strerror else f"{type(err).__name__}: {err}"
    return Item(key, file, error=f"[{default_code}] {file}: {reason}", code=default_code)


def _file_items(path: Path, root: Path, max_bytes: int) -> Iterator[Item]:
    from kamerbrief.data.records import InvalidLine, read_jsonl
    from kamerbrief.pipeline.reader import read_letter
    from kamerbrief.pipeline.reader.bytes_to_text import regular_file_size

    key = stable_key(path, root)
    try:
        regular_file_size(path)  # FIFOs, sockets and devices are refused before they are opened (E108)
    except Exception as err:
        yield _failure(key, str(path), err, "E100")
        return
    if not path.name.endswith(JSONL_SUFFIXES):
        try:
            letter = read_letter(path, max_bytes=max_bytes)
        except Exception as err:
            yield _failure(key, str(path), err, "E100")
            return
        letter.path = key  # the record's "source": the stable key, not the argument's spelling
        yield Item(key, str(path), letter)
        return
    seen: set[str] = set()
    try:
        for line, record in read_jsonl(path):
            if isinstance(record, InvalidLine):  # one bad line costs that line only (E202)
                yield _failure(f"{key}#{line}", str(path), record.error, "E202")
                continue
            record_key = f"{key}#{record.get('path') or record.get('id') or line}"
            if record_key in seen:  # records of several versions may share a path: keep them apart, stably
                record_key = f"{record_key}@{line}"
            seen.add(record_key)
            try:
                yield Item(record_key, str(path), letter_from_record(record, key))
            except Exception as err:
                yield _failure(record_key, str(path), err, "E200")
    except Exception as err:  # the collection itself broke off (bad line, truncated archive): the rest is lost
        yield _failure(f"{key}#!", str(path), err, "E200")


def _remove_parts_not_done(parts, done: set[str], part_inputs) -> int:
    """Delete every part holding a letter the ledger does not list (or that cannot be read): an orphan of an
    interrupted group. Returns how many were removed."""
    removed = 0
    for part in parts:
        try:
            inputs = part_inputs(part)
        except Exception:
            inputs = {None}
        if not inputs <= done:
            part.unlink()
            removed += 1
    return removed


def iter_inputs(paths, max_bytes: int, root: str | Path = ".") -> Iterator[Item]:
    """Every letter under ``paths`` as an :class:`Item`, keyed relative to ``root``; never raises for bad input."""
    from kamerbrief.pipeline.reader import iter_letter_files

    root = Path(os.path.abspath(root)).resolve()
    for path in map(Path, paths):
        try:
            files = iter_letter_files([path])
        except Exception as err:
            yield _failure(stable_key(path, root), str(path), err, "E100")
            continue
        for file in files:
            yield from _file_items(file, root, max_bytes)


def html_name(record_id: str, key: str) -> str:
    """A report name unique per letter: the id made file-safe (non-ASCII letters dropped) plus a short hash of the key."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", str(record_id)).strip("_.")[:120] or "letter"
    return f"{safe}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}.html"


# -- output checks, the model check ---------------------------------------------------------------

def _probe_writable(folder: Path) -> None:
    probe = folder / f".write-probe-{os.getpid()}.tmp"
    try:
        fault("probe")
        with open(probe, "wb") as handle:
            handle.write(b"kamerbrief")
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def _has_run(folder: Path) -> bool:
    return any((folder / name).is_file() and (folder / name).stat().st_size > 0 for name in (LEDGER, ERRORS)) \
        or (folder / JOURNAL).exists()


def check_output(out_dir: str | Path, resume: bool = False) -> Path:
    """Check the output folder before anything is loaded or annotated: it must be (or become) a folder,
    be writable, and hold no earlier run unless ``resume``. Raises OutputError / OutputExistsError."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("is not a folder (give a folder for the outputs)", out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _probe_writable(out_dir)
    except OSError as err:
        raise OutputError(f"cannot write here: {err.strerror or err}", out_dir) from None
    if not resume and _has_run(out_dir):
        raise OutputExistsError("already holds annotated or failed letters: pass --resume to go on, or choose another "
                                "output folder", out_dir)
    return out_dir


def check_model(nlp, where: str | Path | None = None) -> None:
    """Run the pipeline once on a tiny text: a broken model (garbage config, truncated or random weights)
    fails here, before any letter, instead of failing every letter. Raises ModelCheckError (E501)."""
    if where is None and "kamerbrief_transformer" in getattr(nlp, "pipe_names", []):
        where = getattr(nlp.get_pipe("kamerbrief_transformer"), "model_path", None) or None
    try:
        doc = nlp("Test.")
        if not doc.cats:
            raise ValueError("the pipeline set no paragraph scores (doc.cats is empty)")
    except Exception as err:
        raise ModelCheckError(f"the model does not work: the check run on 'Test.' failed with "
                              f"{type(err).__name__}: {err}", where) from None


def load_checked(model: str | Path | None = None, **config):
    """:func:`kamerbrief.pipeline.nlp.load` plus :func:`check_model`: any failure is a ModelCheckError (E501)."""
    from kamerbrief.pipeline.nlp import default_model_path, load

    where = model or default_model_path()
    try:
        nlp = load(model, **config)
    except Exception as err:
        message = err.message if isinstance(err, KamerbriefError) else f"{type(err).__name__}: {err}"
        raise ModelCheckError(f"the model could not be loaded: {message}", where) from None
    check_model(nlp, where)
    return nlp


# -- the crash-safe output protocol ---------------------------------------------------------------

def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _truncate(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size > size:
        with open(path, "rb+") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())


def _repair_torn_tail(path: Path) -> bool:
    """Cut a last line that a kill or a full disk left without its newline; True if something was cut."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return False
        position, block = size, 1 << 16
        keep = 0
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        handle.truncate(keep)
        os.fsync(handle.fileno())
    return True


class Output:
    """The output folder and its commit protocol (see the module docstring)."""

    def __init__(self, out_dir: Path, formats: tuple[str, ...], html: bool):
        self.dir, self.formats, self.html = out_dir, formats, html
        self.ledger, self.errors, self.journal = out_dir / LEDGER, out_dir / ERRORS, out_dir / JOURNAL
        self.next_part = 1

    # resume ------------------------------------------------------------------------------------
    def recover(self) -> dict:
        """Undo whatever a killed run left uncommitted; returns what was repaired (for the log and tests)."""
        repaired = {"rolled_back": None, "tmp_removed": 0, "torn_lines": 0, "orphans_removed": 0}
        if self.journal.exists():
            repaired["rolled_back"] = self._roll_back()
        for folder in [self.dir, *(self.dir / f for f in (*PART_FOLDERS.values(), "html"))]:
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink()
                    repaired["tmp_removed"] += 1
        repaired["torn_lines"] = sum(_repair_torn_tail(p) for p in (self.ledger, self.errors))
        repaired["orphans_removed"] = self._remove_orphans()
        self.next_part = 1 + max([int(m.group(1)) for sub in PART_FOLDERS.values() if (self.dir / sub).is_dir()
                                  for p in (self.dir / sub).iterdir() if (m := PART_NAME.match(p.name))] or [0])
        return repaired

    def _roll_back(self) -> int | None:
        try:
            journal = json.loads(self.journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = None  # written by rename, so never half there; if damaged by hand, the orphan scan cleans up
        if journal:
            _truncate(self.ledger, journal["ledger_size"])
            _truncate(self.errors, journal["errors_size"])
            for name in journal["files"]:
                (self.dir / name).unlink(missing_ok=True)
        self.journal.unlink(missing_ok=True)
        _fsync_dir(self.dir)
        return journal["part"] if journal else None

    def ledger_entries(self) -> Iterator[tuple[str, str]]:
        """``(input, id)`` of every complete ledger line."""
        if not self.ledger.exists():
            return
        with open(self.ledger, encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                    yield entry["input"], str(entry.get("id"))
                except (ValueError, KeyError, TypeError):
                    continue  # a line damaged outside this protocol: its letter is redone

    def done_keys(self) -> set[str]:
        return {key for key, _ in self.ledger_entries()}

    def _remove_orphans(self) -> int:
        """Parts and reports of letters that are not in the ledger (left by a crash outside the protocol)."""
        entries = list(self.ledger_entries())
        done = {key for key, _ in entries}
        removed = 0
        parquet, docbin, html = (self.dir / PART_FOLDERS["parquet"], self.dir / PART_FOLDERS["docbin"], self.dir / "html")
        if parquet.is_dir():
            import pyarrow.parquet as pq

            removed += _remove_parts_not_done(
                parquet.glob("part-*.parquet"), done,
                lambda part: set(pq.read_table(part, columns=["input"]).column("input").to_pylist()))
        if docbin.is_dir():
            import srsly
            from spacy.tokens import DocBin

            removed += _remove_parts_not_done(
                docbin.glob("part-*.spacy"), done,
                lambda part: {srsly.msgpack_loads(data, use_list=False).get("input")
                              for data in DocBin().from_disk(part).user_data})
        if html.is_dir():
            expected = {html_name(record_id, key) for key, record_id in entries}
            for report in html.glob("*.html"):
                if report.name not in expected:
                    report.unlink()
                    removed += 1
        return removed

    def start_run(self) -> None:
        """Every failure is retried by a run, so each run starts its own errors file."""
        if self.errors.exists():
            _truncate(self.errors, 0)

    # writing -----------------------------------------------------------------------------------
    def _atomic(self, final: Path, write) -> None:
        final.parent.mkdir(exist_ok=True)
        tmp = final.parent / f".{final.name}.tmp"
        fault("part-write")
        write(tmp)
        _fsync_file(tmp)
        fault("before-rename")
        os.replace(tmp, final)
        fault("after-rename")

    def _append(self, path: Path, lines: list) -> None:
        """Append ``lines``: each a ``str``, or ``(size, byte pieces)`` for a line written piece by piece
        (a spooled letter's ledger line). The fault hook sits halfway through the bytes."""
        lines = [line if isinstance(line, tuple) else _line_bytes(line) for line in lines]
        if not lines:
            return
        half, written, armed = sum(size for size, _ in lines) // 2, 0, True
        with open(path, "ab") as handle:
            for _, pieces in lines:
                for piece in pieces:
                    if armed and written + len(piece) >= half:
                        handle.write(piece[:half - written])
                        handle.flush()
                        fault("mid-ledger" if path == self.ledger else "mid-errors")
                        handle.write(piece[half - written:])
                        armed = False
                    else:
                        handle.write(piece)
                    written += len(piece)
            handle.flush()
            os.fsync(handle.fileno())

    def write_group(self, results: list[tuple[Item, dict, list]], failures: list[Item]) -> None:
        """Commit one group: its outputs, its failures, its ledger lines. On OSError the group is rolled back
        and OutputError (E603) raised. A result's record is a dict or a :class:`SpooledLetter` (read back
        paragraph by paragraph, so a long letter is never whole in memory)."""
        if not results and not failures:
            return
        results = [(item, open_record(record), docs) for item, record, docs in results]
        part = self.next_part if results else None
        files: list[tuple[Path, object]] = []
        if results and "parquet" in self.formats:
            files.append((self.dir / PART_FOLDERS["parquet"] / f"part-{part:05d}.parquet", lambda tmp: _write_parquet(tmp, results)))
        if results and "docbin" in self.formats:
            files.append((self.dir / PART_FOLDERS["docbin"] / f"part-{part:05d}.spacy", lambda tmp: _write_docbin(tmp, results)))
        if self.html:
            for item, record, _ in results:
                files.append((self.dir / "html" / html_name(record.skeleton["id"], item.key),
                              lambda tmp, record=record: _write_pieces(tmp, record.html_parts())))
        try:
            journal = {"part": part, "ledger_size": _size(self.ledger), "errors_size": _size(self.errors),
                       "files": [path.relative_to(self.dir).as_posix() for path, _ in files]}
            tmp = self.dir / f".{JOURNAL}.tmp"
            tmp.write_text(json.dumps(journal), encoding="utf-8")
            _fsync_file(tmp)
            os.replace(tmp, self.journal)
            _fsync_dir(self.dir)
            fault("group-start")
            for path, write in files:
                self._atomic(path, write)
            for folder in {path.parent for path, _ in files}:
                _fsync_dir(folder)
            fault("before-ledger")
            self._append(self.errors, [_error_line(item) for item in failures])
            self._append(self.ledger, [record.ledger_line({"input": item.key}) for item, record, _ in results])
            fault("after-ledger")
            self.journal.unlink()
            _fsync_dir(self.dir)
        except OSError as err:
            self._give_up(err, results, failures)
        except Exception as err:
            self._roll_back()
            raise UnwritableGroup(f"{type(err).__name__}: {err}") from err
        if part is not None:
            self.next_part += 1

    def write_error(self, item: Item) -> None:
        """A letter that could not be read: one errors.jsonl line (a torn one is repaired by --resume)."""
        try:
            fault("error-write")
            self._append(self.errors, [_error_line(item)])
        except OSError as err:
            self._give_up(err, [], [item])

    def _give_up(self, err: OSError, results, failures) -> None:
        try:
            if self.journal.exists():
                self._roll_back()
            _repair_torn_tail(self.errors)
        except OSError:
            pass  # the journal stays: --resume rolls the group back
        first = (results or [(failures[0],)])[0][0]
        raise OutputError(f"writing the outputs failed ({err.strerror or err}) at letter {first.key}; the group in "
                          f"flight was rolled back: free space (or fix the folder) and rerun with --resume",
                          self.dir) from None


class UnwritableGroup(Exception):
    """A group's outputs could not be made for a reason other than the disk (rolled back; see ``flush``)."""


def _line_bytes(line: str) -> tuple[int, list[bytes]]:
    data = line.encode("utf-8")
    return len(data), [data]


def _write_pieces(path: Path, pieces) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for piece in pieces:
            handle.write(piece)


def _error_line(item: Item) -> str:
    return json.dumps({"input": item.key, "file": item.file, "code": item.code, "error": item.error}, ensure_ascii=False) + "\n"


def _parquet_schema():
    import pyarrow as pa

    entity = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()), ("text", pa.string()),
                        ("range_start", pa.string()), ("range_end", pa.string())])
    commitment = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()), ("actor", pa.string()),
                            ("deadline", pa.string()), ("due_start", pa.string()), ("due_end", pa.string()),
                            ("recommendation", pa.int64()), ("stance", pa.string())])
    return pa.schema([("input", pa.string()), ("letter_id", pa.string()), ("letter_date", pa.string()),
                      ("paragraph", pa.int64()), ("kind", pa.string()), ("text", pa.string()),
                      ("labels", pa.list_(pa.string())), ("stance", pa.string()), ("scores", pa.string()),
                      ("deadline_due_start", pa.string()), ("deadline_due_end", pa.string()),
                      ("entities", pa.list_(entity)), ("commitments", pa.list_(commitment))])


def _parquet_rows(results) -> Iterator[dict]:
    for item, letter, _ in results:
        record = letter.skeleton
        date = record["meta"].get("date")
        for index, p in enumerate(letter.paragraphs()):
            due = (p.get("deadline") or {}).get("due") or {}
            yield {"input": item.key, "letter_id": str(record["id"]), "letter_date": None if date is None else str(date),
                   "paragraph": index, "kind": p["kind"], "text": p["text"], "labels": p["labels"],
                   "stance": p.get("stance"), "scores": json.dumps(p["scores"]),
                   "deadline_due_start": due.get("start"), "deadline_due_end": due.get("end"),
                   "entities": [{"start": e["start"], "end": e["end"], "label": e["label"],
                                 "text": p["text"][e["start"]:e["end"]],
                                 "range_start": (e.get("range") or {}).get("start"),
                                 "range_end": (e.get("range") or {}).get("end")} for e in p["entities"]],
                   "commitments": [{"start": c["start"], "end": c["end"], "text": c["text"], "actor": c["actor"].get("text"),
                                    "deadline": (c.get("deadline") or {}).get("text"),
                                    "due_start": (c.get("due") or {}).get("start"), "due_end": (c.get("due") or {}).get("end"),
                                    "recommendation": c.get("recommendation"), "stance": c.get("stance")}
                                   for c in p.get("commitments") or []]}


def _write_parquet(path: Path, results) -> None:
    """Rows in row groups of bounded size, so a huge letter does not need one huge table in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    with pq.ParquetWriter(path, schema) as writer:
        rows: list[dict] = []
        for row in _parquet_rows(results):
            rows.append(row)
            if len(rows) >= PARQUET_ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))


def _write_docbin(path: Path, results) -> None:
    from spacy.tokens import DocBin

    docbin = DocBin(store_user_data=True)
    for item, letter, docs in results:
        if isinstance(docs, DocBin):  # a spooled letter's: filled as its paragraphs came back
            docbin.merge(docs)
            continue
        record = letter.skeleton
        for index, doc in enumerate(docs):
            doc.user_data["input"], doc.user_data["letter_id"], doc.user_data["paragraph"] = item.key, record["id"], index
            docbin.add(doc)
    with open(path, "wb") as handle:
        handle.write(docbin.to_bytes())


# -- the run ----------------------------------------------------------------------------------------

def spool_sinks(out_dir: Path):
    """For a group, the sink that sends each letter's paragraphs to a spool in ``out_dir`` as they come back
    (pipeline/spool.py), so a long letter is never whole in memory as records."""
    def sinks(group: list[Item]):
        keys = {id(item.letter): item.key for item in group}
        return lambda letter, keep: SpooledLetter(letter, keep, out_dir, keys[id(letter)])
    return sinks


def annotate_group(group: list[Item], nlp, batch_size: int = DEFAULT_BATCH_SIZE, keep_docs: bool = False, progress: bool = False,
                   n_process: int = 1, sinks=None) -> tuple[list, list[Item]]:
    """Annotate a group of letters together: ``(results, failures)``, results as ``(item, record, docs)`` in
    the group's order. If the group fails, the letters it had not finished are annotated one by one, and
    a letter that fails alone becomes a failure (``E601``). ``sinks(letters)`` gives the paragraph sink of
    :func:`~kamerbrief.pipeline.letters.annotate_letters` (:func:`spool_sinks`; default: records in memory,
    what worker processes send back)."""
    from kamerbrief.pipeline.letters import annotate_letters

    def sink_of(items: list[Item]) -> dict:
        return {"sink": sinks(items)} if sinks else {}

    results: list = []
    try:
        for (_, record, docs), item in zip(annotate_letters([i.letter for i in group], nlp, batch_size, n_process,
                                                            keep_docs=keep_docs, progress=progress, **sink_of(group)),
                                           group, strict=False):
            results.append((item, record, docs))
        return results, []
    except Exception:
        pass
    failures = []
    for item in group[len(results):]:
        try:
            (_, record, docs), = annotate_letters([item.letter], nlp, batch_size, 1, keep_docs=keep_docs, progress=progress,
                                                  **sink_of([item]))
            results.append((item, record, docs))
        except Exception as err:
            error = AnnotationError(f"annotation failed: {type(err).__name__}: {err}", item.file)
            item.error, item.code, item.letter = str(error), error.code, None
            failures.append(item)
    order = {id(item): position for position, item in enumerate(group)}
    results.sort(key=lambda r: order[id(r[0])])
    return results, failures


class LocalEngine:
    """Annotates the groups in this process, with the pipeline given. The other engines
    (``kamerbrief.pipeline.workers``, ``kamerbrief.pipeline.ray_backend``) have the same three methods:
    ``start()`` loads and checks the model (ModelCheckError), ``map(tasks)`` yields ``(task, outcome)`` in
    the order of ``tasks`` (a task is a group, ``list[Item]``, with outcome ``(results, failures)``, or an
    unreadable Item, passed through with outcome None), ``close()`` frees what ``start`` took; and ``info``,
    what the run records about them."""

    def __init__(self, nlp, batch_size: int = DEFAULT_BATCH_SIZE, n_process: int = 1):
        self.nlp, self.batch_size, self.n_process = nlp, batch_size, n_process
        self.keep_docs, self.progress, self.out_dir = False, False, None
        tagger = nlp.get_pipe("kamerbrief_transformer") if "kamerbrief_transformer" in nlp.pipe_names else None
        self.info = {"backend": "local", "workers": 1,
                     **({"precision": tagger.precision_used, "model": str(tagger.model_path)} if tagger else {})}

    def start(self) -> None:
        check_model(self.nlp)
        import torch

        self.info["threads"] = torch.get_num_threads()

    def map(self, tasks):
        for task in tasks:
            yield task, (annotate_group(task, self.nlp, self.batch_size, self.keep_docs, self.progress, self.n_process,
                                        sinks=spool_sinks(self.out_dir) if self.out_dir else None)
                         if isinstance(task, list) else None)

    def close(self) -> None:
        pass


RUN_LOG = "run.json"


def _log_run(out_dir: Path, run: dict) -> None:
    """Append (or, for the run in progress, replace) this run's entry in ``run.json``: the precision, CPU,
    backend and counts of each run in the folder. Written by rename, so never half there."""
    path = out_dir / RUN_LOG
    try:
        runs = json.loads(path.read_text(encoding="utf-8")).get("runs", [])
    except (OSError, ValueError, AttributeError):
        runs = []
    runs = [r for r in runs if r.get("started") != run["started"]] + [run]
    tmp = out_dir / f".{RUN_LOG}.tmp"
    try:
        tmp.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # the run log is information, never a reason to stop a run


def annotate_corpus(paths, out_dir, nlp=None, formats=("jsonl",), html: bool = False, resume: bool = False,
                    batch_size: int = DEFAULT_BATCH_SIZE, letters_per_group: int = 16, max_bytes: int = 50 * 1024 * 1024,
                    progress: bool = True, engine=None) -> dict:
    """Annotate every letter under ``paths`` into ``out_dir``; returns counts (``letters``, ``failed``,
    ``skipped``, ``codes`` of the failures, ...) and speed. ``engine`` annotates the groups (default: a
    :class:`LocalEngine` around ``nlp``; ``kamerbrief.pipeline.workers.WorkerPool`` runs worker processes,
    ``kamerbrief.pipeline.ray_backend.RayEngine`` a Ray cluster); whatever the engine, this process alone
    writes the outputs, group by group in input order. Raises OutputError, OutputExistsError or
    ModelCheckError (nothing annotated then); a letter's failure never raises."""
    from kamerbrief.pipeline.hardware import cpu_info

    out_dir = check_output(out_dir, resume)
    engine = engine or LocalEngine(nlp, batch_size)
    # out_dir: an engine in this process spools long letters there (workers send records back whole)
    engine.keep_docs, engine.progress, engine.out_dir = "docbin" in formats, progress, out_dir
    engine.start()
    try:
        return _run(engine, paths, out_dir, formats, html, letters_per_group, max_bytes, progress,
                    {"started": datetime_now(), **engine.info, "cpu": cpu_info()})
    finally:
        engine.close()


def _run(engine, paths, out_dir: Path, formats, html: bool, letters_per_group: int, max_bytes: int, progress: bool,
         run: dict) -> dict:
    output = Output(out_dir, tuple(formats), html)
    try:
        repaired = output.recover()
        done = output.done_keys()
        output.start_run()
    except OSError as err:
        raise OutputError(f"could not repair the earlier run's outputs: {err.strerror or err}", out_dir) from None
    counts = {"letters": 0, "failed": 0, "skipped": 0, "paragraphs": 0, "words": 0, "codes": Counter(), "repaired": repaired}
    started = time.perf_counter()
    bar = tqdm(desc="annotating", unit=" letters", disable=not progress)
    _log_run(out_dir, {**run, "status": "running"})

    def commit(group: list[Item], results: list, failures: list[Item]) -> None:
        try:
            write(results, failures)
        finally:
            for _, record, _ in results:
                open_record(record).close()

    def write(results: list, failures: list[Item]) -> None:
        try:
            output.write_group(results, failures)
        except UnwritableGroup:  # one letter's outputs cannot be made (not the disk): write the letters one by one
            written = []
            for result in results:
                try:
                    output.write_group([result], [])
                    written.append(result)
                except UnwritableGroup as err:
                    item = result[0]
                    error = AnnotationError(f"writing its outputs failed: {err}", item.file)
                    item.error, item.code = str(error), error.code
                    failures.append(item)
            output.write_group([], failures)
            results = written
        for _, record, _ in results:
            counts["letters"] += 1
            counts["paragraphs"] += open_record(record).n_paragraphs
            counts["words"] += open_record(record).words
        for item in failures:
            counts["failed"] += 1
            counts["codes"][item.code] += 1
        bar.update(len(results) + len(failures))
        elapsed = max(time.perf_counter() - started, 1e-9)
        bar.set_postfix({"words/s": f"{counts['words'] / elapsed:,.0f}", "failed": counts["failed"]})

    def tasks() -> Iterator[Item | list[Item]]:
        """Groups of letters to annotate, and unreadable letters in their place in the input order."""
        group: list[Item] = []
        seen: set[str] = set()
        for item in iter_inputs(paths, max_bytes, out_dir):
            if item.key in done or item.key in seen:  # done earlier, or the same file named twice
                counts["skipped"] += 1
                continue
            seen.add(item.key)
            if item.error:
                yield item
                continue
            group.append(item)
            if len(group) >= letters_per_group:
                yield group
                group = []
        if group:
            yield group

    try:
        for task, outcome in engine.map(tasks()):
            if outcome is None:  # an unreadable letter
                output.write_error(task)
                counts["failed"] += 1
                counts["codes"][task.code] += 1
                bar.update(1)
            else:
                commit(task, *outcome)
    finally:
        bar.close()
    counts["seconds"] = round(time.perf_counter() - started, 2)
    counts["words_per_second"] = round(counts["words"] / max(counts["seconds"], 1e-9), 1)
    counts["codes"] = dict(sorted(counts["codes"].items()))
    _log_run(out_dir, {**run, "status": "done", "finished": datetime_now(),
                       **{k: v for k, v in counts.items() if k != "repaired"}})
    return counts


def datetime_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")

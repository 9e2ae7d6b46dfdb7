"""``kamerbrief annotate``: annotate a corpus of letters, incrementally and resumably.

Inputs: letter files, directories (searched recursively by suffix), and JSONL collections
(``.jsonl``, ``.jsonl.gz``, ``.jsonl.xz``) of either corpus records (``id``, ``path``, ``text``) or
ANNOTATION.md records (``paragraphs``: their paragraphs are kept as given).

Outputs in ``out_dir``:
- ``annotations.jsonl``: one annotated record per letter (always written: it is also the ledger that
  ``--resume`` reads);
- ``paragraphs/part-NNNNN.parquet`` (``--format parquet``): one row per paragraph, entities as a list column;
- ``docbin/part-NNNNN.spacy`` (``--format docbin``): the paragraph Docs, letter id and index in user data;
- ``html/<letter>.html`` (``--html``): the displaCy report per letter;
- ``errors.jsonl``: one line per letter that failed, with the input, error code and reason.

Each group of letters is written as soon as it is done (part files first, then the ledger lines), so
a killed run loses at most the group in flight; ``--resume`` skips every input already in the ledger
or the errors file.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline.reader.letter import Letter, Paragraph, set_offsets

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.xz")
FORMATS = ("jsonl", "parquet", "docbin")


class OutputExistsError(KamerbriefError):
    code = "E600"


@dataclass
class Item:
    """One letter to annotate: a stable key for the ledger, and either a Letter or the error reading it."""

    key: str
    letter: Letter | None = None
    error: str | None = None
    code: str | None = None


def letter_from_record(record: dict, source: str) -> Letter:
    """A Letter from a record: corpus records go through the reader; ANNOTATION.md records keep their paragraphs."""
    from kamerbrief.data.records import resolve
    from kamerbrief.pipeline.reader import read_corpus_record

    if "paragraphs" in record:
        record = resolve(record)
        paragraphs = [Paragraph(p["text"], p.get("kind") or "body") for p in record["paragraphs"]]
        set_offsets(paragraphs)
        return Letter(record["id"], paragraphs, dict(record.get("meta", {})), record.get("source") or source, "record")
    if "text" not in record:
        raise KamerbriefError("record has neither 'paragraphs' nor 'text'", source)
    return read_corpus_record(record, source)


def iter_inputs(paths, max_bytes: int) -> Iterator[Item]:
    from kamerbrief.data.records import read_jsonl
    from kamerbrief.pipeline.reader import iter_letter_files, read_letter

    for path in iter_letter_files(paths):
        if path.name.endswith(JSONL_SUFFIXES):
            try:
                for line, record in read_jsonl(path):
                    key = f"{path}#{record.get('path') or record.get('id') or line}"
                    try:
                        yield Item(key, letter_from_record(record, str(path)))
                    except KamerbriefError as err:
                        yield Item(key, error=str(err), code=err.code)
            except KamerbriefError as err:
                yield Item(f"{path}#!", error=str(err), code=err.code)
            continue
        try:
            yield Item(str(path), read_letter(path, max_bytes=max_bytes))
        except KamerbriefError as err:
            yield Item(str(path), error=str(err), code=err.code)
        except OSError as err:
            yield Item(str(path), error=f"{path}: {err}", code="E100")


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:150] or "letter"


class Writers:
    def __init__(self, out_dir: Path, formats: tuple[str, ...], html: bool):
        self.out_dir, self.formats, self.html = out_dir, formats, html
        out_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = out_dir / "annotations.jsonl"
        self.errors = out_dir / "errors.jsonl"
        self.part = 1 + max([int(m.group(1)) for p in out_dir.glob("*/part-*.*") if (m := re.search(r"part-(\d+)", p.name))] or [0])

    def done_keys(self) -> set[str]:
        keys = set()
        for path in (self.ledger, self.errors):
            if path.exists():
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        try:
                            keys.add(json.loads(line)["input"])
                        except (json.JSONDecodeError, KeyError):
                            continue  # a line cut short by a kill: that letter is simply redone
        return keys

    def write_group(self, results: list[tuple[Item, dict, list]]) -> None:
        if not results:
            return
        if "parquet" in self.formats:
            self._parquet(results)
        if "docbin" in self.formats:
            self._docbin(results)
        if self.html:
            from kamerbrief.pipeline.render import letter_html

            folder = self.out_dir / "html"
            folder.mkdir(exist_ok=True)
            for item, record, _ in results:
                (folder / f"{_safe_name(record['id'])}.html").write_text(letter_html(record), encoding="utf-8")
        with open(self.ledger, "a", encoding="utf-8") as handle:
            for item, record, _ in results:
                handle.write(json.dumps({"input": item.key, **record}, ensure_ascii=False) + "\n")
        self.part += 1

    def write_error(self, item: Item) -> None:
        with open(self.errors, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"input": item.key, "code": item.code, "error": item.error}, ensure_ascii=False) + "\n")

    def _parquet(self, results) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = []
        for item, record, _ in results:
            for index, p in enumerate(record["paragraphs"]):
                rows.append({"input": item.key, "letter_id": record["id"], "letter_date": record["meta"].get("date"),
                             "paragraph": index, "kind": p["kind"], "text": p["text"], "labels": p["labels"],
                             "stance": p.get("stance"), "scores": json.dumps(p["scores"]),
                             "deadline_due_start": ((p.get("deadline") or {}).get("due") or {}).get("start"),
                             "deadline_due_end": ((p.get("deadline") or {}).get("due") or {}).get("end"),
                             "entities": [{"start": e["start"], "end": e["end"], "label": e["label"],
                                           "text": p["text"][e["start"]:e["end"]],
                                           "range_start": (e.get("range") or {}).get("start"),
                                           "range_end": (e.get("range") or {}).get("end")} for e in p["entities"]]})
        folder = self.out_dir / "paragraphs"
        folder.mkdir(exist_ok=True)
        tmp = folder / f".part-{self.part:05d}.parquet.tmp"
        pq.write_table(pa.Table.from_pylist(rows), tmp)
        tmp.rename(folder / f"part-{self.part:05d}.parquet")

    def _docbin(self, results) -> None:
        from spacy.tokens import DocBin

        docbin = DocBin(store_user_data=True)
        for item, record, docs in results:
            for index, doc in enumerate(docs):
                doc.user_data["letter_id"], doc.user_data["paragraph"] = record["id"], index
                docbin.add(doc)
        folder = self.out_dir / "docbin"
        folder.mkdir(exist_ok=True)
        tmp = folder / f".part-{self.part:05d}.spacy.tmp"
        docbin.to_disk(tmp)
        tmp.rename(folder / f"part-{self.part:05d}.spacy")


def annotate_corpus(paths, out_dir, nlp, formats=("jsonl",), html: bool = False, resume: bool = False,
                    batch_size: int = 64, n_process: int = 1, letters_per_group: int = 16,
                    max_bytes: int = 50 * 1024 * 1024, progress: bool = True) -> dict:
    """Annotate every letter under ``paths`` into ``out_dir``; returns counts and speed."""
    from kamerbrief.pipeline.letters import annotate_letters

    out_dir = Path(out_dir)
    writers = Writers(out_dir, tuple(formats), html)
    done = writers.done_keys()
    if done and not resume:
        raise OutputExistsError(f"already holds {len(done)} annotated or failed letters: pass --resume to go on, "
                                f"or choose another output folder", out_dir)
    counts = {"letters": 0, "failed": 0, "skipped": 0, "paragraphs": 0, "words": 0}
    started = time.perf_counter()
    bar = tqdm(desc="annotating", unit=" letters", disable=not progress)

    def flush(group: list[Item]) -> None:
        results = []
        try:
            for (letter, record, docs), item in zip(annotate_letters([i.letter for i in group], nlp, batch_size, n_process), group):
                results.append((item, record, docs))
        except Exception as err:  # one bad letter must not stop the run: redo the group letter by letter
            if len(group) == 1:
                group[0].error, group[0].code = f"{group[0].key}: annotation failed: {err!r}", "E601"
                writers.write_error(group[0])
                counts["failed"] += 1
                bar.update(1)
                return
            for item in group:
                flush([item])
            return
        writers.write_group(results)
        for item, record, _ in results:
            counts["letters"] += 1
            counts["paragraphs"] += len(record["paragraphs"])
            counts["words"] += sum(len(p["text"].split()) for p in record["paragraphs"])
        bar.update(len(results))
        elapsed = max(time.perf_counter() - started, 1e-9)
        bar.set_postfix({"words/s": f"{counts['words'] / elapsed:,.0f}", "failed": counts["failed"]})

    group: list[Item] = []
    for item in iter_inputs(paths, max_bytes):
        if item.key in done:
            counts["skipped"] += 1
            continue
        if item.error:
            writers.write_error(item)
            counts["failed"] += 1
            bar.update(1)
            continue
        group.append(item)
        if len(group) >= letters_per_group:
            flush(group)
            group = []
    if group:
        flush(group)
    bar.close()
    counts["seconds"] = round(time.perf_counter() - started, 2)
    counts["words_per_second"] = round(counts["words"] / max(counts["seconds"], 1e-9), 1)
    return counts

"""Build the corpus: compile the team's letters, import standoff annotations, split by document.

Splits are by document, never by paragraph. A document keeps the split the manifest gives it. A new
letter whose writer is named in ``data/letters/writers.json`` goes to that writer's split (a held-out
writer's ``dev-writer`` or ``test-writer``, so no letter of that hand is ever trained on); a standoff
document imported with ``--split`` goes to that split (``test-real``); any other new document goes to
train or dev by a hash of its id, so the split does not depend on file order. The frozen splits (test,
the writer splits, test-real) are filled once: a build that would change, drop or add one of their
records stops with an error unless given ``--allow-test-change``.
``data/MANIFEST.json`` lists the documents of each split and a SHA-256 checksum of every file.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from kamerbrief.data.markup import compile_file
from kamerbrief.data.records import read_records, stable_hash, write_records
from kamerbrief.data.schema import FROZEN_SPLITS, SPLITS
from kamerbrief.data.standoff_markup import import_markup
from kamerbrief.errors import RecordError

CORPORA = ("letters", "standoff")
V1_SPLITS = ("train", "dev", "test")  # written for every corpus, even when empty
WRITER_ID = re.compile(r"^(kb-[a-z]+)-\d+$")


def writer_of(record: dict) -> str | None:
    """The writer of a team-written letter: ``meta.writer``, else the ``kb-<writer>-NN`` prefix of its id."""
    found = WRITER_ID.match(record["id"])
    return record.get("meta", {}).get("writer") or (found.group(1) if found else None)


def writer_splits(data_dir: Path) -> dict[str, str]:
    """Writer id -> the split all of that writer's letters go to, from ``letters/writers.json``.

    Writers not named there are split by the hash of each letter's id. The v1 test split is closed to
    new writers, so that its scores stay comparable across corpus versions."""
    path = data_dir / "letters" / "writers.json"
    if not path.exists():
        return {}
    splits = json.loads(path.read_text(encoding="utf-8")).get("splits", {})
    for writer, split in splits.items():
        if split not in SPLITS or split == "test":
            raise RecordError(f"writer {writer!r} is assigned to {split!r}: must be one of train, dev, dev-writer, "
                              "test-writer", path)
    return splits


def hashed_split(doc_id: str) -> str:
    """Train or dev for a new document, by a hash of its id (82/18, the v1 ratio of 70 to 15). Frozen
    splits are filled only explicitly (writers.json, ``--split``), never by chance."""
    return "train" if stable_hash(doc_id) % 100 < 82 else "dev"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _existing(data_dir: Path, corpus: str) -> dict[str, dict]:
    records = {}
    for split in SPLITS:
        path = data_dir / corpus / f"{split}.jsonl"
        if path.exists():
            for record in read_records(path):
                records[record["id"]] = record
    return records


def build(data_dir: str | Path, shared_dir: str | Path, standoff_work: list[Path] | None = None,
          allow_test_change: bool = False, split: str | None = None) -> dict:
    """Compile, import and split; ``split`` places every newly imported standoff document in that split
    (documents the manifest already places keep their split)."""
    if split is not None and split not in SPLITS:
        raise RecordError(f"unknown split {split!r} (one of {', '.join(SPLITS)})")
    data_dir = Path(data_dir)
    manifest_path = data_dir / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"splits": {}, "files": {}}
    assigned = {doc: split for split, docs in manifest["splits"].items() for doc in docs}
    assigned_before = set(assigned)

    letters = {r["id"]: r for r in (compile_file(p) for p in sorted((data_dir / "letters" / "src").glob("*.txt")))}
    previous_letters, previous_standoff = _existing(data_dir, "letters"), _existing(data_dir, "standoff")
    standoff = dict(previous_standoff)
    for path in sorted(p for d in standoff_work or [] for p in Path(d).glob("*.txt")):
        record = import_markup(path, Path(shared_dir))
        standoff[record["id"]] = record
        if split is not None:
            assigned.setdefault(record["id"], split)

    previous = {**previous_letters, **previous_standoff}
    writers = writer_splits(data_dir)
    by_split: dict[str, list[str]] = {s: [] for s in SPLITS}
    files: dict[str, str] = {}
    for corpus, records in (("letters", letters), ("standoff", standoff)):
        grouped: dict[str, list[dict]] = {s: [] for s in SPLITS}
        for doc_id in sorted(records):
            split = assigned.get(doc_id) or writers.get(writer_of(records[doc_id])) or hashed_split(doc_id)
            if split in FROZEN_SPLITS and not allow_test_change:
                if doc_id in previous and previous[doc_id] != records[doc_id]:
                    raise RecordError(f"record {doc_id!r} of the frozen {split} split would change "
                                      "(use --allow-test-change to override)")
                if doc_id not in assigned_before and manifest["splits"].get(split):
                    raise RecordError(f"record {doc_id!r} would be added to the frozen {split} split "
                                      "(use --allow-test-change to override)")
            grouped[split].append(records[doc_id])
            by_split[split].append(doc_id)
        for split, items in grouped.items():
            if items or split in V1_SPLITS:
                write_records(data_dir / corpus / f"{split}.jsonl", items)
                files[f"{corpus}/{split}.jsonl"] = file_sha256(data_dir / corpus / f"{split}.jsonl")
    if not allow_test_change:
        lost = [d for d, s in assigned.items() if s in FROZEN_SPLITS and d not in by_split[s]]
        if lost:
            raise RecordError(f"documents of a frozen split are gone or moved: {', '.join(lost[:5])}")
    manifest = {
        "splits": {s: sorted(ids) for s, ids in by_split.items() if ids or s in V1_SPLITS},
        "files": files,
        "frozen": list(FROZEN_SPLITS),
        "rule": "split by document; a document keeps its split; letters of a writer named in letters/writers.json go "
                "to that writer's split; standoff documents imported with --split go to that split; other new documents "
                "by sha256(id) % 100: <82 train, else dev (v1 documents: <70 train, <85 dev, else test)",
    }
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def verify_manifest(data_dir: str | Path) -> list[str]:
    """Files whose checksum differs from the manifest's."""
    data_dir = Path(data_dir)
    manifest = json.loads((data_dir / "MANIFEST.json").read_text())
    return [name for name, digest in manifest["files"].items() if file_sha256(data_dir / name) != digest]

"""Build the corpus: compile the team's letters, import standoff annotations, split by document.

Splits are by document, never by paragraph. A document keeps the split the manifest gives it; a new
document is placed by a hash of its id (70/15/15), so the split does not depend on file order. The
test split is frozen: once written, a build that would change a test record stops with an error.
``data/MANIFEST.json`` lists the documents of each split and a SHA-256 checksum of every file.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kamerbrief.data.markup import compile_file
from kamerbrief.data.records import read_records, stable_hash, write_records
from kamerbrief.data.standoff import import_markup
from kamerbrief.errors import RecordError

SPLITS = ("train", "dev", "test")
FROZEN = ("test",)
CORPORA = ("letters", "standoff")


def hashed_split(doc_id: str) -> str:
    bucket = stable_hash(doc_id) % 100
    return "train" if bucket < 70 else "dev" if bucket < 85 else "test"


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
          allow_test_change: bool = False) -> dict:
    data_dir = Path(data_dir)
    manifest_path = data_dir / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"splits": {}, "files": {}}
    assigned = {doc: split for split, docs in manifest["splits"].items() for doc in docs}

    letters = {r["id"]: r for r in (compile_file(p) for p in sorted((data_dir / "letters" / "src").glob("*.txt")))}
    previous_letters, previous_standoff = _existing(data_dir, "letters"), _existing(data_dir, "standoff")
    standoff = dict(previous_standoff)
    for path in sorted(p for d in standoff_work or [] for p in Path(d).glob("*.txt")):
        record = import_markup(path, Path(shared_dir))
        standoff[record["id"]] = record

    previous = {**previous_letters, **previous_standoff}
    by_split: dict[str, list[str]] = {s: [] for s in SPLITS}
    for corpus, records in (("letters", letters), ("standoff", standoff)):
        grouped: dict[str, list[dict]] = {s: [] for s in SPLITS}
        for doc_id in sorted(records):
            split = assigned.get(doc_id) or hashed_split(doc_id)
            if split in FROZEN and not allow_test_change and doc_id in previous and previous[doc_id] != records[doc_id]:
                raise RecordError(f"record {doc_id!r} of the frozen {split} split would change (use --allow-test-change to override)")
            grouped[split].append(records[doc_id])
            by_split[split].append(doc_id)
        for split, items in grouped.items():
            write_records(data_dir / corpus / f"{split}.jsonl", items)
    if not allow_test_change:
        lost = [d for d, s in assigned.items() if s in FROZEN and d not in by_split["test"]]
        if lost:
            raise RecordError(f"documents of the frozen test split are gone: {', '.join(lost[:5])}")
    manifest = {
        "splits": {s: sorted(ids) for s, ids in by_split.items()},
        "files": {f"{c}/{s}.jsonl": file_sha256(data_dir / c / f"{s}.jsonl") for c in CORPORA for s in SPLITS},
        "frozen": list(FROZEN),
        "rule": "split by document; new documents by sha256(id) % 100: <70 train, <85 dev, else test",
    }
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def verify_manifest(data_dir: str | Path) -> list[str]:
    """Files whose checksum differs from the manifest's."""
    data_dir = Path(data_dir)
    manifest = json.loads((data_dir / "MANIFEST.json").read_text())
    return [name for name, digest in manifest["files"].items() if file_sha256(data_dir / name) != digest]

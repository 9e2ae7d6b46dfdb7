"""The committed corpus stays valid and matches its manifest (a changed split file fails here)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kamerbrief.data.build import build, hashed_split, verify_manifest
from kamerbrief.data.records import read_records
from kamerbrief.data.standoff_markup import export_markup
from kamerbrief.data.validate import validate_files
from kamerbrief.errors import RecordError

DATA = Path(__file__).resolve().parent.parent / "data"


def test_split_files_match_the_manifest():
    assert verify_manifest(DATA) == []


def test_every_record_is_valid(shared_dir):
    problems, n_records = validate_files([DATA / "letters", DATA / "standoff"], shared_dir)
    assert n_records >= 150
    assert [str(p) for p in problems] == []


def test_split_rule_is_a_stable_hash():
    assert hashed_split("kb-a-01") == hashed_split("kb-a-01")
    assert {hashed_split(f"doc-{i}") for i in range(200)} == {"train", "dev"}  # frozen splits are never drawn by chance


def _letter(folder: Path, doc_id: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{doc_id}.txt").write_text(f"---\nid: {doc_id}\ndate: 2024-01-10\n---\n@body\n{text}\n", encoding="utf-8")


def test_held_out_writers_go_to_their_split_and_stay_frozen(tmp_path, shared_dir):
    src = tmp_path / "letters" / "src"
    for index in range(1, 7):
        _letter(src, f"kb-x-{index:02d}", f"Brief {index} van schrijver x.")
        _letter(src, f"kb-y-{index:02d}", f"Brief {index} van schrijver y.")
        _letter(src, f"kb-z-{index:02d}", f"Brief {index} van schrijver z.")
    (tmp_path / "letters" / "writers.json").write_text(json.dumps({"splits": {"kb-x": "test-writer", "kb-y": "dev-writer"}}))
    manifest = build(tmp_path, shared_dir)
    assert manifest["splits"]["test-writer"] == [f"kb-x-{i:02d}" for i in range(1, 7)]
    assert manifest["splits"]["dev-writer"] == [f"kb-y-{i:02d}" for i in range(1, 7)]
    trained_on = set(manifest["splits"]["train"]) | set(manifest["splits"]["dev"]) | set(manifest["splits"]["test"])
    assert {doc_id[:4] for doc_id in trained_on} == {"kb-z"}
    assert verify_manifest(tmp_path) == []

    _letter(src, "kb-x-03", "Een gewijzigde brief.")
    with pytest.raises(RecordError, match="frozen test-writer"):
        build(tmp_path, shared_dir)
    (src / "kb-x-03.txt").unlink()
    with pytest.raises(RecordError, match="kb-x-03"):
        build(tmp_path, shared_dir)


def test_the_v1_test_split_is_closed_to_new_writers(tmp_path, shared_dir):
    _letter(tmp_path / "letters" / "src", "kb-x-01", "Een brief.")
    (tmp_path / "letters" / "writers.json").write_text(json.dumps({"splits": {"kb-x": "test"}}))
    with pytest.raises(RecordError, match="kb-x"):
        build(tmp_path, shared_dir)


def test_standoff_import_into_test_real_then_the_split_is_closed(tmp_path, shared_dir):
    record = next(iter(read_records(shared_dir / "corpora" / "circulaires.jsonl.gz")))
    work = tmp_path / "work"
    work.mkdir()
    (work / "doc.txt").write_text(export_markup(record, "corpora/circulaires.jsonl.gz", 3), encoding="utf-8")
    manifest = build(tmp_path, shared_dir, [work], split="test-real")
    assert len(manifest["splits"]["test-real"]) == 1 and "test-real" in manifest["frozen"]
    assert manifest["splits"]["train"] == manifest["splits"]["dev"] == []

    other = next(r for i, r in enumerate(read_records(shared_dir / "corpora" / "circulaires.jsonl.gz")) if i == 1)
    (work / "doc2.txt").write_text(export_markup(other, "corpora/circulaires.jsonl.gz", 3), encoding="utf-8")
    with pytest.raises(RecordError, match="added to the frozen test-real split"):
        build(tmp_path, shared_dir, [work], split="test-real")
    assert len(build(tmp_path, shared_dir, [work], split="test-real", allow_test_change=True)["splits"]["test-real"]) == 2

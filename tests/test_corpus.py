"""The committed corpus stays valid and matches its manifest (a changed split file fails here)."""
from __future__ import annotations

from pathlib import Path

from kamerbrief.data.build import hashed_split, verify_manifest
from kamerbrief.data.validate import validate_files

DATA = Path(__file__).resolve().parent.parent / "data"


def test_split_files_match_the_manifest():
    assert verify_manifest(DATA) == []


def test_every_record_is_valid(shared_dir):
    problems, n_records = validate_files([DATA / "letters", DATA / "standoff"], shared_dir)
    assert n_records >= 150
    assert [str(p) for p in problems] == []


def test_split_rule_is_a_stable_hash():
    assert hashed_split("kb-a-01") == hashed_split("kb-a-01")
    assert {hashed_split(f"doc-{i}") for i in range(200)} == {"train", "dev", "test"}

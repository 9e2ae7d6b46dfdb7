"""Reader regression cases, one JSON file each under tests/cases/reader/ (clinlp style)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import TESTS, resolve_input

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline.reader import read_letter

CASES = sorted((TESTS / "cases" / "reader").glob("*.json"))


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_reader_case(case_file: Path):
    case = json.loads(case_file.read_text(encoding="utf-8"))
    path = resolve_input(case["input"])
    if "error" in case:
        with pytest.raises(KamerbriefError) as info:
            read_letter(path)
        assert info.value.code == case["error"]
        assert str(path) in str(info.value)
        return
    letter = read_letter(path)
    expect = case["expect"]
    if "format" in case:
        assert letter.format == case["format"]
    if "id" in expect:
        assert letter.id == expect["id"]
    if "n_paragraphs" in expect:
        assert len(letter.paragraphs) == expect["n_paragraphs"]
    for key, value in expect.get("meta", {}).items():
        assert letter.meta.get(key) == value, key
    kinds = [p.kind for p in letter.paragraphs]
    if "kinds" in expect:
        assert kinds == expect["kinds"]
    if "kind_counts" in expect:
        assert dict(Counter(kinds)) == expect["kind_counts"]
    for index, (kind, text) in expect.get("paragraphs", {}).items():
        paragraph = letter.paragraphs[int(index)]
        assert paragraph.kind == kind, (index, paragraph.text[:60])
        assert paragraph.text.startswith(text), (index, paragraph.text[:len(text) + 20])
    for text in expect.get("absent_text", []):
        assert text not in letter.text
    links = {m.number: m.footnote for m in letter.footnote_markers}
    for number, footnote in expect.get("footnote_links", {}).items():
        assert links.get(number) == footnote, number
        assert letter.paragraphs[footnote].kind == "footnote"
    # Spans are consistent: every paragraph is where it says it is in the letter text...
    for paragraph in letter.paragraphs:
        assert letter.text[paragraph.start:paragraph.end] == paragraph.text
    # ...and, for text formats, in the source file.
    if expect.get("source_slices"):
        source = path.read_text(encoding="utf-8")
        for paragraph in letter.paragraphs:
            assert paragraph.source_start is not None
            assert source[paragraph.source_start:paragraph.source_end].replace("\n", " ").startswith(paragraph.text[:20])

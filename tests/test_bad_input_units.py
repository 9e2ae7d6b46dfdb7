"""The pieces behind the bad-input suite (tests/test_bad_input_cli.py), checked directly: the JSONL
reading contract, folder walks that report what they cannot list, UTF-16 detection, safe standoff
sources and the error browser's escaping."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from kamerbrief.data.records import InvalidLine, iter_record_files, read_jsonl, read_records, resolve, shared_file
from kamerbrief.errors import (
    BinaryInputError,
    CorruptCollectionError,
    InvalidLineError,
    InvalidRecordError,
    NotRegularFileError,
    UnreadableInputError,
    UnsafeSourceError,
)
from kamerbrief.pipeline.reader import iter_letter_files, read_letter, read_text
from kamerbrief.pipeline.reader.bytes_to_text import decode

LETTER = "Aan de Voorzitter van de Tweede Kamer\n\nHet kabinet neemt de aanbeveling over.\n"


def test_read_jsonl_yields_a_bad_line_in_its_place_and_goes_on(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "a"}\n{kapot\n\n[1]\n' + "[" * 50_000 + "]" * 50_000 + '\n{"id": "b"}\n', encoding="utf-8")
    items = list(read_jsonl(path))
    assert [line for line, _ in items] == [1, 2, 4, 5, 6]
    assert items[0][1] == {"id": "a"} and items[-1][1] == {"id": "b"}
    for line, record in items[1:4]:
        assert isinstance(record, InvalidLine) and not record and record.get("id") is None
        assert isinstance(record.error, InvalidLineError) and f"line {line}:" in str(record.error) and str(path) in str(record.error)
    with pytest.raises(InvalidLineError, match="line 2: not valid JSON"):
        list(read_records(path))


def test_read_jsonl_yields_the_records_before_a_truncation_then_raises(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    first = gzip.compress(b"".join(b'{"id": "r%d"}\n' % i for i in range(50)))
    second = gzip.compress(b"".join(b'{"id": "s%d"}\n' % i for i in range(50)))
    path.write_bytes(first + second[: len(second) // 2])
    seen = []
    with pytest.raises(CorruptCollectionError, match="truncated after line") as info:
        for _, record in read_jsonl(path):
            seen.append(record["id"])
    assert seen[:50] == [f"r{i}" for i in range(50)] and str(path) in str(info.value)


def test_read_jsonl_refuses_a_fifo_and_a_missing_file(tmp_path):
    os.mkfifo(tmp_path / "pijp.jsonl")
    with pytest.raises(NotRegularFileError):
        next(read_jsonl(tmp_path / "pijp.jsonl"))
    with pytest.raises(UnreadableInputError, match="no such file"):
        next(read_jsonl(tmp_path / "weg.jsonl"))


def test_a_folder_that_cannot_be_listed_is_returned_so_reading_it_reports_it(tmp_path, monkeypatch):
    # As root a chmod 000 folder is still readable, so the refusal is simulated where os.walk lists.
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "brief.txt").write_text(LETTER, encoding="utf-8")
    (tmp_path / "dicht").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "dicht":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files = iter_letter_files([tmp_path])
    assert files == [tmp_path / "open" / "brief.txt", tmp_path / "dicht"]
    with pytest.raises(UnreadableInputError, match="is a folder that cannot be listed"):
        read_letter(files[1])
    assert [p.name for p in iter_record_files([tmp_path])] == ["dicht"]
    monkeypatch.undo()
    with pytest.raises(NotRegularFileError, match="is a directory"):
        read_letter(files[1])


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(encoding):
    text, found = decode(LETTER.encode(encoding))
    assert found == encoding and text.startswith("Aan de Voorzitter")


@pytest.mark.parametrize("data", [
    b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200,
    bytes(range(256)) * 8,
    b"A\x00" * 40 + b"\x01\x00\x1b\x00" * 40,  # NULs on one side, but control characters, not text
])
def test_binary_data_is_not_taken_for_utf16(data):
    with pytest.raises(BinaryInputError):
        decode(data)


def test_iterative_xml_walk_keeps_footnotes_glued_in_deep_markup():
    depth = 1200
    xml = ("<officiele-publicatie><al>" + "<nadruk>" * depth + "Het rapport <noot><noot.nr>3</noot.nr><noot.al>Kamerstuk 1.</noot.al></noot> "
           "is ontvangen." + "</nadruk>" * depth + "</al></officiele-publicatie>")
    letter = read_text(xml, fmt="obk-xml")
    assert letter.paragraphs[0].text == "Het rapport3 is ontvangen."
    assert letter.paragraphs[1].kind == "footnote" and letter.paragraphs[1].text == "Kamerstuk 1."


@pytest.mark.parametrize("source", ["/etc/passwd", "../geheim.txt", "corpora/../../geheim.txt", "C:\\Windows\\win.ini",
                                    "corpora\\..\\..\\geheim.txt", "", None, 5])
def test_standoff_source_must_stay_inside_the_shared_folder(tmp_path, source):
    with pytest.raises(Exception) as info:
        shared_file(tmp_path, source)
    assert info.value.code in ("E201", "E206")


def test_standoff_source_through_a_symlink_out_of_shared_is_refused(tmp_path):
    shared = tmp_path / "shared"
    (shared / "corpora").mkdir(parents=True)
    (tmp_path / "geheim.txt").write_text("geheim", encoding="utf-8")
    (shared / "corpora" / "link.txt").symlink_to(tmp_path / "geheim.txt")
    with pytest.raises(UnsafeSourceError):
        shared_file(shared, "corpora/link.txt")
    assert shared_file(shared, "corpora/x.jsonl.gz") == shared / "corpora" / "x.jsonl.gz"


@pytest.mark.parametrize("record, message", [
    ({"id": "a", "paragraphs": [{"kind": "body"}]}, "paragraph 0: has no text"),
    ({"id": "a", "paragraphs": [{"text": 5}]}, "paragraph 0: has no text"),
    ({"id": "a", "paragraphs": "tekst"}, "'paragraphs' must be a list"),
    ({"id": "a", "paragraphs": ["tekst"]}, "paragraph 0: must be an object"),
    ({"id": 3, "paragraphs": [{"text": "x"}]}, "needs a string 'id'"),
    ({"id": "a", "meta": [], "paragraphs": [{"text": "x"}]}, "'meta' must be an object"),
])
def test_resolve_refuses_records_the_pipeline_cannot_read(record, message):
    with pytest.raises(InvalidRecordError, match=message):
        resolve(record)


def test_error_browser_escapes_labels_ids_and_anchors():
    from kamerbrief.evaluation.error_browser import error_browser_html
    from kamerbrief.evaluation.metrics import ScoredParagraph

    evil = 'x"><script>alert(1)</script>'
    item = ScoredParagraph(letter_id=evil, text="De Raad van State adviseert.", gold_labels={evil}, pred_labels=set(),
                           gold_entities=[(3, 17, evil)], pred_entities=[(3, 7, "ORG")], annotated_entity_labels={evil, "ORG"})
    page = error_browser_html([item], title=evil)
    assert "<script>" not in page and 'x">' not in page
    assert "&lt;script&gt;" in page and "&quot;" in page
    anchors = [part.split('"')[0] for part in page.split('id="')[1:]]
    assert anchors and all(a.replace("-", "").replace("_", "").isalnum() for a in anchors)
    assert all(f'href="#{a}"' in page for a in anchors)


def test_read_corpus_record_checks_the_text_type():
    from kamerbrief.pipeline.reader import read_corpus_record

    for text in (None, 5, ["a"]):
        with pytest.raises(InvalidRecordError, match="'text' must be a string"):
            read_corpus_record({"id": "r", "text": text}, "c.jsonl")
    assert read_corpus_record({"id": "r", "text": "# Kop\n\nTekst hier."}, "c.jsonl").paragraphs[1].text == "Tekst hier."


def test_validator_never_raises_on_odd_json(tmp_path):
    from kamerbrief.data.validate import validate_files

    odd = [None, 1, "x", [], {}, {"id": "a", "paragraphs": [None, 1, "x", [], {}]},
           {"id": "b", "paragraphs": [{"text": "Den Haag", "labels": [None, {"a": 1}, ["x"]], "stance": {"a": 1}, "kind": [],
                                        "entities": [None, {"start": True, "end": 2}, {"start": 0, "end": 3, "label": {"x": 1}},
                                                     {"start": 0, "end": 3, "label": "DATE", "range": "morgen"}]}]},
           {"id": "c", "doc_id": "d", "source": 5, "paragraphs": [{"start": 0, "end": 1}]},
           {"id": "e", "meta": {"date": ["2021"]}, "paragraphs": [{"text": "x"}]}]
    (tmp_path / "odd.jsonl").write_text("".join(json.dumps(r) + "\n" for r in odd), encoding="utf-8")
    problems, n = validate_files([tmp_path])
    assert n == len(odd)
    assert {p.line for p in problems} == set(range(1, len(odd) + 1))
    assert all(str(tmp_path / "odd.jsonl") in str(p) and str(p).startswith("[E2") for p in problems)


def test_no_message_sends_the_user_to_a_function_that_does_not_exist(tmp_path):
    """A reader error once said "use iter_letters()", which never existed: every "use/call X()" hint in
    the package names a function it defines, and reading a folder names the problem with its code."""
    import re

    root = Path(__file__).resolve().parent.parent
    text = "\n".join(p.read_text(encoding="utf-8") for folder in ("kamerbrief", "pipeline", "data", "training", "evaluation")
                     for p in (root / folder).rglob("*.py"))
    hinted = set(re.findall(r"\b(?:[Uu]se|[Cc]all|[Tt]ry) `?(\w+)\(\)", text))
    assert hinted <= set(re.findall(r"\bdef (\w+)\(", text)), hinted
    assert re.findall(r"\b(?:[Uu]se|[Cc]all|[Tt]ry) `?(\w+)\(\)", 'raise X("use iter_letters() or pass files")') == ["iter_letters"]
    with pytest.raises(NotRegularFileError) as caught:
        read_letter(tmp_path)
    assert str(caught.value) == f"[E108] {tmp_path}: is a directory, not a file"

"""Long letters stream through ``kamerbrief annotate``: each paragraph's record is spooled as it comes
back (pipeline/spool.py), links are built section by section, and the outputs are written piece by
piece. These tests force the streaming path through many small pieces and check that every output
equals what the in-memory path (the whole record as a dict) gives, byte for byte."""
from __future__ import annotations

import json
import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamerbrief.pipeline import spool
from kamerbrief.pipeline.letters import OUTSIDE_SCOPE, link_recommendations
from kamerbrief.pipeline.reader.letter import Letter, Paragraph


def _links_reference(paragraphs: list[dict]) -> list[dict]:
    """The section rule of pipeline/letters.py as first written: every recommendation scans its section
    (quadratic; kept here as the reference the streaming Linker must agree with)."""
    links = []
    in_heading_section = False
    for i, paragraph in enumerate(paragraphs):
        if paragraph["kind"] == "heading" or paragraph["kind"] in OUTSIDE_SCOPE:
            in_heading_section = paragraph["kind"] == "heading" and "recommendation" in paragraph["labels"]
        if "recommendation" not in paragraph["labels"] or paragraph["kind"] in OUTSIDE_SCOPE \
                or (in_heading_section and paragraph["kind"] != "heading"):
            continue
        scope = [i]
        for j in range(i + 1, len(paragraphs)):
            other = paragraphs[j]
            if other["kind"] == "heading" or other["kind"] in OUTSIDE_SCOPE:
                break
            if "recommendation" in other["labels"] and paragraph["kind"] != "heading":
                break
            scope.append(j)
        position = next((j for j in scope if "adoption" in paragraphs[j]["labels"]), None)
        actions = [j for j in scope if "action" in paragraphs[j]["labels"]]
        deadlines = [{"paragraph": j, **paragraphs[j]["deadline"]} for j in scope
                     if "deadline" in paragraphs[j]["labels"] and paragraphs[j].get("deadline")]
        links.append({"recommendation": i, "scope": [scope[0], scope[-1]],
                      "position": None if position is None else {"paragraph": position, "stance": paragraphs[position].get("stance")},
                      "actions": actions, "deadlines": deadlines})
    return links


KINDS = ["heading", "body", "list_item", "footnote", "signature", "salutation"]
LABELS = ["recommendation", "adoption", "action", "deadline"]
PARAGRAPH = st.builds(
    lambda kind, labels, stance, deadline: {"kind": kind, "labels": labels, "text": "x", "entities": [],
                                            **({"stance": stance} if stance else {}),
                                            **({"deadline": {"start": 0, "end": 1, "text": "x", "range": None}} if deadline else {})},
    st.sampled_from(KINDS), st.lists(st.sampled_from(LABELS), unique=True), st.sampled_from([None, "adopted", "rejected"]),
    st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(PARAGRAPH, max_size=40))
def test_streaming_links_equal_the_section_scan(paragraphs):
    assert link_recommendations(paragraphs) == _links_reference(paragraphs)


def _paragraph_record(i: int, rng: random.Random) -> dict:
    labels = sorted(rng.sample(["recommendation", "adoption", "action", "deadline"], rng.randint(0, 2)))
    text = f"Alinea {i}: het kabinet neemt de aanbeveling “{i}” over;\u00a0zie ook België.\n" * rng.randint(1, 4)
    record = {"text": text, "kind": rng.choice(["heading", "body", "body", "list_item"]), "labels": labels,
              "entities": [{"start": 0, "end": 6, "label": "ORG"}], "scores": {label: 0.5 for label in labels}}
    if "adoption" in labels:
        record["stance"] = "adopted"
    if "deadline" in labels:
        record["deadline"] = {"start": 0, "end": 6, "text": "Alinea", "range": None, "due": None}
    return record


def _spooled(tmp_path, paragraphs: list[dict], meta: dict) -> tuple[spool.SpooledLetter, dict]:
    letter = Letter("brief-ë", [Paragraph(p["text"], p["kind"]) for p in paragraphs], meta, "../in/brief-ë.txt")
    sink = spool.SpooledLetter.factory(tmp_path, "../in/brief-ë.txt")(letter, False)
    for paragraph in paragraphs:
        sink.add(paragraph, None)
    record = {"id": letter.id, "source": letter.path, "meta": meta, "paragraphs": paragraphs,
              "links": link_recommendations(paragraphs)}
    spooled, docs = sink.finish({**record, "paragraphs": []})
    assert spooled is sink and docs is None
    return sink, record


def test_a_spooled_letter_reads_back_exactly_as_the_record(tmp_path, monkeypatch):
    from kamerbrief.pipeline.render import letter_html

    monkeypatch.setattr(spool, "SPOOL_BYTES", 2048)  # to disk after a few paragraphs
    rng = random.Random(7)
    paragraphs = [_paragraph_record(i, rng) for i in range(300)]
    sink, record = _spooled(tmp_path, paragraphs, {"date": "2021-01-11", "title": "Brief “groot”"})
    assert sink.file._rolled  # the spool went to disk (an unnamed file: nothing is left in the folder)
    assert list(tmp_path.iterdir()) == []
    size, pieces = sink.ledger_line({"input": "../in/brief-ë.txt"})
    line = b"".join(pieces)
    assert line == (json.dumps({"input": "../in/brief-ë.txt", **record}, ensure_ascii=False) + "\n").encode("utf-8")
    assert size == len(line)
    assert list(sink.paragraphs()) == paragraphs
    assert "".join(sink.html_parts()) == letter_html(record)
    assert sink.n_paragraphs == 300 and sink.words == sum(len(p["text"].split()) for p in paragraphs)
    empty, record = _spooled(tmp_path, [], {})
    size, pieces = empty.ledger_line({"input": "x"})
    assert b"".join(pieces) == (json.dumps({"input": "x", **record}, ensure_ascii=False) + "\n").encode("utf-8")


def test_spooling_a_long_letter_holds_no_paragraphs_in_memory(tmp_path, monkeypatch):
    """5 MB of paragraph records go through the sink while Python's traced memory stays under 1 MB."""
    monkeypatch.setattr(spool, "SPOOL_BYTES", 128 * 1024)
    letter = Letter("groot", [], {}, "groot.txt")
    sink = spool.SpooledLetter(letter, False, tmp_path, "groot.txt")
    paragraph = _paragraph_record(1, random.Random(1))
    paragraph["text"] = "Het kabinet neemt de aanbeveling over. " * 25
    tracemalloc.start()
    try:
        for _ in range(5_000):
            sink.add(dict(paragraph), None)
        sink.finish({"id": "groot", "source": "groot.txt", "meta": {}, "paragraphs": [], "links": []})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.ledger_line({"input": "groot.txt"})[0] > 5_000_000
    assert peak < 1_000_000, peak


def _long_letter(n: int, heading: str = "Aanbeveling") -> str:
    parts = ["Aan de Voorzitter van de Tweede Kamer\n\nDen Haag, 11 januari 2021"]
    sentences = ["Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over.",
                 "De Minister van Justitie en Veiligheid stuurt voor het zomerreces van 2021 een brief.",
                 "Zie Kamerstuk 28 638, nr. 185 en artikel 3 van de Wet milieubeheer.",
                 "In Den Haag organiseert het WODC eind 2021 expertmeetings met A. Broekers-Knol in Zuid-Holland, België.",
                 "De termijn, bedoeld in artikel 8, tweede lid, loopt op 1 maart 2022 af."]
    for i in range(n):
        parts.append(f"{heading} {i + 1}" if i % 7 == 0 else sentences[i % 5].replace(" ", "\u00a0", i % 3))
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize("letter_setting", [None, "letter_names", "own_articles"])
def test_a_long_letter_streamed_in_many_pieces_gives_the_outputs_of_the_in_memory_record(tiny_pipeline, tmp_path, monkeypatch,
                                                                                       letter_setting):
    """Through ``annotate_corpus``: records spooled to disk after 1 KB, batches of 4 paragraphs, Parquet
    row groups of 16 rows; the ledger line, HTML report, Parquet rows and DocBin paragraphs equal those
    made from the letter's record annotated in memory (``annotate_letters`` with its default sink), also with the
    letter-level decisions (``letter_names``; ``own_articles``, where the letter has article headings of its own: the
    spool is rewritten and the DocBin rebuilt)."""
    import pyarrow.parquet as pq
    from spacy.tokens import DocBin

    import kamerbrief
    from kamerbrief.pipeline import batch
    from kamerbrief.pipeline.letters import annotate_letters
    from kamerbrief.pipeline.reader import read_letter
    from kamerbrief.pipeline.render import letter_html

    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "lang.txt").write_text(_long_letter(120, "Artikel" if letter_setting == "own_articles" else "Aanbeveling"),
                                     encoding="utf-8")
    (inputs / "kort.txt").write_text("Het kabinet neemt de aanbeveling over.", encoding="utf-8")
    nlp = kamerbrief.load(tiny_pipeline)
    if letter_setting:
        setattr(nlp.get_pipe("kamerbrief_rules"), letter_setting, True)
    # the tiny model tags no REF: a ruler stands in for it on the bare article reference
    ruler = nlp.add_pipe("entity_ruler", before="kamerbrief_rules")
    ruler.add_patterns([{"label": "REF", "pattern": [{"LOWER": "artikel"}, {"TEXT": "8"}, {"TEXT": ","}, {"LOWER": "tweede"},
                                                     {"LOWER": "lid"}]}])
    rolled = []
    close = spool.SpooledLetter.close
    monkeypatch.setattr(spool, "SPOOL_BYTES", 1024)
    monkeypatch.setattr(spool.SpooledLetter, "close", lambda self: (rolled.append(self.file._rolled), close(self)))
    monkeypatch.setattr(batch, "PARQUET_ROWS_PER_GROUP", 16)
    out = tmp_path / "out"
    counts = batch.annotate_corpus([inputs], out, nlp, formats=("jsonl", "parquet", "docbin"), html=True, batch_size=4,
                                   progress=False)
    assert counts["letters"] == 2 and counts["failed"] == 0
    assert sorted(rolled) == [False, True]  # the long letter went to disk, the short one stayed in memory
    lines = (out / "annotations.jsonl").read_bytes().splitlines(keepends=True)
    rows = pq.read_table(out / "paragraphs").to_pylist()
    docs = [d for d in DocBin().from_disk(out / "docbin" / "part-00001.spacy").get_docs(nlp.vocab)]
    assert pq.ParquetFile(out / "paragraphs" / "part-00001.parquet").metadata.num_row_groups > 5
    names = ["kort.txt", "lang.txt"]  # the order the folder is read in
    letters = [read_letter(inputs / name) for name in names]
    for name, letter in zip(names, letters, strict=True):
        letter.path = f"../in/{name}"
    # The same stream of paragraphs in the same batches, kept in memory.
    expected = list(annotate_letters(letters, nlp, batch_size=4))
    for name, line, (_, record, expected_docs) in zip(names, lines, expected, strict=True):
        key = f"../in/{name}"
        assert line == (json.dumps({"input": key, **record}, ensure_ascii=False) + "\n").encode("utf-8")
        assert (out / "html" / batch.html_name(record["id"], key)).read_text(encoding="utf-8") == letter_html(record)
        expected_rows = list(batch._parquet_rows([(batch.Item(key, name), spool.open_record(record), [])]))
        assert [r for r in rows if r["input"] == key] == expected_rows
        assert [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents], d.cats)
                for d in docs if d.user_data["input"] == key] == \
               [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents], d.cats) for d in expected_docs]
    assert len(json.loads(lines[1])["paragraphs"]) == 122
    # the regulation's own "artikel 8, tweede lid" (a heading of the letter) is a REF of the rules, unless the letter-level decision drops it
    own = [p["text"][e["start"]:e["end"]] for p in json.loads(lines[1])["paragraphs"] for e in p["entities"] if e["label"] == "REF"]
    assert ("artikel 8, tweede lid" in own) == (letter_setting != "own_articles")

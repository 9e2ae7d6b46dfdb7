"""The record format: markup compilation, standoff round trips, the validator and the statistics."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kamerbrief.cli import app
from kamerbrief.data.markup import compile_markup, render_markup
from kamerbrief.data.records import read_records, resolve, text_sha256, to_standoff, write_records
from kamerbrief.data.stats import corpus_stats
from kamerbrief.data.validate import paragraph_problems, validate_files
from kamerbrief.errors import RecordError, StandoffResolutionError

runner = CliRunner()

MARKUP = """---
id: kb-test-01
date: 2021-01-11
---
@addressee
Aan de [[Voorzitter van de Tweede Kamer der Staten-Generaal|ORG]]

@body adoption=adopted action deadline
Het kabinet neemt de aanbeveling van de [[Nationaal Rapporteur|ORG]] over en rapporteert voor [[het zomerreces van 2021|DATE|2021-07-02..2021-08-30]].
"""


def test_markup_compiles_to_offsets_into_the_plain_text():
    record = compile_markup(MARKUP)
    paragraph = record["paragraphs"][1]
    assert paragraph["labels"] == ["adoption", "action", "deadline"] and paragraph["stance"] == "adopted"
    spans = [(paragraph["text"][e["start"]:e["end"]], e["label"]) for e in paragraph["entities"]]
    assert spans == [("Nationaal Rapporteur", "ORG"), ("het zomerreces van 2021", "DATE")]
    assert paragraph["entities"][1]["range"] == {"start": "2021-07-02", "end": "2021-08-30"}
    assert compile_markup(render_markup(record)) == record


@pytest.mark.parametrize("bad, message", [
    (MARKUP.replace("adoption=adopted", "adoption"), "needs a stance"),
    (MARKUP.replace("|ORG]]", "|ORGANISATION]]", 1), "unknown entity label"),
    (MARKUP.replace("@body", "@paragraph"), "must start with a kind"),
    (MARKUP.replace(" deadline\n", " deadlines\n"), "unknown paragraph label"),
    (MARKUP.replace("2021-07-02..2021-08-30", "2021-08-30..2021-07-02"), "bad range"),
    (MARKUP.replace("[[Nationaal Rapporteur|ORG]]", "[[Nationaal Rapporteur|ORG]"), "malformed entity markup"),
])
def test_markup_errors_name_the_paragraph(bad, message):
    with pytest.raises(RecordError, match=message):
        compile_markup(bad, "brief.txt")


def test_validator_finds_every_problem(tmp_path):
    good = compile_markup(MARKUP)
    bad = json.loads(json.dumps(good))
    bad["id"] = "kb-test-02"
    p = bad["paragraphs"][1]
    p["labels"].append("advice")
    p["entities"].append({"start": 45, "end": 60, "label": "ORG"})  # overlaps Nationaal Rapporteur
    p["entities"].append({"start": 0, "end": 500, "label": "LOC"})  # outside the text
    p["entities"][1].pop("range")  # DATE in a deadline paragraph without range
    bad["paragraphs"][0]["stance"] = "adopted"  # stance without adoption
    path = tmp_path / "train.jsonl"
    write_records(path, [good, bad, good])  # the third repeats an id
    problems, n = validate_files([tmp_path])
    text = "\n".join(map(str, problems))
    assert n == 3
    for expected in ("unknown paragraph label 'advice'", "overlaps", "offsets outside the paragraph",
                     "needs a range", "stance 'adopted' without the adoption label", "duplicate id"):
        assert expected in text
    assert all("kb-test-01" not in str(pr) or "duplicate" in str(pr) for pr in problems)
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1 and "paragraph 1" in result.stdout


def test_validator_accepts_clean_records_and_reports_counts(tmp_path):
    write_records(tmp_path / "dev.jsonl", [compile_markup(MARKUP)])
    result = runner.invoke(app, ["data", "validate", str(tmp_path)])
    assert result.exit_code == 0, result.stdout
    stats = corpus_stats([tmp_path])
    assert stats["dev"]["letters"] == 1 and stats["dev"]["ORG"] == 2 and stats["dev"]["deadline"] == 1
    assert stats["dev"]["stance:adopted"] == 1
    # every paragraph counted by source kind: the markup letter is team-written (inline text)
    assert stats["dev"]["team-written paragraphs"] == stats["dev"]["paragraphs"] > 0 and stats["dev"]["real paragraphs"] == 0


def test_paragraph_problems_on_whitespace_spans():
    assert "whitespace" in paragraph_problems({"text": "De Raad adviseert", "labels": [], "entities": [{"start": 2, "end": 8, "label": "ORG"}]})[0]


def test_standoff_round_trip_against_the_seed_letter(shared_dir, tmp_path):
    from kamerbrief.pipeline.reader import read_letter

    letter = read_letter(shared_dir / "seeds" / "kst-31015-221.txt")
    inline = letter.to_record()
    inline["paragraphs"] = inline["paragraphs"][:3]
    spans = [(p.start, p.end) for p in letter.paragraphs[:3]]
    standoff = to_standoff(inline, spans, "seeds/kst-31015-221.txt", letter.id, "seeds/kst-31015-221.txt")
    assert all("text" not in p for p in standoff["paragraphs"])
    assert standoff["paragraphs"][1]["text_sha256"] == text_sha256("Den Haag, 11 januari 2021")
    write_records(tmp_path / "s.jsonl", [standoff])
    back = resolve(next(read_records(tmp_path / "s.jsonl")), shared_dir)
    assert [p["text"] for p in back["paragraphs"]] == [p["text"] for p in inline["paragraphs"]]
    stats = corpus_stats([tmp_path / "s.jsonl"], shared_dir)[str(tmp_path / "s.jsonl")]
    assert stats["real paragraphs"] == 3 and stats["team-written paragraphs"] == 0
    standoff["paragraphs"][1]["text_sha256"] = "0" * 16
    with pytest.raises(StandoffResolutionError, match="hash mismatch"):
        resolve(standoff, shared_dir)


def test_standoff_export_import_on_a_corpus_document(shared_dir, tmp_path):
    import gzip

    from kamerbrief.data.standoff_markup import export_markup, import_markup

    with gzip.open(shared_dir / "corpora" / "circulaires.jsonl.gz", "rt", encoding="utf-8") as handle:
        record = json.loads(handle.readline())
    exported = export_markup(record, "corpora/circulaires.jsonl.gz", max_paragraphs=5)
    first_text = exported.split("\n@", 2)[1].split("\n", 1)[1].strip()
    word = first_text.split()[0]
    annotated = exported.replace(first_text, first_text.replace(word, f"[[{word}|LAW]]", 1), 1)
    path = tmp_path / "doc.txt"
    path.write_text(annotated, encoding="utf-8")
    standoff = import_markup(path, shared_dir)
    assert "text" not in standoff["paragraphs"][0] and standoff["text_transform"] == "markdown-inline"
    inline = resolve(standoff, shared_dir)
    assert inline["paragraphs"][0]["text"] == first_text
    assert inline["paragraphs"][0]["entities"][0]["label"] == "LAW"
    marked_line = next(line for line in annotated.splitlines() if f"[[{word}|LAW]]" in line)
    path.write_text(annotated.replace(marked_line, marked_line + " (gewijzigd)"), encoding="utf-8")
    with pytest.raises(RecordError, match="text was changed"):
        import_markup(path, shared_dir)

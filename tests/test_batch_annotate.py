"""``kamerbrief annotate`` on bad models, bad outputs and bad inputs: exit status 0 / 1 / 2, the model
and output checks before any letter, stable letter keys, FIFOs, over-long paragraphs, report names,
contained per-letter failures that --resume retries, and bounded buffering inside long letters."""
from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamerbrief.cli import app

LETTERS = {
    "a.txt": "Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over.\n\nDe minister stuurt eind 2021 een brief.",
    "b.txt": "Zie Kamerstuk 28 638, nr. 185 en artikel 3 van de Wet milieubeheer.",
    "c.md": "# Reactie\n\nIn Den Haag organiseert het WODC voor 1 juli 2022 expertmeetings.",
}


def letters(folder: Path, extra: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**LETTERS, **(extra or {})}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def annotate(*args: str):
    result = CliRunner().invoke(app, ["annotate", *map(str, args), "--threads", "1"])
    return result.exit_code, result.output


def ledger(out: Path) -> list[dict]:
    path = out / "annotations.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def errors(out: Path) -> list[dict]:
    path = out / "errors.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# -- exit status ---------------------------------------------------------------------------------

def test_exit_0_when_every_letter_is_annotated(tiny_pipeline, tmp_path):
    code, output = annotate(letters(tmp_path / "in"), "-o", tmp_path / "out", "--model", tiny_pipeline)
    assert code == 0, output
    assert len(ledger(tmp_path / "out")) == 3 and errors(tmp_path / "out") == []


def test_exit_1_with_a_summary_when_some_letters_fail(tiny_pipeline, tmp_path):
    inputs = letters(tmp_path / "in", {"leeg.txt": "", "kapot.xml": "<?xml version='1.0'?><officiele-publicatie><brief>"})
    (inputs / "binair.txt").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    code, output = annotate(inputs, "-o", tmp_path / "out", "--model", tiny_pipeline)
    assert code == 1, output
    failed = errors(tmp_path / "out")
    assert sorted(e["code"] for e in failed) == ["E101", "E102", "E104"]
    assert all(e["file"] in e["error"] and e["code"] in e["error"] for e in failed)
    assert len(ledger(tmp_path / "out")) == 3
    assert "3 of 6 letter(s) failed" in output and "errors.jsonl" in output and "Traceback" not in output


def _broken_copy(tiny_pipeline: Path, tmp_path: Path, how: str) -> Path:
    model = Path(shutil.copytree(tiny_pipeline, tmp_path / "model"))
    weights = model / "kamerbrief_transformer" / "model"
    if how == "garbage-config":
        (weights / "config.json").write_text("{ this is not json", encoding="utf-8")
    elif how == "truncated-weights":
        data = (weights / "model.safetensors").read_bytes()
        (weights / "model.safetensors").write_bytes(data[: len(data) // 2])
    elif how == "empty-weights":
        (weights / "model.safetensors").write_bytes(b"")
    elif how == "random-weights":
        (weights / "model.safetensors").write_bytes(os.urandom(4096))
    elif how == "no-weights":
        (weights / "model.safetensors").unlink()
    return model


@pytest.mark.parametrize("how", ["garbage-config", "truncated-weights", "empty-weights", "random-weights", "no-weights"])
def test_a_broken_model_exits_2_before_any_letter(tiny_pipeline, tmp_path, how):
    model = _broken_copy(tiny_pipeline, tmp_path, how)
    out = tmp_path / "out"
    code, output = annotate(letters(tmp_path / "in"), "-o", out, "--model", model)
    assert code == 2, output
    assert "E501" in output and str(model) in output and "Traceback" not in output
    assert ledger(out) == [] and errors(out) == []  # no letter was touched, none recorded as failed


def test_a_missing_model_folder_exits_2(tmp_path):
    code, output = annotate(letters(tmp_path / "in"), "-o", tmp_path / "out", "--model", tmp_path / "nowhere")
    assert code == 2 and "E501" in output


def test_an_output_path_that_is_a_file_exits_2_before_the_model_is_loaded(tiny_pipeline, tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    model = _broken_copy(tiny_pipeline, tmp_path, "garbage-config")
    code, output = annotate(letters(tmp_path / "in"), "-o", target, "--model", model)
    assert code == 2 and "E603" in output and "not a folder" in output and "E501" not in output
    assert target.read_text() == "keep me"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_exits_2(tiny_pipeline, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        code, output = annotate(letters(tmp_path / "in"), "-o", out, "--model", tiny_pipeline)
    finally:
        out.chmod(0o755)
    assert code == 2 and "E603" in output


def test_an_unwritable_output_folder_exits_2_before_the_model_is_loaded(tiny_pipeline, tmp_path, monkeypatch):
    """As root a read-only folder is writable, so the write probe's failure is injected (EROFS)."""
    from kamerbrief.pipeline import batch

    monkeypatch.setattr(batch, "_fault_hits", batch.Counter())
    monkeypatch.setenv("KAMERBRIEF_FAULT", "probe:1:EROFS")
    model = _broken_copy(tiny_pipeline, tmp_path, "garbage-config")
    code, output = annotate(letters(tmp_path / "in"), "-o", tmp_path / "out", "--model", model)
    assert code == 2 and "E603" in output and "Read-only file system" in output and "E501" not in output


def test_a_second_run_without_resume_is_refused(tiny_pipeline, tmp_path):
    inputs, out = letters(tmp_path / "in"), tmp_path / "out"
    assert annotate(inputs, "-o", out, "--model", tiny_pipeline)[0] == 0
    before = (out / "annotations.jsonl").read_bytes()
    code, output = annotate(inputs, "-o", out, "--model", tiny_pipeline)
    assert code == 2 and "E600" in output and "--resume" in output
    assert (out / "annotations.jsonl").read_bytes() == before


# -- letter keys -------------------------------------------------------------------------------------

def test_resume_does_not_depend_on_how_the_paths_are_spelled(tiny_pipeline, tmp_path, monkeypatch):
    import kamerbrief
    from kamerbrief.pipeline.batch import annotate_corpus

    nlp = kamerbrief.load(tiny_pipeline)
    inputs = letters(tmp_path / "work" / "in")
    out = tmp_path / "work" / "out"
    first = annotate_corpus([inputs.resolve()], out.resolve(), nlp, progress=False)
    assert first["letters"] == 3
    before = (out / "annotations.jsonl").read_bytes()
    assert all(not r["input"].startswith("/") and not r["source"].startswith("/") for r in ledger(out))
    assert sorted(r["input"] for r in ledger(out)) == ["../in/a.txt", "../in/b.txt", "../in/c.md"]
    monkeypatch.chdir(tmp_path / "work")
    for spelling in (["in"], ["./in/../in/"], ["in/a.txt", "./in/b.txt", str(inputs / "c.md")]):
        again = annotate_corpus(spelling, "out", nlp, resume=True, progress=False)
        assert again["letters"] == 0 and again["skipped"] == 3, spelling
    # The same file named twice in one run is annotated once.
    twice = annotate_corpus(["in/a.txt", "./in/a.txt"], tmp_path / "work" / "out2", nlp, progress=False)
    assert twice["letters"] == 1 and twice["skipped"] == 1
    assert (out / "annotations.jsonl").read_bytes() == before


def test_collection_records_are_keyed_by_path_inside_the_collection(tiny_pipeline, tmp_path):
    from conftest import write_jsonl

    import kamerbrief
    from kamerbrief.pipeline.batch import annotate_corpus

    corpus = write_jsonl(tmp_path / "corpus.jsonl", [
        {"id": "c1", "path": "circulaires/een", "text": "# Titel\n\nHet kabinet neemt de aanbeveling over."},
        {"id": "c1", "path": "circulaires/een", "text": "# Titel\n\nEen tweede versie van dezelfde circulaire."},
        {"id": "c2", "text": "De minister stuurt eind 2021 een brief."}])
    counts = annotate_corpus([corpus], tmp_path / "out", kamerbrief.load(tiny_pipeline), progress=False)
    assert counts["letters"] == 3
    assert [r["input"] for r in ledger(tmp_path / "out")] == [
        "../corpus.jsonl#circulaires/een", "../corpus.jsonl#circulaires/een@2", "../corpus.jsonl#c2"]


# -- inputs that used to hang, fail or collide ------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_being_opened(tiny_pipeline, tmp_path):
    inputs = letters(tmp_path / "in")
    os.mkfifo(inputs / "pijp.txt")  # in a folder: the directory walk takes regular files only
    os.mkfifo(tmp_path / "direct.txt")  # named directly: refused, as a letter
    os.mkfifo(tmp_path / "direct.jsonl")  # and as a collection

    def hang(*_):
        raise TimeoutError("annotate blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(120)
    try:
        code, output = annotate(inputs, tmp_path / "direct.txt", tmp_path / "direct.jsonl", "-o", tmp_path / "out", "--model", tiny_pipeline)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert code == 1, output
    failed = errors(tmp_path / "out")
    refused = {Path(e["file"]).name: e["code"] for e in failed}
    # The FIFO in the folder is skipped by the walk or refused like the others, never read.
    assert {"direct.txt", "direct.jsonl"} <= set(refused) <= {"direct.txt", "direct.jsonl", "pijp.txt"}
    assert set(refused.values()) == {"E108"}
    assert all("FIFO" in e["error"] for e in failed)
    assert len(ledger(tmp_path / "out")) == 3


def test_a_paragraph_over_a_million_characters_is_annotated_in_pieces(tiny_pipeline, tmp_path):
    """spaCy refuses texts over nlp.max_length (1,000,000, E088): the paragraph is cut at sentence ends,
    annotated in pieces and merged, with offsets in the whole paragraph."""
    import kamerbrief
    from kamerbrief.pipeline.batch import annotate_corpus

    # Long words keep the token count (and the test) small; a REF beyond the millionth character.
    block = " ".join(["Rijksoverheidsbeleidsvoornemens"] * 40) + ". Zie Kamerstuk 28 638, nr. 185. "
    text = block * (1_000_500 // len(block) + 1) + "Tot slot: Kamerstuk 31 015, nr. 221."
    assert len(text) > 1_000_000 and "\n" not in text
    inputs = letters(tmp_path / "in", {"lang.txt": f"Lange brief\n\n{text}"})
    counts = annotate_corpus([inputs / "lang.txt"], tmp_path / "out", kamerbrief.load(tiny_pipeline), progress=False)
    assert counts["letters"] == 1 and counts["failed"] == 0
    (record,) = ledger(tmp_path / "out")
    paragraph = max(record["paragraphs"], key=lambda p: len(p["text"]))
    assert paragraph["text"] == text
    refs = [paragraph["text"][e["start"]:e["end"]] for e in paragraph["entities"] if e["label"] == "REF"]
    assert refs.count("Kamerstuk 28 638, nr. 185") == text.count("Kamerstuk 28 638, nr. 185")
    assert refs[-1] == "Kamerstuk 31 015, nr. 221"
    starts = [e["start"] for e in paragraph["entities"]]
    assert starts == sorted(starts) and starts[-1] > 1_000_000


def test_piece_starts_cut_at_sentence_ends_and_give_back_the_text():
    from kamerbrief.pipeline.letters import piece_starts

    text = "Een zin. " * 300 + "x" * 2500 + " woord" * 100
    starts = piece_starts(text, 1000)
    pieces = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    assert "".join(pieces) == text and all(0 < len(p) <= 1000 for p in pieces)
    assert all(p.endswith(". ") for p in pieces[:2])  # sentence ends first
    assert any(len(p) == 1000 and set(p) == {"x"} for p in pieces)  # no whitespace at all: a hard cut
    assert piece_starts("kort", 1000) == [0]


def test_html_report_names_differ_for_letters_that_differ_only_in_non_ascii_letters(tiny_pipeline, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "brief-ë.txt").write_text("Het kabinet neemt de aanbeveling over. Brief met e-trema.", encoding="utf-8")
    (inputs / "brief-ö.txt").write_text("De minister stuurt eind 2021 een brief. Brief met o-umlaut.", encoding="utf-8")
    code, output = annotate(inputs, "-o", tmp_path / "out", "--model", tiny_pipeline, "--html")
    assert code == 0, output
    reports = sorted((tmp_path / "out" / "html").glob("*.html"))
    assert len(reports) == 2 and reports[0].name != reports[1].name
    texts = [r.read_text(encoding="utf-8") for r in reports]
    assert sum("e-trema" in t for t in texts) == 1 and sum("o-umlaut" in t for t in texts) == 1


# -- failures inside the pipeline --------------------------------------------------------------------

def _exploding(tiny_pipeline):
    """The tiny pipeline plus a component that fails on one word, as a model bug would on one letter."""
    from spacy.language import Language

    import kamerbrief

    if "kamerbrief_test_explode" not in Language.factories:
        @Language.component("kamerbrief_test_explode")
        def explode(doc):
            if "BOEM" in doc.text:
                raise RuntimeError("the model cannot digest BOEM")
            return doc

    nlp = kamerbrief.load(tiny_pipeline)
    nlp.add_pipe("kamerbrief_test_explode")
    return nlp


def test_a_letter_failing_in_the_pipeline_is_contained_and_retried_by_resume(tiny_pipeline, tmp_path):
    import kamerbrief
    from kamerbrief.pipeline.batch import annotate_corpus

    inputs = letters(tmp_path / "in", {"b2.txt": "Dit is een brief met BOEM erin."})
    out = tmp_path / "out"
    counts = annotate_corpus([inputs], out, _exploding(tiny_pipeline), formats=("jsonl", "parquet"), progress=False)
    assert counts["letters"] == 3 and counts["failed"] == 1 and counts["codes"] == {"E601": 1}
    (failure,) = errors(out)
    assert failure["code"] == "E601" and failure["input"] == "../in/b2.txt" and "BOEM" in failure["error"]
    assert "b2.txt" in failure["error"]
    # Fixed model: the failed letter is not "done", so --resume annotates it (and only it).
    again = annotate_corpus([inputs], out, kamerbrief.load(tiny_pipeline), formats=("jsonl", "parquet"), resume=True,
                            progress=False)
    assert again["letters"] == 1 and again["skipped"] == 3 and again["failed"] == 0
    assert sorted(r["input"] for r in ledger(out)) == ["../in/a.txt", "../in/b.txt", "../in/b2.txt", "../in/c.md"]
    assert errors(out) == []  # errors.jsonl lists the failures of the latest run


def test_long_letters_stream_through_the_pipeline_with_bounded_buffering(tiny_pipeline):
    """Docs are made as the pipeline asks for them, not all up front: at no time are more than a few
    batches of a 2,000-paragraph letter made but not yet annotated."""
    import kamerbrief
    from kamerbrief.pipeline.letters import annotate_letters
    from kamerbrief.pipeline.reader.letter import Letter, Paragraph, set_offsets

    nlp = kamerbrief.load(tiny_pipeline)
    state = {"made": 0, "done": 0, "most_in_flight": 0}
    make_doc, pipe = nlp.make_doc, nlp.pipe

    def counting_make_doc(text):
        state["made"] += 1
        return make_doc(text)

    def watching_pipe(*args, **kwargs):
        if not kwargs.get("as_tuples"):  # spaCy's pipe calls itself for the Docs of (Doc, context) pairs
            yield from pipe(*args, **kwargs)
            return
        for doc, context in pipe(*args, **kwargs):
            state["done"] += 1
            state["most_in_flight"] = max(state["most_in_flight"], state["made"] - state["done"])
            yield doc, context

    nlp.make_doc, nlp.pipe = counting_make_doc, watching_pipe
    paragraphs = [Paragraph(f"Alinea {i}: het kabinet neemt de aanbeveling over.", "body") for i in range(2000)]
    set_offsets(paragraphs)
    (_, record, docs), = annotate_letters([Letter("groot", paragraphs)], nlp, batch_size=16, keep_docs=False)
    assert len(record["paragraphs"]) == 2000 and docs == []
    assert state["made"] == state["done"] == 2000
    assert 0 < state["most_in_flight"] <= 16 * 3

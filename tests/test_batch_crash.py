"""``kamerbrief annotate`` killed with SIGKILL (or hitting a full disk) at every point of a group's commit,
then resumed: every letter is in every output exactly once, and the outputs equal those of an
uninterrupted run (annotations.jsonl and errors.jsonl byte for byte, the set of Parquet rows, the
DocBin paragraphs, the HTML reports). The runs are forked from one warm process (tests/crash_runner.py)
so that the whole suite takes seconds per run, not an import of torch per run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

LETTERS = {
    "01.txt": "Geachte voorzitter,\n\nHet kabinet neemt de aanbeveling van de Nationaal Rapporteur over.\n\n"
              "De Minister van Justitie en Veiligheid stuurt voor het zomerreces van 2021 een brief.",
    "02.txt": "Aanbeveling 1\n\nZie Kamerstuk 28 638, nr. 185 en artikel 3 van de Wet milieubeheer.\n\n"
              "Het kabinet onderschrijft deze aanbeveling en zal eind 2021 rapporteren.",
    "03-leeg.txt": "",  # fails with E101 in every run
    "04.txt": "In Den Haag en Rotterdam organiseert het WODC eind 2021 expertmeetings.\n\nMet vriendelijke groet,",
    # Much longer than 04.txt, its group partner: half of that group's ledger bytes hold 04's whole line,
    # so a kill mid-ledger leaves a group half recorded, which only the journal's rollback undoes.
    "05.txt": "\n\n".join(["De staatssecretaris informeert uw Kamer uiterlijk 1 juli 2022 over de voortgang van het "
                           "programma en de resultaten van de pilots in Utrecht, Groningen en Zwolle."] * 6),
    "06.txt": "Het kabinet neemt deze aanbeveling niet over.\n\nDe minister zal voor 1 januari 2023 een wetsvoorstel indienen.",
}

# (fault armed in the first run, its expected exit status): SIGKILL is -9, a full disk exits 2.
SCENARIOS = {
    "kill-at-group-start": ("group-start:2", -9),
    "kill-before-first-part": ("part-write:1", -9),
    "kill-before-first-rename": ("before-rename:1", -9),
    "kill-after-first-rename": ("after-rename:1", -9),
    "kill-before-rename-mid-group": ("before-rename:6", -9),
    "kill-after-all-parts-renamed": ("after-rename:8", -9),
    "kill-between-parts-and-ledger": ("before-ledger:2", -9),
    "kill-mid-ledger-write": ("mid-ledger:2", -9),
    "kill-after-ledger-before-commit": ("after-ledger:2", -9),
    "kill-before-error-line": ("error-write:1", -9),
    "kill-mid-error-line": ("mid-errors:1", -9),
    "disk-full-writing-a-part": ("part-write:5:ENOSPC", 2),
    "disk-full-mid-ledger": ("mid-ledger:3:ENOSPC", 2),
}


def _args(inputs: Path, out: Path, model: Path, resume: bool) -> list[str]:
    args = ["annotate", str(inputs), "-o", str(out), "--model", str(model), "--threads", "1", "--group-size", "2",
            "--format", "parquet", "--format", "docbin", "--html"]
    return args + (["--resume"] if resume else [])


def _snapshot(out: Path, vocab) -> dict:
    """Everything a run leaves, in a form to compare: files by bytes, Parquet and DocBin by their rows."""
    import pyarrow.parquet as pq
    from spacy.tokens import DocBin

    rows = [row for part in sorted((out / "paragraphs").glob("*.parquet")) for row in pq.read_table(part).to_pylist()]
    docs = [(d.user_data["input"], d.user_data["paragraph"], d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents])
            for part in sorted((out / "docbin").glob("*.spacy")) for d in DocBin().from_disk(part).get_docs(vocab)]
    return {
        "ledger": (out / "annotations.jsonl").read_bytes(),
        "errors": (out / "errors.jsonl").read_bytes(),
        "parquet_rows": rows,
        "docbin": docs,
        "html": {p.name: p.read_bytes() for p in sorted((out / "html").glob("*"))},
        "leftovers": sorted(str(p.relative_to(out)) for p in out.rglob(".*") if p.name != "."),
    }


@pytest.fixture(scope="module")
def crash_runs(tiny_pipeline, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crash")
    inputs = tmp / "letters"
    inputs.mkdir()
    for name, text in LETTERS.items():
        (inputs / name).write_text(text, encoding="utf-8")
    runs, plan = [], {}

    def add(name, fault, resume):
        plan.setdefault(name, []).append(len(runs))
        runs.append({"args": _args(inputs, tmp / name, tiny_pipeline, resume), "fault": fault})

    add("reference", None, False)
    for name, (fault, _) in SCENARIOS.items():
        add(name, fault, False)
        if name == "kill-at-group-start":
            add(name, None, False)  # without --resume a started run is refused, untouched
        add(name, None, True)
    # Killed twice (the second time while resuming), then resumed to the end.
    add("killed-twice", "mid-ledger:2", False)
    add("killed-twice", "after-rename:3", True)
    add("killed-twice", None, True)
    # A run that completed: resuming it has nothing to annotate, and changes nothing.
    add("resume-a-finished-run", None, False)
    add("resume-a-finished-run", None, True)
    result = subprocess.run([sys.executable, str(TESTS / "crash_runner.py")], input=json.dumps(runs), capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    statuses = json.loads(result.stdout)
    return tmp, {name: [statuses[i] for i in indices] for name, indices in plan.items()}


@pytest.fixture(scope="module")
def reference(crash_runs, tiny_pipeline):
    import spacy

    tmp, runs = crash_runs
    assert runs["reference"][0]["status"] == 1, runs["reference"][0]["output"]  # 03-leeg.txt fails (E101)
    snapshot = _snapshot(tmp / "reference", spacy.blank("nl").vocab)
    records = [json.loads(line) for line in snapshot["ledger"].splitlines()]
    assert [r["id"] for r in records] == ["01", "02", "04", "05", "06"]
    assert [json.loads(line)["code"] for line in snapshot["errors"].splitlines()] == ["E101"]
    assert len(snapshot["parquet_rows"]) == len(snapshot["docbin"]) == sum(len(r["paragraphs"]) for r in records)
    assert len(snapshot["html"]) == 5 and snapshot["leftovers"] == []
    return snapshot


@pytest.mark.parametrize("name", [*SCENARIOS, "killed-twice"])
def test_a_killed_or_disk_full_run_resumes_to_exactly_the_uninterrupted_outputs(crash_runs, reference, name):
    import spacy

    tmp, runs = crash_runs
    first, *rest = runs[name]
    expected = SCENARIOS[name][1] if name in SCENARIOS else -9
    assert first["status"] == expected, first["output"]
    if expected == 2:
        assert "E603" in first["output"] and "--resume" in first["output"] and "Traceback" not in first["output"]
    if name == "kill-at-group-start":
        refused, *rest = rest
        assert refused["status"] == 2 and "E600" in refused["output"] and "--resume" in refused["output"]
    if name == "killed-twice":
        assert rest[0]["status"] == -9
    assert rest[-1]["status"] == 1, rest[-1]["output"]  # the empty letter still fails; all others are done
    assert "errors.jsonl" in rest[-1]["output"]
    snapshot = _snapshot(tmp / name, spacy.blank("nl").vocab)
    keys = [json.loads(line)["input"] for line in snapshot["ledger"].splitlines()]
    assert len(keys) == len(set(keys)) == 5
    assert snapshot["ledger"] == reference["ledger"]
    assert snapshot["errors"] == reference["errors"]
    by_row = lambda rows: sorted(rows, key=lambda r: (r["input"], r["paragraph"]))  # noqa: E731
    assert by_row(snapshot["parquet_rows"]) == by_row(reference["parquet_rows"])
    assert sorted(snapshot["docbin"]) == sorted(reference["docbin"])
    assert snapshot["html"] == reference["html"]
    assert snapshot["leftovers"] == []  # no journal, no .tmp files


def test_resuming_a_finished_run_changes_nothing(crash_runs, reference):
    import spacy

    tmp, runs = crash_runs
    first, again = runs["resume-a-finished-run"]
    assert first["status"] == again["status"] == 1
    assert "skipped (already done) 5" in again["output"]
    snapshot = _snapshot(tmp / "resume-a-finished-run", spacy.blank("nl").vocab)
    assert snapshot["ledger"] == reference["ledger"] and snapshot["errors"] == reference["errors"]
    assert len(snapshot["parquet_rows"]) == len(reference["parquet_rows"])

"""The Ray Data backend on a local Ray of 2 CPUs: ``annotate --backend ray`` writes records identical to a
one-process run, an actor killed with SIGKILL mid-run is restarted and every letter is still written
exactly once, and ``annotate_dataset`` annotates a dataset read with ``ray.data.read_json``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed (make test installs it)")

LETTERS = {
    "01.txt": "Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over.\n\nDe minister stuurt eind 2021 een brief.",
    "02.txt": "Zie Kamerstuk 28 638, nr. 185 en artikel 3 van de Wet milieubeheer.",
    "03-leeg.txt": "",
    "04.md": "# Reactie\n\nIn Den Haag organiseert het WODC voor 1 juli 2022 expertmeetings.",
    "05.txt": "Het kabinet neemt deze aanbeveling niet over.\n\nDe minister zal voor 1 januari 2023 een wetsvoorstel indienen.",
}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray") / "letters"
    folder.mkdir()
    for name, text in LETTERS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run(engine, inputs: Path, out: Path) -> dict:
    from kamerbrief.pipeline.batch import annotate_corpus

    counts = annotate_corpus([inputs], out, formats=("jsonl", "parquet"), letters_per_group=2, progress=False, engine=engine)
    assert counts["letters"] == 4 and counts["codes"] == {"E101": 1}, counts
    return counts


def outputs(out: Path) -> tuple[bytes, bytes, list]:
    import pyarrow.parquet as pq

    rows = [row for part in sorted((out / "paragraphs").glob("*.parquet")) for row in pq.read_table(part).to_pylist()]
    return (out / "annotations.jsonl").read_bytes(), (out / "errors.jsonl").read_bytes(), rows


@pytest.fixture(scope="module")
def reference(tiny_pipeline, inputs):
    import kamerbrief
    from kamerbrief.pipeline.batch import LocalEngine

    out = inputs.parent / "one"
    run(LocalEngine(kamerbrief.load(tiny_pipeline, threads=1, precision="fp32")), inputs, out)
    return outputs(out)


def test_the_ray_backend_writes_records_identical_to_one_process(local_ray, tiny_pipeline, inputs, reference):
    from kamerbrief.pipeline.ray_backend import RayEngine

    out = inputs.parent / "ray"
    run(RayEngine(tiny_pipeline, actors=2, threads=1, precision="fp32"), inputs, out)
    assert outputs(out) == reference
    entry = json.loads((out / "run.json").read_text())["runs"][-1]
    assert entry["backend"] == "ray" and entry["workers"] == 2 and entry["precision"] == "fp32" and entry["status"] == "done"


def test_an_actor_killed_mid_run_is_restarted_and_every_letter_is_written_once(local_ray, tiny_pipeline, inputs, reference,
                                                                                monkeypatch):
    from kamerbrief.pipeline.ray_backend import RayEngine

    marker = inputs.parent / "killed"
    monkeypatch.setenv("KAMERBRIEF_FAULT", "worker-group:2")  # an actor's second group kills it, once in the run
    monkeypatch.setenv("KAMERBRIEF_FAULT_ONCE", str(marker))
    out = inputs.parent / "ray-killed"
    run(RayEngine(tiny_pipeline, actors=1, threads=1, precision="fp32"), inputs, out)
    assert marker.exists(), "no actor was killed"
    ledger, errors, rows = outputs(out)
    keys = [json.loads(line)["input"] for line in ledger.splitlines()]
    assert len(keys) == len(set(keys)) == 4
    assert (ledger, errors, rows) == reference


def test_resume_on_ray_skips_what_the_ledger_lists(local_ray, tiny_pipeline, inputs, reference):
    from kamerbrief.pipeline.batch import annotate_corpus
    from kamerbrief.pipeline.ray_backend import RayEngine

    out = inputs.parent / "ray-resumed"
    import kamerbrief
    from kamerbrief.pipeline.batch import LocalEngine

    annotate_corpus([inputs / "01.txt"], out, formats=("jsonl", "parquet"), letters_per_group=2, progress=False,
                    engine=LocalEngine(kamerbrief.load(tiny_pipeline, threads=1, precision="fp32")))
    counts = annotate_corpus([inputs], out, formats=("jsonl", "parquet"), letters_per_group=2, progress=False, resume=True,
                             engine=RayEngine(tiny_pipeline, actors=2, threads=1, precision="fp32"))
    assert counts["skipped"] == 1 and counts["letters"] == 3
    assert sorted(outputs(out)[0].splitlines()) == sorted(reference[0].splitlines())


def test_annotate_dataset_reads_jsonl_and_writes_jsonl_and_parquet(local_ray, tiny_pipeline, inputs, tmp_path):
    import pyarrow.parquet as pq

    import kamerbrief
    from kamerbrief.pipeline.batch import LocalEngine, annotate_corpus
    from kamerbrief.pipeline.ray_backend import annotate_dataset, write_outputs

    corpus = tmp_path / "corpus.jsonl"
    records = [{"id": f"c{i}", "path": f"brief/{i}.md", "text": text} for i, text in enumerate(LETTERS.values()) if text]
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    local = tmp_path / "local"
    annotate_corpus([corpus], local, formats=("jsonl",), letters_per_group=4, progress=False,
                    engine=LocalEngine(kamerbrief.load(tiny_pipeline, threads=1, precision="fp32")))
    expected = {r["id"]: {k: v for k, v in r.items() if k not in ("input", "source")}
                for r in map(json.loads, (local / "annotations.jsonl").read_text().splitlines())}

    annotated = annotate_dataset(ray.data.read_json(str(corpus)), tiny_pipeline, letters_per_batch=4, actors=1, threads=1,
                                 precision="fp32")
    write_outputs(annotated, str(tmp_path / "ray-out"))
    got = [json.loads(line) for part in sorted((tmp_path / "ray-out" / "annotations").glob("*.json*"))
           for line in part.read_text().splitlines()]
    assert {row["id"]: {k: v for k, v in json.loads(row["record"]).items() if k not in ("input", "source")}
            for row in got} == expected
    rows = pq.read_table(tmp_path / "ray-out" / "paragraphs").to_pylist()
    assert len(rows) == sum(len(r["paragraphs"]) for r in expected.values())

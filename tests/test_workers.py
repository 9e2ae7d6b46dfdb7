"""``kamerbrief annotate --workers 2``: the same outputs as one process, byte for byte, and a worker killed
with SIGKILL mid-run is replaced without losing or repeating a letter. Also the ``auto`` precision."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamerbrief.cli import app

LETTERS = {
    "01.txt": "Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over.\n\nDe minister stuurt eind 2021 een brief.",
    "02.txt": "Zie Kamerstuk 28 638, nr. 185 en artikel 3 van de Wet milieubeheer.",
    "03-leeg.txt": "",  # unreadable (E101): its error line keeps its place between the groups
    "04.md": "# Reactie\n\nIn Den Haag organiseert het WODC voor 1 juli 2022 expertmeetings.",
    "05.txt": "\n\n".join(["De staatssecretaris informeert uw Kamer uiterlijk 1 juli 2022 over de voortgang."] * 3),
    "06.txt": "Het kabinet neemt deze aanbeveling niet over.\n\nDe minister zal voor 1 januari 2023 een wetsvoorstel indienen.",
    "07.txt": "Met vriendelijke groet,\n\nde Minister van Binnenlandse Zaken en Koninkrijksrelaties",
}


def letters(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in LETTERS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def snapshot(out: Path) -> dict:
    import pyarrow.parquet as pq
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("nl").vocab
    return {"ledger": (out / "annotations.jsonl").read_bytes(), "errors": (out / "errors.jsonl").read_bytes(),
            "parquet": [row for part in sorted((out / "paragraphs").glob("*.parquet")) for row in pq.read_table(part).to_pylist()],
            "docbin": [(d.user_data["input"], d.user_data["paragraph"], d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents],
                        d.cats) for part in sorted((out / "docbin").glob("*.spacy")) for d in DocBin().from_disk(part).get_docs(vocab)],
            "html": {p.name: p.read_bytes() for p in sorted((out / "html").glob("*.html"))}}


def annotate(inputs: Path, out: Path, model: Path, *extra: str, env: dict | None = None):
    args = ["annotate", str(inputs), "-o", str(out), "--model", str(model), "--threads", "1", "--group-size", "2",
            "--format", "parquet", "--format", "docbin", "--html", "--precision", "fp32", *extra]
    return CliRunner().invoke(app, args, env=env)


@pytest.fixture(scope="module")
def reference(tiny_pipeline, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("workers")
    inputs = letters(tmp / "letters")
    result = annotate(inputs, tmp / "one", tiny_pipeline)
    assert result.exit_code == 1, result.output  # 03-leeg.txt fails with E101
    return inputs, snapshot(tmp / "one")  # outputs of every test go beside "one": letter keys are relative to them


def test_two_workers_write_exactly_what_one_process_writes(reference, tiny_pipeline):
    inputs, expected = reference
    tmp_path = inputs.parent
    result = annotate(inputs, tmp_path / "two", tiny_pipeline, "--workers", "2")
    assert result.exit_code == 1, result.output
    assert snapshot(tmp_path / "two") == expected
    run = json.loads((tmp_path / "two" / "run.json").read_text())["runs"][-1]
    assert run["backend"] == "workers" and run["workers"] == 2 and run["threads"] == 1 and run["precision"] == "fp32"
    assert run["letters"] == 6 and run["failed"] == 1 and "flags" in run["cpu"]


def test_a_worker_killed_mid_run_is_replaced_and_every_letter_is_written_once(reference, tiny_pipeline):
    inputs, expected = reference
    tmp_path = inputs.parent
    marker = tmp_path / "killed"
    # The second group a worker starts on kills it (SIGKILL), once in the whole run.
    result = annotate(inputs, tmp_path / "killed-worker", tiny_pipeline, "--workers", "2",
                      env={"KAMERBRIEF_FAULT": "worker-group:2", "KAMERBRIEF_FAULT_ONCE": str(marker)})
    assert marker.exists(), "no worker was killed"
    assert result.exit_code == 1, result.output
    got = snapshot(tmp_path / "killed-worker")
    keys = [json.loads(line)["input"] for line in got["ledger"].splitlines()]
    assert len(keys) == len(set(keys)) == 6
    assert got == expected


def test_resume_with_workers_skips_the_done_letters(reference, tiny_pipeline):
    inputs, expected = reference
    out = inputs.parent / "resumed"
    assert annotate(inputs / "01.txt", out, tiny_pipeline).exit_code == 0
    result = annotate(inputs, out, tiny_pipeline, "--workers", "2", "--resume")
    assert result.exit_code == 1 and "skipped (already done) 1" in result.output, result.output
    assert snapshot(out)["ledger"] == expected["ledger"]  # 01 first, as before; the rest in input order


def test_auto_precision_is_fp32_where_the_isa_is_limited_to_avx2():
    code = ("from kamerbrief.pipeline.hardware import resolve_precision, cpu_info; import json; "
            "print(json.dumps([resolve_precision('auto'), cpu_info()]))")
    env = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "PATH": "/usr/bin:/bin"}
    precision, info = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                                check=True).stdout)
    assert precision == "fp32" and info["torch_capability"] == "AVX2" and info["native_bf16"] is False
    assert info["isa_limits"] == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    # Without the limits auto follows the CPU: bf16 exactly where it has AVX512-BF16 or AMX-BF16.
    precision, info = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert precision == ("bf16" if {"avx512_bf16", "amx_bf16"} & set(info["flags"]) else "fp32")
    assert precision == ("bf16" if info["native_bf16"] else "fp32")


def test_groups_go_to_idle_workers_first():
    """Two groups and two idle workers: one group each (the first worker once took both and the second idled);
    then each worker's queue fills to GROUPS_AHEAD, round by round."""
    from collections import deque
    from types import SimpleNamespace

    from kamerbrief.pipeline.workers import GROUPS_AHEAD, hand_out

    workers = [SimpleNamespace(name=0, outstanding=deque()), SimpleNamespace(name=1, outstanding=deque())]
    assert [(w.name, t) for w, t in hand_out(deque(["a", "b"]), workers)] == [(0, "a"), (1, "b")]
    workers[0].outstanding.append("x")   # busy with one group already
    queue = deque("cdefg")
    pairs = [(w.name, t) for w, t in hand_out(queue, workers)]
    assert pairs == [(1, "c"), (0, "d"), (1, "e")] and list(queue) == ["f", "g"] and GROUPS_AHEAD == 2

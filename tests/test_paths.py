"""No machine paths in what is committed or written for others: model cards, manifests, configs and
reports hold paths relative to the checkout or ``{shared}/...``."""
import json
import re
import subprocess
from pathlib import Path

from conftest import TINY_RECORDS, write_jsonl

from kamerbrief.paths import checkout_root, portable_path

ROOT = Path(__file__).resolve().parent.parent
# An absolute POSIX path (/work/..., /home/..., /tmp/...), a home folder (~/...), or a Windows drive.
ABSOLUTE = re.compile(r"""(?:^|[\s"'`(=\[])(/(?:work|home|tmp|root|Users|mnt|var|opt|srv|private|usr|data)/|~/|[A-Za-z]:[\\/])""")
# The vocabulary and tokenizer files are lists of words and pieces, not paths.
NOT_METADATA = {"strings.json", "tokenizer.json"}


def committed_metadata() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "models", "evaluation/reports", "data", "training/configs"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / f for f in listed if f.endswith((".json", ".md", ".cfg")) and Path(f).name not in NOT_METADATA]


def test_the_scan_finds_machine_paths():
    for text in ('"path": "/work/main/data/letters/train.jsonl"', "`/home/me/shared/x`", "--cache /tmp/dev.json",
                 'C:\\Users\\me\\x.jsonl', "out: ~/runs/a"):
        assert ABSOLUTE.search(text), text
    for text in ('"path": "data/letters/train.jsonl"', "{shared}/corpora/x.jsonl.gz", "../shared/corpora", "2021/05", "a/tmp/b"):
        assert not ABSOLUTE.search(text), text


def test_no_committed_card_manifest_config_or_report_holds_a_machine_path():
    files = committed_metadata()
    assert any(f.name == "README.md" and f.parent.parent.name == "models" for f in files)
    assert any(f.parent.name == "reports" for f in files)
    found = [f"{f.relative_to(ROOT)}:{n}: {line.strip()[:120]}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if ABSOLUTE.search(line)]
    assert not found, "\n".join(found)


def test_portable_path_writes_shared_files_with_the_placeholder_and_checkout_files_relative(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "corpora").mkdir(parents=True)
    assert portable_path(shared / "corpora" / "c.jsonl.gz", shared) == "{shared}/corpora/c.jsonl.gz"
    assert portable_path("{shared}/corpora/c.jsonl.gz") == "{shared}/corpora/c.jsonl.gz"
    if checkout_root() is not None:
        assert portable_path(checkout_root() / "data" / "letters" / "train.jsonl") == "data/letters/train.jsonl"
    monkeypatch.chdir(tmp_path)
    assert portable_path(tmp_path / "mine" / "a.jsonl", shared) == "mine/a.jsonl"
    assert portable_path("kamerbrief-nl-e5s-l4") == "kamerbrief-nl-e5s-l4"  # a name stays a name
    elsewhere = Path("/nonexistent-kamerbrief/x.jsonl")
    assert portable_path(elsewhere) == str(elsewhere)  # outside both: as the user gave it


def test_training_records_shared_files_as_shared_paths(tiny_base, tmp_path, monkeypatch):
    """A model trained from a file of the shared folder records it as {shared}/..., in the manifest,
    the saved config and the card."""
    from kamerbrief.training.train import train

    shared = tmp_path / "shared"
    (shared / "corpora").mkdir(parents=True)
    monkeypatch.setenv("KAMERBRIEF_SHARED", str(shared))
    data = write_jsonl(shared / "corpora" / "train.jsonl", TINY_RECORDS)
    out = tmp_path / "model"
    train({"base_model": str(tiny_base), "max_length": 16, "stride": 4, "data": {"train": [str(data)]},
           "training": {"batch_size": 4, "torch_threads": 1}}, out, max_steps=1, progress=False)
    manifest = json.loads((out / "data_manifest.json").read_text())
    assert manifest["train"][0]["path"] == "{shared}/corpora/train.jsonl"
    assert json.loads((out / "training_config.json").read_text())["data"]["train"] == ["{shared}/corpora/train.jsonl"]
    assert "`{shared}/corpora/train.jsonl`" in (out / "README.md").read_text()
    assert str(shared) not in (out / "README.md").read_text()


def test_an_evaluation_report_names_its_data_and_model_without_machine_paths(tiny_pipeline, tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from kamerbrief.cli import app

    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_pipeline, tmp_path / "models" / "tiny")
    gold = write_jsonl(tmp_path / "gold.jsonl", TINY_RECORDS)
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tmp_path / "models" / "tiny"), "--data", str(gold),
                                      "--json", "r.json", "--n-bootstrap", "20"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["data"] == ["gold.jsonl"]
    assert report["model"]["path"] == "models/tiny/kamerbrief_transformer/model"

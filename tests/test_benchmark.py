"""``kamerbrief benchmark`` on the bundled example letter with the tiny pipeline: every pipeline asked
for is timed on the same words, and each gets its speed-up over the BERT-base-sized one."""
import json
from pathlib import Path

from typer.testing import CliRunner

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "examples" / "reactie-rapport-waterveiligheid.txt"


def test_benchmark_times_each_model_and_precision_next_to_bert_base(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["benchmark", str(EXAMPLE), "--model", str(tiny_pipeline), "--runs", "1",
                                      "--precision", "fp32", "--precision", "int8", "--threads", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    name = tiny_pipeline.name
    assert list(report["pipelines"]) == [f"{name} (fp32)", f"{name} (int8)", "BERT-base-sized (fp32)", "BERT-base-sized (int8)"]
    words = {r["words"] for r in report["pipelines"].values()}
    assert len(words) == 1 and words.pop() > 100  # the same letter for every pipeline
    assert all(r["words_per_second"] > 0 for r in report["pipelines"].values())
    assert f"speed-up of {name} (int8) over BERT-base-sized (int8):" in result.output
    assert report["models"][name] == str(tiny_pipeline / "kamerbrief_transformer" / "model")
    assert {r["precision"] for r in report["pipelines"].values()} == {"fp32", "int8"}
    assert "flags" in report["cpu"] and report["cpu"]["cores"] >= 1 and len(report["load_average_before"]) == 3


def test_benchmark_times_worker_processes(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["benchmark", str(EXAMPLE), "--model", str(tiny_pipeline), "--runs", "1", "--no-compare",
                                      "--precision", "fp32", "--workers", "1", "--workers", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    one, two = report["pipelines"].values()
    assert (one["workers"], two["workers"], two["threads"]) == (1, 2, max(1, report["cpu"]["cores"] // 2))
    assert one["words"] == two["words"] and two["words_per_second"] > 0

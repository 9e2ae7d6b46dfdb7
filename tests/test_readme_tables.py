"""The README's result tables are the reports' numbers: rendered from evaluation/reports/*.json, they must be
exactly what README.md holds between its markers (no model is loaded)."""
import json
import shutil
from pathlib import Path

import pytest

from kamerbrief.errors import ReadmeTablesError
from kamerbrief.evaluation.readme_tables import BLOCKS, COMMAND, REPORTS, fill, main, render_blocks

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_holds_the_tables_the_reports_give():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    wanted = fill(readme, render_blocks(ROOT / REPORTS))
    assert readme == wanted, f"README.md's result tables differ from {REPORTS}/*.json: run `{COMMAND}`"


def test_the_tables_quote_the_reports_per_source_kind():
    blocks = render_blocks(ROOT / REPORTS)
    real = json.loads((ROOT / REPORTS / "kamerbrief-nl-e5s-l4-test-real.json").read_text())["by_source"]["real"]
    assert f"| `test-real` | real | {real['n_letters']} passages" in blocks["status"]
    assert f"**{real['entities']['micro']['f']:.3f}**" in blocks["status"]
    bench = json.loads((ROOT / REPORTS / "benchmark.json").read_text())
    fp32 = bench["pipelines"]["kamerbrief-nl-e5s-l4 (fp32)"]["words_per_second"]
    assert f"| `kamerbrief-nl-e5s-l4` (default) | {fp32:,.0f} (" in blocks["speed"]


def _checkout_copy(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / REPORTS, root / REPORTS, ignore=shutil.ignore_patterns("*.md"))
    shutil.copy(ROOT / "README.md", root / "README.md")
    return root


def test_check_fails_on_a_changed_report_and_write_regenerates(tmp_path, capsys):
    root = _checkout_copy(tmp_path)
    assert main(["--check", "--root", str(root)]) == 0
    report_path = root / REPORTS / "kamerbrief-nl-e5s-l4-test-writer.json"
    report = json.loads(report_path.read_text())
    report["by_source"]["team-written"]["entities"]["micro"]["f"] = 0.5
    report_path.write_text(json.dumps(report))
    assert main(["--check", "--root", str(root)]) == 1
    assert COMMAND in capsys.readouterr().err
    assert main(["--write", "--root", str(root)]) == 0
    readme = (root / "README.md").read_text()
    assert "| `test-writer` | team-written | 30 letters, 606 paragraphs | **0.500** [" in readme
    assert main(["--check", "--root", str(root)]) == 0
    # Only the status block changed: the text around it is as it was.
    original = (ROOT / "README.md").read_text()
    begin, end = "<!-- kamerbrief:status:begin -->", "<!-- kamerbrief:status:end -->"
    assert readme.split(begin)[0] == original.split(begin)[0]
    assert readme.split(end)[1] == original.split(end)[1]


def test_a_missing_marker_or_report_is_a_coded_error(tmp_path, capsys):
    blocks = {name: "x" for name in BLOCKS}
    with pytest.raises(ReadmeTablesError, match="E505.*kamerbrief:status:begin"):
        fill("# README without markers\n", blocks)
    text = "a\n<!-- kamerbrief:status:begin -->\nold\n<!-- kamerbrief:status:end -->\nb\n"
    assert fill(text, {"status": "new"}) == "a\n<!-- kamerbrief:status:begin -->\nnew\n<!-- kamerbrief:status:end -->\nb\n"
    root = _checkout_copy(tmp_path)
    (root / REPORTS / "benchmark.json").unlink()
    assert main(["--check", "--root", str(root)]) == 2
    assert "E505" in capsys.readouterr().err

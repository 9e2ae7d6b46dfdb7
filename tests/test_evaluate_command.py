"""``kamerbrief evaluate`` end to end on a tiny trained pipeline: the report's shape, the error
browser, --compare and --from-raw."""
import json

from conftest import TINY_RECORDS, write_jsonl
from typer.testing import CliRunner


def test_evaluate_writes_the_documented_json_shape_and_error_browser(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    gold = write_jsonl(tmp_path / "gold.jsonl", TINY_RECORDS)
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_pipeline), "--data", str(gold), "--json", str(tmp_path / "r.json"),
                                      "--markdown", str(tmp_path / "r.md"), "--html", str(tmp_path / "errors.html"), "--n-bootstrap", "50"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n_letters"] == 2 and report["n_paragraphs"] == 4
    for avg in ("micro", "macro"):
        assert set(report["paragraphs"][avg]) >= {"p", "r", "f"}
    for label in ("recommendation", "adoption", "action", "deadline"):
        s = report["paragraphs"]["per_label"][label]
        assert set(s) >= {"p", "r", "f", "support", "f_ci95"} and len(s["f_ci95"]) == 2
    assert set(report["entities"]["micro"]) >= {"p", "r", "f", "f_ci95"}
    assert set(report["entities"]["per_label"]["ORG"]) >= {"p", "r", "f", "support"}
    assert report["stance"]["support"] == 1 and 0.0 <= report["stance"]["accuracy"] <= 1.0
    assert set(report["model"]["thresholds"]) == {"recommendation", "adoption", "action", "deadline"}
    assert "paragraph" in (tmp_path / "r.md").read_text()
    page = (tmp_path / "errors.html").read_text()
    assert "false negatives" in page or "false positives" in page


def test_compare_of_a_model_with_itself_finds_no_difference(tiny_pipeline, tmp_path):
    import kamerbrief
    from kamerbrief.evaluation.evaluate import compare

    result = compare(kamerbrief.load(tiny_pipeline), kamerbrief.load(tiny_pipeline), TINY_RECORDS, n_bootstrap=50, progress=False)
    assert result["paragraph_macro_f"]["diff"] == 0 and not result["paragraph_macro_f"]["significant"]


def test_from_raw_aligns_reader_paragraphs_to_standoff_gold(tiny_pipeline, shared_dir):
    import kamerbrief
    from kamerbrief.evaluation.evaluate import evaluate_from_raw, load_gold

    records = load_gold(["data/standoff/dev.jsonl"])[:2]
    report = evaluate_from_raw(kamerbrief.load(tiny_pipeline), records, n_bootstrap=20, progress=False)
    seg = report["segmentation"]
    assert seg["gold"] == sum(len(r["paragraphs"]) for r in records)
    # The gold paragraphs were made from this reader's segmentation, so nearly all align.
    assert seg["overlap_iou_0.5"]["r"] >= 0.9
    assert report["n_paragraphs"] == seg["gold"]


def test_align_paragraphs_counts_exact_and_overlap_matches():
    from kamerbrief.evaluation.evaluate import align_paragraphs

    gold = [(0, 10), (12, 30), (32, 40)]
    predicted = [(0, 10), (12, 20), (21, 30), (32, 40), (50, 60)]
    best, counts = align_paragraphs(gold, predicted)
    assert best == [0, 2, 3]  # (21, 30) overlaps (12, 30) by 9 characters, (12, 20) by 8
    # (50, 60) lies outside the gold-covered region and is not counted.
    assert counts["predicted"] == 4 and counts["exact_gold"] == 2 and counts["exact_pred"] == 2
    # (12, 20) has IoU 8/18 with (12, 30): below 0.5; (21, 30) 9/18 = 0.5.
    assert counts["overlap_gold"] == 3 and counts["overlap_pred"] == 3


def test_compare_can_pit_a_model_against_its_own_int8_version(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    gold = write_jsonl(tmp_path / "gold.jsonl", TINY_RECORDS)
    result = CliRunner().invoke(app, ["evaluate", "--data", str(gold), "--compare", str(tiny_pipeline),
                                      "--compare", f"{tiny_pipeline}@int8", "--n-bootstrap", "20", "--json", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert f"B = {tiny_pipeline}@int8" in result.output
    assert "paragraph_macro_f" in json.loads((tmp_path / "c.json").read_text())

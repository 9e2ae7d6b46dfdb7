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


def _standoff_gold(tmp_path):
    """A letter in a shared folder of its own and its gold as a standoff record (team-written text)."""
    from kamerbrief.data.records import resolve, to_standoff
    from kamerbrief.pipeline.reader import read_letter

    shared = tmp_path / "shared"
    (shared / "corpora").mkdir(parents=True)
    texts = [TINY_RECORDS[0]["paragraphs"][0], TINY_RECORDS[0]["paragraphs"][1]]
    (shared / "corpora" / "brief.txt").write_text("\n\n".join(p["text"] for p in texts) + "\n", encoding="utf-8")
    letter = read_letter(shared / "corpora" / "brief.txt")
    assert [p.text for p in letter.paragraphs] == [p["text"] for p in texts]
    inline = {"id": "brief", "meta": {"date": "2021-01-11"}, "paragraphs": texts}
    standoff = to_standoff(inline, [(p.source_start, p.source_end) for p in letter.paragraphs], "corpora/brief.txt", "brief", "brief")
    return shared, standoff, resolve(standoff, shared)


def test_from_raw_scores_deadline_ranges_and_stance_as_gold_mode_does(tiny_pipeline, tmp_path):
    """Where the reader cuts the paragraphs as the gold does, raw mode must give gold mode's scores:
    the predicted DATE ranges count (they were never filled in), and stance comes from the stance head."""
    import kamerbrief
    from kamerbrief.evaluation.evaluate import evaluate, evaluate_from_raw

    shared, _, record = _standoff_gold(tmp_path)
    nlp = kamerbrief.load(tiny_pipeline)
    gold_mode, _, _ = evaluate(nlp, [record], n_bootstrap=10, progress=False)
    raw_mode = evaluate_from_raw(nlp, [record], shared, n_bootstrap=10, progress=False)
    assert raw_mode["segmentation"]["exact"] == {"p": 1.0, "r": 1.0}
    # The DATE rule finds "het zomerreces van 2021" and the deadline component normalises it.
    assert gold_mode["deadlines"]["found"] == 1 and gold_mode["deadlines"]["total"] == 1
    assert raw_mode["deadlines"] == gold_mode["deadlines"]
    assert raw_mode["stance"]["support"] == 1 and raw_mode["stance"] == gold_mode["stance"]
    assert raw_mode["entities"]["micro"] == gold_mode["entities"]["micro"]


def test_evaluate_card_with_a_model_name_writes_into_that_models_folder(tiny_pipeline, tmp_path, monkeypatch):
    import shutil

    from kamerbrief.cli import app

    checkout = tmp_path / "checkout"
    shutil.copytree(tiny_pipeline, checkout / "models" / "tiny-x")
    monkeypatch.setattr("kamerbrief.paths.checkout_root", lambda: checkout)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    gold = write_jsonl(tmp_path / "gold.jsonl", TINY_RECORDS)
    result = CliRunner().invoke(app, ["evaluate", "--model", "tiny-x", "--data", str(gold), "--card", "--n-bootstrap", "20"])
    assert result.exit_code == 0, result.output
    folder = checkout / "models" / "tiny-x"
    assert json.loads((folder / "test_report.json").read_text())["n_letters"] == 2
    assert "## Held-out test scores" in (folder / "README.md").read_text()
    assert not (elsewhere / "tiny-x").exists() and list(elsewhere.iterdir()) == []

    unknown = CliRunner().invoke(app, ["evaluate", "--model", "no-such-model", "--data", str(gold), "--card"])
    assert unknown.exit_code == 2 and "E502" in unknown.output and not (elsewhere / "no-such-model").exists()


def test_data_takes_several_files_after_one_option(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    first = write_jsonl(tmp_path / "a.jsonl", TINY_RECORDS[:1])
    second = write_jsonl(tmp_path / "b.jsonl", TINY_RECORDS[1:])
    for args in (["--data", str(first), str(second)], ["--data", str(first), "--data", str(second)],
                 [f"--data={first}", str(second)]):
        result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_pipeline), *args, "--json", str(tmp_path / "r.json"),
                                          "--n-bootstrap", "10"])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / "r.json").read_text())["n_letters"] == 2
    # An option that takes one value still takes one: the word after it is an error, not more data.
    stray = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_pipeline), "--data", str(first), "--json", "r.json", "extra"])
    assert stray.exit_code == 2 and "extra" in stray.output


def test_loading_prints_no_weight_loading_bars(tiny_pipeline):
    """transformers draws "Loading weights" on every from_pretrained; loading a pipeline does not."""
    import subprocess
    import sys

    code = ("import sys, kamerbrief\n"
            f"nlp = kamerbrief.load({str(tiny_pipeline)!r}); nlp('Het kabinet neemt de aanbeveling over.')\n"
            "from transformers.utils import logging\n"
            "assert logging.is_progress_bar_enabled()  # switched off only around our loads\n"
            "print('--- plain transformers load ---', file=sys.stderr, flush=True)\n"
            "from transformers import AutoModel\n"
            f"AutoModel.from_pretrained({str(tiny_pipeline / 'kamerbrief_transformer' / 'model')!r})\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ours, plain = done.stderr.split("--- plain transformers load ---")
    assert "Loading weights" not in ours
    assert "Loading weights" in plain  # the bar this is about exists, so the check above can fail

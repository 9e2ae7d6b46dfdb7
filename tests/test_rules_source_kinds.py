"""Every evaluation report is split by source kind: real documents (corpora in ../shared) first, with
a table per corpus, then team-written letters; a report of one kind has no section for the other."""
from __future__ import annotations

import copy
import json

from conftest import TINY_RECORDS, write_jsonl
from typer.testing import CliRunner

from kamerbrief.evaluation.metrics import (
    REAL,
    TEAM_WRITTEN,
    ScoredParagraph,
    compare_items,
    evaluate_items,
    source_kind,
    split_by_source,
)
from kamerbrief.evaluation.report import compare_table, format_table, markdown_summary, markdown_table


def _real(record: dict, corpus: str, number: int) -> dict:
    """A copy of a tiny record presented as a document of a shared corpus (inline text, so no shared folder needed)."""
    out = copy.deepcopy(record)
    out.update(id=f"{corpus}-{number}", source=f"corpora/{corpus}.jsonl.gz", doc_id=f"BWBR{number:07d}", path=f"{corpus}/{number}/README.md")
    return out


MIXED = [*TINY_RECORDS, _real(TINY_RECORDS[0], "circulaires", 1), _real(TINY_RECORDS[1], "beleidsregels", 2)]


def test_source_kind_of_records():
    assert source_kind({"id": "kb-a-01", "source": "kamerbrief team-written (kb-a-01.txt)"}) == (TEAM_WRITTEN, TEAM_WRITTEN)
    assert source_kind({"id": "x", "source": "corpora/circulaires.jsonl.gz", "doc_id": "BWBR1", "path": "p"}) == (REAL, "circulaires")
    assert source_kind({"id": "x", "source": "corpora/handelingen-xml/h-tk-20172018-70-10.xml", "doc_id": "h-tk-20172018-70-10",
                        "path": "corpora/handelingen-xml/h-tk-20172018-70-10.xml"}) == (REAL, "handelingen-xml")
    assert source_kind({"id": "tiny-1", "paragraphs": []}) == (TEAM_WRITTEN, TEAM_WRITTEN)


def _items():
    # Real documents: one wrong entity in two; team-written: all right. Mixed, the two would average out.
    real = [ScoredParagraph(f"r{i}", "Wet milieubeheer", gold_entities=[(0, 16, "LAW")],
                            pred_entities=[(0, 16, "LAW")] if i % 2 else [(0, 3, "LAW")], source_kind=REAL,
                            corpus="circulaires" if i < 4 else "beleidsregels") for i in range(6)]
    team = [ScoredParagraph(f"t{i}", "Wet milieubeheer", gold_entities=[(0, 16, "LAW")], pred_entities=[(0, 16, "LAW")])
            for i in range(4)]
    return team + real


def test_report_scores_each_kind_and_corpus_with_its_own_bootstrap():
    report = evaluate_items(_items(), n_bootstrap=50)
    assert list(report["by_source"]) == [REAL, TEAM_WRITTEN]     # real documents first
    real, team = report["by_source"][REAL], report["by_source"][TEAM_WRITTEN]
    assert (real["n_letters"], team["n_letters"]) == (6, 4)
    # real: 3 of 6 right -> tp 3 fp 3 fn 3 -> F1 0.5; team-written: 1.0; mixed: tp 7 fp 3 fn 3 -> 0.7
    assert real["entities"]["micro"]["f"] == 0.5 and team["entities"]["micro"]["f"] == 1.0
    assert abs(report["entities"]["micro"]["f"] - 0.7) < 1e-9
    assert set(real["by_corpus"]) == {"beleidsregels", "circulaires"} and "by_corpus" not in team
    assert real["by_corpus"]["circulaires"]["n_letters"] == 4 and len(real["entities"]["micro"]["f_ci95"]) == 2
    md = markdown_table(report)
    assert md.index("## Real documents (beleidsregels, circulaires)") < md.index("## Team-written letters") < md.index("## Both kinds")
    assert "| circulaires | 4 |" in md
    summary = markdown_summary(report)
    assert summary.startswith("**Real documents") and "mixed" in summary
    text = format_table(report)
    assert text.startswith("== Real documents") and "|" not in text
    json.dumps(report)


def test_report_of_team_written_letters_only_has_no_real_section():
    report = evaluate_items(_items()[:4], n_bootstrap=20)
    assert list(report["by_source"]) == [TEAM_WRITTEN]
    for rendered in (markdown_table(report), markdown_summary(report), format_table(report)):
        assert "Real documents" not in rendered and "Both kinds" not in rendered


def test_compare_gives_paired_differences_per_kind():
    items = _items()
    fixed = [ScoredParagraph(x.letter_id, x.text, gold_entities=x.gold_entities, pred_entities=x.gold_entities,
                             source_kind=x.source_kind, corpus=x.corpus) for x in items]
    result = compare_items(items, fixed, n_bootstrap=50)
    assert result["by_source"][REAL]["entity_micro_f"]["diff"] == 0.5
    assert result["by_source"][TEAM_WRITTEN]["entity_micro_f"]["diff"] == 0.0
    table = compare_table(result)
    assert table.index("Real documents:") < table.index("Team-written letters:") < table.index("Both kinds together")
    assert split_by_source(items)[REAL][0].letter_id == "r0"


def test_evaluate_command_reports_each_kind(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    gold = write_jsonl(tmp_path / "gold.jsonl", MIXED)
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_pipeline), "--data", str(gold), "--json", str(tmp_path / "r.json"),
                                      "--markdown", str(tmp_path / "r.md"), "--n-bootstrap", "20"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert list(report["by_source"]) == [REAL, TEAM_WRITTEN]
    assert report["by_source"][REAL]["n_letters"] == 2 and report["by_source"][TEAM_WRITTEN]["n_letters"] == 2
    assert set(report["by_source"][REAL]["by_corpus"]) == {"circulaires", "beleidsregels"}
    md = (tmp_path / "r.md").read_text()
    assert md.startswith("## Real documents") and "## Team-written letters" in md
    assert result.output.index("== Real documents") < result.output.index("== Team-written letters")

    compared = CliRunner().invoke(app, ["evaluate", "--data", str(gold), "--compare", str(tiny_pipeline), "--compare", str(tiny_pipeline),
                                        "--n-bootstrap", "20", "--json", str(tmp_path / "c.json")])
    assert compared.exit_code == 0, compared.output
    comparison = json.loads((tmp_path / "c.json").read_text())
    assert comparison["by_source"][REAL]["entity_micro_f"]["diff"] == 0.0 and "Real documents:" in compared.output

    only_team = write_jsonl(tmp_path / "team.jsonl", TINY_RECORDS)
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_pipeline), "--data", str(only_team), "--markdown", str(tmp_path / "t.md"),
                                      "--n-bootstrap", "20"])
    assert result.exit_code == 0 and "Real documents" not in (tmp_path / "t.md").read_text()

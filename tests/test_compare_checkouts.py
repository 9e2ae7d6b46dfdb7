"""``python -m kamerbrief.evaluation.compare_checkouts``: scored paragraphs survive the JSON round trip, and two
files pair into the same comparison ``evaluate --compare`` would give."""
import pytest

from kamerbrief.errors import CheckoutComparisonError
from kamerbrief.evaluation.compare_checkouts import compare_files, item_from_json, item_to_json, write_items
from kamerbrief.evaluation.metrics import REAL, TEAM_WRITTEN, ScoredParagraph, compare_items


def _items(shift: int) -> list[ScoredParagraph]:
    return [
        ScoredParagraph("brief-1", "Op 3 maart 2021 besloot het kabinet.", {"action"}, {"action"}, "adopted", "adopted",
                        [(3, 15, "DATE")], [(3 + shift, 15, "DATE")], [((3, 15), ("2021-03-03", "2021-03-03"))],
                        {(3 + shift, 15): ("2021-03-03", "2021-03-03")}, source_kind=TEAM_WRITTEN,
                        gold_commitments=[{"start": 0, "end": 36, "actor": "kabinet", "due": ("2021-03-03", "2021-03-03")}],
                        pred_commitments=[{"start": 0, "end": 36, "actor": "kabinet", "due": None}]),
        ScoredParagraph("doc-2", "Zie artikel 5 van de Wmo.", set(), set(), None, None, [(4, 13, "REF"), (21, 24, "LAW")],
                        [(4, 13, "REF")], source_kind=REAL, corpus="circulaires"),
    ]


def test_scored_paragraphs_survive_the_json_round_trip():
    for item in _items(0) + _items(1):
        assert item_from_json(item_to_json(item)) == item


def test_two_files_pair_like_evaluate_compare(tmp_path):
    write_items(tmp_path / "a.json.gz", _items(0), {"commit": "a"})
    write_items(tmp_path / "b.json.gz", _items(1), {"commit": "b"})
    got = compare_files(tmp_path / "a.json.gz", tmp_path / "b.json.gz", n_bootstrap=50)
    want = compare_items(_items(0), _items(1), n_bootstrap=50)
    assert got["a"] == {"commit": "a"} and got["entity_micro_f"] == want["entity_micro_f"]
    assert got["by_source"] == want["by_source"]
    assert got["entity_micro_f"]["diff"] < 0   # the shifted DATE no longer matches


def test_files_of_different_gold_do_not_pair(tmp_path):
    write_items(tmp_path / "a.json.gz", _items(0), {})
    write_items(tmp_path / "b.json.gz", _items(0)[:1], {})
    with pytest.raises(CheckoutComparisonError, match="different gold paragraphs"):
        compare_files(tmp_path / "a.json.gz", tmp_path / "b.json.gz")
    (tmp_path / "c.json.gz").write_text("not gzip")
    with pytest.raises(CheckoutComparisonError, match="c.json.gz"):
        compare_files(tmp_path / "c.json.gz", tmp_path / "a.json.gz")

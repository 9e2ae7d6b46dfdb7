"""Choosing the rules' merge policy on dev (evaluation/rules_policy.py): the criterion, settings a policy must leave
off, and what --apply writes into a saved pipeline's config.cfg."""
from __future__ import annotations

import pytest
from spacy.util import load_config

from kamerbrief.evaluation.rules_policy import BASELINE, OPTIONAL_SETTINGS, apply_policy, choose


def _policy(rules: dict | None, real: float, team: float) -> dict:
    return {"rules": rules, "all": {"entity_f": (real + team) / 2}, "real": {"entity_f": real}, "team-written": {"entity_f": team}}


RESULT = {"policies": {
    BASELINE: _policy(None, 0.80, 0.950),
    "titles": _policy({"law_titles": "snap"}, 0.84, 0.951),
    "titles; names": _policy({"law_titles": "snap", "letter_names": True}, 0.86, 0.950),
    "titles; own": _policy({"law_titles": "snap", "own_articles": True}, 0.85, 0.952),
    "worse on letters": _policy({"law_titles": "snap", "org_names": True}, 0.90, 0.940),
}}


def test_the_best_real_f1_wins_among_policies_that_keep_the_team_written_letters():
    assert choose(RESULT)["policy"] == "titles; names"   # "worse on letters" loses 0.010 > the tolerance


def test_a_setting_named_in_without_makes_its_policies_ineligible():
    chosen = choose(RESULT, ("letter_names",))
    assert chosen["policy"] == "titles; own" and "letter_names on are not eligible" in chosen["criterion"]


def test_a_setting_at_its_factory_value_counts_as_off():
    result = {"policies": {BASELINE: _policy(None, 0.80, 0.950),
                           "titles off, said so": _policy({"law_titles": "off"}, 0.82, 0.950),
                           "titles snap": _policy({"law_titles": "snap"}, 0.84, 0.950)}}
    assert choose(result, ("law_titles",))["policy"] == "titles off, said so"


def test_apply_writes_the_chosen_rules_and_resets_the_settings_they_leave_unset(tmp_path):
    import spacy

    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_rules", config={"letter_names": True, "org_names": True})
    nlp.to_disk(tmp_path / "m")
    apply_policy(tmp_path / "m", {"law_titles": "snap", "own_articles": True})
    rules = load_config(tmp_path / "m" / "config.cfg", interpolate=False)["components"]["kamerbrief_rules"]
    assert {key: rules[key] for key in OPTIONAL_SETTINGS} == {"law_titles": "snap", "org_names": False, "letter_names": False,
                                                              "own_articles": True}


def test_apply_needs_a_saved_pipeline(tmp_path):
    from kamerbrief.errors import KamerbriefError

    with pytest.raises(KamerbriefError, match="config.cfg missing"):
        apply_policy(tmp_path, {"own_articles": True})

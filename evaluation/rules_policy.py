"""Measure merge policies of the ``kamerbrief_rules`` component on DEV gold data, with one model run.

The model runs once over the gold paragraphs with the rules and deadlines components disabled; its
entities, labels and stance are cached, and each candidate policy is applied to fresh Docs carrying
those predictions (rules, then deadlines), then scored per source kind (real documents,
team-written letters) with :func:`kamerbrief.evaluation.metrics.evaluate_items`.

``python -m kamerbrief.evaluation.rules_policy --model models/kamerbrief-nl-e5s-l4
--data data/letters/dev.jsonl --data data/standoff/dev.jsonl --out evaluation/reports/rules-policy-dev.json
--without letter_names --apply``

Test files are refused: a policy is chosen on dev only. ``--without SETTING`` keeps a setting off whatever dev says
(the default model leaves ``letter_names`` off: ``evaluation/reports/README.md``, "Roads, royal decrees and span
edges"); its policies are still measured and reported. ``--apply`` writes the chosen settings into the model's
``config.cfg``, every optional one the policy does not name at its factory value.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE
from kamerbrief.pipeline.rules import OPTIONAL_SETTINGS

#: The candidate policies, as ``kamerbrief_rules`` settings (``policy`` per label; see pipeline/rules.py).
CANDIDATES: dict[str, dict] = {
    "no rules": None,
    "old default (REF, DATE rule wins; no LAW rules)": {"labels": ["DATE", "REF"], "policy": {"REF": "rule", "DATE": "rule"}},
    "rule wins (REF, DATE, LAW)": {"policy": {"REF": "rule", "DATE": "rule", "LAW": "rule"}},
    "model wins (rules fill gaps)": {"policy": {"REF": "model", "DATE": "model", "LAW": "model"}},
    "longer span wins": {"policy": {"REF": "longer", "DATE": "longer", "LAW": "longer"}},
    "rule wins where it extends the model span": {"policy": {"REF": "extend", "DATE": "extend", "LAW": "extend"}},
    "REF, DATE rule wins; LAW extends": {"policy": {"REF": "rule", "DATE": "rule", "LAW": "extend"}},
    "REF, DATE rule wins; LAW longer": {"policy": {"REF": "rule", "DATE": "rule", "LAW": "longer"}},
    "REF rule wins; DATE, LAW extend": {"policy": {"REF": "rule", "DATE": "extend", "LAW": "extend"}},
    "REF extends; DATE rule wins; LAW extends": {"policy": {"REF": "extend", "DATE": "rule", "LAW": "extend"}},
    "REF longer; DATE rule wins; LAW extends": {"policy": {"REF": "longer", "DATE": "rule", "LAW": "extend"}},
    "REF rule wins; DATE, LAW longer": {"policy": {"REF": "rule", "DATE": "longer", "LAW": "longer"}},
    "REF, DATE rule wins; LAW model wins": {"policy": {"REF": "rule", "DATE": "rule", "LAW": "model"}},
    # The law-title lexicon (pipeline/law_titles.txt) on top of the policies chosen so far.
    **{f"{name}; law titles {mode}": {"policy": policy, "law_titles": mode}
       for name, policy in {"REF rule wins; DATE, LAW longer": {"REF": "rule", "DATE": "longer", "LAW": "longer"},
                            "REF, DATE rule wins; LAW extends": {"REF": "rule", "DATE": "rule", "LAW": "extend"}}.items()
       for mode in ("add", "extend", "snap")},
}
# The candidates above were measured before the road rules (LOC) existed: they keep the labels they had.
CANDIDATES = {name: {"labels": ["DATE", "REF", "LAW"], **rules} if rules and "labels" not in rules else rules
              for name, rules in CANDIDATES.items()}
# The road rules (LOC: road numbers, junctions, exits' places; pipeline/rules.py ROAD_PATTERNS) on the policy chosen so far.
def _with_roads(mode: str, **settings) -> dict:
    return {"labels": ["DATE", "REF", "LAW", "LOC"], "policy": {"REF": "rule", "DATE": "longer", "LAW": "longer", "LOC": mode},
            "law_titles": "snap", **settings}


ROADS = "REF rule wins; DATE, LAW longer; law titles snap; roads LOC"
CANDIDATES.update({f"{ROADS} {mode}": _with_roads(mode) for mode in ("model", "longer", "rule")})
# The names of public bodies (pipeline/org_names.txt) as ORG where no entity is or over a model ORG inside one, on the
# policy chosen so far, then the names a letter repeats spread through it (pipeline/letter_names.py).
CANDIDATES[f"{ROADS} longer; ORG names"] = _with_roads("longer", org_names=True)
CANDIDATES[f"{ROADS} longer; ORG names; letter names"] = _with_roads("longer", org_names=True, letter_names=True)
# A regulation's references to its own articles dropped (pipeline/own_articles.py), with and without the letter names.
CANDIDATES[f"{ROADS} longer; ORG names; own articles"] = _with_roads("longer", org_names=True, own_articles=True)
CANDIDATES[f"{ROADS} longer; ORG names; letter names; own articles"] = _with_roads("longer", org_names=True, letter_names=True,
                                                                                   own_articles=True)


def model_predictions(nlp, records: list[dict], batch_size: int = DEFAULT_BATCH_SIZE) -> list[dict]:
    """Per gold paragraph (in record order): the model's entities (character spans), labels, cats, stance."""
    texts = [p["text"] for r in records for p in r["paragraphs"]]
    out = []
    with nlp.select_pipes(enable=["kamerbrief_transformer"]):
        for doc in nlp.pipe(texts, batch_size=batch_size):
            out.append({"ents": [[e.start_char, e.end_char, e.label_] for e in doc.ents], "labels": doc._.labels,
                        "cats": dict(doc.cats), "stance": doc._.stance, "stance_scores": doc._.stance_scores})
    return out


def items_with_rules(nlp, records: list[dict], predictions: list[dict], rules: dict | None) -> list:
    """The scored paragraphs after applying ``rules`` (component settings; None: no rules) and the
    deadline component to Docs that carry the cached model predictions."""
    import spacy

    from kamerbrief.evaluation.evaluate import scored_paragraph
    from kamerbrief.pipeline import deadlines  # noqa: F401  (register factories)
    from kamerbrief.pipeline.letter_pass import after_letter, letter_pass_of
    from kamerbrief.pipeline.transformer import entity_spans

    post = spacy.blank("nl", vocab=nlp.vocab)
    if rules is not None:
        post.add_pipe("kamerbrief_rules", config=rules)
    post.add_pipe("kamerbrief_deadlines")
    letter_pass = letter_pass_of(post)   # the settings as the component read them
    items, i = [], 0
    for record in records:
        done = []
        for paragraph in record["paragraphs"]:
            pred = predictions[i]
            i += 1
            doc = nlp.make_doc(paragraph["text"])
            # The cached spans are the pipeline's own entities, whose edges may have split glued tokens
            # (``Weele|2``): split the fresh Doc the same way before setting them.
            doc.ents = entity_spans(doc, [{"start": s, "end": e, "label": label} for s, e, label in pred["ents"]],
                                    alignment="split")
            doc.cats = dict(pred["cats"])
            doc._.labels, doc._.stance, doc._.stance_scores = pred["labels"], pred["stance"], pred["stance_scores"]
            doc._.letter_date = record.get("meta", {}).get("date")
            doc._.kind = paragraph.get("kind")
            for _, component in post.pipeline:
                doc = component(doc)
            done.append((paragraph, doc))
        if letter_pass:   # the letter-level decisions, as annotate and evaluate make them
            after_letter([doc for _, doc in done], letter_pass)
        items += [scored_paragraph(record, paragraph, doc) for paragraph, doc in done]
    return items


def _summary(report: dict) -> dict:
    entities = report["entities"]
    return {"n_letters": report["n_letters"], "n_paragraphs": report["n_paragraphs"],
            "entity_f": round(entities["micro"]["f"], 4), "entity_f_ci95": [round(x, 4) for x in entities["micro"]["f_ci95"]],
            "per_label_f": {label: round(s["f"], 4) for label, s in entities["per_label"].items()},
            "deadline_accuracy": round(report["deadlines"]["accuracy"], 4)}


def measure(model: str | None, data: list[Path], n_bootstrap: int = 1000, cache: Path | None = None) -> dict:
    from kamerbrief.evaluation.evaluate import load_gold
    from kamerbrief.evaluation.metrics import evaluate_items, split_by_source
    from kamerbrief.pipeline.nlp import load

    if any("test" in Path(p).name for p in data):
        raise KamerbriefError("rules_policy chooses a policy: run it on dev data only, never on the test split", data[0])
    records = load_gold(data)
    nlp = load(model)
    if cache and cache.exists():
        predictions = json.loads(cache.read_text())
    else:
        predictions = model_predictions(nlp, records)
        if cache:
            cache.write_text(json.dumps(predictions))
    results = {}
    for name, rules in CANDIDATES.items():
        items = items_with_rules(nlp, records, predictions, rules)
        report = {"all": _summary(evaluate_items(items, n_bootstrap=n_bootstrap))}
        for kind, subset in split_by_source(items).items():
            report[kind] = _summary(evaluate_items(subset, n_bootstrap=n_bootstrap))
        results[name] = {"rules": rules, **report}
    from kamerbrief.paths import portable_path

    return {"model": portable_path(model) if model else None, "data": [portable_path(p) for p in data], "n_bootstrap": n_bootstrap, "policies": results}


BASELINE = "old default (REF, DATE rule wins; no LAW rules)"
#: How much team-written entity F1 a policy may give up against BASELINE (about a tenth of the width of its
#: 95% interval on dev); the choice is the best entity F1 on real documents among the policies within it.
TEAM_TOLERANCE = 0.005


def choose(result: dict, without: tuple[str, ...] = ()) -> dict:
    """The chosen policy: best real-document entity F1 without losing more than TEAM_TOLERANCE on team-written letters,
    among the policies that turn on none of the settings in ``without`` (measured, reported, not eligible)."""
    policies = result["policies"]
    floor = policies[BASELINE].get("team-written", {}).get("entity_f", 0.0) - TEAM_TOLERANCE
    allowed = {name: r for name, r in policies.items() if r.get("team-written", {}).get("entity_f", 1.0) >= floor
               and all((r["rules"] or {}).get(setting, OPTIONAL_SETTINGS[setting]) == OPTIONAL_SETTINGS[setting]
                       for setting in without)}
    name = max(allowed, key=lambda n: (allowed[n].get("real", allowed[n]["all"])["entity_f"], allowed[n]["all"]["entity_f"]))
    excluded = f"; policies with {', '.join(without)} on are not eligible" if without else ""
    return {"policy": name, "rules": policies[name]["rules"],
            "criterion": f"best entity F1 on real documents among policies whose team-written entity F1 is at least "
                         f"{BASELINE!r} minus {TEAM_TOLERANCE} (dev only; ties by entity F1 over both kinds){excluded}"}


def apply_policy(model_dir: Path, rules: dict) -> None:
    """Write the chosen ``kamerbrief_rules`` settings into a saved pipeline's ``config.cfg``."""
    from spacy.util import load_config

    config_path = Path(model_dir) / "config.cfg"
    if not config_path.is_file():
        raise KamerbriefError("--apply needs a saved pipeline folder (config.cfg missing)", config_path)
    config = load_config(config_path, interpolate=False)
    config["components"]["kamerbrief_rules"].update({**OPTIONAL_SETTINGS, **rules})
    config.to_disk(config_path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=None, help="JSON file for the model's predictions (reused if present)")
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--apply", action="store_true", help="write the chosen policy into the model's config.cfg")
    parser.add_argument("--without", action="append", default=[], choices=sorted(OPTIONAL_SETTINGS),
                        help="a setting the chosen policy must leave off (repeat); its policies are still measured")
    args = parser.parse_args(argv)
    result = measure(args.model, args.data, args.n_bootstrap, args.cache)
    result["chosen"] = choose(result, tuple(args.without))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    header = f"{'policy':55} {'kind':14} {'ent F1':>7} REF    DATE   LAW    ORG    deadline"
    print(header)
    for name, r in result["policies"].items():
        for kind in [k for k in r if k not in ("rules",)]:
            s = r[kind]
            f = s["per_label_f"]
            print(f"{name[:55]:55} {kind[:14]:14} {s['entity_f']:7.3f} {f.get('REF', 0):.3f}  {f.get('DATE', 0):.3f}  "
                  f"{f.get('LAW', 0):.3f}  {f.get('ORG', 0):.3f}  {s['deadline_accuracy']:.3f}")
    print(f"chosen: {result['chosen']['policy']}")
    if args.apply:
        apply_policy(args.model, result["chosen"]["rules"])
        print(f"applied to {Path(args.model) / 'config.cfg'}")


if __name__ == "__main__":
    main()

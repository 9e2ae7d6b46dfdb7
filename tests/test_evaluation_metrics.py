"""Scoring functions of ``kamerbrief evaluate``, on hand-made cases whose scores are worked out by hand."""
from __future__ import annotations

import json
import random
import time

import pytest
from seqeval.metrics.v1 import precision_recall_fscore_support as seq_prfs
from seqeval.scheme import IOB2

from kamerbrief.evaluation.metrics import (
    STATISTICS,
    CountTable,
    ScoredParagraph,
    _bio_pairs,
    bootstrap,
    char_spans_to_bio,
    entity_label_f,
    evaluate_items,
    paired_bootstrap,
    paragraph_label_f,
    score_deadlines,
    score_entities,
    score_paragraph_labels,
    score_stance,
)
from kamerbrief.evaluation.report import compare_table, format_table, markdown_summary, markdown_table

approx = pytest.approx


def para(letter, gold=(), pred=(), **kw) -> ScoredParagraph:
    return ScoredParagraph(letter_id=letter, text=kw.pop("text", "tekst"), gold_labels=set(gold), pred_labels=set(pred), **kw)


def span(text, phrase, label, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return (start, start + len(phrase), label)


# --------------------------------------------------------------------------------------------------
# paragraph labels: 3 letters, 5 paragraphs

FIVE = [
    para("L1", {"recommendation"}, {"recommendation"}),
    para("L1", {"adoption"}, {"adoption", "action"}),
    para("L2", {"action", "deadline"}, {"action"}),
    para("L2", set(), {"recommendation"}),
    para("L3", {"adoption", "deadline"}, {"adoption", "deadline"}),
]


def test_paragraph_labels_by_hand():
    # recommendation: gold {1}, pred {1, 4}      -> tp 1 fp 1 fn 0: P 1/2, R 1,   F 2/3, support 1
    # adoption:       gold {2, 5}, pred {2, 5}   -> tp 2 fp 0 fn 0: P 1,   R 1,   F 1,   support 2
    # action:         gold {3}, pred {2, 3}      -> tp 1 fp 1 fn 0: P 1/2, R 1,   F 2/3, support 1
    # deadline:       gold {3, 5}, pred {5}      -> tp 1 fp 0 fn 1: P 1,   R 1/2, F 2/3, support 2
    # micro: tp 5 fp 2 fn 1 -> P 5/7, R 5/6, F 2*5/(2*5+2+1) = 10/13
    # macro: P (1/2+1+1/2+1)/4 = 3/4, R (1+1+1+1/2)/4 = 7/8, F (2/3+1+2/3+2/3)/4 = 3/4
    s = score_paragraph_labels(FIVE)
    expected = {"recommendation": (0.5, 1, 2 / 3, 1), "adoption": (1, 1, 1, 2), "action": (0.5, 1, 2 / 3, 1),
                "deadline": (1, 0.5, 2 / 3, 2)}
    for label, (p, r, f, n) in expected.items():
        got = s["per_label"][label]
        assert (got["p"], got["r"], got["f"], got["support"]) == (approx(p), approx(r), approx(f), n), label
    assert (s["micro"]["p"], s["micro"]["r"], s["micro"]["f"]) == (approx(5 / 7), approx(5 / 6), approx(10 / 13))
    assert (s["macro"]["p"], s["macro"]["r"], s["macro"]["f"]) == (approx(0.75), approx(0.875), approx(0.75))
    # the count statistics agree with scikit-learn
    assert STATISTICS["paragraph_micro_f"](FIVE) == approx(10 / 13)
    assert STATISTICS["paragraph_macro_f"](FIVE) == approx(0.75)
    assert paragraph_label_f("deadline")(FIVE) == approx(2 / 3)


# --------------------------------------------------------------------------------------------------
# entities

def test_char_spans_to_bio_tokens_and_overlap():
    text = "Zie Kamerstuk 28 638, nr. 185 van de Nationaal Rapporteur."
    # tokens: Zie Kamerstuk 28 638 , nr . 185 van de Nationaal Rapporteur .
    ref = span(text, "Kamerstuk 28 638, nr. 185", "REF")
    org = (text.index("Nationaal"), text.index("Rapporteur") + 4, "ORG")   # ends inside "Rapporteur": overlap counts
    assert char_spans_to_bio(text, [org, ref]) == [
        "O", "B-REF", "I-REF", "I-REF", "I-REF", "I-REF", "I-REF", "I-REF", "O", "O", "B-ORG", "I-ORG", "O"]
    assert char_spans_to_bio("", []) == []


def test_strict_zero_partial_one():
    text = "Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over en stuurt in 2021 een brief."
    item = ScoredParagraph("L1", text,
                           gold_entities=[span(text, "Nationaal Rapporteur", "ORG"), span(text, "2021", "DATE")],
                           pred_entities=[span(text, "Nationaal", "ORG"), span(text, "2021", "DATE")])
    s = score_entities([item])
    # ORG: gold "Nationaal Rapporteur" (B I), pred "Nationaal" (B O): strict miss -> tp 0 fp 1 fn 1 -> F 0
    assert s["per_label"]["ORG"] == {"p": 0.0, "r": 0.0, "f": 0.0, "support": 1}
    # DATE: exact hit -> P = R = F = 1
    assert s["per_label"]["DATE"] == {"p": 1.0, "r": 1.0, "f": 1.0, "support": 1}
    # strict micro: tp 1 fp 1 fn 1 -> P 1/2, R 1/2, F 1/2; exact character spans: the same
    assert (s["micro"]["p"], s["micro"]["r"], s["micro"]["f"]) == (0.5, 0.5, 0.5)
    assert (s["exact_span"]["p"], s["exact_span"]["r"], s["exact_span"]["f"]) == (0.5, 0.5, 0.5)
    # partial: "Nationaal" overlaps "Nationaal Rapporteur" (ORG), "2021" overlaps "2021" -> tp 2 fp 0 fn 0 -> 1
    assert (s["partial"]["p"], s["partial"]["r"], s["partial"]["f"]) == (1.0, 1.0, 1.0)
    # labels no one annotates or predicts still get a row
    assert s["per_label"]["PER"] == {"p": 0.0, "r": 0.0, "f": 0.0, "support": 0}


def test_strict_iob2_boundary_between_adjacent_entities():
    text = "De ACM AFM toezichthouders."
    gold = [span(text, "ACM", "ORG"), span(text, "AFM", "ORG")]
    pred = [span(text, "ACM AFM", "ORG")]
    assert char_spans_to_bio(text, gold) == ["O", "B-ORG", "B-ORG", "O", "O"]
    assert char_spans_to_bio(text, pred) == ["O", "B-ORG", "I-ORG", "O", "O"]
    s = score_entities([ScoredParagraph("L1", text, gold_entities=gold, pred_entities=pred)])
    # strict: gold {ORG[1:2], ORG[2:3]}, pred {ORG[1:3]} -> tp 0 fp 1 fn 2 -> 0
    assert s["micro"]["f"] == 0.0 and s["micro"]["support"] == 2
    # partial: the one prediction overlaps "ACM" first (offset order); "AFM" stays unmatched
    # -> tp 1 fp 0 fn 1 -> P 1, R 1/2, F 2/3
    assert (s["partial"]["p"], s["partial"]["r"], s["partial"]["f"]) == (1.0, 0.5, approx(2 / 3))
    # partial matching is one-to-one: two predictions inside one gold span give one hit and one false positive
    text2 = "De Nationaal Rapporteur."
    one = ScoredParagraph("L1", text2, gold_entities=[span(text2, "Nationaal Rapporteur", "ORG")],
                          pred_entities=[span(text2, "Nationaal", "ORG"), span(text2, "Rapporteur", "ORG")])
    # tp 1 fp 1 fn 0 -> P 1/2, R 1, F 2/3
    p = score_entities([one])["partial"]
    assert (p["p"], p["r"], p["f"]) == (0.5, 1.0, approx(2 / 3))


def test_unannotated_entity_labels_are_ignored_on_both_sides():
    text = "Het WODC schrijft in 2021 aan minister Yeşilgöz."
    item = ScoredParagraph("L1", text, annotated_entity_labels={"DATE", "REF"},
                           gold_entities=[span(text, "2021", "DATE"), span(text, "WODC", "ORG")],
                           pred_entities=[span(text, "2021", "DATE"), span(text, "Yeşilgöz", "PER")])
    s = score_entities([item])
    # only DATE and REF count: DATE tp 1 -> everything 1
    assert s["labels"] == ["DATE", "REF"] and set(s["per_label"]) == {"DATE", "REF"}
    assert (s["micro"]["f"], s["exact_span"]["f"], s["partial"]["f"]) == (1.0, 1.0, 1.0)


def test_label_mismatch_is_a_miss_everywhere():
    text = "In Den Haag."
    item = ScoredParagraph("L1", text, gold_entities=[span(text, "Den Haag", "LOC")],
                           pred_entities=[span(text, "Den Haag", "ORG")])
    s = score_entities([item])
    assert (s["micro"]["f"], s["exact_span"]["f"], s["partial"]["f"]) == (0.0, 0.0, 0.0)
    assert s["per_label"]["LOC"]["support"] == 1 and s["per_label"]["ORG"]["support"] == 0


# --------------------------------------------------------------------------------------------------
# stance, deadlines

def test_stance_accuracy_and_confusion():
    items = [para("L1", gold_stance="adopted", pred_stance="adopted"),
             para("L1", gold_stance="adopted", pred_stance="partial"),
             para("L2", gold_stance="rejected", pred_stance=None),
             para("L2", gold_stance="partial", pred_stance="partial"),
             para("L3", gold_stance=None, pred_stance="adopted")]   # no gold stance: not scored
    s = score_stance(items)
    # 4 scored, 2 right -> 1/2
    assert (s["accuracy"], s["support"]) == (0.5, 4)
    c = s["confusion"]
    assert c["adopted"]["adopted"] == 1 and c["adopted"]["partial"] == 1
    assert c["rejected"]["none"] == 1 and c["partial"]["partial"] == 1
    assert sum(n for row in c.values() for n in row.values()) == 4
    assert set(c) == {"adopted", "partial", "rejected", "endorsed"}
    assert set(c["endorsed"]) == {"adopted", "partial", "rejected", "endorsed", "none"}
    assert STATISTICS["stance_accuracy"](items) == 0.5


def test_deadline_accuracy():
    items = [para("L1", gold_ranges=[((10, 14), ("2021-01-01", "2021-12-31")), ((20, 30), None)],
                  pred_ranges={(10, 14): ["2021-01-01", "2021-12-31"], (20, 30): None}),   # 2 correct (list == tuple, None == None)
             para("L2", gold_ranges=[((0, 5), ("2021-06-01", "2021-06-30"))],
                  pred_ranges={(0, 5): ("2021-06-01", "2021-07-15")}),                     # found, wrong range
             para("L3", gold_ranges=[((3, 8), None)], pred_ranges={(3, 9): None}),         # other offsets: not found
             para("L3")]                                                                   # no ranges
    # total 4, found 3, correct 2 -> accuracy 1/2
    assert score_deadlines(items) == {"accuracy": 0.5, "correct": 2, "found": 3, "total": 4}
    assert STATISTICS["deadline_accuracy"](items) == 0.5
    assert score_deadlines([]) == {"accuracy": 0.0, "correct": 0, "found": 0, "total": 0}


# --------------------------------------------------------------------------------------------------
# a random-ish corpus: 30 letters

WORDS = "het kabinet neemt de aanbeveling over en stuurt in 2021 een brief aan Kamer WODC Den Haag".split()
LABELS = ("ORG", "PER", "LOC", "DATE", "REF", "LAW")
PLABELS = ("recommendation", "adoption", "action", "deadline")


def corpus(seed=1, letters=30, noise=0.3) -> list[ScoredParagraph]:
    rnd = random.Random(seed)
    items = []
    for l in range(letters):
        for _ in range(rnd.randint(2, 5)):
            words = [rnd.choice(WORDS) for _ in range(rnd.randint(8, 20))]
            text = " ".join(words) + "."
            starts = [0]
            for w in words[:-1]:
                starts.append(starts[-1] + len(w) + 1)
            gold, pred = [], []
            i = 0
            while i < len(words):
                if rnd.random() < 0.25:
                    n = rnd.randint(1, 3)
                    j = min(i + n, len(words))
                    s, e, label = starts[i], starts[j - 1] + len(words[j - 1]), rnd.choice(LABELS)
                    gold.append((s, e, label))
                    r = rnd.random()
                    if r < noise / 3:
                        pass                                                        # missed
                    elif r < 2 * noise / 3:
                        pred.append((s, starts[i] + len(words[i]), label))          # first word only
                    elif r < noise:
                        pred.append((s, e, rnd.choice(LABELS)))                     # maybe another label
                    else:
                        pred.append((s, e, label))
                    i = j + 1
                else:
                    if rnd.random() < noise / 10:
                        pred.append((starts[i], starts[i] + len(words[i]), rnd.choice(LABELS)))   # spurious
                    i += 1
            g = {p for p in PLABELS if rnd.random() < 0.4}
            p = {x for x in PLABELS if (x in g) != (rnd.random() < noise / 2)}
            stance = rnd.choice(("adopted", "partial", "rejected", "endorsed")) if "adoption" in g else None
            pred_stance = stance if stance and rnd.random() > noise else rnd.choice(("adopted", "partial", None))
            items.append(ScoredParagraph(f"letter{l}", text, g, p, stance, pred_stance, gold, pred))
    return items


def test_per_letter_counts_reproduce_seqeval():
    items = corpus(seed=7)
    gold, pred = _bio_pairs(items)
    p, r, f, _ = seq_prfs(gold, pred, average="micro", scheme=IOB2, zero_division=0)
    assert 0.2 < f < 0.95   # a case with hits and misses of every kind
    totals = CountTable(items).totals()
    tp = sum(totals[f"ent:{l}:tp"] for l in LABELS)
    fp = sum(totals[f"ent:{l}:fp"] for l in LABELS)
    fn = sum(totals[f"ent:{l}:fn"] for l in LABELS)
    assert tp / (tp + fp) == approx(p) and tp / (tp + fn) == approx(r)
    assert STATISTICS["entity_micro_f"](items) == approx(f)
    assert score_entities(items)["micro"]["f"] == approx(f)
    per_label = score_entities(items)["per_label"]
    for label in LABELS:
        assert entity_label_f(label)(items) == approx(per_label[label]["f"]), label


def test_bootstrap_deterministic_and_fast_path_matches_generic():
    items = corpus()
    stat = STATISTICS["paragraph_micro_f"]
    a, b = bootstrap(items, stat, n=1000, seed=0), bootstrap(items, stat, n=1000, seed=0)
    assert a == b
    assert bootstrap(items, stat, n=1000, seed=1) != a
    # the generic path (rescoring each resample with scikit-learn) draws the same letters
    generic = bootstrap(items, lambda it: score_paragraph_labels(it)["micro"]["f"], n=40, seed=3)
    assert generic == approx(bootstrap(items, stat, n=40, seed=3))
    # resampling is by letter: one letter -> every resample is that letter
    one = [x for x in items if x.letter_id == "letter0"]
    lo, hi = bootstrap(one, stat, n=50)
    assert lo == hi == approx(stat(one))


def test_evaluate_items_shape_intervals_and_speed():
    items = corpus()
    start = time.perf_counter()
    report = evaluate_items(items, n_bootstrap=1000, seed=0)
    assert time.perf_counter() - start < 5   # ~0.1 s on an idle core
    assert report["n_letters"] == 30 and report["n_paragraphs"] == len(items)
    par, ent = report["paragraphs"], report["entities"]
    for s in [par["micro"], par["macro"], ent["micro"], *par["per_label"].values(), *ent["per_label"].values()]:
        assert {"p", "r", "f", "f_ci95"} <= set(s)
        lo, hi = s["f_ci95"]
        assert lo <= s["f"] + 1e-9 and s["f"] - 1e-9 <= hi     # the interval holds the point estimate
    assert set(par["per_label"]) == set(PLABELS) and set(ent["per_label"]) == set(LABELS)
    assert all("support" in s for s in [*par["per_label"].values(), *ent["per_label"].values()])
    assert par["micro"]["f_ci95"][0] < par["micro"]["f_ci95"][1]
    assert {"p", "r", "f"} <= set(ent["partial"]) and {"p", "r", "f"} <= set(ent["exact_span"])
    assert ent["partial"]["f"] >= ent["exact_span"]["f"]
    assert {"accuracy", "support", "confusion"} <= set(report["stance"])
    assert {"accuracy", "correct", "found", "total"} <= set(report["deadlines"])
    json.dumps(report)   # JSON-ready
    assert evaluate_items(items, n_bootstrap=200, seed=5) == evaluate_items(items, n_bootstrap=200, seed=5)
    with pytest.raises(ValueError):
        evaluate_items([])


def test_paired_bootstrap():
    items = corpus(noise=0.4)
    stat = STATISTICS["paragraph_micro_f"]
    same = paired_bootstrap(items, items, stat, n=1000, seed=0)
    assert same["diff"] == 0 and same["diff_ci95"] == [0.0, 0.0]
    assert same["p_value"] == 1.0 and not same["significant"]
    # B is perfect; A is perfect but for one false label in the first paragraph of every letter
    # -> A < 1 = B in every resample -> the whole interval is above 0, p = 0
    perfect = [ScoredParagraph(x.letter_id, x.text, x.gold_labels, set(x.gold_labels), x.gold_stance, x.gold_stance,
                               x.gold_entities, list(x.gold_entities)) for x in items]
    firsts = {x.letter_id: i for i, x in reversed(list(enumerate(items)))}.values()
    worse = [ScoredParagraph(x.letter_id, x.text, x.gold_labels,
                             set(x.gold_labels) ^ ({"action"} if i in firsts else set())) for i, x in enumerate(items)]
    assert len(firsts) == 30
    items = worse
    better = paired_bootstrap(items, perfect, stat, n=1000, seed=0)
    assert better["b"] == 1.0 and better["diff"] == approx(1.0 - better["a"])
    assert better["significant"] and better["p_value"] == 0.0 and better["diff_ci95"][0] > 0
    # a plain callable gives the same answer (same draws)
    plain = paired_bootstrap(items, perfect, lambda it: stat(it), n=10, seed=2)
    assert plain["diff_ci95"] == approx(paired_bootstrap(items, perfect, stat, n=10, seed=2)["diff_ci95"])
    with pytest.raises(ValueError):
        paired_bootstrap(items, perfect[1:], stat)


# --------------------------------------------------------------------------------------------------
# rendering

def test_report_rendering():
    report = evaluate_items(corpus(), n_bootstrap=100)
    summary = markdown_summary(report)
    assert "| scope | label | P | R | F1 | 95% CI (F1) | support |" in summary
    for word in (*PLABELS, *LABELS, "micro", "macro", "partial", "stance accuracy", "deadline"):
        assert word in summary, word
    f = report["paragraphs"]["micro"]["f"]
    assert f"{f:.3f}" in summary
    assert "gold \\ predicted" in markdown_table(report)
    text = format_table(report)
    assert "adoption" in text and "|" not in text
    cmp = compare_table({"paragraph_micro_f": paired_bootstrap(FIVE, FIVE, STATISTICS["paragraph_micro_f"], n=20)})
    assert cmp.splitlines()[2].startswith("| paragraph_micro_f | 0.769 | 0.769 | 0.000 | [0.000, 0.000] | 1.000 | no |")

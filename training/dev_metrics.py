"""Dev metrics during training, from the Trainer's padded predictions.

Entities are scored with seqeval in strict IOB2 mode on the tokenizer pieces of each window (the
evaluation command scores character spans on whole paragraphs); paragraph labels with
scikit-learn's per-label F1 at each label's threshold; stance as accuracy on gold adoption
paragraphs.
"""
from __future__ import annotations

import numpy as np
from seqeval.metrics import f1_score as seq_f1
from seqeval.metrics import precision_score as seq_p
from seqeval.metrics import recall_score as seq_r
from seqeval.scheme import IOB2
from sklearn.metrics import f1_score, precision_recall_fscore_support

from kamerbrief.data.schema import IGNORE
from kamerbrief.pipeline.model.decoding import decode_tags, sigmoid, softmax


def piece_sequences(token_logits: np.ndarray, labels: np.ndarray, tags: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted tags of each window's labelled pieces, decoded as the pipeline decodes them."""
    gold, pred = [], []
    for row_logits, row_gold in zip(token_logits, labels, strict=True):
        keep = row_gold != IGNORE
        gold.append([tags[i] for i in row_gold[keep]])
        pred.append(decode_tags(softmax(row_logits[keep]), tags))
    return gold, pred


def entity_scores(gold: list[list[str]], pred: list[list[str]]) -> dict:
    kwargs = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    return {"p": seq_p(gold, pred, **kwargs), "r": seq_r(gold, pred, **kwargs), "f": seq_f1(gold, pred, **kwargs)}


def paragraph_scores(probabilities: np.ndarray, gold: np.ndarray, labels: list[str], thresholds: dict[str, float]) -> dict:
    cut = np.array([thresholds.get(label, 0.5) for label in labels])
    predicted = (probabilities >= cut).astype(int)
    p, r, f, support = precision_recall_fscore_support(gold.astype(int), predicted, average=None, zero_division=0)
    per_label = {label: {"p": float(p[i]), "r": float(r[i]), "f": float(f[i]), "support": int(support[i])}
                 for i, label in enumerate(labels)}
    return {"macro_f": float(np.mean(f)), "per_label": per_label}


def best_thresholds(probabilities: np.ndarray, gold: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Per label, the threshold in 0.10..0.90 that maximises dev F1 (ties: the one nearest 0.5)."""
    grid = np.round(np.arange(0.1, 0.91, 0.05), 2)
    out = {}
    for i, label in enumerate(labels):
        scores = [(f1_score(gold[:, i].astype(int), (probabilities[:, i] >= t).astype(int), zero_division=0), -abs(t - 0.5), t)
                  for t in grid]
        out[label] = float(max(scores)[2])
    return out


def make_compute_metrics(config):
    """A ``compute_metrics`` for the Trainer; ``label_names`` must be ``["labels", "cats", "stance"]``."""
    def compute_metrics(eval_pred) -> dict:
        token_logits, paragraph_logits, stance_logits = eval_pred.predictions[:3]
        labels, cats, stance = eval_pred.label_ids
        gold, pred = piece_sequences(token_logits, labels, config.tags)
        entities = entity_scores(gold, pred)
        paragraphs = paragraph_scores(sigmoid(paragraph_logits), cats, config.paragraph_labels, config.thresholds)
        has_stance = stance != IGNORE
        stance_acc = float((stance_logits.argmax(-1)[has_stance] == stance[has_stance]).mean()) if has_stance.any() else 0.0
        out = {"entity_p": entities["p"], "entity_r": entities["r"], "entity_f": entities["f"],
               "paragraph_macro_f": paragraphs["macro_f"], "stance_accuracy": stance_acc,
               "combined_f": (entities["f"] + paragraphs["macro_f"]) / 2}
        out.update({f"paragraph_f_{label}": s["f"] for label, s in paragraphs["per_label"].items()})
        return out
    return compute_metrics

"""Scoring functions for ``kamerbrief evaluate``: plain Python inputs in, plain dicts out.

One :class:`ScoredParagraph` per gold paragraph carries the gold and the predicted annotations;
nothing here runs a model or needs spaCy.

* paragraph labels: scikit-learn precision/recall/F1 on multi-hot matrices (per label, micro, macro);
* entities: seqeval strict IOB2 on token sequences made from character spans by
  :func:`char_spans_to_bio`, plus exact character-span and partial-overlap scores;
* stance: accuracy on gold adoption paragraphs, and a confusion matrix;
* deadlines: how many gold DATE ranges the pipeline normalised to the same range;
* confidence intervals: a percentile bootstrap over LETTERS (paragraphs of one letter are not
  independent), and a paired bootstrap to compare two models on the same paragraphs;
* source kinds: real documents (standoff records of the corpora in ``../shared``) and team-written
  letters are scored apart (``by_source`` in every report, per corpus for real documents), because a
  model can be good on one and weak on the other and a mixed figure hides that.

Every zero division (no gold and no predictions, say) scores 0, as ``zero_division=0`` does in
scikit-learn and seqeval. The bootstrap inside :func:`evaluate_items` sums per-letter counts, so
1,000 resamples take milliseconds; the :data:`STATISTICS` objects give :func:`bootstrap` and
:func:`paired_bootstrap` the same fast path.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from seqeval.metrics.v1 import precision_recall_fscore_support as seq_prfs
from seqeval.scheme import IOB2, Entities
from sklearn.metrics import precision_recall_fscore_support

from kamerbrief.data.records import REAL, TEAM_WRITTEN, source_kind  # noqa: F401  (the evaluation's names for them)
from kamerbrief.data.schema import ENTITY_LABELS, PARAGRAPH_LABELS, STANCES

Span = tuple  # (start, end, label)
TOKEN = re.compile(r"\w+|[^\w\s]")
NO_STANCE = "none"

__all__ = [
    "ScoredParagraph", "char_spans_to_bio", "score_paragraph_labels", "score_entities", "score_stance",
    "score_deadlines", "bootstrap", "paired_bootstrap", "evaluate_items", "CountStatistic", "STATISTICS",
    "paragraph_label_f", "entity_label_f", "item_counts", "entity_labels_of", "source_kind", "split_by_source",
    "split_by_corpus", "compare_items", "REAL", "TEAM_WRITTEN", "commitment_counts", "score_commitments",
    "normalise_actor",
]




@dataclass
class ScoredParagraph:
    """One gold paragraph with the model's predictions for it.

    Entity spans are ``(start, end, label)`` character offsets into ``text``. ``gold_ranges`` lists,
    for the gold DATE spans of deadline paragraphs that carry a range key, ``((start, end),
    (iso_start, iso_end) or None)``; ``pred_ranges`` maps the offsets of each predicted DATE span to
    what the pipeline normalised it to (a missing key: no predicted span there).
    ``annotated_entity_labels``: the entity labels the source annotates; spans of other labels are
    dropped on both sides before scoring. ``source_kind`` (:data:`REAL` or :data:`TEAM_WRITTEN`) and
    ``corpus`` come from the letter's record (:func:`source_kind`).
    """

    letter_id: str
    text: str
    gold_labels: set[str] = field(default_factory=set)
    pred_labels: set[str] = field(default_factory=set)
    gold_stance: str | None = None
    pred_stance: str | None = None
    gold_entities: list[Span] = field(default_factory=list)
    pred_entities: list[Span] = field(default_factory=list)
    gold_ranges: list[tuple] = field(default_factory=list)
    pred_ranges: dict[tuple, tuple | None] = field(default_factory=dict)
    annotated_entity_labels: set[str] = field(default_factory=lambda: set(ENTITY_LABELS))
    source_kind: str = TEAM_WRITTEN
    corpus: str = TEAM_WRITTEN
    # Commitments (ANNOTATION.md, "Commitments"): ``{"start", "end", "actor": str, "due": (iso, iso) or None}``
    # in paragraph offsets; ``gold_commitments`` is None where the letter's commitments are not annotated.
    gold_commitments: list[dict] | None = None
    pred_commitments: list[dict] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# helpers


def _spans(spans: Iterable, keep: set[str] | None = None) -> list[tuple[int, int, str]]:
    out = [(int(s), int(e), str(label)) for s, e, label in spans]
    return [span for span in out if keep is None or span[2] in keep]


def _range(value) -> tuple | None:
    return None if value is None else tuple(value)


def _div(num, den):
    """num / den, 0 where den == 0; works on scalars and numpy arrays alike."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)
    return out if out.ndim else float(out)


def _prf_from_counts(tp, fp, fn) -> tuple:
    """Precision, recall, F1 from counts (F1 = 2tp / (2tp + fp + fn), the harmonic mean of P and R)."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    return _div(tp, tp + fp), _div(tp, tp + fn), _div(2 * tp, 2 * tp + fp + fn)


def _prf_dict(p, r, f, support=None) -> dict:
    out = {"p": float(p), "r": float(r), "f": float(f)}
    if support is not None:
        out["support"] = int(support)
    return out


def _group(items: Sequence, unit: str = "letter_id") -> tuple[list[Hashable], list[list[int]]]:
    """Indices of items grouped by ``unit``, groups in first-seen order."""
    groups: dict = {}
    for i, item in enumerate(items):
        groups.setdefault(getattr(item, unit), []).append(i)
    return list(groups), list(groups.values())


def _split(items: Sequence[ScoredParagraph], key: str, order: Sequence[str] = ()) -> dict[str, list[ScoredParagraph]]:
    groups: dict[str, list[ScoredParagraph]] = {}
    for item in items:
        groups.setdefault(getattr(item, key), []).append(item)
    return {k: groups[k] for k in [*[k for k in order if k in groups], *sorted(set(groups) - set(order))]}


def split_by_source(items: Sequence[ScoredParagraph]) -> dict[str, list[ScoredParagraph]]:
    """Items by source kind, real documents first, then team-written letters (kinds absent are left out)."""
    return _split(items, "source_kind", (REAL, TEAM_WRITTEN))


def split_by_corpus(items: Sequence[ScoredParagraph]) -> dict[str, list[ScoredParagraph]]:
    """Items by corpus (``circulaires``, ``beleidsregels``, ...), in name order."""
    return _split(items, "corpus")


def entity_labels_of(items: Sequence[ScoredParagraph]) -> list[str]:
    """The entity labels scored: those of ENTITY_LABELS some item annotates (in that order), then any other."""
    annotated = set().union(*(item.annotated_entity_labels for item in items)) if items else set()
    return [label for label in ENTITY_LABELS if label in annotated] + sorted(annotated - set(ENTITY_LABELS))


# --------------------------------------------------------------------------------------------------
# 1. character spans -> BIO


def char_spans_to_bio(text: str, spans: Iterable) -> list[str]:
    """Tags (B-/I-/O) for the tokens of ``text`` (``\\w+|[^\\w\\s]``: words, punctuation split off).

    A token belongs to a span if it overlaps it; the first token of a span gets ``B-``. Spans are
    taken in order of start offset and a token already claimed by an earlier span keeps that span,
    so two adjacent spans of one label stay two entities (``B-X B-X``).
    """
    tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
    tags = ["O"] * len(tokens)
    for start, end, label in sorted(_spans(spans), key=lambda s: (s[0], s[1])):
        first = True
        for i, (ts, te) in enumerate(tokens):
            if ts >= end:
                break
            if te > start and tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + label
                first = False
    return tags


# --------------------------------------------------------------------------------------------------
# 2. paragraph labels


def _multi_hot(label_sets: Iterable[set[str]], labels: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    rows = list(label_sets)
    matrix = np.zeros((len(rows), len(labels)), dtype=int)
    for r, row in enumerate(rows):
        for label in row:
            if label in index:
                matrix[r, index[label]] = 1
    return matrix


def score_paragraph_labels(items: Sequence[ScoredParagraph], labels: Sequence[str] = PARAGRAPH_LABELS) -> dict:
    """Per label P/R/F1/support (support: gold count), micro, and macro (unweighted means over labels).

    Labels outside ``labels`` are ignored.
    """
    gold = _multi_hot((item.gold_labels for item in items), labels)
    pred = _multi_hot((item.pred_labels for item in items), labels)
    if not len(items):
        zero = np.zeros(len(labels))
        p = r = f = support = zero
        micro = (0.0, 0.0, 0.0)
    else:
        p, r, f, support = precision_recall_fscore_support(gold, pred, average=None, labels=list(range(len(labels))),
                                                           zero_division=0)
        micro = precision_recall_fscore_support(gold, pred, average="micro", zero_division=0)[:3]
    per_label = {label: _prf_dict(p[i], r[i], f[i], support[i]) for i, label in enumerate(labels)}
    return {"per_label": per_label,
            "micro": {**_prf_dict(*micro), "support": int(gold.sum())},
            "macro": _prf_dict(np.mean(p) if len(labels) else 0.0, np.mean(r) if len(labels) else 0.0,
                               np.mean(f) if len(labels) else 0.0)}


# --------------------------------------------------------------------------------------------------
# 3. entities


def _bio_pairs(items: Sequence[ScoredParagraph]) -> tuple[list[list[str]], list[list[str]]]:
    gold, pred = [], []
    for item in items:
        keep = set(item.annotated_entity_labels)
        gold.append(char_spans_to_bio(item.text, _spans(item.gold_entities, keep)))
        pred.append(char_spans_to_bio(item.text, _spans(item.pred_entities, keep)))
    return gold, pred


def strict_entity_counts(gold_seqs: list[list[str]], pred_seqs: list[list[str]]) -> list[dict[str, Counter]]:
    """Per sequence, ``{"tp": Counter(label), "fp": ..., "fn": ...}`` of strict IOB2 entity matches.

    Uses seqeval's own extraction (``seqeval.scheme.Entities``), so summed over sequences these give
    exactly seqeval's strict counts.
    """
    gold_entities = Entities(gold_seqs, IOB2).entities
    pred_entities = Entities(pred_seqs, IOB2).entities
    out = []
    for g, p in zip(gold_entities, pred_entities, strict=True):
        g, p = {e.to_tuple() for e in g}, {e.to_tuple() for e in p}   # (sent_id, tag, start, end)
        out.append({"tp": Counter(e[1] for e in g & p), "fp": Counter(e[1] for e in p - g),
                    "fn": Counter(e[1] for e in g - p)})
    return out


def _partial_matches(gold: list[tuple], pred: list[tuple]) -> int:
    """Predicted spans that overlap a not-yet-matched gold span of the same label (both in offset order)."""
    used = [False] * len(gold)
    hits = 0
    for ps, pe, pl in sorted(pred):
        for j, (gs, ge, gl) in enumerate(sorted(gold)):
            if not used[j] and gl == pl and ps < ge and gs < pe:
                used[j] = True
                hits += 1
                break
    return hits


def _span_counts(item: ScoredParagraph) -> dict[str, int]:
    keep = set(item.annotated_entity_labels)
    gold, pred = _spans(item.gold_entities, keep), _spans(item.pred_entities, keep)
    exact_tp = len(set(gold) & set(pred))
    partial_tp = _partial_matches(gold, pred)
    return {"exact:tp": exact_tp, "exact:fp": len(set(pred)) - exact_tp, "exact:fn": len(set(gold)) - exact_tp,
            "partial:tp": partial_tp, "partial:fp": len(pred) - partial_tp, "partial:fn": len(gold) - partial_tp}


def score_entities(items: Sequence[ScoredParagraph]) -> dict:
    """seqeval strict IOB2 (micro and per label), exact character spans and partial overlap (micro).

    Exact: a predicted ``(start, end, label)`` is a hit if the paragraph has that gold tuple.
    Partial: a predicted span is a hit if it overlaps a gold span of the same label, each gold span
    matched at most once (greedy, spans taken in offset order); recall = hits / gold spans.
    """
    labels = entity_labels_of(items)
    gold_seqs, pred_seqs = _bio_pairs(items)
    per_label = {label: {"p": 0.0, "r": 0.0, "f": 0.0, "support": 0} for label in labels}
    micro = {"p": 0.0, "r": 0.0, "f": 0.0, "support": 0}
    has_entities = any(t != "O" for seq in gold_seqs + pred_seqs for t in seq)
    if has_entities:
        kwargs = {"scheme": IOB2, "zero_division": 0}
        p, r, f, s = seq_prfs(gold_seqs, pred_seqs, average="micro", **kwargs)
        micro = _prf_dict(p, r, f, sum(1 for seq in gold_seqs for t in seq if t.startswith("B-")))
        found = sorted(Entities(gold_seqs, IOB2).unique_tags | Entities(pred_seqs, IOB2).unique_tags)
        p, r, f, s = seq_prfs(gold_seqs, pred_seqs, average=None, **kwargs)
        for i, label in enumerate(found):   # seqeval's own label order
            per_label[label] = _prf_dict(p[i], r[i], f[i], s[i])
    sums = Counter()
    for item in items:
        sums.update(_span_counts(item))
    out = {"micro": micro, "per_label": per_label, "labels": labels}
    for kind in ("exact", "partial"):
        tp, fp, fn = sums[f"{kind}:tp"], sums[f"{kind}:fp"], sums[f"{kind}:fn"]
        out["exact_span" if kind == "exact" else "partial"] = {
            **_prf_dict(*_prf_from_counts(tp, fp, fn), tp + fn), "tp": tp, "fp": fp, "fn": fn}
    return out


# --------------------------------------------------------------------------------------------------
# 4. stance, 5. deadlines


def score_stance(items: Sequence[ScoredParagraph]) -> dict:
    """Accuracy over items with a gold stance (no predicted stance is wrong) and a confusion matrix
    ``{gold: {pred: count}}`` with every stance (and ``"none"`` for a missing prediction) as a key."""
    scored = [item for item in items if item.gold_stance is not None]
    golds = list(STANCES) + sorted({i.gold_stance for i in scored} - set(STANCES))
    preds = list(STANCES) + [NO_STANCE] + sorted({i.pred_stance for i in scored if i.pred_stance is not None} - set(STANCES))
    confusion = {g: {p: 0 for p in preds} for g in golds}
    correct = 0
    for item in scored:
        pred = item.pred_stance if item.pred_stance is not None else NO_STANCE
        confusion[item.gold_stance][pred] += 1
        correct += item.pred_stance == item.gold_stance
    return {"accuracy": correct / len(scored) if scored else 0.0, "correct": correct, "support": len(scored),
            "confusion": confusion}


def _deadline_counts(item: ScoredParagraph) -> dict[str, int]:
    pred = {tuple(k): _range(v) for k, v in item.pred_ranges.items()}
    found = correct = 0
    for offsets, gold in item.gold_ranges:
        key = tuple(offsets)
        if key in pred:
            found += 1
            correct += pred[key] == _range(gold)
    return {"deadline:correct": correct, "deadline:found": found, "deadline:total": len(item.gold_ranges)}


def score_deadlines(items: Sequence[ScoredParagraph]) -> dict:
    """Over all gold ranges: ``found`` (a predicted DATE span with the same offsets), ``correct`` (and
    the same range; None == None counts), ``total``, ``accuracy = correct / total``."""
    sums = Counter()
    for item in items:
        sums.update(_deadline_counts(item))
    correct, found, total = sums["deadline:correct"], sums["deadline:found"], sums["deadline:total"]
    return {"accuracy": correct / total if total else 0.0, "correct": correct, "found": found, "total": total}


ARTICLE = re.compile(r"^(?:de|het|een|'t)\s+", re.IGNORECASE)


def normalise_actor(text: str | None) -> str:
    """Actors compare case-insensitively, without a leading article and with single spaces."""
    return ARTICLE.sub("", " ".join((text or "").split())).casefold()


def _overlap(a: dict, b: dict) -> int:
    return max(0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def commitment_counts(gold: list[dict] | None, pred: list[dict]) -> dict[str, int]:
    """Counts for one paragraph: a predicted commitment matches a gold one when their spans overlap (one to
    one, largest overlaps first). Of the matched pairs: the actor is right when the normalised texts are equal;
    the due period is scored on pairs whose gold commitment has one (``due:*``) and, counting no due on both
    sides as right, on all pairs (``due_any:*``). Nothing is counted where the gold does not annotate commitments."""
    if gold is None:
        return {}
    pairs = sorted(((_overlap(g, p), i, j) for i, g in enumerate(gold) for j, p in enumerate(pred) if _overlap(g, p) > 0),
                   reverse=True)
    used_gold, used_pred, matched = set(), set(), []
    for _, i, j in pairs:
        if i not in used_gold and j not in used_pred:
            used_gold.add(i)
            used_pred.add(j)
            matched.append((gold[i], pred[j]))
    out = {"commit:tp": len(matched), "commit:fp": len(pred) - len(matched), "commit:fn": len(gold) - len(matched),
           "commit:actor_correct": 0, "commit:due_correct": 0, "commit:due_total": 0, "commit:due_any_correct": 0}
    for g, p in matched:
        out["commit:actor_correct"] += normalise_actor(g["actor"]) == normalise_actor(p["actor"])
        same_due = _range(g.get("due")) == _range(p.get("due"))
        out["commit:due_any_correct"] += same_due
        if g.get("due") is not None:
            out["commit:due_total"] += 1
            out["commit:due_correct"] += same_due
    return out


def _commit_f(sums, table):
    return _prf_from_counts(sums["commit:tp"], sums["commit:fp"], sums["commit:fn"])[2]


def _commit_actor(sums, table):
    return _div(sums["commit:actor_correct"], sums["commit:tp"])


def _commit_due(sums, table):
    return _div(sums["commit:due_correct"], sums["commit:due_total"])


def _commit_due_any(sums, table):
    return _div(sums["commit:due_any_correct"], sums["commit:tp"])


def score_commitments(items: Sequence[ScoredParagraph]) -> dict | None:
    """Detection P/R/F1, actor accuracy and due-period accuracy over the items whose gold annotates
    commitments; None when none does."""
    scored = [item for item in items if item.gold_commitments is not None]
    if not scored:
        return None
    sums = Counter()
    for item in scored:
        sums.update(commitment_counts(item.gold_commitments, item.pred_commitments))
    tp, fp, fn = sums["commit:tp"], sums["commit:fp"], sums["commit:fn"]
    p, r, f = _prf_from_counts(tp, fp, fn)
    return {"n_letters": len({item.letter_id for item in scored}), "gold": tp + fn, "predicted": tp + fp,
            "detection": {**_prf_dict(p, r, f), "tp": tp, "fp": fp, "fn": fn},
            "actor": {"accuracy": _div(sums["commit:actor_correct"], tp), "correct": sums["commit:actor_correct"],
                      "matched": tp},
            "due": {"accuracy": _div(sums["commit:due_correct"], sums["commit:due_total"]),
                    "correct": sums["commit:due_correct"], "total": sums["commit:due_total"],
                    "accuracy_all_matched": _div(sums["commit:due_any_correct"], tp),
                    "correct_all_matched": sums["commit:due_any_correct"]}}


# --------------------------------------------------------------------------------------------------
# per-item counts, and statistics computed from summed counts


def item_counts(item: ScoredParagraph, paragraph_labels: Sequence[str] = PARAGRAPH_LABELS,
                strict: dict[str, Counter] | None = None) -> dict[str, int]:
    """Every count the scores are built from, for one paragraph (keys like ``"para:adoption:tp"``,
    ``"ent:ORG:fn"``, ``"exact:tp"``, ``"partial:fp"``, ``"stance:correct"``, ``"deadline:total"``).

    ``strict``: the paragraph's strict entity counts if already computed (see :func:`strict_entity_counts`).
    """
    out: dict[str, int] = {}
    for label in paragraph_labels:
        g, p = label in item.gold_labels, label in item.pred_labels
        out[f"para:{label}:tp"] = int(g and p)
        out[f"para:{label}:fp"] = int(p and not g)
        out[f"para:{label}:fn"] = int(g and not p)
    if strict is None:
        gold, pred = _bio_pairs([item])
        strict = strict_entity_counts(gold, pred)[0]
    for kind in ("tp", "fp", "fn"):
        for label, n in strict[kind].items():
            out[f"ent:{label}:{kind}"] = n
    out.update(_span_counts(item))
    if item.gold_stance is not None:
        out["stance:correct"] = int(item.pred_stance == item.gold_stance)
        out["stance:support"] = 1
    out.update(_deadline_counts(item))
    out.update(commitment_counts(item.gold_commitments, item.pred_commitments))
    return out


class _Sums:
    """Summed counts: ``sums[key]`` is a scalar (one total) or a column (one per resample); absent keys are 0."""

    def __init__(self, columns: dict[str, int], matrix: np.ndarray):
        self.columns, self.matrix = columns, matrix

    def __getitem__(self, key: str):
        i = self.columns.get(key)
        if i is None:
            return np.zeros(self.matrix.shape[:-1]) if self.matrix.ndim > 1 else 0.0
        return self.matrix[..., i].astype(float)


class CountTable:
    """Per-letter sums of :func:`item_counts`: ``matrix[letter, column]``."""

    def __init__(self, items: Sequence[ScoredParagraph], unit: str = "letter_id",
                 paragraph_labels: Sequence[str] = PARAGRAPH_LABELS):
        self.letters, groups = _group(items, unit)
        gold, pred = _bio_pairs(items)
        strict = strict_entity_counts(gold, pred)
        per_item = [item_counts(item, paragraph_labels, strict[i]) for i, item in enumerate(items)]
        keys = sorted(set().union(*per_item)) if per_item else []
        self.columns = {key: i for i, key in enumerate(keys)}
        self.matrix = np.zeros((len(groups), len(keys)), dtype=np.int64)
        for g, members in enumerate(groups):
            for i in members:
                for key, n in per_item[i].items():
                    self.matrix[g, self.columns[key]] += n
        self.paragraph_labels = list(paragraph_labels)
        self.entity_labels = entity_labels_of(items)

    def totals(self) -> _Sums:
        return _Sums(self.columns, self.matrix.sum(axis=0))

    def resampled(self, indices: np.ndarray) -> _Sums:
        """Sums for each row of ``indices`` (shape ``(n, n_letters)``, letter indices drawn with replacement)."""
        weights = np.zeros((indices.shape[0], len(self.letters)), dtype=np.int64)
        rows = np.repeat(np.arange(indices.shape[0]), indices.shape[1])
        np.add.at(weights, (rows, indices.ravel()), 1)
        return _Sums(self.columns, weights @ self.matrix)


class CountStatistic:
    """A statistic computed from summed counts, callable on items like any statistic.

    ``fn(sums, table)`` returns a float (or an array, when ``sums`` holds one column per resample).
    :func:`bootstrap` and :func:`paired_bootstrap` recognise these and sum per-letter counts instead
    of rescoring every resample; the draws, and so the intervals, are the same either way.
    """

    def __init__(self, name: str, fn: Callable[[_Sums, CountTable], object]):
        self.name, self.fn = name, fn

    def __call__(self, items: Sequence[ScoredParagraph]) -> float:
        table = CountTable(items)
        return float(self.fn(table.totals(), table))

    def on(self, sums: _Sums, table: CountTable):
        return self.fn(sums, table)

    def __repr__(self) -> str:
        return f"CountStatistic({self.name!r})"


def _para_label_f(sums, label):
    return _prf_from_counts(sums[f"para:{label}:tp"], sums[f"para:{label}:fp"], sums[f"para:{label}:fn"])[2]


def _para_micro_f(sums, table):
    tp = sum(sums[f"para:{l}:tp"] for l in table.paragraph_labels)
    fp = sum(sums[f"para:{l}:fp"] for l in table.paragraph_labels)
    fn = sum(sums[f"para:{l}:fn"] for l in table.paragraph_labels)
    return _prf_from_counts(tp, fp, fn)[2]


def _para_macro_f(sums, table):
    return sum(_para_label_f(sums, l) for l in table.paragraph_labels) / max(len(table.paragraph_labels), 1)


def _entity_micro_f(sums, table):
    labels = {key.split(":")[1] for key in table.columns if key.startswith("ent:")}
    tp = sum((sums[f"ent:{l}:tp"] for l in labels), 0.0)
    fp = sum((sums[f"ent:{l}:fp"] for l in labels), 0.0)
    fn = sum((sums[f"ent:{l}:fn"] for l in labels), 0.0)
    return _prf_from_counts(tp, fp, fn)[2]


def _kind_f(kind):
    return lambda sums, table: _prf_from_counts(sums[f"{kind}:tp"], sums[f"{kind}:fp"], sums[f"{kind}:fn"])[2]


def paragraph_label_f(label: str) -> CountStatistic:
    """F1 of one paragraph label, as a fast statistic."""
    return CountStatistic(f"paragraph_f_{label}", lambda sums, table: _para_label_f(sums, label))


def entity_label_f(label: str) -> CountStatistic:
    """Strict F1 of one entity label, as a fast statistic."""
    return CountStatistic(f"entity_f_{label}", lambda sums, table: _prf_from_counts(
        sums[f"ent:{label}:tp"], sums[f"ent:{label}:fp"], sums[f"ent:{label}:fn"])[2])


STATISTICS: dict[str, CountStatistic] = {
    "paragraph_micro_f": CountStatistic("paragraph_micro_f", _para_micro_f),
    "paragraph_macro_f": CountStatistic("paragraph_macro_f", _para_macro_f),
    "entity_micro_f": CountStatistic("entity_micro_f", _entity_micro_f),
    "entity_exact_span_f": CountStatistic("entity_exact_span_f", _kind_f("exact")),
    "entity_partial_f": CountStatistic("entity_partial_f", _kind_f("partial")),
    "stance_accuracy": CountStatistic("stance_accuracy", lambda s, t: _div(s["stance:correct"], s["stance:support"])),
    "deadline_accuracy": CountStatistic("deadline_accuracy", lambda s, t: _div(s["deadline:correct"], s["deadline:total"])),
    "commitment_f": CountStatistic("commitment_f", _commit_f),
    "commitment_actor_accuracy": CountStatistic("commitment_actor_accuracy", _commit_actor),
    "commitment_due_accuracy": CountStatistic("commitment_due_accuracy", _commit_due),
}


# --------------------------------------------------------------------------------------------------
# 6./7. bootstrap


def _draws(n_units: int, n: int, seed: int) -> np.ndarray:
    """``(n, n_units)`` unit indices drawn with replacement; the one source of draws for every bootstrap here."""
    if n_units == 0:
        raise ValueError("cannot bootstrap over no items")
    return np.random.default_rng(seed).integers(0, n_units, size=(n, n_units))


def _ci(values) -> tuple[float, float]:
    lo, hi = np.percentile(np.asarray(values, dtype=float), [2.5, 97.5])
    return float(lo), float(hi)


def _resample_values(items, groups, indices, statistic) -> np.ndarray:
    values = []
    for row in indices:
        values.append(float(statistic([items[i] for g in row for i in groups[g]])))
    return np.asarray(values)


def bootstrap(items: Sequence, statistic: Callable[[list], float], n: int = 1000, seed: int = 0,
              unit: str = "letter_id") -> tuple[float, float]:
    """95% percentile interval of ``statistic`` over ``n`` resamples of whole letters (groups of items
    sharing ``unit``), drawn with replacement by ``numpy.random.default_rng(seed)``.

    Any ``statistic(list_of_items) -> float`` works; a :class:`CountStatistic` (see :data:`STATISTICS`)
    gives the same interval in a fraction of the time.
    """
    items = list(items)
    _, groups = _group(items, unit)
    indices = _draws(len(groups), n, seed)
    if isinstance(statistic, CountStatistic):
        table = CountTable(items, unit)
        return _ci(statistic.on(table.resampled(indices), table))
    return _ci(_resample_values(items, groups, indices, statistic))


def paired_bootstrap(items_a: Sequence, items_b: Sequence, statistic: Callable[[list], float], n: int = 1000,
                     seed: int = 0, unit: str = "letter_id") -> dict:
    """Compare two models scored on the same gold paragraphs (same order, same letter ids).

    Each resample draws the same letters for both; ``diff`` is ``b - a``. ``p_value`` is two-sided,
    ``min(1, 2 * min(share of resampled diffs <= 0, share >= 0))``; ``significant``: 0 lies outside
    ``diff_ci95``.
    """
    items_a, items_b = list(items_a), list(items_b)
    if len(items_a) != len(items_b) or any(getattr(a, unit) != getattr(b, unit) for a, b in zip(items_a, items_b, strict=True)):
        raise ValueError("paired_bootstrap needs the same paragraphs, in the same order, for both models")
    _, groups = _group(items_a, unit)
    indices = _draws(len(groups), n, seed)
    if isinstance(statistic, CountStatistic):
        table_a, table_b = CountTable(items_a, unit), CountTable(items_b, unit)
        a = float(statistic.on(table_a.totals(), table_a))
        b = float(statistic.on(table_b.totals(), table_b))
        diffs = (np.asarray(statistic.on(table_b.resampled(indices), table_b), dtype=float)
                 - np.asarray(statistic.on(table_a.resampled(indices), table_a), dtype=float))
    else:
        a, b = float(statistic(items_a)), float(statistic(items_b))
        diffs = (_resample_values(items_b, groups, indices, statistic)
                 - _resample_values(items_a, groups, indices, statistic))
    lo, hi = _ci(diffs)
    p_value = min(1.0, 2 * min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))))
    return {"a": a, "b": b, "diff": b - a, "diff_ci95": [lo, hi], "p_value": p_value,
            "significant": not (lo <= 0.0 <= hi), "n_resamples": n, "seed": seed}


# --------------------------------------------------------------------------------------------------
# 8. the whole report


def evaluate_items(items: Sequence[ScoredParagraph], n_bootstrap: int = 1000, seed: int = 0,
                   paragraph_labels: Sequence[str] = PARAGRAPH_LABELS, by_source: bool = True) -> dict:
    """Every score, with 95% bootstrap intervals over letters (``*_ci95: [lo, hi]``), as one JSON-ready dict.

    Point estimates come from scikit-learn and seqeval; the intervals from per-letter counts summed
    per resample (all intervals share one set of draws, so they are jointly resampled).

    ``by_source``: also ``report["by_source"]``, the same report for each source kind present (real
    documents first, then team-written letters), each with its own bootstrap over its own letters;
    the real documents' report adds ``by_corpus``, one report per corpus. The top-level scores mix
    the kinds and are kept for comparison with older reports only; headlines use ``by_source``.
    """
    items = list(items)
    if not items:
        raise ValueError("evaluate_items: no paragraphs to score")
    table = CountTable(items, paragraph_labels=paragraph_labels)
    boot = table.resampled(_draws(len(table.letters), n_bootstrap, seed))

    def ci(fn) -> list[float]:
        return list(_ci(fn(boot, table)))

    paragraphs = score_paragraph_labels(items, paragraph_labels)
    for label in paragraph_labels:
        paragraphs["per_label"][label]["f_ci95"] = ci(lambda s, t, label=label: _para_label_f(s, label))
    paragraphs["micro"]["f_ci95"] = ci(_para_micro_f)
    paragraphs["macro"]["f_ci95"] = ci(_para_macro_f)

    entities = score_entities(items)
    entities["micro"]["f_ci95"] = ci(_entity_micro_f)
    for label in entities["per_label"]:
        entities["per_label"][label]["f_ci95"] = ci(entity_label_f(label).fn)
    entities["exact_span"]["f_ci95"] = ci(_kind_f("exact"))
    entities["partial"]["f_ci95"] = ci(_kind_f("partial"))

    stance = score_stance(items)
    stance["accuracy_ci95"] = ci(STATISTICS["stance_accuracy"].fn)
    deadlines = score_deadlines(items)
    deadlines["accuracy_ci95"] = ci(STATISTICS["deadline_accuracy"].fn)

    report = {"n_letters": len(table.letters), "n_paragraphs": len(items),
              "bootstrap": {"n": n_bootstrap, "seed": seed, "unit": "letter_id"},
              "paragraphs": paragraphs, "entities": entities, "stance": stance, "deadlines": deadlines}
    commitments = score_commitments(items)
    if commitments is not None:
        # Resampled over all letters of the report like every other score; letters without commitment gold add
        # no counts, so the draws that matter are those of the annotated letters.
        commitments["detection"]["p_ci95"] = ci(lambda s, t: _prf_from_counts(s["commit:tp"], s["commit:fp"], s["commit:fn"])[0])
        commitments["detection"]["r_ci95"] = ci(lambda s, t: _prf_from_counts(s["commit:tp"], s["commit:fp"], s["commit:fn"])[1])
        commitments["detection"]["f_ci95"] = ci(_commit_f)
        commitments["actor"]["accuracy_ci95"] = ci(_commit_actor)
        commitments["due"]["accuracy_ci95"] = ci(_commit_due)
        commitments["due"]["accuracy_all_matched_ci95"] = ci(_commit_due_any)
        report["commitments"] = commitments
    if by_source:
        report["by_source"] = {}
        for kind, subset in split_by_source(items).items():
            sub = evaluate_items(subset, n_bootstrap, seed, paragraph_labels, by_source=False)
            if kind == REAL:
                sub["by_corpus"] = {corpus: evaluate_items(part, n_bootstrap, seed, paragraph_labels, by_source=False)
                                    for corpus, part in split_by_corpus(subset).items()}
            report["by_source"][kind] = sub
    return report


def compare_items(items_a: Sequence[ScoredParagraph], items_b: Sequence[ScoredParagraph], n_bootstrap: int = 1000,
                  seed: int = 0, statistics: dict[str, CountStatistic] | None = None) -> dict:
    """``{metric: paired_bootstrap(...)}`` over all paragraphs (mixed kinds) and, under ``by_source``,
    the same for each source kind present (real documents first), resampled by letter within the kind."""
    statistics = STATISTICS if statistics is None else statistics
    items_a, items_b = list(items_a), list(items_b)
    out: dict = {name: paired_bootstrap(items_a, items_b, st, n=n_bootstrap, seed=seed) for name, st in statistics.items()}
    out["by_source"] = {}
    positions = {id(item): i for i, item in enumerate(items_a)}
    for kind, subset in split_by_source(items_a).items():
        part_b = [items_b[positions[id(item)]] for item in subset]
        out["by_source"][kind] = {name: paired_bootstrap(subset, part_b, st, n=n_bootstrap, seed=seed)
                                  for name, st in statistics.items()}
    return out

"""``kamerbrief data select``: choose what to annotate next, where the model is least sure.

Documents come from shared corpus collections (``*.jsonl.gz`` / ``*.jsonl.xz``) or from letter files in the
shared folder (a folder of officielebekendmakingen XML files such as ``corpora/handelingen-xml``, or one file):
each file is one document, its id the file's stem, read by the reader. Every document named in
the ``exclude`` record files (all versions of its id) is never offered, so held-out documents of every
split stay unseen. A random pool of documents is drawn first (seeded), because scoring all of
``nl-gov-text`` would take hours; the model then scores every paragraph of the pool:

- entity uncertainty: 1 - the smallest margin between the two most probable BIO tags of any piece;
- paragraph-label uncertainty: the mean binary entropy of the paragraph-label probabilities.

A paragraph's uncertainty is the larger of the two. Short documents are offered whole; long ones as
passages of ``passage`` consecutive paragraphs, scored by the mean uncertainty of their paragraphs.
Passages are taken round-robin over documents (each document's best passage first), so a few long,
uncertain documents cannot fill the sample.

The output folder holds one work file per passage in the authoring markup, pre-annotated with the
model's predictions written unconfirmed (``[[...|ORG?]]``, ``@body action?``): the compiler refuses any
``?`` until an annotator confirms or removes it. ``kamerbrief data build --standoff-work DIR`` imports
them as standoff records. ``selection.jsonl`` records what was chosen and why.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kamerbrief.data.context import paragraph_neighbours
from kamerbrief.data.markup import render_markup
from kamerbrief.data.records import is_document_file, iter_record_files, read_records
from kamerbrief.data.standoff_markup import document_letter, file_document, standoff_id
from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline.reader import iter_letter_files

STRATEGIES = ("uncertainty", "random", "mixed")
UNSCORED = {"entities": [], "labels": [], "stance": None, "uncertainty": 0.0}


class SelectionError(KamerbriefError):
    code = "E700"


@dataclass
class Passage:
    source: str  # the corpus file, relative to the shared folder
    record: dict
    first: int  # index of the passage's first paragraph in the document
    paragraphs: list  # reader Paragraphs
    predictions: list[dict]  # per paragraph: the model's entities, labels, stance and uncertainty
    score: float

    @property
    def size(self) -> int:
        return len(self.paragraphs)


def excluded_documents(record_files: Iterable[str | Path]) -> set[str]:
    """Corpus document ids (every version) named by standoff records in these files or folders."""
    ids: set[str] = set()
    for path in iter_record_files(record_files):
        for record in read_records(path):
            ids.add(record.get("doc_id") or record["id"])
    return ids


def corpus_documents(corpus: Path, shared_dir: Path) -> list[tuple[str, dict]]:
    """``(source, record)`` for every document of ``corpus``, ``source`` relative to the shared folder: the
    records with text of a JSONL collection, or each letter file of a folder (or the one file named) as
    :func:`~kamerbrief.data.standoff_markup.file_document` gives it."""
    def relative(path: Path) -> str:
        try:
            return path.resolve().relative_to(shared_dir.resolve()).as_posix()
        except ValueError:
            raise SelectionError("corpora must lie inside the shared folder, so standoff records can point into it",
                                 corpus) from None

    if corpus.is_dir() or is_document_file(corpus):
        files = iter_letter_files([corpus])
        if not files:
            raise SelectionError("no letter files (.xml, .html, .txt, .md) in this folder", corpus)
        sources = [(file, relative(file)) for file in files]
        return [(source, file_document(file, source)) for file, source in sources]
    source = relative(corpus)
    return [(source, r) for r in read_records(corpus) if r.get("text")]


def uncertainty(tag_probs: np.ndarray, label_probs: np.ndarray) -> float:
    """The larger of entity-tag and paragraph-label uncertainty, both in [0, 1]."""
    if len(tag_probs):
        top2 = np.sort(tag_probs, axis=-1)[:, -2:]
        tag_uncertainty = float(1.0 - (top2[:, 1] - top2[:, 0]).min())
    else:
        tag_uncertainty = 0.0
    p = np.clip(label_probs, 1e-6, 1 - 1e-6)
    entropy = float((-(p * np.log2(p) + (1 - p) * np.log2(1 - p))).mean()) if len(p) else 0.0
    return max(tag_uncertainty, entropy)


def score_paragraphs(tagger, texts: list[str], neighbours: list[dict] | None = None) -> list[dict]:
    """The model's predictions for each text (read with its ``neighbours`` where the model reads context),
    with its ``uncertainty``."""
    config = tagger.hf_model.config
    out = []
    for prediction in tagger.predict(texts, with_probs=True, neighbours=neighbours):
        cats = prediction["cats"]
        labels = [label for label in config.paragraph_labels if cats[label] >= config.thresholds.get(label, 0.5)]
        stance = max(prediction["stance_scores"], key=prediction["stance_scores"].get) if "adoption" in labels else None
        probs = np.array([cats[label] for label in config.paragraph_labels])
        out.append({"entities": prediction["entities"], "labels": labels, "stance": stance,
                    "uncertainty": uncertainty(prediction["tag_probs"], probs)})
    return out


def passages_of(paragraph_scores: list[float], passage: int) -> list[tuple[int, int, float]]:
    """``(first, end, score)`` for a document: whole if short, else non-overlapping windows of ``passage``
    paragraphs, each scored by the mean uncertainty of its paragraphs. (The mean, not the maximum: nearly
    every 40-paragraph passage holds a few paragraphs the model is unsure of, so maxima do not rank.)"""
    n = len(paragraph_scores)
    windows = [(0, n)] if n <= passage else [(i, min(i + passage, n)) for i in range(0, n, passage)]
    if len(windows) > 1 and windows[-1][1] - windows[-1][0] < passage // 2:  # a short tail joins the passage before it
        windows[-2:] = [(windows[-2][0], n)]
    return [(first, end, float(np.mean(paragraph_scores[first:end]))) for first, end in windows]


def spread_over_documents(passages: list[Passage], n_paragraphs: int, order: str, rng: random.Random) -> list[Passage]:
    """Passages until ``n_paragraphs`` are covered, taking one passage per document per round."""
    by_doc: dict[str, list[Passage]] = {}
    for item in passages:
        by_doc.setdefault(item.record["path"], []).append(item)
    for items in by_doc.values():
        if order == "uncertainty":
            items.sort(key=lambda p: -p.score)
        else:
            rng.shuffle(items)
    docs = list(by_doc)
    if order == "uncertainty":
        docs.sort(key=lambda d: -by_doc[d][0].score)
    else:
        rng.shuffle(docs)
    chosen, total, round_ = [], 0, 0
    while total < n_paragraphs and any(len(by_doc[d]) > round_ for d in docs):
        for doc in docs:
            if round_ < len(by_doc[doc]) and total < n_paragraphs:
                chosen.append(by_doc[doc][round_])
                total += by_doc[doc][round_].size
        round_ += 1
    return chosen


def choose(passages: list[Passage], n_paragraphs: int, strategy: str, seed: int) -> list[Passage]:
    if strategy not in STRATEGIES:
        raise SelectionError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    rng = random.Random(seed)
    if strategy != "mixed":
        return spread_over_documents(passages, n_paragraphs, strategy, rng)
    first = spread_over_documents(passages, n_paragraphs // 2, "uncertainty", rng)
    taken = {(p.record["path"], p.first) for p in first}
    rest = [p for p in passages if (p.record["path"], p.first) not in taken]
    return first + spread_over_documents(rest, n_paragraphs - sum(p.size for p in first), "random", rng)


def work_markup(passage: Passage, strategy: str) -> str:
    """The passage in the authoring markup with the model's predictions unconfirmed (``?``)."""
    record = passage.record
    meta = {"source": passage.source, "doc_id": record["id"], "path": record["path"], "kind": record.get("kind"),
            "first_paragraph": passage.first,
            "selected_by": f"{strategy}, uncertainty {passage.score:.3f}" if passage.score else strategy}
    paragraphs = []
    for paragraph, prediction in zip(passage.paragraphs, passage.predictions, strict=True):
        paragraphs.append({"text": paragraph.text, "kind": paragraph.kind,
                           "labels": [f"{label}?" for label in prediction["labels"]],
                           "stance": prediction["stance"],
                           "entities": [{**e, "label": e["label"] + "?"} for e in non_overlapping(prediction["entities"])]})
    return render_markup({"id": passage_id(passage), "meta": meta, "paragraphs": paragraphs})


def non_overlapping(entities: list[dict]) -> list[dict]:
    """The longest of overlapping predicted spans (pieces of two windows can disagree at a window edge): markup
    cannot nest, and overlapping spans rendered one after the other would repeat the shared text."""
    kept: list[dict] = []
    for entity in sorted(entities, key=lambda e: (e["start"] - e["end"], e["start"])):
        if all(entity["end"] <= k["start"] or entity["start"] >= k["end"] for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e["start"])


def passage_id(passage: Passage) -> str:
    base = standoff_id(passage.record)
    return base if passage.first == 0 else f"{base}-p{passage.first}"


def select(nlp, corpora: list[Path], shared_dir: Path, n_paragraphs: int, strategy: str = "uncertainty",
           exclude: Iterable[str | Path] = (), pool: int = 200, passage: int = 40, seed: int = 0,
           progress: bool = True, max_scored: int = 400, kinds: Iterable[str] = ()) -> list[Passage]:
    """Score a seeded pool of documents from ``corpora`` and choose passages covering ``n_paragraphs``.

    ``kinds`` keeps only documents of these kinds (a collection record's ``kind``: "KB", "wet", ...), so that a round
    can target a kind of document the corpus lacks. ``nlp`` may be None for the random strategy: nothing is scored and nothing is pre-annotated (what a
    test split needs, so that annotators are not anchored on any model)."""
    if nlp is None and strategy != "random":
        raise SelectionError(f"the {strategy} strategy needs a model")
    excluded = excluded_documents(exclude)
    rng = random.Random(seed)
    tagger = nlp.get_pipe("kamerbrief_transformer") if nlp is not None else None
    kinds = set(kinds)
    pool_docs: list[tuple[str, dict]] = []
    for corpus in corpora:
        documents = [(source, r) for source, r in corpus_documents(Path(corpus), shared_dir)
                     if r.get("id") not in excluded and (not kinds or r.get("kind") in kinds)]
        if kinds and not documents:
            raise SelectionError(f"no documents of kind {', '.join(sorted(kinds))} left to offer", corpus)
        rng.shuffle(documents)
        pool_docs += documents[:pool]
    passages: list[Passage] = []
    for source, record in tqdm(pool_docs, desc="scoring documents", unit=" docs", disable=not progress):
        letter = document_letter(shared_dir / source, record)
        if not letter.paragraphs:
            continue
        # A long law can have thousands of paragraphs: score a seeded window of at most ``max_scored``.
        offset = rng.randrange(0, len(letter.paragraphs) - max_scored + 1) if len(letter.paragraphs) > max_scored else 0
        offset -= offset % passage  # passages start at multiples of ``passage`` in every run
        window = letter.paragraphs[offset:offset + max_scored]
        texts = [p.text for p in window]
        neighbours = (list(paragraph_neighbours((p.kind, p.text) for p in letter.paragraphs))[offset:offset + max_scored]
                      if tagger and tagger.reads_context else None)
        predictions = score_paragraphs(tagger, texts, neighbours) if tagger else [UNSCORED] * len(texts)
        scores = [p["uncertainty"] for p in predictions]
        for first, end, score in passages_of(scores, passage):
            passages.append(Passage(source, record, offset + first, window[first:end], predictions[first:end], score))
    return choose(passages, n_paragraphs, strategy, seed)


def write_selection(chosen: list[Passage], out_dir: Path, strategy: str) -> Path:
    """One work file per passage, and ``selection.jsonl`` naming each with its score."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / "selection.jsonl"
    with open(manifest, "w", encoding="utf-8") as handle:
        for item in chosen:
            name = f"{passage_id(item)}.txt"
            (out_dir / name).write_text(work_markup(item, strategy), encoding="utf-8")
            handle.write(json.dumps({"file": name, "source": item.source, "doc_id": item.record["id"],
                                     "path": item.record["path"], "first_paragraph": item.first,
                                     "paragraphs": item.size, "uncertainty": round(item.score, 4),
                                     "strategy": strategy}, ensure_ascii=False) + "\n")
    return manifest


def select_for_annotation(model: str | Path | None, corpora: list[Path], shared_dir: Path, out_dir: Path, n_paragraphs: int,
                          strategy: str = "uncertainty", prefill: bool = True, exclude: Iterable[str | Path] = (),
                          data_dir: Path = Path("data"), **options) -> tuple[list[Passage], Path]:
    """`kamerbrief data select`: passages chosen by ``strategy`` (:func:`select`; ``options``: ``pool``, ``passage``,
    ``seed``), never from a document of any split of ``data_dir``'s standoff/ or of ``exclude``, written to ``out_dir``
    pre-annotated with the model's predictions (``prefill``) or bare. No model is loaded for a bare random sample.
    Returns the passages and the ``selection.jsonl`` listing them."""
    from kamerbrief.pipeline.nlp import load

    nlp = load(model) if prefill or strategy != "random" else None
    held_out = [data_dir / "standoff"] if (data_dir / "standoff").is_dir() else []
    chosen = select(nlp, corpora, shared_dir, n_paragraphs, strategy, [*held_out, *exclude], **options)
    if not prefill:
        chosen = [replace(c, predictions=[UNSCORED] * c.size) for c in chosen]
    return chosen, write_selection(chosen, out_dir, strategy)

"""The ``kamerbrief_transformer`` component: the fine-tuned multi-task model inside a spaCy pipeline.

One ``Doc`` is one paragraph. The component sets ``doc.cats`` (a score per paragraph label),
``doc._.labels`` (the labels at or above the model's per-label thresholds), ``doc._.stance`` and
``doc._.stance_scores`` (meaningful for ``adoption`` paragraphs) and ``doc.ents``.

Speed: paragraphs are cut into overlapping windows, all windows of a ``pipe`` batch are sorted by
length and run in sub-batches capped in windows and in padded positions (little padding), and logits
of overlapping pieces are merged back per paragraph. ``precision`` picks fp32, bf16 autocast (only worth it on CPUs with AMX/AVX512-BF16),
dynamic int8 Linear layers (per-channel scales) or ``auto`` (the default: bf16 where the CPU has native bf16, fp32
elsewhere; ``kamerbrief.pipeline.hardware``); ``precision_used`` says what it resolved to. ``threads`` sets torch's
intra-op threads.
"""
from __future__ import annotations

import re
import shutil
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline import extensions  # noqa: F401  (registers the Doc/Span extensions)
from kamerbrief.pipeline.hardware import resolve_precision
from kamerbrief.pipeline.model.decoding import (
    DEFAULT_SPAN_CONTINUATION,
    decode_tags,
    merge_window_logits,
    sigmoid,
    softmax,
    tags_to_spans,
)

PRECISIONS = ("fp32", "bf16", "int8", "auto")
ALIGNMENTS = ("snap", "split", "contract", "expand")
# Inside a word these join, so a span edge there moves on to the word's end; a change between letters,
# digits and other punctuation is a boundary (``Weele2``: footnote mark; ``Kamer.2``; ``88).De``), but not
# digit to letter (``13e``, ``12b``).
JOINERS = set("-‐‑’'/&_")
# Punctuation that may close or open an entity only together with its partner inside it: the model
# tags the ")" of "(kenmerk 2019-0000123)" as part of the reference now and then.
PAIRS = {")": "(", "]": "[", "}": "{", "”": "“", "’": "‘", "»": "«"}
OPENERS = set(PAIRS.values())
EDGE_PUNCT = {",", ";", ":", "-", "–", "—"}
END_PUNCT = {"."}  # a full stop split off as a token of its own ends a sentence, not an entity
# Words no entity ends on: the model's span ran on into the sentence ("Wet op het voortgezet onderwijs en de",
# "artikelen 87 en 88 van"). On the dev split no correct span of any label ended on one of these.
FUNCTION_WORDS = {"van", "de", "het", "der", "den", "en", "of", "tot", "met", "op", "voor", "bij", "in", "inzake", "betreffende",
                  "houdende", "ter", "door", "aan", "een"}
# One or two digits glued to the end of a lowercase word are a footnote mark or the next item's number ("Mulder2",
# "vijfde lid5."): they stay outside the span (ANNOTATION.md), whatever the model's pieces say.
GLUED_MARK = re.compile(r"(?<=[a-zà-ÿ]{2})\d{1,2}$")
COMPONENT = "kamerbrief_transformer"  # the factory name, and the component's directory in a saved pipeline
MODEL_DIR = "model"  # the Hugging Face folder inside the component's directory of a saved pipeline


class ModelLoadError(KamerbriefError):
    code = "E500"


@contextmanager
def quiet_loading():
    """transformers' "Loading weights" bar and load reports off while inside: they print on every load of
    a local model (each benchmark run, each training stage), where nothing is downloaded."""
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def split_at(doc: Doc, boundaries: Iterable[int]) -> None:
    """Split the tokens that character offsets ``boundaries`` fall inside, so spans can start and end
    there (a model piece boundary inside a spaCy token: ``UtrechtPostbus`` when no rule split it)."""
    token_starts = [token.idx for token in doc]
    cuts: dict[int, set[int]] = {}
    for offset in boundaries:
        i = bisect_right(token_starts, offset) - 1
        if i >= 0 and doc[i].idx < offset < doc[i].idx + len(doc[i]):
            cuts.setdefault(i, set()).add(offset - doc[i].idx)
    if not cuts:
        return
    with doc.retokenize() as retokenizer:
        for i, points in cuts.items():
            token = doc[i]
            edges = [0, *sorted(points), len(token.text)]
            orths = [token.text[a:b] for a, b in zip(edges, edges[1:], strict=False)]
            retokenizer.split(token, orths, heads=[(token, 0)] * len(orths))


def trim_span(span: Span) -> Span | None:
    """Drop from a span's edges: brackets without their partner inside it, a pair of brackets around all of it, an
    opening bracket at its end or a closing one at its start, commas and dashes, a final full stop token and final
    function words."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end:
        text = doc[start:end].text
        last, first = doc[end - 1].text, doc[start].text
        if (last in EDGE_PUNCT or last in END_PUNCT or last in OPENERS or doc[end - 1].lower_ in FUNCTION_WORDS
                or (last in PAIRS and text.count(PAIRS[last]) < text.count(last))):
            end -= 1
        elif first in EDGE_PUNCT or first in PAIRS or (first in OPENERS and
                                     text.count(first) > sum(text.count(c) for c, o in PAIRS.items() if o == first)):
            start += 1
        elif end - start > 2 and first in OPENERS and PAIRS.get(last) == first:   # "(2004)", "(19 november 2011)"
            start, end = start + 1, end - 1
        else:
            break
    return Span(doc, start, end, label=span.label) if start < end else None


def _char_class(char: str) -> str:
    return "alpha" if char.isalpha() else "digit" if char.isdigit() else "other"


def is_boundary(text: str, offset: int) -> bool:
    """Whether a span may start or end at ``offset`` inside a word (see ``JOINERS``)."""
    before, after = text[offset - 1], text[offset]
    if before in JOINERS or after in JOINERS or before.isspace() or after.isspace():
        return before.isspace() or after.isspace()
    a, b = _char_class(before), _char_class(after)
    return a != b and not (a == "digit" and b == "alpha")


def snap_offsets(doc: Doc, entities: list[dict]) -> list[dict]:
    """Move span edges that fall inside a token outward to the nearest boundary inside it
    (:func:`is_boundary`), or to the token's edge: a model piece boundary in the middle of a word
    (``Rijks|recherche``) takes the whole word, a glued neighbour (``Weele|2``) stays outside, and so does a
    glued mark the model took along (``lid5``: :data:`GLUED_MARK`)."""
    text = doc.text
    token_starts = [token.idx for token in doc]

    def snap(offset: int, step: int) -> int:
        i = bisect_right(token_starts, offset) - 1
        if i < 0:
            return offset
        lo, hi = doc[i].idx, doc[i].idx + len(doc[i])
        while lo < offset < hi and not is_boundary(text, offset):
            offset += step
        return offset

    def snap_end(start: int, end: int) -> int:
        end = snap(end, 1)
        mark = GLUED_MARK.search(text[start:end])
        return start + mark.start() if mark else end

    return [{**e, "start": (start := snap(e["start"], -1)), "end": snap_end(start, e["end"])} for e in entities]


def entity_spans(doc: Doc, entities: list[dict], alignment: str = "snap") -> list[Span]:
    """The model's character spans as non-overlapping entities on ``doc``. ``snap`` widens an edge inside a
    token to the nearest boundary (:func:`snap_offsets`) and splits the token there; ``split`` splits
    tokens exactly where a span starts or ends; ``contract`` keeps only whole tokens inside the span;
    ``expand`` stretches a span over every token it touches, glued neighbours included."""
    if alignment == "snap":
        entities = snap_offsets(doc, entities)
    if alignment in ("snap", "split"):
        split_at(doc, (offset for e in entities for offset in (e["start"], e["end"])))
    mode = "strict" if alignment in ("snap", "split") else alignment
    spans = [doc.char_span(e["start"], e["end"], label=e["label"], alignment_mode=mode) for e in entities]
    return filter_spans([t for s in spans if s is not None and (t := trim_span(s)) is not None])


def reads_context(nlp: Language) -> bool:
    """Whether ``nlp``'s transformer reads paragraph context: the Docs it gets need ``doc._.context`` then."""
    return COMPONENT in getattr(nlp, "pipe_names", ()) and nlp.get_pipe(COMPONENT).reads_context


class TransformerTagger:
    def __init__(self, nlp: Language, name: str, model: str, batch_size: int, max_length: int, stride: int,
                 threads: int, precision: str, batch_tokens: int = 1024, alignment: str = "snap",
                 span_continuation: float = DEFAULT_SPAN_CONTINUATION):
        self.name = name
        self.alignment = alignment
        self.span_continuation = span_continuation
        self.model_path = model
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.max_length = max_length
        self.stride = stride
        self.threads = threads
        self.precision = precision
        self.precision_used = resolve_precision(precision)
        self._model = None
        self._tokenizer = None

    # -- loading ---------------------------------------------------------------------------------
    def load(self, path: str | Path | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from kamerbrief.pipeline.model.multitask import KamerbriefModel

        if not (path or self.model_path):
            raise ModelLoadError("the component has no model: give `model` (a trained model folder) or load a "
                                 "saved pipeline folder, whose weights are in kamerbrief_transformer/model")
        path = Path(path or self.model_path)
        if not (path / "config.json").is_file():
            raise ModelLoadError("no trained kamerbrief model here (config.json missing)", path)
        if self.threads:
            torch.set_num_threads(self.threads)
        with quiet_loading():
            model = AutoModel.from_pretrained(path)
            tokenizer = AutoTokenizer.from_pretrained(path)
        if not isinstance(model, KamerbriefModel):
            raise ModelLoadError(f"{type(model).__name__} is not a kamerbrief model (train one with `kamerbrief train`)", path)
        model = model.float().eval()
        if self.precision_used == "int8":
            # One scale per output channel, not per matrix: on the dev split that halved what int8
            # costs (entity F1 -0.019 instead of -0.045 for kamerbrief-nl-e5s) and it runs no slower.
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        self._model = model
        self._tokenizer = tokenizer
        self.model_path = str(path)

    # Loaded on first use, and deliberately not named ``model``: spaCy checks every component against
    # its ``ListenedToComponent`` protocol with ``hasattr(component, "model")`` while it builds the
    # pipeline from config.cfg, before ``from_disk`` has pointed the component at its weights. A lazy
    # ``model`` property loaded from the config's path right then (a stale path, or none), and
    # whether the check reached ``model`` depended on set order, i.e. on PYTHONHASHSEED: the
    # intermittent E500 of earlier versions.
    @property
    def hf_model(self):
        if self._model is None:
            self.load()
        return self._model

    @property
    def hf_tokenizer(self):
        if self._tokenizer is None:
            self.load()
        return self._tokenizer

    @property
    def use_bf16(self) -> bool:
        return self.precision_used == "bf16"

    # -- prediction ------------------------------------------------------------------------------
    @property
    def reads_context(self) -> bool:
        """Whether the model reads each paragraph's context (``doc._.context``; ``kamerbrief.data.context``)."""
        return self.hf_model.config.context != "none"

    def predict(self, texts: list[str], with_probs: bool = False, neighbours: list[dict | None] | None = None) -> list[dict]:
        """Per text: ``entities`` (char spans), ``cats`` (scores), ``stance_scores``; with ``with_probs`` also
        ``tag_probs``, the BIO tag distribution of every piece (for uncertainty sampling). A model that reads
        context reads ``neighbours`` (:func:`~kamerbrief.data.context.paragraph_neighbours`, one per
        text; None or missing: the text is read with an empty context)."""
        import torch

        model, tokenizer = self.hf_model, self.hf_tokenizer
        config = model.config
        if not texts:
            return []
        # Never longer than the encoder's positions (a small model may have fewer than max_length).
        limit = min(self.max_length, getattr(config.encoder_config, "max_position_embeddings", self.max_length))
        pool_masks = None
        if config.context == "none":
            encoded = tokenizer(texts, truncation=True, max_length=limit, stride=min(self.stride, limit // 2),
                                return_overflowing_tokens=True, return_offsets_mapping=True, return_special_tokens_mask=True)
            owners = encoded["overflow_to_sample_mapping"]
            window_offsets = [[(0, 0) if special else tuple(o) for o, special in zip(offsets, specials, strict=True)]
                              for offsets, specials in zip(encoded["offset_mapping"], encoded["special_tokens_mask"], strict=True)]
        else:
            from kamerbrief.data.context import encode_with_context

            encoded = encode_with_context(tokenizer, texts, neighbours or [None] * len(texts), config.context,
                                          config.context_tokens, limit, min(self.stride, limit // 2),
                                          config.context_position)
            owners, window_offsets, pool_masks = encoded["owners"], encoded["offsets"], encoded["pool_mask"]
        n_windows = len(encoded["input_ids"])
        lengths = [len(ids) for ids in encoded["input_ids"]]
        order = sorted(range(n_windows), key=lengths.__getitem__)
        token_logits: list = [None] * n_windows
        paragraph_logits = np.zeros((n_windows, len(config.paragraph_labels)), dtype=np.float32)
        stance_logits = np.zeros((n_windows, len(config.stances)), dtype=np.float32)
        pad = tokenizer.pad_token_id
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.use_bf16):
            for batch in self.sub_batches(order, lengths):
                width = lengths[batch[-1]]  # ascending order: the last window is the longest
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                pool = torch.zeros((len(batch), width), dtype=torch.long) if pool_masks is not None else None
                for row, w in enumerate(batch):
                    seq = encoded["input_ids"][w]
                    ids[row, :len(seq)] = torch.tensor(seq)
                    mask[row, :len(seq)] = 1
                    if pool is not None:
                        pool[row, :len(seq)] = torch.tensor(pool_masks[w])
                out = model(input_ids=ids, attention_mask=mask, pool_mask=pool)
                tl = out["token_logits"].float().numpy()
                pl = out["paragraph_logits"].float().numpy()
                sl = out["stance_logits"].float().numpy()
                for row, w in enumerate(batch):
                    token_logits[w] = tl[row, :lengths[w]]
                    paragraph_logits[w] = pl[row]
                    stance_logits[w] = sl[row]
        per_text: dict[int, list[int]] = {}
        for w, owner in enumerate(owners):
            per_text.setdefault(owner, []).append(w)
        results = []
        for t, text in enumerate(texts):
            windows = per_text.get(t, [])
            pieces = []
            for w in windows:
                pieces.append((token_logits[w], window_offsets[w]))
            logits, offsets = merge_window_logits(pieces)
            tag_probs = softmax(logits) if len(offsets) else np.zeros((0, len(config.tags)))
            tags = decode_tags(tag_probs, config.tags, self.span_continuation)
            # A paragraph has a label if any of its windows says so.
            cats = sigmoid(paragraph_logits[windows]).max(0) if windows else np.zeros(len(config.paragraph_labels))
            stance = softmax(stance_logits[windows]).mean(0) if windows else np.zeros(len(config.stances))
            results.append({"entities": tags_to_spans(tags, offsets, text),
                            "cats": {label: float(cats[i]) for i, label in enumerate(config.paragraph_labels)},
                            "stance_scores": {s: float(stance[i]) for i, s in enumerate(config.stances)}})
            if with_probs:
                results[-1]["tag_probs"] = tag_probs
        return results

    def sub_batches(self, order: list[int], lengths: list[int]) -> Iterator[list[int]]:
        """Windows in ascending length cut into batches of at most ``batch_size`` windows and
        ``batch_tokens`` padded positions. A fixed count alone puts 5-piece and 256-piece windows in one
        batch: on letters that padded 3.4x the real pieces, and padding costs what real pieces cost."""
        batch: list[int] = []
        for w in order:
            if batch and (len(batch) >= self.batch_size or (len(batch) + 1) * lengths[w] > self.batch_tokens):
                yield batch
                batch = []
            batch.append(w)
        if batch:
            yield batch

    def set_annotations(self, doc: Doc, prediction: dict) -> None:
        config = self.hf_model.config
        doc.cats = prediction["cats"]
        doc._.labels = [label for label in config.paragraph_labels if prediction["cats"][label] >= config.thresholds.get(label, 0.5)]
        scores = prediction["stance_scores"]
        doc._.stance_scores = scores
        doc._.stance = max(scores, key=scores.get) if "adoption" in doc._.labels else None
        doc.ents = entity_spans(doc, prediction["entities"], self.alignment)

    def __call__(self, doc: Doc) -> Doc:
        return next(self._run([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        batch: list[Doc] = []
        size = batch_size or self.batch_size
        for doc in docs:
            batch.append(doc)
            if len(batch) >= size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, docs: list[Doc]) -> Iterator[Doc]:
        neighbours = [d._.context for d in docs] if self.reads_context else None
        for doc, prediction in zip(docs, self.predict([d.text for d in docs], neighbours=neighbours), strict=True):
            self.set_annotations(doc, prediction)
            yield doc

    # -- serialisation (spacy.load / nlp.to_disk) ------------------------------------------------
    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        target = path / MODEL_DIR
        target.mkdir(parents=True, exist_ok=True)
        source = Path(self.model_path)
        if source.resolve() != target.resolve():
            for file in source.iterdir():
                if file.is_file():
                    shutil.copy2(file, target / file.name)

    def from_disk(self, path, exclude=tuple()):
        self.model_path = str(Path(path) / MODEL_DIR)
        self._model = self._tokenizer = None  # loaded on first use
        return self


@Language.factory(COMPONENT, default_config={
    "model": "", "batch_size": 64, "batch_tokens": 1024, "max_length": 256, "stride": 64, "threads": 0, "precision": "auto",
    "alignment": "snap", "span_continuation": DEFAULT_SPAN_CONTINUATION},
    assigns=["doc.ents", "doc.cats", "doc._.labels", "doc._.stance", "doc._.stance_scores"],
    retokenizes=True)  # entity edges inside a token split it (``alignment="snap"``/``"split"``)
def make_transformer(nlp: Language, name: str, model: str, batch_size: int, batch_tokens: int, max_length: int, stride: int,
                     threads: int, precision: str, alignment: str, span_continuation: float) -> TransformerTagger:
    if precision not in PRECISIONS:
        raise ModelLoadError(f"precision must be fp32, bf16, int8 or auto, not {precision!r}")
    if alignment not in ALIGNMENTS:
        raise ModelLoadError(f"alignment must be one of {', '.join(ALIGNMENTS)}, not {alignment!r}")
    if span_continuation < 0:
        raise ModelLoadError(f"span_continuation must be a probability (1 or more: strict IOB2), not {span_continuation!r}")
    return TransformerTagger(nlp, name, model, batch_size, max_length, stride, threads, precision, batch_tokens, alignment,
                             span_continuation)

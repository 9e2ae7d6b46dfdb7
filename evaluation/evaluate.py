"""``kamerbrief evaluate``: run a pipeline on gold letters and score it.

Gold mode (default): the gold paragraphs go through the pipeline as they are, so the scores measure
the model and the rules, not the reader. Raw mode (``from_raw``): the original documents are read and
segmented by the reader, predicted paragraphs are aligned to gold ones by character overlap in the
source, and segmentation precision/recall is reported too.

Scoring is in :mod:`kamerbrief.evaluation.metrics` (bootstrap intervals by letter).
"""
from __future__ import annotations

from pathlib import Path

from kamerbrief.errors import InvalidGoldError, KamerbriefError
from kamerbrief.evaluation.metrics import ScoredParagraph, evaluate_items, source_kind
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE


def check_gold(paths, shared_dir=None) -> tuple[list[dict], list, int]:
    """The gold records under ``paths`` checked with the validator of ``kamerbrief data validate``:
    ``(valid records resolved to inline form, every problem, number of invalid records)``."""
    from kamerbrief.data.validate import check_files

    records, problems, n_invalid = [], [], 0
    for checked in check_files(paths, shared_dir):
        problems.extend(checked.problems)
        if checked.problems or checked.record is None:
            n_invalid += checked.line > 0
        else:
            records.append(checked.record)
    return records, problems, n_invalid


def load_gold(paths, shared_dir=None, skip_invalid: bool = False) -> list[dict]:
    """Valid gold records, resolved to inline form. Any problem raises
    :class:`~kamerbrief.errors.InvalidGoldError` listing them all, unless ``skip_invalid``: then the
    invalid records are left out (and :func:`check_gold` says how many)."""
    records, problems, n_invalid = check_gold(paths, shared_dir)
    where = ", ".join(map(str, paths))
    if problems and not skip_invalid:
        raise InvalidGoldError(f"{len(problems)} problem(s) in the gold data ({n_invalid} invalid record(s)): fix them "
                               f"(see `kamerbrief data validate`) or pass --skip-invalid", problems, where)
    if not records:
        raise InvalidGoldError("no valid gold records found", problems, where)
    return records


def _gold_ranges(paragraph: dict) -> list:
    if "deadline" not in paragraph.get("labels", []):
        return []
    out = []
    for e in paragraph.get("entities", []):
        if e["label"] == "DATE" and "range" in e:
            rng = e["range"]
            out.append(((e["start"], e["end"]), (rng["start"], rng["end"]) if rng else None))
    return out


def _source_fields(record: dict) -> dict:
    kind, corpus = source_kind(record)
    return {"source_kind": kind, "corpus": corpus}


def _stance(doc) -> str | None:
    """The stance head's choice, whether or not the paragraph was labelled ``adoption``: stance is scored
    on every gold adoption paragraph, so it measures the stance head alone (gold and raw mode alike)."""
    scores = doc._.stance_scores if doc is not None else None
    return max(scores, key=scores.get) if scores else None


def _period(value) -> tuple | None:
    return (value["start"], value["end"]) if value else None


def gold_commitments(paragraph: dict) -> list[dict] | None:
    """The paragraph's gold commitments in scoring form, None where the letter does not annotate them."""
    if "commitments" not in paragraph:
        return None
    return [{"start": c["start"], "end": c["end"], "actor": c["actor"]["text"], "due": _period(c.get("due"))}
            for c in paragraph["commitments"]]


def predicted_commitments(record: dict, doc) -> list[dict]:
    """The pipeline's commitments in scoring form, the signer resolved from the gold record's metadata."""
    from kamerbrief.pipeline.commitments import commitment_records, signer_of

    signer = signer_of(record)
    return [{"start": c["start"], "end": c["end"], "actor": signer if c["actor"].get("signer") else c["actor"]["text"],
             "due": _period(c["due"])} for c in commitment_records(doc)]


def scored_paragraph(record: dict, paragraph: dict, doc) -> ScoredParagraph:
    from kamerbrief.data.sources import annotated_labels

    entity_labels, _ = annotated_labels(record)
    gold_labels = set(paragraph.get("labels", []))
    return ScoredParagraph(
        letter_id=record["id"], text=paragraph["text"], gold_labels=gold_labels, pred_labels=set(doc._.labels or []),
        gold_stance=paragraph.get("stance") if "adoption" in gold_labels else None, pred_stance=_stance(doc),
        gold_entities=[(e["start"], e["end"], e["label"]) for e in paragraph.get("entities", [])],
        # Offsets into the paragraph's own text: the pipeline works on its normalised form.
        pred_entities=[(s._.source_start, s._.source_end, s.label_) for s in doc.ents],
        gold_ranges=_gold_ranges(paragraph),
        pred_ranges={(s._.source_start, s._.source_end): s._.date_range for s in doc.ents if s.label_ == "DATE"},
        annotated_entity_labels=set(entity_labels), gold_commitments=gold_commitments(paragraph),
        pred_commitments=predicted_commitments(record, doc), **_source_fields(record))


def load_pipeline(spec: str | None, precision: str = "auto", batch_size: int = DEFAULT_BATCH_SIZE, rules: bool = True):
    """The pipeline to evaluate: the model ``spec`` names, at the precision its suffix gives (``MODEL@int8``, as
    ``--compare M --compare M@int8`` takes it) or else ``precision``; without the REF/DATE rule component when
    ``rules`` is false (to measure what it adds)."""
    from kamerbrief.pipeline.nlp import load, parse_model_spec

    name, chosen = parse_model_spec(spec, precision)
    nlp = load(name, batch_size=batch_size, precision=chosen)
    if not rules and "kamerbrief_rules" in nlp.pipe_names:
        nlp.remove_pipe("kamerbrief_rules")
    return nlp


def model_fields(nlp) -> dict:
    """What a report says about the pipeline that made it (paths as :func:`~kamerbrief.paths.portable_path` writes them)."""
    from kamerbrief.paths import portable_path

    tagger = nlp.get_pipe("kamerbrief_transformer")
    return {"name": nlp.meta.get("name"), "version": nlp.meta.get("version"), "path": portable_path(tagger.model_path),
            "thresholds": tagger.hf_model.config.thresholds, "pipeline": nlp.pipe_names,
            "precision": tagger.precision_used, "precision_setting": tagger.precision}


def predict_gold(nlp, records: list[dict], batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True) -> tuple[list[ScoredParagraph], list]:
    """Run the pipeline over every gold paragraph; returns the scored items and the Docs."""
    from tqdm import tqdm

    from kamerbrief.data.context import paragraph_neighbours
    from kamerbrief.pipeline.transformer import reads_context

    with_context = reads_context(nlp)
    stream = []
    for record in records:
        paragraphs = record["paragraphs"]
        neighbours = paragraph_neighbours((p.get("kind"), p["text"]) for p in paragraphs) if with_context else [None] * len(paragraphs)
        for paragraph, context in zip(paragraphs, neighbours, strict=True):
            doc = nlp.make_doc(paragraph["text"])
            doc._.letter_date = record.get("meta", {}).get("date")
            doc._.kind = paragraph.get("kind")
            if with_context:
                doc._.context = context
            stream.append((doc, (record, paragraph)))
    from kamerbrief.pipeline.letter_pass import after_letter, letter_pass_of

    letter_pass = letter_pass_of(nlp)
    items, docs, letter = [], [], []

    def score(done: list) -> None:
        # a letter is scored once all its paragraphs are back: the letter-level decisions (pipeline/letter_pass.py)
        if letter_pass:
            after_letter([doc for doc, _, _ in done], letter_pass)
        for doc, record, paragraph in done:
            items.append(scored_paragraph(record, paragraph, doc))
            docs.append(doc)

    for doc, (record, paragraph) in tqdm(nlp.pipe(stream, as_tuples=True, batch_size=batch_size), total=len(stream),
                                         desc="evaluating", unit=" paragraphs", disable=not progress):
        if letter and letter[-1][1] is not record:
            score(letter)
            letter = []
        letter.append((doc, record, paragraph))
    score(letter)
    return items, docs


def normaliser_on_gold_spans(records: list[dict]) -> dict:
    """The deadline normaliser alone: gold DATE spans with a gold range, normalised in context."""
    from kamerbrief.pipeline.time_expressions import normalise_in_context

    correct = total = 0
    for record in records:
        date = record.get("meta", {}).get("date")
        for paragraph in record["paragraphs"]:
            text = paragraph["text"]
            for (start, end), gold in _gold_ranges(paragraph):
                got = normalise_in_context(text[start:end], preceding_text=text[max(0, start - 40):start],
                                           following_text=text[end:end + 40], letter_date=date)
                total += 1
                correct += (tuple(got) if got else None) == (tuple(gold) if gold else None)
    return {"correct": correct, "total": total, "accuracy": correct / total if total else None}


def evaluate(nlp, records: list[dict], n_bootstrap: int = 1000, seed: int = 0, batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True) -> tuple[dict, list, list]:
    """The full report for one pipeline on gold records, plus the scored items and Docs (for the
    error browser and comparisons)."""
    items, docs = predict_gold(nlp, records, batch_size, progress)
    report = _with_normaliser(evaluate_items(items, n_bootstrap=n_bootstrap, seed=seed), records)
    report["model"] = model_fields(nlp)
    return report, items, docs


def _with_normaliser(report: dict, records: list[dict]) -> dict:
    """``report`` with the normaliser's own score on the gold spans, overall and per source kind."""
    report["deadlines"]["normaliser_on_gold_spans"] = normaliser_on_gold_spans(records)
    for kind, sub in report.get("by_source", {}).items():
        sub["deadlines"]["normaliser_on_gold_spans"] = normaliser_on_gold_spans([r for r in records if source_kind(r)[0] == kind])
    return report


def compare(nlp_a, nlp_b, records: list[dict], n_bootstrap: int = 1000, seed: int = 0, batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True) -> dict:
    """Both pipelines on the same gold paragraphs; per metric the paired-bootstrap difference (B - A),
    overall and per source kind (``by_source``)."""
    from kamerbrief.evaluation.metrics import compare_items

    items_a, _ = predict_gold(nlp_a, records, batch_size, progress)
    items_b, _ = predict_gold(nlp_b, records, batch_size, progress)
    return compare_items(items_a, items_b, n_bootstrap=n_bootstrap, seed=seed)


# -- raw-letter mode -------------------------------------------------------------------------------

def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def align_paragraphs(gold: list[tuple[int, int]], predicted: list[tuple[int, int]]) -> tuple[list[int | None], dict]:
    """For each gold span the predicted span overlapping it most (or None), and segmentation scores:
    exact (same span after trimming) and overlap (IoU >= 0.5), precision over predicted paragraphs
    inside the gold-covered region."""
    best: list[int | None] = []
    for g in gold:
        scores = [(_overlap(g, p), i) for i, p in enumerate(predicted)]
        top = max(scores, default=(0, None))
        best.append(top[1] if top[0] > 0 else None)
    lo, hi = (min(s for s, _ in gold), max(e for _, e in gold)) if gold else (0, 0)
    inside = [p for p in predicted if _overlap(p, (lo, hi)) > 0]

    def iou(a, b):
        inter = _overlap(a, b)
        return inter / (max(a[1], b[1]) - min(a[0], b[0])) if inter else 0.0

    exact_gold = sum(1 for g in gold if g in set(predicted))
    exact_pred = sum(1 for p in inside if p in set(gold))
    overlap_gold = sum(1 for g in gold if any(iou(g, p) >= 0.5 for p in predicted))
    overlap_pred = sum(1 for p in inside if any(iou(p, g) >= 0.5 for g in gold))
    counts = {"gold": len(gold), "predicted": len(inside), "exact_gold": exact_gold, "exact_pred": exact_pred,
              "overlap_gold": overlap_gold, "overlap_pred": overlap_pred}
    return best, counts


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def evaluate_from_raw(nlp, records: list[dict], shared_dir=None, n_bootstrap: int = 1000, seed: int = 0,
                      batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True) -> dict:
    """Raw mode for standoff gold (whose paragraphs point into the original documents): read each
    document with the reader, annotate it, align to gold and score."""
    from tqdm import tqdm

    from kamerbrief.data.records import source_text
    from kamerbrief.pipeline.letters import annotate_letters
    from kamerbrief.pipeline.reader import read_corpus_record

    standoff = read_records_standoff(records)
    if not standoff:
        raise KamerbriefError("--from-raw needs standoff gold records (paragraphs with start/end into the original documents)")
    items: list[ScoredParagraph] = []
    seg = {"gold": 0, "predicted": 0, "exact_gold": 0, "exact_pred": 0, "overlap_gold": 0, "overlap_pred": 0}
    for record in tqdm(standoff, desc="evaluating", unit=" letters", disable=not progress):
        text = source_text(record["source"], record["path"], shared_dir)
        letter = read_corpus_record({"id": record["id"], "text": text, "path": record["path"]}, record["source"])
        _, annotated, docs = next(annotate_letters([letter], nlp, batch_size))
        predicted = [_trim(text, p.source_start, p.source_end) for p in letter.paragraphs]
        gold_spans = [_trim(text, p["source_start"], p["source_end"]) for p in record["paragraphs"]]
        best, counts = align_paragraphs(gold_spans, predicted)
        for key in seg:
            seg[key] += counts[key]
        for paragraph, match in zip(record["paragraphs"], best, strict=True):
            if match is None:
                items.append(_raw_item(record, paragraph, {"labels": [], "entities": [], "text": ""}, None, None))
            else:
                items.append(_raw_item(record, paragraph, annotated["paragraphs"][match], letter.paragraphs[match], docs[match]))
    report = _with_normaliser(evaluate_items(items, n_bootstrap=n_bootstrap, seed=seed), standoff)

    def ratio(a, b):
        return a / b if b else 0.0
    report["segmentation"] = {
        **seg, "exact": {"p": ratio(seg["exact_pred"], seg["predicted"]), "r": ratio(seg["exact_gold"], seg["gold"])},
        "overlap_iou_0.5": {"p": ratio(seg["overlap_pred"], seg["predicted"]), "r": ratio(seg["overlap_gold"], seg["gold"])}}
    report["mode"] = "from-raw"
    report["model"] = model_fields(nlp)
    return report


def read_records_standoff(records: list[dict]) -> list[dict]:
    return [r for r in records if all("source_start" in p for p in r["paragraphs"])]


def _raw_item(record: dict, gold: dict, pred: dict, pred_paragraph, doc) -> ScoredParagraph:
    """Predicted entities (with the date ranges of DATE spans) are moved into the gold paragraph's
    coordinates through the source offsets (exact when the reader's paragraph is the same slice of the
    document; otherwise by finding the entity's text in the gold paragraph). Stance is the stance head's
    choice, as in gold mode (:func:`_stance`; the record's stance for a paragraph annotated in pieces)."""
    from kamerbrief.data.sources import annotated_labels

    entities, ranges = [], {}
    if pred_paragraph is not None:
        for e in pred["entities"]:
            surface = pred["text"][e["start"]:e["end"]]
            start = pred_paragraph.source_start + e["start"] - gold["source_start"]
            if gold["text"][start:start + len(surface)] != surface:
                start = gold["text"].find(surface)
                if start < 0:
                    continue
            entities.append((start, start + len(surface), e["label"]))
            if e["label"] == "DATE":
                rng = e.get("range")
                ranges[(start, start + len(surface))] = (rng["start"], rng["end"]) if rng else None
    entity_labels, _ = annotated_labels(record)
    return ScoredParagraph(
        letter_id=record["id"], text=gold["text"], gold_labels=set(gold.get("labels", [])), pred_labels=set(pred["labels"]),
        gold_stance=gold.get("stance") if "adoption" in gold.get("labels", []) else None,
        pred_stance=_stance(doc) or pred.get("stance"),
        gold_entities=[(e["start"], e["end"], e["label"]) for e in gold.get("entities", [])], pred_entities=entities,
        gold_ranges=_gold_ranges(gold), pred_ranges=ranges, annotated_entity_labels=set(entity_labels),
        **_source_fields(record))


def write_reports(report: dict, json_path: Path | None = None, markdown_path: Path | None = None) -> None:
    import json

    from kamerbrief.evaluation.report import markdown_table

    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if markdown_path:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown_table(report) + "\n", encoding="utf-8")

"""Assemble, save and load the kamerbrief spaCy pipeline.

Pipeline: ``kamerbrief_transformer`` (entities, paragraph labels, stance) -> ``kamerbrief_rules``
(REF/DATE patterns merged by the policy in ``kamerbrief.pipeline.rules``) -> ``kamerbrief_deadlines``
(date ranges and the deadline span of ``deadline`` paragraphs) -> ``kamerbrief_commitments`` (every
promise: its actor, dates and due period; ``kamerbrief.pipeline.commitments``), behind the ``kamerbrief.Tokenizer.v1``
tokenizer, which normalises the text first and keeps the map back to it
(``kamerbrief.pipeline.tokenizer``). A saved pipeline is an ordinary spaCy
folder, so ``spacy.load(path)`` works as well as ``kamerbrief.load(path)``; the components are found
through the ``spacy_factories`` entry points.
"""
from __future__ import annotations

import os
from pathlib import Path

from kamerbrief.errors import KamerbriefError

DEFAULT_MODEL = "kamerbrief-nl-e5s-l4"
REPO_MODELS = Path(__file__).resolve().parent.parent / "models"


def default_model_path() -> Path:
    """``$KAMERBRIEF_MODEL`` or ``models/kamerbrief-nl-e5s-l4`` of this checkout."""
    return Path(os.environ.get("KAMERBRIEF_MODEL") or REPO_MODELS / DEFAULT_MODEL)


def build_pipeline(model_dir: str | Path, rules: bool = True, **transformer_config):
    """A fresh pipeline around a trained model folder (``kamerbrief train`` output)."""
    from kamerbrief.pipeline import commitments, date_ranges, transformer  # noqa: F401  (register factories)
    from kamerbrief.pipeline.tokenizer import blank

    nlp = blank()
    nlp.add_pipe("kamerbrief_transformer", config={"model": str(model_dir), **transformer_config})
    if rules:
        nlp.add_pipe("kamerbrief_rules")
    nlp.add_pipe("kamerbrief_deadlines")
    nlp.add_pipe("kamerbrief_commitments")
    return nlp


def with_commitments(nlp):
    """Pipelines saved before the commitments component existed get it after ``kamerbrief_deadlines``."""
    from kamerbrief.pipeline import commitments  # noqa: F401

    if "kamerbrief_commitments" not in nlp.pipe_names and "kamerbrief_deadlines" in nlp.pipe_names:
        nlp.add_pipe("kamerbrief_commitments", after="kamerbrief_deadlines")
    return nlp


def save_pipeline(nlp, out_dir: str | Path, meta: dict | None = None) -> Path:
    out_dir = Path(out_dir)
    # The weights are copied into the folder (``kamerbrief_transformer/model``) and found from there on
    # load; config.cfg must not keep the path they came from, which may be a deleted staging folder.
    nlp.get_pipe_config("kamerbrief_transformer")["model"] = ""
    nlp.meta.update({"name": out_dir.name.replace("-", "_"), "version": "0.1.0", "lang": "nl",
                     "description": "kamerbrief pipeline: entities, paragraph labels, stance, deadlines",
                     "requirements": ["kamerbrief"], **(meta or {})})
    nlp.to_disk(out_dir)
    return out_dir


def load(name_or_path: str | Path | None = None, **transformer_config):
    """Load a kamerbrief pipeline: the default model, a saved pipeline folder, or a trained model
    folder (wrapped in a fresh pipeline). ``transformer_config`` overrides the transformer
    component's settings (``batch_size``, ``threads``, ``precision``, ...)."""
    import spacy

    from kamerbrief.pipeline import commitments, date_ranges, tokenizer, transformer  # noqa: F401

    path = Path(name_or_path) if name_or_path else default_model_path()
    if not path.exists() and name_or_path and (REPO_MODELS / str(name_or_path)).exists():
        path = REPO_MODELS / str(name_or_path)
    if (path / "config.cfg").is_file():
        overrides = {f"components.kamerbrief_transformer.{k}": v for k, v in transformer_config.items()}
        return with_commitments(spacy.load(path, config=overrides))
    if (path / "config.json").is_file():
        return build_pipeline(path, **transformer_config)
    raise KamerbriefError("no kamerbrief pipeline or model here (expected config.cfg or config.json); "
                          "train one with `kamerbrief train` or pass the default model's path", path)

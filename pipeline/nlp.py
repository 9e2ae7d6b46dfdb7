"""Assemble, save and load the kamerbrief spaCy pipeline.

Pipeline: ``kamerbrief_transformer`` (entities, paragraph labels, stance) -> ``kamerbrief_rules``
(REF/DATE patterns merged by the policy in ``kamerbrief.pipeline.rules``) -> ``kamerbrief_deadlines``
(date ranges and the deadline span of ``deadline`` paragraphs) -> ``kamerbrief_commitments`` (every
promise: its actor, dates and due period; ``kamerbrief.pipeline.commitments``), behind the ``kamerbrief.Tokenizer.v1``
tokenizer, which normalises the text first and keeps the map back to it
(``kamerbrief.pipeline.tokenizer``). A saved pipeline is an ordinary spaCy
folder, so ``spacy.load(path)`` works as well as ``kamerbrief.load(path)``; the components are found
through the ``spacy_factories`` entry points.

A model is named by its folder or by its name (:func:`find_model`): an installed model package
(``kamerbrief package``, found by its ``kamerbrief_models`` entry point), else ``models/<name>`` of the
checkout this runs from; an installed kamerbrief has no checkout, and finds its models as packages.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kamerbrief.errors import KamerbriefError, ModelNotFoundError

DEFAULT_MODEL = "kamerbrief-nl-e5s-l4"
# Paragraphs per model batch (``nlp.pipe``). The encoder sorts a batch's windows by length before cutting them into
# sub-batches of ``batch_tokens`` padded positions, so a larger batch pads less: on the benchmark's 19 circulaires
# the padded positions were 1.47x the real pieces at 64 paragraphs and 1.11x at 1024 (evaluation/reports/README.md).
DEFAULT_BATCH_SIZE = 1024
# Entry point group of installed model packages (``kamerbrief package``): model name -> its Python package.
MODEL_ENTRY_POINTS = "kamerbrief_models"


@dataclass(frozen=True)
class ModelInfo:
    """Where a model was found: ``source`` is ``folder`` (a path given), ``package`` (an installed model
    package) or ``checkout`` (``models/<name>`` of the repository this runs from)."""

    name: str
    version: str
    source: str
    path: Path


def model_key(name: str) -> str:
    """Names compared as pip compares distributions: ``kamerbrief_nl_e5s_l4`` is ``kamerbrief-nl-e5s-l4``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_model_spec(spec: str | None, precision: str | None = None) -> tuple[str | None, str | None]:
    """``"MODEL@int8"`` -> ``("MODEL", "int8")``: a precision suffix, as ``evaluate --compare M --compare M@int8``
    takes it; without one, ``(spec, precision)``."""
    from kamerbrief.pipeline.transformer import PRECISIONS

    if spec and "@" in spec and spec.rsplit("@", 1)[1] in PRECISIONS:
        name, suffix = spec.rsplit("@", 1)
        return name, suffix
    return spec, precision


def _meta(folder: Path) -> dict:
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _folder_info(folder: Path, source: str, name: str | None = None) -> ModelInfo:
    """A model folder is named after the folder (``models/<name>``); its version is its meta.json's."""
    return ModelInfo(model_key(name or folder.resolve().name), str(_meta(folder).get("version", "")), source, folder)


def package_data_path(package_dir: Path) -> Path:
    """The pipeline folder inside an installed model package (spaCy's layout: ``<lang>_<name>-<version>/``)."""
    meta = _meta(package_dir)
    return package_dir / f"{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}"


def installed_models() -> list[ModelInfo]:
    """The installed model packages (``kamerbrief package``, then ``pip install``), found through their
    ``kamerbrief_models`` entry points without importing them."""
    from importlib.metadata import entry_points
    from importlib.util import find_spec

    found = {}
    for entry in entry_points(group=MODEL_ENTRY_POINTS):
        spec = find_spec(entry.value)
        if spec is None or spec.origin is None:
            continue  # its files are gone (uninstalled by hand)
        package_dir = Path(spec.origin).parent
        version = entry.dist.version if entry.dist is not None else str(_meta(package_dir).get("version", ""))
        found.setdefault(model_key(entry.name), ModelInfo(model_key(entry.name), version, "package", package_data_path(package_dir)))
    return list(found.values())


def checkout_models() -> list[ModelInfo]:
    """The models under ``models/`` of the repository this runs from (none for an installed kamerbrief)."""
    from kamerbrief.paths import checkout_root

    root = checkout_root()
    if root is None or not (root / "models").is_dir():
        return []
    return [_folder_info(folder, "checkout") for folder in sorted((root / "models").iterdir())
            if (folder / "config.cfg").is_file() or (folder / "config.json").is_file()]


def default_model_name() -> str:
    """``$KAMERBRIEF_MODEL`` (a name or a folder), else ``kamerbrief-nl-e5s-l4``."""
    return os.environ.get("KAMERBRIEF_MODEL") or DEFAULT_MODEL


def find_model(name_or_path: str | Path | None = None) -> ModelInfo:
    """Where a model is: a folder given by its path; else the installed model package of that name (as
    ``pip`` spells it or with underscores); else ``models/<name>`` of the checkout. None: the default model."""
    spec = str(name_or_path) if name_or_path else default_model_name()
    path = Path(spec).expanduser()
    if path.exists():
        return _folder_info(path, "folder")
    key = model_key(spec)
    for info in installed_models():
        if info.name == key:
            return info
    from spacy.util import get_package_path, is_package

    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", spec) and is_package(spec):  # a spaCy package made without kamerbrief
        try:
            folder = package_data_path(get_package_path(spec))
        except ImportError:
            folder = None
        if folder is not None and folder.is_dir():
            return _folder_info(folder, "package", spec)
    for info in checkout_models():
        if info.path.name == spec or info.name == key:
            return info
    installed = ", ".join(sorted(i.name for i in installed_models())) or "none"
    raise ModelNotFoundError(f"no model {spec!r}: not a folder, not an installed model package (installed: {installed}), "
                             "not under models/ of a checkout. Install a model package made by `kamerbrief package`, "
                             "or give a model folder", spec)


def default_model_path() -> Path:
    """The default model's folder (what ``load()`` loads), or its name when it is nowhere to be found."""
    try:
        return find_model().path
    except ModelNotFoundError:
        return Path(default_model_name())


def build_pipeline(model_dir: str | Path, rules: bool = True, **transformer_config):
    """A fresh pipeline around a trained model folder (``kamerbrief train`` output)."""
    from kamerbrief.pipeline import commitments, deadlines, transformer  # noqa: F401  (register factories)
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
    """Load a kamerbrief pipeline: the default model, a model by name (an installed model package, or a
    folder under ``models/`` of the checkout: :func:`find_model`), a saved pipeline folder, or a trained
    model folder (wrapped in a fresh pipeline). ``transformer_config`` overrides the transformer
    component's settings (``batch_size``, ``threads``, ``precision``, ...)."""
    import spacy

    from kamerbrief.pipeline import commitments, deadlines, tokenizer, transformer  # noqa: F401

    path = find_model(name_or_path).path
    if (path / "config.cfg").is_file():
        overrides = {f"components.kamerbrief_transformer.{k}": v for k, v in transformer_config.items()}
        return with_commitments(spacy.load(path, config=overrides))
    if (path / "config.json").is_file():
        return build_pipeline(path, **transformer_config)
    raise KamerbriefError("no kamerbrief pipeline or model here (expected config.cfg or config.json); "
                          "train one with `kamerbrief train` or pass the default model's path", path)

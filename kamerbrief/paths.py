"""Where kamerbrief finds things outside the package, and how a path is written into a file others read.

A checkout (an editable install, or the repository on ``PYTHONPATH``) has ``models/`` and ``../shared``
beside the package; an installed package has neither, and finds its models as installed model packages
(``kamerbrief.pipeline.nlp.find_model``). Model cards, data manifests and reports never hold a machine's
absolute paths: :func:`portable_path` writes ``{shared}/...`` for files of the shared folder and paths
relative to the checkout (or the working directory) for the rest.
"""
from __future__ import annotations

import os
from pathlib import Path

SHARED_PREFIX = "{shared}/"
# `kamerbrief train`'s config, relative to the checkout; its settings are the defaults of kamerbrief.training.config.
DEFAULT_TRAINING_CONFIG = "training/configs/kamerbrief-nl-e5s.json"


def checkout_root() -> Path | None:
    """The repository this package runs from, or None when it is installed (no checkout around it)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "pipeline" / "nlp.py").is_file() else None


def find_shared_dir(explicit: str | Path | None = None) -> Path | None:
    """The read-only ``shared/`` folder (the one holding ``corpora/``): ``explicit`` (``--shared``),
    ``$KAMERBRIEF_SHARED``, or ``shared`` beside the working directory, beside the checkout, or in the
    working directory."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("KAMERBRIEF_SHARED"):
        candidates.append(Path(os.environ["KAMERBRIEF_SHARED"]))
    candidates.append(Path.cwd().parent / "shared")
    if checkout_root() is not None:
        candidates.append(checkout_root().parent / "shared")
    candidates.append(Path.cwd() / "shared")
    for candidate in candidates:
        if (candidate / "corpora").is_dir():
            return candidate
    return None


def portable_path(path: str | Path, shared: str | Path | None = None) -> str:
    """``path`` as it may be written into a model card, manifest or report: ``{shared}/REL`` inside the
    shared folder (``shared``, else the one :func:`find_shared_dir` finds), relative
    to the checkout or else to the working directory inside them, and as given everywhere else (a path the
    user chose outside both, which the user may want to see)."""
    text = str(path)
    if text.startswith(SHARED_PREFIX):
        return text
    resolved = Path(text).expanduser().resolve()
    shared_dir = find_shared_dir(shared)
    if shared_dir is not None and resolved.is_relative_to(shared_dir.resolve()):
        return SHARED_PREFIX + resolved.relative_to(shared_dir.resolve()).as_posix()
    for base in (checkout_root(), Path.cwd().resolve()):
        if base is not None and resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix() or "."
    return text

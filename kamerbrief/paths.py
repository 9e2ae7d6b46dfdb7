"""Where kamerbrief finds things outside the package, and how a path is written into a file others read.

A checkout (an editable install, or the repository on ``PYTHONPATH``) has ``models/`` and ``../shared``
beside the package; an installed package has neither, and finds its models as installed model packages
(``kamerbrief.pipeline.nlp.find_model``). Model cards, data manifests and reports never hold a machine's
absolute paths: :func:`portable_path` writes ``{shared}/...`` for files of the shared folder and paths
relative to the checkout (or the working directory) for the rest.
"""
from __future__ import annotations

from pathlib import Path

SHARED_PREFIX = "{shared}/"


def checkout_root() -> Path | None:
    """The repository this package runs from, or None when it is installed (no checkout around it)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "pipeline" / "nlp.py").is_file() else None


def portable_path(path: str | Path, shared: str | Path | None = None) -> str:
    """``path`` as it may be written into a model card, manifest or report: ``{shared}/REL`` inside the
    shared folder (``shared``, else the one :func:`kamerbrief.data.records.find_shared_dir` finds), relative
    to the checkout or else to the working directory inside them, and as given everywhere else (a path the
    user chose outside both, which the user may want to see)."""
    text = str(path)
    if text.startswith(SHARED_PREFIX):
        return text
    from kamerbrief.data.records import find_shared_dir

    resolved = Path(text).expanduser().resolve()
    shared_dir = find_shared_dir(shared)
    if shared_dir is not None and resolved.is_relative_to(shared_dir.resolve()):
        return SHARED_PREFIX + resolved.relative_to(shared_dir.resolve()).as_posix()
    for base in (checkout_root(), Path.cwd().resolve()):
        if base is not None and resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix() or "."
    return text

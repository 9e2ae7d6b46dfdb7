"""kamerbrief: an offline-first Dutch NLP pipeline for government letters.

Folders map to imports as follows: ``pipeline/`` -> ``kamerbrief.pipeline``, ``data/`` ->
``kamerbrief.data``, ``training/`` -> ``kamerbrief.training``, ``evaluation/`` ->
``kamerbrief.evaluation``; this package holds the public API and the CLI.
"""
from __future__ import annotations

from kamerbrief.errors import KamerbriefError, ReadError, RecordError

__version__ = "0.1.0"


def read_letter(path, **kwargs):
    """Read a letter file (officielebekendmakingen page text, HTML, XML, plain text or Markdown)."""
    from kamerbrief.pipeline.reader import read_letter as _read

    return _read(path, **kwargs)


def load(name_or_path=None, **config):
    """Load a kamerbrief spaCy pipeline: the default model, a model by name (an installed model package,
    else ``models/<name>`` of the checkout), or a saved pipeline / trained model folder."""
    from kamerbrief.pipeline.nlp import load as _load

    return _load(name_or_path, **config)


def annotate_letter(letter, nlp=None) -> dict:
    """Annotate one letter (a path or a ``Letter``): the ANNOTATION.md record with predicted labels,
    stance, entities, date ranges and recommendation links."""
    from kamerbrief.pipeline.letters import annotate_letter as _annotate

    return _annotate(letter, nlp)


__all__ = ["read_letter", "load", "annotate_letter", "KamerbriefError", "ReadError", "RecordError", "__version__"]

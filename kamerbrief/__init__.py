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


__all__ = ["read_letter", "KamerbriefError", "ReadError", "RecordError", "__version__"]

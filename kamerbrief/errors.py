"""Errors with stable codes, in the manner of spaCy's ``Errors``: every message names the file and the
problem, so a batch run can log it and go on."""
from __future__ import annotations

from pathlib import Path


class KamerbriefError(Exception):
    """Base error. ``code`` is stable across releases; ``path`` names the offending file, if any."""

    code = "E000"

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = str(path) if path is not None else None
        self.message = message
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"[{self.code}] {where}{message}")


class ReadError(KamerbriefError):
    """A letter file could not be read (empty, binary, undecodable, malformed, too large)."""

    code = "E100"


class EmptyInputError(ReadError):
    code = "E101"


class BinaryInputError(ReadError):
    code = "E102"


class EncodingError(ReadError):
    code = "E103"


class MalformedXMLError(ReadError):
    code = "E104"


class InputTooLargeError(ReadError):
    code = "E105"


class NoTextError(ReadError):
    code = "E106"


class RecordError(KamerbriefError):
    """An annotated record breaks the ANNOTATION.md format."""

    code = "E200"


class StandoffResolutionError(RecordError):
    """A standoff record points at a document or span that is not there (or whose text changed)."""

    code = "E201"


# -- model and batch annotation (``kamerbrief annotate``) ---------------------------------------------

class ModelCheckError(KamerbriefError):
    """The pipeline could not be loaded, or failed its check run on a tiny text, before any letter."""

    code = "E501"


class OutputExistsError(KamerbriefError):
    """The output folder already holds a run: pass --resume to go on with it."""

    code = "E600"


class AnnotationError(KamerbriefError):
    """A letter failed inside the pipeline; it is listed in errors.jsonl and retried by --resume."""

    code = "E601"


class NotARegularFileError(ReadError):
    """An input is a FIFO, socket or device: it is refused without being opened (it could block forever)."""

    code = "E602"


class OutputError(KamerbriefError):
    """The output folder is not a folder, not writable, or a write failed (disk full): the group in flight
    is rolled back, so ``--resume`` completes the run exactly once."""

    code = "E603"

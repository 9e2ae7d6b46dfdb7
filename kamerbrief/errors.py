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


class UnreadableInputError(ReadError):
    """The path is missing, or the operating system refuses to open or list it."""

    code = "E107"


class NotRegularFileError(ReadError):
    """A FIFO, device, socket or directory given where a file is read: refused rather than waited on."""

    code = "E108"


class TooDeeplyNestedError(ReadError):
    """Markup or JSON nested deeper than any parser here will follow."""

    code = "E109"


class RecordError(KamerbriefError):
    """An annotated record breaks the ANNOTATION.md format."""

    code = "E200"


class StandoffResolutionError(RecordError):
    """A standoff record points at a document or span that is not there (or whose text changed)."""

    code = "E201"


class InvalidLineError(RecordError):
    """One line of a JSONL file is not a JSON object (bad JSON, bad UTF-8, nested too deeply)."""

    code = "E202"


class CorruptCollectionError(RecordError):
    """A JSONL collection cannot be read to its end (truncated or corrupt .gz/.xz); the records
    before the cut were read."""

    code = "E203"


class InvalidRecordError(RecordError):
    """A record is a JSON object but not one the command can use (``text`` not a string, a paragraph
    without text, ...)."""

    code = "E204"


class InvalidGoldError(RecordError):
    """Gold records for ``evaluate`` break the ANNOTATION.md format; ``problems`` lists every one."""

    code = "E205"

    def __init__(self, message: str, problems: list, path=None):
        self.problems = problems
        super().__init__(message, path)


class UnsafeSourceError(StandoffResolutionError):
    """A standoff ``source`` that is absolute or leaves the shared folder (``..``): never read."""

    code = "E206"


# -- training (``kamerbrief train``) ------------------------------------------------------------------

class TrainingConfigError(KamerbriefError):
    """A training config that cannot be used: unreadable, a missing or mistyped setting, a bad data source."""

    code = "E400"


class UnknownConfigKeyError(TrainingConfigError):
    """A training config key that no setting has (a typo would otherwise be ignored silently)."""

    code = "E401"


# -- model and batch annotation (``kamerbrief annotate``) ---------------------------------------------

class ModelCheckError(KamerbriefError):
    """The pipeline could not be loaded, or failed its check run on a tiny text, before any letter."""

    code = "E501"


class ModelNotFoundError(KamerbriefError):
    """No model by that name or path: not a folder, not an installed model package, not under models/."""

    code = "E502"


class PackagingError(KamerbriefError):
    """``kamerbrief package`` could not build the model package (not a pipeline folder, bad name or version,
    the build failed)."""

    code = "E503"


class ModelCardError(KamerbriefError):
    """``kamerbrief evaluate --card`` cannot update the model's card: the model is an installed package, or its
    folder was not made by ``kamerbrief train`` (no training_config.json)."""

    code = "E504"


class ReadmeTablesError(KamerbriefError):
    """The README's result tables cannot be rendered: a report is missing or lacks a part the tables show, or
    README.md lacks a block's ``<!-- kamerbrief:NAME:begin -->`` / ``end`` markers
    (``python -m kamerbrief.evaluation.readme_tables``)."""

    code = "E505"


class CheckoutComparisonError(KamerbriefError):
    """Two files of ``python -m kamerbrief.evaluation.compare_checkouts predict`` cannot be paired: unreadable, or
    scored on different gold paragraphs."""

    code = "E506"


class OutputExistsError(KamerbriefError):
    """The output folder already holds a run: pass --resume to go on with it."""

    code = "E600"


class AnnotationError(KamerbriefError):
    """A letter failed inside the pipeline; it is listed in errors.jsonl and retried by --resume."""

    code = "E601"


class WorkerLostError(AnnotationError):
    """A worker process (``--workers``) or Ray actor died while annotating: the letters it had are
    retried, and a letter that kills a worker again is listed with this code (retried by --resume)."""

    code = "E602"


class BackendError(KamerbriefError):
    """The backend asked for cannot run here (``--backend ray`` without ray installed, or no cluster
    at ``--address``)."""

    code = "E604"


class OutputError(KamerbriefError):
    """The output folder is not a folder, not writable, or a write failed (disk full): the group in flight
    is rolled back, so ``--resume`` completes the run exactly once."""

    code = "E603"


class RegisterEntryError(KamerbriefError):
    """An annotated letter could not be entered in the commitment register (``kamerbrief register``): a
    record without paragraphs, a broken line; it is listed in the register's errors.jsonl and skipped."""

    code = "E605"

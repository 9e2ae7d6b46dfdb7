"""The training config of ``kamerbrief train``: typed, checked when it is read, one set of defaults.

A config file (``training/configs/*.json``) is read into :class:`TrainingConfig`. Every key must be a
setting (a mistyped key is an ``E401`` naming the key and the file, never silently ignored) and every
value must have the setting's type (``E400``). A setting left out takes the default written here, and
the defaults are those of the shipped default config, ``training/configs/kamerbrief-nl-e5s.json``
(a test holds them equal).

``training_config.json``, written next to every trained model, is the config that trained it plus
two records of the run, ``weights_dtype`` and ``environment`` (and ``parent`` after ``train --from``):
it reads back as a :class:`TrainingConfig` too, so ``kamerbrief train --from MODEL`` starts from it.

Data specs are record files or folders (``{shared}/...`` for files under the shared folder) or named
sources, ``{"source": "unlabeled", "path": ..., <options of that reader>}`` (see :data:`SOURCES`).
"""
from __future__ import annotations

import json
import types
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Union, get_args, get_origin, get_type_hints

from kamerbrief.data.context import CONTEXT_POSITIONS, CONTEXTS
from kamerbrief.errors import TrainingConfigError, UnknownConfigKeyError

# ``training.sampling`` -> the Trainer's own strategy ("bucketed" is ours and bypasses it)
SAMPLING = {"bucketed": "random", "random": "random", "group_by_length": "group_by_length"}
DTYPES = ("float32", "float16", "bfloat16")
SOURCES = ("conll2002", "europeana", "unlabeled")
DISTILL_HEADS = ("token", "paragraph", "stance")
TYPES = {float: ((int, float), "a number"), int: ((int,), "an integer"), bool: ((bool,), "true or false"),
         str: ((str,), "a string"), dict: ((dict,), "an object")}


@dataclass
class Hyperparameters:
    """The ``training`` section."""

    learning_rate: float = 1e-4  # the encoder's
    head_learning_rate: float = 1e-3  # the task heads start from nothing, so they get their own, higher rate
    batch_size: int = 8
    eval_batch_size: int = 32
    epochs: float = 5
    # A fraction of all optimizer steps, in [0, 1).
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    # The paragraph and stance heads learn from softened targets (Szegedy et al. 2016): a paragraph label's 1/0
    # becomes 1 - s/2 and s/2, a stance's one-hot spreads s over all stances. For letters by other hands (issue 15).
    label_smoothing: float = 0.0
    max_grad_norm: float = 1.0
    early_stopping_patience: int = 2
    lr_scheduler: str = "linear"
    bf16: bool = False
    sampling: str = "bucketed"
    bucket_batches: int = 8
    freeze_embeddings: bool = True
    torch_threads: int = 2  # 0: torch's default (all cores)
    logging_steps: int = 50


@dataclass
class DistillConfig:
    """The ``distill`` section: learn from a frozen teacher's soft predictions as well as the gold."""

    teacher: str
    alpha: float = 0.7  # weight of the teacher's loss; 1 - alpha goes to the gold loss
    temperature: float = 2.0
    # Which heads learn from the teacher ("+"-joined DISTILL_HEADS). "token" alone, with the parent as
    # teacher, keeps the parent's entities while the paragraph heads learn new letters from the gold.
    heads: str = "token+paragraph+stance"


@dataclass
class DataConfig:
    """The ``data`` section. ``test`` is for the record: ``kamerbrief train`` never reads it (the CoNLL
    script scores its test split)."""

    train: list[str | dict]
    dev: list[str | dict] = field(default_factory=list)
    test: list[str | dict] = field(default_factory=list)


@dataclass
class ExportConfig:
    dtype: str = "float16"  # how the weights are stored; the dev cost of rounding them is measured


@dataclass
class ParentInfo:
    """Written by ``train --from``: the model this one was fine-tuned from, and its dev scores then."""

    path: str
    name: str | None = None
    dev: dict | None = None


@dataclass
class TrainingConfig:
    base_model: str
    data: DataConfig
    name: str = ""
    description: str = ""
    base_description: str = ""
    seed: int = 13
    max_length: int = 128  # pieces per window
    stride: int = 32  # pieces shared by neighbouring windows of a long paragraph
    keep_layers: int | None = None  # keep only the bottom N encoder layers of the base (a student)
    # What the model reads beside each paragraph: "none", "heading" or "heading+previous"
    # (kamerbrief.data.context), in at most context_tokens pieces; saved in the model's config.
    context: str = "none"
    context_tokens: int = 48
    context_position: str = "before"  # the context before the paragraph, or after it (the paragraph keeps its positions)
    distill: DistillConfig | None = None
    training: Hyperparameters = field(default_factory=Hyperparameters)
    export: ExportConfig = field(default_factory=ExportConfig)
    parent: ParentInfo | None = None
    # Records of a finished run in training_config.json; read back, never used as settings.
    weights_dtype: str | None = None
    environment: dict | None = None

    @classmethod
    def from_dict(cls, values: dict, source: str | Path | None = None) -> TrainingConfig:
        """Check ``values`` and build the config; errors name ``source`` (the file) and the key."""
        config = _build(cls, values, "", source)
        config.check(source)
        return config

    @classmethod
    def from_file(cls, path: str | Path, overrides: dict | None = None) -> TrainingConfig:
        """Read a config file. ``overrides`` maps dotted keys (``training.epochs``) to values; None
        leaves a setting as the file has it."""
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise TrainingConfigError(f"cannot read training config ({err})", path) from None
        if not isinstance(values, dict):
            raise TrainingConfigError(f"a training config is a JSON object, not {type(values).__name__}", path)
        return cls.from_dict(apply_overrides(values, overrides), path)

    def with_overrides(self, overrides: dict | None, source: str | Path | None = None) -> TrainingConfig:
        """A copy with ``overrides`` (dotted keys, as :meth:`from_file` takes them) applied and checked."""
        return TrainingConfig.from_dict(apply_overrides(self.to_dict(), overrides), source)

    def to_dict(self) -> dict:
        """The config as JSON would hold it; settings that are unset (None) are left out."""
        return _drop_none(asdict(self))

    def check(self, source: str | Path | None = None) -> None:
        hp = self.training
        if not self.data.train:
            raise TrainingConfigError("data.train is empty: a config needs training data", source)
        if hp.sampling not in SAMPLING:
            raise TrainingConfigError(f"training.sampling must be one of {', '.join(SAMPLING)}, not {hp.sampling!r}", source)
        if not 0 <= hp.warmup_ratio < 1:
            raise TrainingConfigError(f"training.warmup_ratio is a fraction of the steps in [0, 1), not {hp.warmup_ratio}", source)
        if not 0 <= hp.label_smoothing < 1:
            raise TrainingConfigError(f"training.label_smoothing is in [0, 1), not {hp.label_smoothing}", source)
        if self.context not in CONTEXTS:
            raise TrainingConfigError(f"context must be one of {', '.join(CONTEXTS)}, not {self.context!r}", source)
        if self.context_position not in CONTEXT_POSITIONS:
            raise TrainingConfigError(f"context_position must be one of {', '.join(CONTEXT_POSITIONS)}, "
                                      f"not {self.context_position!r}", source)
        if self.context_tokens < 1:
            raise TrainingConfigError(f"context_tokens must be at least 1, not {self.context_tokens}", source)
        if self.distill is not None:
            heads = self.distill.heads.split("+")
            if not heads or any(head not in DISTILL_HEADS for head in heads) or len(set(heads)) < len(heads):
                raise TrainingConfigError(f"distill.heads joins distinct heads of {', '.join(DISTILL_HEADS)} with '+', "
                                          f"not {self.distill.heads!r}", source)
        if self.export.dtype not in DTYPES:
            raise TrainingConfigError(f"export.dtype must be one of {', '.join(DTYPES)}, not {self.export.dtype!r}", source)
        for split in ("train", "dev", "test"):
            for index, spec in enumerate(getattr(self.data, split)):
                if isinstance(spec, dict):
                    _check_source(spec, f"data.{split}[{index}]", source)


def apply_overrides(values: dict, overrides: dict | None) -> dict:
    """``values`` with each dotted key of ``overrides`` (``training.epochs``) set; None leaves a setting alone."""
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        target = values
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return values


def parse_settings(settings: list[str]) -> dict:
    """``KEY=VALUE`` overrides from the command line as :func:`apply_overrides` takes them: the value is read as
    JSON where it is JSON (``5e-5``, ``true``), else as a string (a path, ``token``)."""
    overrides = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise TrainingConfigError(f"--set takes KEY=VALUE (a dotted key such as training.epochs), not {setting!r}")
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    return overrides


def source_reader(name: str):
    """The reader of a named source: ``kamerbrief.data.sources.<name>_records``."""
    from kamerbrief.data import sources

    return getattr(sources, f"{name}_records")


def _check_source(spec: dict, key: str, source) -> None:
    """A named source: ``source`` one of :data:`SOURCES`, a ``path``, and only options its reader takes."""
    import inspect

    name = spec.get("source")
    if name not in SOURCES:
        raise TrainingConfigError(f"{key}.source must be one of {', '.join(SOURCES)}, not {name!r}", source)
    if not isinstance(spec.get("path"), str):
        raise TrainingConfigError(f"{key} needs a 'path' (a string)", source)
    options = [p for p in inspect.signature(source_reader(name)).parameters if p != "path"]
    for option in spec:
        if option not in ("source", "path", *options):
            raise UnknownConfigKeyError(f"unknown key '{key}.{option}' for source {name!r} (it takes: "
                                        f"{', '.join(['source', 'path', *options])})", source)


def _build(cls, values, prefix: str, source):
    if not isinstance(values, dict):
        raise TrainingConfigError(f"{prefix.rstrip('.') or 'the config'} must be an object, not {type(values).__name__}", source)
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise UnknownConfigKeyError(f"unknown key {prefix + key!r} (the settings here: {', '.join(known)})", source)
    hints = get_type_hints(cls)
    kwargs = {}
    for name, f in known.items():
        if name in values:
            kwargs[name] = _convert(hints[name], values[name], prefix + name, source)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise TrainingConfigError(f"missing key {prefix + name!r}", source)
    return cls(**kwargs)


def _convert(hint, value, key: str, source):
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        if value is None:
            return None
        (hint,) = [a for a in args if a is not type(None)]  # every optional setting has one type
        origin, args = get_origin(hint), get_args(hint)
    if is_dataclass(hint):
        return _build(hint, value, key + ".", source)
    if origin is list:
        if isinstance(value, str | dict):
            value = [value]  # a single path (or source) stands for a list of one
        if not isinstance(value, list) or not all(isinstance(v, str | dict) for v in value):
            raise TrainingConfigError(f"{key} must be a list of paths or sources, not {value!r:.80}", source)
        return value
    expected, what = TYPES[hint]
    # bool is an int in Python, but `"epochs": true` is a mistake, not 1.
    if not isinstance(value, expected) or (isinstance(value, bool) and hint is not bool):
        raise TrainingConfigError(f"{key} must be {what}, not {json.dumps(value)[:80]}", source)
    return value


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def split_by_name(files: list[str | Path]) -> dict[str, list[str]]:
    """Record files sorted into splits by name: a file whose name holds ``test`` is held out (never
    trained or tuned on), one whose name holds ``dev`` evaluates, every other file trains."""
    splits: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for file in map(str, files):
        name = Path(file).name
        splits["test" if "test" in name else "dev" if "dev" in name else "train"].append(file)
    return splits


__all__ = ["TrainingConfig", "Hyperparameters", "DataConfig", "DistillConfig", "ExportConfig", "ParentInfo",
           "SAMPLING", "split_by_name"]

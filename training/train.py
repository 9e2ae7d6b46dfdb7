"""``kamerbrief train``: a thin script over transformers' Trainer and ``datasets``.

config file (``training/configs/*.json``) -> datasets of paragraph windows -> Trainer with dev
evaluation each epoch and early stopping -> thresholds tuned on dev -> the model folder: weights,
tokenizer, the exact config and seed, the data manifest with checksums, dev metrics, a model card.
"""
from __future__ import annotations

import copy
import hashlib
import json
import platform
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from kamerbrief.errors import TrainingConfigError
from kamerbrief.paths import SHARED_PREFIX, portable_path
from kamerbrief.training.config import (
    SAMPLING,
    DataConfig,
    Hyperparameters,
    ParentInfo,
    TrainingConfig,
    source_reader,
    split_by_name,
)

__all__ = ["TrainingConfigError", "load_config", "parent_config", "run_config", "train", "package_model"]

LABEL_NAMES = ["labels", "cats", "stance"]


def load_config(path: str | Path, overrides: dict | None = None) -> TrainingConfig:
    """The training config file at ``path`` with ``overrides`` (dotted keys, None: keep the file's)."""
    return TrainingConfig.from_file(path, overrides)


def parent_config(parent: str | Path, new_data: list[str], replay: bool = True, distill: bool = True,
                  overrides: dict | None = None) -> TrainingConfig:
    """The config to fine-tune a trained model further on ``new_data``: the parent's own config, starting
    from its weights, heads and thresholds (thresholds are tuned on dev again), with its teacher and
    distillation settings, for one epoch unless ``overrides`` say otherwise. ``new_data`` is sorted by
    name (:func:`~kamerbrief.training.config.split_by_name`): files named *dev* join the parent's dev
    data, *test* files are left out, the others train, with the parent's labeled training files
    replayed beside them (``replay``) so the model keeps what it knew. The parent's unlabeled transfer
    sets are left out: they make a run take hours. Without ``distill`` the parent's teacher is dropped too."""
    parent = Path(parent)
    found = [f / "training_config.json" for f in (parent, Path(resolve_base(str(parent))))]
    path = next((f for f in found if f.is_file()), None)
    if path is None:
        raise TrainingConfigError("--from needs a trained kamerbrief model folder (with training_config.json)", parent)
    config = TrainingConfig.from_file(path)
    new = split_by_name(new_data)
    if not new["train"]:
        raise TrainingConfigError("--from needs new training data (--data files not named *dev* or *test*)")
    replayed = [spec for spec in config.data.train if isinstance(spec, str)] if replay else []
    dev_metrics = path.parent / "dev_metrics.json"
    name = config.name or parent.name
    config = replace(
        # a file named again (the parent's own dev file passed with --data) is read once, not weighted twice
        config, data=DataConfig(train=list(dict.fromkeys([*new["train"], *replayed])),
                                dev=list(dict.fromkeys([*config.data.dev, *new["dev"]]))),
        parent=ParentInfo(path=portable_path(parent), name=config.name or None,
                          dev=json.loads(dev_metrics.read_text()).get("dev") if dev_metrics.is_file() else None),
        # the parent's teacher's forward pass roughly doubles the time of a step
        distill=config.distill if distill else None,
        base_model=str(parent), name=f"{name}-ft",
        description=f"{name}: fine-tuned from {parent.name} on {', '.join(map(str, new['train']))}",
        training=replace(config.training, epochs=1),
        # the parent already has its layers; its environment is not this run's
        keep_layers=None, base_description="", weights_dtype=None, environment=None)
    return config.with_overrides(overrides, path) if overrides else config


def run_config(config_file: str | Path, data: list[str | Path] = (), parent: str | None = None, replay: bool = True,
               distill: bool = True, overrides: dict | None = None) -> TrainingConfig:
    """The config of a `kamerbrief train` run. With ``parent`` (a model folder or name): :func:`parent_config`,
    fine-tuning it on ``data``; else the config file with ``overrides``, its data replaced by ``data`` (record
    files or folders) where given, sorted into splits by name (:func:`~kamerbrief.training.config.split_by_name`)."""
    from kamerbrief.data.records import iter_record_files

    files = [str(f) for f in iter_record_files(data)]
    if parent:
        from kamerbrief.pipeline.nlp import find_model

        return parent_config(find_model(parent).path, files, replay, distill, overrides)
    overrides = dict(overrides or {})
    if data:
        splits = split_by_name(files)
        if not splits["train"]:
            raise TrainingConfigError(f"no training files among {', '.join(map(str, data))} (files named *dev* evaluate, "
                                      "*test* are never used)")
        overrides.update({"data.train": splits["train"], "data.dev": splits["dev"]})
    return load_config(config_file, overrides)


def _expand(spec: str, shared_dir) -> Path:
    if spec.startswith(SHARED_PREFIX):
        if shared_dir is None:
            raise TrainingConfigError(f"{spec} needs ../shared (or --shared / $KAMERBRIEF_SHARED)")
        return Path(shared_dir) / spec[len(SHARED_PREFIX):]
    return Path(spec)


def load_split(specs: list, shared_dir) -> tuple[list[dict], list[Path]]:
    """Records for a split from record files (inline or standoff) and named extra sources."""
    from kamerbrief.data.records import iter_record_files, read_records

    records, files = [], []
    for spec in specs:
        if isinstance(spec, dict):  # checked against the reader's options when the config was read
            path = _expand(spec["path"], shared_dir)
            options = {k: v for k, v in spec.items() if k not in ("source", "path")}
            if "exclude" in options:
                options["exclude"] = [_expand(e, shared_dir) for e in options["exclude"]]
            records.extend(source_reader(spec["source"])(path, **options))
            files.append(path)
        else:
            for file in iter_record_files([_expand(spec, shared_dir)]):
                records.extend(read_records(file))
                files.append(file)
    return records, files


def resolve_base(base: str) -> str:
    """A packaged kamerbrief pipeline folder stands for the trained model inside it."""
    from kamerbrief.pipeline.transformer import COMPONENT, MODEL_DIR

    inner = Path(base) / COMPONENT / MODEL_DIR
    return str(inner) if inner.is_dir() else base


def load_teacher(config: TrainingConfig, tokenizer):
    """The frozen teacher of ``config.distill.teacher`` (a trained kamerbrief model), or None.
    It must read the same pieces as the student."""
    import torch
    from transformers import AutoTokenizer

    from kamerbrief.pipeline.model.multitask import KamerbriefModel

    if config.distill is None:
        return None
    teacher_path = resolve_base(config.distill.teacher)
    try:
        teacher = KamerbriefModel.from_pretrained(teacher_path, dtype=torch.float32)
    except (OSError, ValueError) as err:
        raise TrainingConfigError(f"distill.teacher is not a trained kamerbrief model ({err})", teacher_path) from None
    if AutoTokenizer.from_pretrained(teacher_path).get_vocab() != tokenizer.get_vocab():
        raise TrainingConfigError("distill.teacher uses another vocabulary than the base model", teacher_path)
    return teacher.eval().requires_grad_(False)


def data_manifest(files: dict[str, list[Path]], shared_dir=None) -> dict:
    """Per split, every file read with its SHA-256; paths as :func:`~kamerbrief.paths.portable_path` writes them."""
    return {split: [{"path": portable_path(f, shared_dir), "sha256": hashlib.sha256(Path(f).read_bytes()).hexdigest()} for f in paths]
            for split, paths in files.items()}


class Collator:
    """Pads a batch of windows; the fixed-size fields are stacked."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: list[dict]) -> dict:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        def pad(key, value):
            return [f[key] + [value] * (width - len(f[key])) for f in features]
        batch = {"input_ids": torch.tensor(pad("input_ids", self.pad_id)),
                 "attention_mask": torch.tensor(pad("attention_mask", 0)),
                 "labels": torch.tensor(pad("labels", -100))}
        if "pool_mask" in features[0]:
            batch["pool_mask"] = torch.tensor(pad("pool_mask", 0))
        for key in ("cats", "cats_mask", "entity_mask"):
            batch[key] = torch.tensor([f[key] for f in features], dtype=torch.float)
        batch["stance"] = torch.tensor([f["stance"] for f in features], dtype=torch.long)
        return batch


def build_datasets(config: TrainingConfig, tokenizer, shared_dir):
    from kamerbrief.data.convert import records_to_dataset

    train_records, train_files = load_split(config.data.train, shared_dir)
    dev_records, dev_files = load_split(config.data.dev, shared_dir)
    if not train_records:
        raise TrainingConfigError("no training records found")
    columns = ["input_ids", "attention_mask", "labels", "cats", "cats_mask", "entity_mask", "stance"]
    if config.context != "none":
        columns.append("pool_mask")
    kwargs = {"max_length": config.max_length, "stride": config.stride, "shared_dir": shared_dir,
              "context": config.context, "context_tokens": config.context_tokens, "context_position": config.context_position}
    train = records_to_dataset(train_records, tokenizer, **kwargs).select_columns(columns)
    dev = records_to_dataset(dev_records, tokenizer, **kwargs).select_columns(columns) if dev_records else None
    return train, dev, {"train": train_files, "dev": dev_files}


class BucketedRandomSampler:
    """Random batches of similar length: each epoch the windows are shuffled, cut into chunks of
    ``bucket_batches`` batches, sorted by length within a chunk and split into batches, and the batches
    are shuffled again. Padding (which costs as much CPU as real pieces) drops from about 2.4x to
    about 1.1x of the real pieces, while a batch still mixes letters and label mixes. transformers'
    ``group_by_length`` sorts 50 batches at a time and serves them longest first; runs with it on this
    corpus did not learn (training/README.md)."""

    def __init__(self, lengths: list[int], batch_size: int, bucket_batches: int = 8, seed: int = 13):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.bucket = batch_size * bucket_batches
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def batches(self) -> list[list[int]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        order = rng.permutation(len(self.lengths))
        batches = []
        for start in range(0, len(order), self.bucket):
            chunk = order[start:start + self.bucket]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i:i + self.batch_size].tolist() for i in range(0, len(chunk), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self):
        # The Trainer's DataLoader cuts this flat order into batches of ``batch_size`` again. Chunks are
        # whole batches, so only the corpus's last batch is short, and only the batches after it in the
        # shuffled order straddle two of ours, which is harmless.
        return iter([i for batch in self.batches() for i in batch])


def _kamerbrief_trainer():
    from transformers import Trainer

    class KamerbriefTrainer(Trainer):
        """The Trainer with ``sampling = "bucketed"`` (see :class:`BucketedRandomSampler`) and, given a
        ``teacher``, knowledge distillation: the training loss becomes ``(1 - alpha) * gold loss +
        alpha * distillation_loss`` (evaluation still scores against the gold)."""

        def __init__(self, *args, sampling: str = "bucketed", bucket_batches: int = 8, teacher=None,
                     distill_alpha: float = 0.5, temperature: float = 2.0,
                     distill_heads: tuple[str, ...] = ("token", "paragraph", "stance"), label_smoothing: float = 0.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.sampling, self.bucket_batches = sampling, bucket_batches
            self.teacher = teacher.to(self.args.device) if teacher is not None else None
            self.distill_alpha, self.temperature, self.distill_heads = distill_alpha, temperature, distill_heads
            self.label_smoothing = label_smoothing

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch

            from kamerbrief.training.distillation import distillation_loss

            # softened targets while training only: the dev loss stays comparable between runs
            outputs = model(**inputs, label_smoothing=self.label_smoothing if model.training else 0.0)
            loss = outputs["loss"]
            if self.teacher is not None and model.training:
                with torch.no_grad():
                    teacher_out = self.teacher(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                                               pool_mask=inputs.get("pool_mask"))
                soft = distillation_loss(outputs, teacher_out, inputs["attention_mask"], self.temperature, self.distill_heads)
                loss = (1 - self.distill_alpha) * loss + self.distill_alpha * soft
            return (loss, outputs) if return_outputs else loss

        def _get_train_sampler(self, train_dataset=None):
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            if self.sampling != "bucketed":
                return super()._get_train_sampler(train_dataset)
            return BucketedRandomSampler([len(ids) for ids in dataset["input_ids"]], self.args.train_batch_size,
                                         self.bucket_batches, self.args.data_seed or self.args.seed)

    return KamerbriefTrainer


def by_length(dataset):
    """Evaluation order does not change the metrics; sorted windows waste almost no padding."""
    return dataset.select(np.argsort([len(ids) for ids in dataset["input_ids"]], kind="stable"))


def make_optimizer(model, hp: Hyperparameters):
    """AdamW with the heads on their own (higher) learning rate: the new heads start from nothing while
    the encoder only needs nudging, and one rate for both either leaves the heads crawling or shakes the
    encoder loose. No weight decay on biases and LayerNorm weights."""
    import torch

    groups: dict[tuple[bool, bool], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        head = not name.startswith("encoder.")
        decay = param.ndim > 1
        groups.setdefault((head, decay), []).append(param)
    return torch.optim.AdamW([{"params": params, "lr": hp.head_learning_rate if head else hp.learning_rate,
                               "weight_decay": hp.weight_decay if decay else 0.0}
                              for (head, decay), params in groups.items()])


def train(config: TrainingConfig | dict, out_dir: str | Path, shared_dir=None, max_steps: int | None = None,
          progress: bool = True) -> dict:
    """Train a model as ``config`` says (a :class:`TrainingConfig`, or a dict checked into one) and write
    it to ``out_dir``. Returns the dev metrics."""
    import torch
    from transformers import AutoTokenizer, EarlyStoppingCallback, TrainingArguments, set_seed

    from kamerbrief.paths import find_shared_dir
    from kamerbrief.pipeline.model.decoding import sigmoid
    from kamerbrief.pipeline.model.multitask import KamerbriefModel
    from kamerbrief.pipeline.transformer import quiet_loading
    from kamerbrief.training.dev_metrics import best_thresholds, make_compute_metrics, paragraph_scores

    if not isinstance(config, TrainingConfig):
        config = TrainingConfig.from_dict(config)
    out_dir = Path(out_dir)
    shared_dir = find_shared_dir(shared_dir)
    hp = config.training
    set_seed(config.seed)
    if hp.torch_threads:
        torch.set_num_threads(hp.torch_threads)
    started = time.time()

    base = resolve_base(config.base_model)
    with quiet_loading():
        tokenizer = AutoTokenizer.from_pretrained(base)
        try:
            model = KamerbriefModel.from_base(base, keep_layers=config.keep_layers)
        except ValueError as err:
            raise TrainingConfigError(str(err)) from None
        teacher = load_teacher(config, tokenizer)
    # The config of the run decides what the model reads beside a paragraph; it is saved with the model.
    model.config.context, model.config.context_tokens = config.context, config.context_tokens
    model.config.context_position = config.context_position
    if hp.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
    train_set, dev_set, files = build_datasets(config, tokenizer, shared_dir)
    dev_set = by_length(dev_set) if dev_set is not None else None

    checkpoints = out_dir / "checkpoints"
    has_dev = dev_set is not None and len(dev_set) > 0
    args = TrainingArguments(
        output_dir=str(checkpoints), seed=config.seed, data_seed=config.seed,
        learning_rate=hp.learning_rate, per_device_train_batch_size=hp.batch_size,
        per_device_eval_batch_size=hp.eval_batch_size, num_train_epochs=hp.epochs,
        max_steps=max_steps if max_steps else -1,
        # transformers 5 has no warmup_ratio: warmup_steps below 1 is the fraction of all steps
        # (config.check keeps warmup_ratio in [0, 1), so it is never read as a step count).
        warmup_steps=hp.warmup_ratio,
        weight_decay=hp.weight_decay, max_grad_norm=hp.max_grad_norm,
        lr_scheduler_type=hp.lr_scheduler, bf16=hp.bf16, use_cpu=not torch.cuda.is_available(),
        train_sampling_strategy=SAMPLING[hp.sampling],
        eval_strategy="epoch" if has_dev and not max_steps else "no", save_strategy="epoch" if has_dev and not max_steps else "no",
        save_total_limit=1, load_best_model_at_end=has_dev and not max_steps, metric_for_best_model="combined_f",
        greater_is_better=True, logging_steps=hp.logging_steps, report_to=[], label_names=LABEL_NAMES,
        remove_unused_columns=False, disable_tqdm=not progress, dataloader_num_workers=0, save_only_model=True,
    )
    callbacks = [EarlyStoppingCallback(early_stopping_patience=hp.early_stopping_patience)] if args.load_best_model_at_end else []
    trainer = _kamerbrief_trainer()(
        model=model, args=args, train_dataset=train_set, eval_dataset=dev_set if has_dev else None,
        data_collator=Collator(tokenizer.pad_token_id), compute_metrics=make_compute_metrics(model.config),
        callbacks=callbacks, optimizers=(make_optimizer(model, hp), None),
        sampling=hp.sampling, bucket_batches=hp.bucket_batches, teacher=teacher, label_smoothing=hp.label_smoothing,
        **({"distill_alpha": config.distill.alpha, "temperature": config.distill.temperature,
            "distill_heads": tuple(config.distill.heads.split("+"))} if config.distill else {}))
    trainer.train()

    metrics: dict = {"train_seconds": round(time.time() - started, 1), "train_windows": len(train_set)}
    dtype = config.export.dtype
    if has_dev:
        output = trainer.predict(dev_set)
        paragraph_probs = sigmoid(output.predictions[1])
        gold_cats = output.label_ids[1]
        model.config.thresholds = best_thresholds(paragraph_probs, gold_cats, model.config.paragraph_labels)
        metrics["dev"] = make_compute_metrics(model.config)(output)
        metrics["dev"]["paragraphs"] = paragraph_scores(paragraph_probs, gold_cats, model.config.paragraph_labels, model.config.thresholds)
        metrics["dev_windows"] = len(dev_set)
        if dtype != "float32":
            # The accuracy cost of storing the weights in ``dtype``: dev again with rounded weights.
            trainer.model = copy.deepcopy(model).to(getattr(torch, dtype)).float()
            rounded = make_compute_metrics(model.config)(trainer.predict(dev_set))
            trainer.model = model
            metrics[f"dev_{dtype}_weights"] = {k: rounded[k] for k in ("entity_f", "paragraph_macro_f", "stance_accuracy")}
        metrics["thresholds"] = model.config.thresholds
        metrics["epochs_run"] = trainer.state.epoch
        metrics["best_checkpoint_metric"] = trainer.state.best_metric
    save_model(model, tokenizer, out_dir, config, files, metrics, shared_dir)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return metrics


METADATA_FILES = ("training_config.json", "data_manifest.json", "dev_metrics.json")


def recorded_config(config: TrainingConfig, shared_dir=None, **records) -> TrainingConfig:
    """``config`` as training_config.json records it: every path portable (:func:`~kamerbrief.paths.portable_path`),
    plus ``records`` (``weights_dtype``, ``environment``)."""
    def spec(value):
        if isinstance(value, dict):
            return {**value, "path": portable_path(value["path"], shared_dir),
                    **({"exclude": [portable_path(e, shared_dir) for e in value["exclude"]]} if "exclude" in value else {})}
        return portable_path(value, shared_dir)

    data = DataConfig(**{split: [spec(s) for s in getattr(config.data, split)] for split in ("train", "dev", "test")})
    distill = replace(config.distill, teacher=portable_path(config.distill.teacher, shared_dir)) if config.distill else None
    return replace(config, base_model=portable_path(config.base_model, shared_dir), data=data, distill=distill, **records)


def save_model(model, tokenizer, out_dir: Path, config: TrainingConfig, files: dict, metrics: dict, shared_dir=None) -> None:
    """Weights (in ``config.export.dtype``) and tokenizer, with the exact config, data manifest and
    metrics, then packaged as a spaCy pipeline folder with its model card."""
    import tempfile

    import torch
    import transformers

    dtype = config.export.dtype
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as staging:
        staging = Path(staging)
        to_save = copy.deepcopy(model).to(getattr(torch, dtype))
        to_save.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        environment = {"python": platform.python_version(), "torch": torch.__version__,
                       "transformers": transformers.__version__, "threads": torch.get_num_threads()}
        saved = recorded_config(config, shared_dir, weights_dtype=dtype, environment=environment)
        (staging / "training_config.json").write_text(json.dumps(saved.to_dict(), indent=2, ensure_ascii=False) + "\n")
        (staging / "data_manifest.json").write_text(json.dumps(data_manifest(files, shared_dir), indent=2) + "\n")
        (staging / "dev_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        package_model(staging, out_dir)


def package_model(model_dir: str | Path, out_dir: str | Path) -> Path:
    """A trained model folder -> a spaCy pipeline folder (``spacy.load``-able) with the training
    metadata and the model card at its top level."""
    from kamerbrief.pipeline.nlp import build_pipeline, save_pipeline
    from kamerbrief.training.model_card import write_model_card

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    config = TrainingConfig.from_file(model_dir / "training_config.json")
    save_pipeline(build_pipeline(model_dir), out_dir, meta={"description": config.description or "kamerbrief pipeline"})
    for name in METADATA_FILES:
        if (model_dir / name).exists():
            shutil.copy2(model_dir / name, out_dir / name)
    write_model_card(out_dir)
    return out_dir

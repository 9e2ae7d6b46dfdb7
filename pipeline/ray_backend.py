"""Annotate on a Ray cluster with Ray Data (``pip install 'kamerbrief[ray]'``).

Two ways in:

- ``kamerbrief annotate ... --backend ray [--address auto]`` (:class:`RayEngine`): the same run as a
  local one. This process reads the inputs, skips the letters the ledger lists as done, and writes every
  output through the crash-safe protocol of ``kamerbrief.pipeline.batch``; Ray Data only computes. A row
  of its dataset is one commit group of letters, annotated in one ``map_batches`` call of an actor that
  loaded the pipeline once, so the group's paragraphs share model batches exactly as in a local run and
  the records are identical. Groups come back in input order (``preserve_order``) and are committed as
  they arrive, so a run stopped part-way keeps what it committed and ``--resume`` goes on from there.
  A killed actor is restarted by Ray and its group retried (``max_restarts``, ``max_task_retries``).
- :func:`annotate_dataset` (Python): any Ray dataset of letter records, e.g. ``ray.data.read_json`` of a
  corpus JSONL or ``ray.data.read_parquet`` of a table with ``text`` (and ``id``, ``path``) columns, to a
  dataset of annotated records; :func:`paragraph_rows` flattens it to the Parquet rows of ``annotate
  --format parquet``, and :func:`write_outputs` writes both (JSONL files and Parquet partitions) where
  Ray writes, e.g. shared storage. No ledger there: resume by filtering the input on done ``input`` keys.
"""
from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterator

from kamerbrief.errors import BackendError, KamerbriefError, WorkerLostError
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE

__all__ = ["RayEngine", "annotate_dataset", "paragraph_rows", "write_outputs", "LetterAnnotator", "GroupAnnotator"]

TASK_RETRIES = 2  # a group whose actor dies is retried this often before the run stops (E602)


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise BackendError("the Ray backend needs Ray Data: pip install 'kamerbrief[ray]'") from None
    return ray


class _PipelineActor:
    """Loads the pipeline once per actor (Ray Data keeps the actor for many batches)."""

    def __init__(self, model=None, threads: int = 1, batch_size: int = DEFAULT_BATCH_SIZE, keep_docs: bool = False, **config):
        import torch

        from kamerbrief.pipeline.batch import load_checked

        torch.set_num_threads(threads)
        self.nlp = load_checked(model, threads=threads, batch_size=batch_size, **config)
        self.batch_size, self.keep_docs = batch_size, keep_docs


class GroupAnnotator(_PipelineActor):
    """One row = one commit group (``items``: the pickled Items); returns its packed outcome."""

    def __call__(self, batch):
        from kamerbrief.pipeline.batch import annotate_group, fault
        from kamerbrief.pipeline.workers import pack_outcome

        outcomes = []
        for items in batch["items"]:
            fault("worker-group")
            outcomes.append(pack_outcome(*annotate_group(pickle.loads(items), self.nlp, self.batch_size, self.keep_docs)))
        return {"seq": batch["seq"], "outcome": outcomes}


class LetterAnnotator(_PipelineActor):
    """Rows = letter records (corpus records with ``text``, or ANNOTATION.md records with ``paragraphs``) ->
    rows ``input``, ``id``, ``record`` (the annotated record as JSON, as in annotations.jsonl) and
    ``error`` (the coded error of a letter that failed, else null)."""

    def __call__(self, batch):
        import pyarrow as pa

        from kamerbrief.pipeline.batch import Item, _failure, annotate_group, letter_from_record

        items = []
        for row in batch.to_pylist():
            record = _without_nulls(row)
            key = str(record.get("input") or record.get("path") or record.get("id"))
            try:
                items.append(Item(key, key, letter_from_record(record, key)))
            except Exception as err:
                items.append(_failure(key, key, err, "E200"))
        readable = [item for item in items if item.letter is not None]
        results, _ = annotate_group(readable, self.nlp, self.batch_size)
        records = {id(item): record for item, record, _ in results}
        return pa.table({"input": [item.key for item in items],
                         "id": [str(records[id(i)]["id"]) if id(i) in records else None for i in items],
                         "record": [json.dumps({"input": i.key, **records[id(i)]}, ensure_ascii=False) if id(i) in records
                                    else None for i in items],
                         "error": [None if id(i) in records else i.error for i in items]})


def _without_nulls(row: dict) -> dict:
    """Arrow gives every row every column of its file (null where a record had no such field): drop them,
    at the top level and in ``meta``, so a record reads as it does from the JSONL file."""
    row = {k: v for k, v in row.items() if v is not None}
    if isinstance(row.get("meta"), dict):
        row["meta"] = {k: v for k, v in row["meta"].items() if v is not None}
    return row


def _map_args(actors: int, threads: int, model, batch_size: int, config: dict, keep_docs: bool = False) -> dict:
    # The actors see this process's KAMERBRIEF_* settings (model, precision, fault injection), wherever they run.
    env = {name: value for name, value in os.environ.items() if name.startswith("KAMERBRIEF_")}
    return {"runtime_env": {"env_vars": env},"fn_constructor_kwargs": {"model": None if model is None else str(model), "threads": threads,
                                      "batch_size": batch_size, "keep_docs": keep_docs, **config},
            "concurrency": actors, "num_cpus": threads, "max_restarts": -1, "max_task_retries": TASK_RETRIES}


def annotate_dataset(ds, model=None, letters_per_batch: int = 16, actors: int = 1, threads: int = 1,
                     batch_size: int = DEFAULT_BATCH_SIZE, **config):
    """Annotate a Ray dataset of letter records (see :class:`LetterAnnotator`) with ``actors`` pipeline actors
    of ``threads`` torch threads each; ``config`` goes to the pipeline (``precision``, ...). Lazy, like any
    Ray dataset: write it, or iterate it."""
    _import_ray()
    return ds.map_batches(LetterAnnotator, batch_size=letters_per_batch, batch_format="pyarrow",
                          **_map_args(actors, threads, model, batch_size, config))


def paragraph_rows(annotated):
    """One row per paragraph, the schema of ``annotate --format parquet`` (failed letters left out)."""
    from kamerbrief.pipeline.batch import Item, _parquet_rows
    from kamerbrief.pipeline.spool import open_record

    def rows(row):
        if row["record"] is None:
            return []
        record = open_record(json.loads(row["record"]))  # the writer reads records through the spool's interface
        return list(_parquet_rows([(Item(row["input"], row["input"]), record, [])]))

    return annotated.flat_map(rows)


def write_outputs(annotated, out: str) -> None:
    """``<out>/annotations/*.jsonl`` (one record per line) and ``<out>/paragraphs/*.parquet`` (partitions)."""
    annotated = annotated.materialize()
    annotated.filter(lambda row: row["record"] is not None).select_columns(["input", "id", "record"]) \
        .write_json(f"{out}/annotations")
    paragraph_rows(annotated).write_parquet(f"{out}/paragraphs")


class RayEngine:
    """The engine behind ``annotate --backend ray`` (see the module docstring and
    ``kamerbrief.pipeline.batch.LocalEngine``). ``address``: None starts a Ray on this machine, ``auto``
    joins the one ``ray start`` made, ``ray://host:10001`` a remote cluster. ``actors`` 0: the cluster's
    CPUs divided by ``threads``."""

    def __init__(self, model=None, address: str | None = None, actors: int = 0, threads: int = 1, batch_size: int = DEFAULT_BATCH_SIZE,
                 num_cpus: int | None = None, **config):
        from kamerbrief.pipeline.nlp import default_model_path

        self.model, self.address, self.actors, self.threads = model, address, actors, max(1, threads)
        self.batch_size, self.num_cpus, self.config = batch_size, num_cpus, config
        self.keep_docs, self.progress = False, False
        self.info = {"backend": "ray", "address": address or "local", "threads": self.threads,
                     "model": str(model or default_model_path())}
        self._started_ray = False

    def start(self) -> None:
        """Join (or start) Ray, and load and check the model here once, so a broken model fails before any
        letter (ModelCheckError), as in a local run."""
        ray = _import_ray()
        from kamerbrief.pipeline.batch import load_checked

        tagger = load_checked(self.model, threads=1, **self.config).get_pipe("kamerbrief_transformer")
        self.info["precision"] = tagger.precision_used  # what the actors resolve to on CPUs like this one
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, num_cpus=self.num_cpus if self.address is None else None,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
            except Exception as err:
                raise BackendError(f"could not start or join Ray at {self.address or 'this machine'}: "
                                   f"{type(err).__name__}: {err}") from None
            self._started_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.actors = self.actors or max(1, cpus // self.threads)
        self.info.update(workers=self.actors, cluster_cpus=cpus)

    def map(self, tasks) -> Iterator:
        ray = _import_ray()
        tasks = list(tasks)  # Ray Data builds its dataset from the whole list of pending groups
        groups = [(seq, task) for seq, task in enumerate(tasks) if isinstance(task, list)]
        position = 0

        def passed_through(until: int):
            nonlocal position
            while position < until:
                if not isinstance(tasks[position], list):
                    yield tasks[position], None
                position += 1

        if groups:
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True
            context.enable_progress_bars = self.progress
            ds = ray.data.from_items([{"seq": seq, "items": pickle.dumps(group, protocol=pickle.HIGHEST_PROTOCOL)}
                                      for seq, group in groups], override_num_blocks=len(groups))
            annotated = ds.map_batches(GroupAnnotator, batch_size=1, batch_format="numpy",
                                       **_map_args(self.actors, self.threads, self.model, self.batch_size, self.config,
                                                   self.keep_docs))
            try:
                for row in annotated.iter_rows():
                    seq = int(row["seq"])
                    yield from passed_through(seq)
                    yield tasks[seq], _unpack(row["outcome"], tasks[seq])
                    position = seq + 1
            except KamerbriefError:
                raise
            except Exception as err:  # Ray gave up on a group (its actor died more than TASK_RETRIES times)
                raise WorkerLostError(f"the Ray job failed: {type(err).__name__}: {str(err)[:500]}; the groups "
                                      f"committed so far are kept: rerun with --resume") from None
        yield from passed_through(len(tasks))

    def close(self) -> None:
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False


def _unpack(outcome, group):
    from kamerbrief.pipeline.workers import unpack_outcome

    return unpack_outcome(bytes(outcome), group)

"""``kamerbrief annotate --workers N``: worker processes on one machine, one writer.

Each worker is a spawned process with its own pipeline and its own torch threads (all cores divided
by the workers, unless ``threads`` says otherwise). Workers only compute: a worker gets a whole commit
group of letters (the same groups a one-process run makes, so its paragraphs share model batches
exactly as they would there) and sends back the group's records. The parent stays the only writer:
it commits the groups in input order through the crash-safe protocol of ``kamerbrief.pipeline.batch``,
so the outputs equal those of a one-process run and ``--resume`` works the same.

A worker that dies (killed, out of memory) is replaced; the group it was annotating is given to a
worker again, once. If it kills a worker a second time, its letters are tried one by one, and a
letter that kills a worker on its own is recorded as failed (``E602``), never as done: ``--resume``
retries it. Groups are handed out through a queue per worker (the parent never blocks on a busy
worker) and results come back on a pipe per worker, so a killed worker can corrupt nothing shared.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from kamerbrief.errors import BackendError, KamerbriefError, ModelCheckError, WorkerLostError
from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE

__all__ = ["WorkerPool", "available_cores", "make_engine", "pack_outcome", "unpack_outcome", "BACKENDS"]

BACKENDS = ("local", "ray")  # this machine (one process, or worker processes), or a Ray cluster
GROUPS_AHEAD = 2  # groups queued per worker: it starts on the next while the parent commits the last
STARTUP_TIMEOUT_S = 600


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def make_engine(model=None, backend: str = "local", workers: int = 1, threads: int = 0, batch_size: int = DEFAULT_BATCH_SIZE,
                precision: str = "auto", address: str | None = None, actors: int = 0):
    """The engine ``kamerbrief annotate`` runs its groups on: a Ray cluster (``backend="ray"``; ``threads`` per
    actor, 1 by default), ``workers`` processes on this machine, or this process alone with all cores (0
    ``threads``), its pipeline loaded and checked here."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if backend == "ray":
        from kamerbrief.pipeline.ray_backend import RayEngine

        return RayEngine(model, address=address, actors=actors, threads=threads or 1, batch_size=batch_size,
                         precision=precision)
    if workers > 1:
        return WorkerPool(model, workers=workers, threads=threads, batch_size=batch_size, precision=precision)
    from kamerbrief.pipeline.batch import LocalEngine, load_checked

    nlp = load_checked(model, batch_size=batch_size, threads=threads or available_cores(), precision=precision)
    return LocalEngine(nlp, batch_size)


# -- what travels between processes -----------------------------------------------------------

def pack_outcome(results: list, failures: list) -> bytes:
    """A group's outcome without its Items (the receiver has them): per letter its index in the group and
    record, and its paragraph Docs as DocBin bytes (only for --format docbin); failures as index, error, code."""
    from spacy.tokens import DocBin

    def docbin(docs):
        if not docs:
            return None
        bin_ = DocBin(store_user_data=True)
        for doc in docs:
            bin_.add(doc)
        return bin_.to_bytes()

    return pickle.dumps(([(item.key, record, docbin(docs)) for item, record, docs in results],
                         [(item.key, item.error, item.code) for item in failures]), protocol=pickle.HIGHEST_PROTOCOL)


def unpack_outcome(data: bytes, group: list) -> tuple[list, list]:
    """The inverse of :func:`pack_outcome`, on the parent's own Items of the group."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    by_key = {item.key: item for item in group}
    packed_results, packed_failures = pickle.loads(data)
    vocab = Vocab() if any(docs for _, _, docs in packed_results) else None
    results = [(by_key[key], record, list(DocBin().from_bytes(docs).get_docs(vocab)) if docs else [])
               for key, record, docs in packed_results]
    failures = []
    for key, error, code in packed_failures:
        item = by_key[key]
        item.error, item.code, item.letter = error, code, None
        failures.append(item)
    return results, failures


# -- the worker process -----------------------------------------------------------------------

def _worker_main(tasks, results, model, config: dict, threads: int, batch_size: int, keep_docs: bool) -> None:
    """Load the pipeline once, then annotate groups until told to stop (None) or the queue goes away."""
    import torch

    from kamerbrief.pipeline.batch import annotate_group, fault, load_checked

    torch.set_num_threads(threads)
    try:
        nlp = load_checked(model, threads=threads, **config)
    except KamerbriefError as err:
        results.send(("error", err.message, err.path))
        return
    tagger = nlp.get_pipe("kamerbrief_transformer")
    results.send(("ready", {"precision": tagger.precision_used, "model": str(tagger.model_path)}))
    while True:
        task = tasks.get()
        if task is None:
            return
        task_id, group = task
        fault("worker-group")
        outcome = annotate_group(group, nlp, batch_size, keep_docs)
        results.send(("done", task_id, pack_outcome(*outcome)))


# -- the parent's side ------------------------------------------------------------------------

@dataclass
class _Task:
    id: int
    seq: int  # the position of its group in the input
    items: list
    attempts: int = 0
    part: int | None = None  # a one-letter retry of a group that killed a worker twice: the letter's index


@dataclass
class _Worker:
    process: multiprocessing.Process
    tasks: object  # the worker's own queue
    results: object  # the parent's end of the worker's pipe
    outstanding: deque = field(default_factory=deque)
    ready: bool = False


def hand_out(queue: deque, workers: list) -> list[tuple]:
    """``(worker, task)`` pairs that take tasks off ``queue``: one more task for each worker in turn, up to
    :data:`GROUPS_AHEAD` each. Round by round, so two groups go to two workers, not both to the first (which left
    the second idle on a short run: two workers were slower than one process)."""
    pairs = []
    for depth in range(1, GROUPS_AHEAD + 1):
        for worker in workers:
            if queue and len(worker.outstanding) + sum(w is worker for w, _ in pairs) < depth:
                pairs.append((worker, queue.popleft()))
    return pairs


class WorkerPool:
    """``workers`` processes, each with ``threads`` torch threads (0: the cores divided by the workers).
    ``config`` goes to :func:`kamerbrief.pipeline.nlp.load` in every worker (``precision``, ...)."""

    def __init__(self, model=None, workers: int = 2, threads: int = 0, batch_size: int = DEFAULT_BATCH_SIZE, retries: int = 1, **config):
        from kamerbrief.pipeline.nlp import default_model_path

        self.model, self.n, self.batch_size, self.retries = model, max(1, workers), batch_size, retries
        self.threads = threads or max(1, available_cores() // self.n)
        self.config = config
        self.keep_docs, self.progress = False, False
        self.info = {"backend": "workers", "workers": self.n, "threads": self.threads,
                     "model": str(model or default_model_path())}
        self.restarts = 0
        self._workers: list[_Worker] = []
        self._ctx = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools and locks
        self._ids = 0

    # processes ------------------------------------------------------------------------------
    def _spawn(self) -> _Worker:
        tasks = self._ctx.Queue()
        receive, send = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_worker_main, daemon=True,
                                    args=(tasks, send, self.model, self.config, self.threads, self.batch_size, self.keep_docs))
        process.start()
        send.close()  # the worker holds the only write end: its death closes the pipe
        return _Worker(process, tasks, receive)

    def start(self) -> None:
        """Start the workers and wait until each has loaded and checked the model (ModelCheckError)."""
        self._workers = [self._spawn() for _ in range(self.n)]
        for worker in self._workers:
            if not worker.results.poll(STARTUP_TIMEOUT_S):
                self.close()
                raise WorkerLostError(f"a worker did not load the model within {STARTUP_TIMEOUT_S} s")
            self._handle_startup(worker, self._receive(worker))

    def _handle_startup(self, worker: _Worker, message) -> None:
        if message is None:
            self.close()
            raise WorkerLostError(f"a worker process died while loading the model (exit code {worker.process.exitcode}; "
                                  "out of memory? try fewer --workers)")
        if message[0] == "error":
            self.close()
            raise ModelCheckError(message[1], message[2])
        worker.ready = True
        self.info.update(message[1])

    @staticmethod
    def _receive(worker: _Worker):
        """The next message from a worker, or None if it died (a message cut off by the kill included)."""
        try:
            return worker.results.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            return None

    def close(self) -> None:
        for worker in self._workers:
            try:
                worker.tasks.put(None)
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.tasks.cancel_join_thread()
            worker.tasks.close()
            worker.results.close()
        self._workers = []

    # the run ------------------------------------------------------------------------------
    def map(self, tasks) -> Iterator:
        """``(task, outcome)`` in the order of ``tasks``; see ``kamerbrief.pipeline.batch.LocalEngine``."""
        source = iter(tasks)
        exhausted = False
        finished: dict[int, tuple] = {}  # seq -> (task, outcome)
        groups: dict[int, list] = {}  # seq -> the group, until its outcome is complete
        parts: dict[int, dict[int, tuple]] = {}  # seq -> letter index -> outcome, for a group retried letter by letter
        queue: deque[_Task] = deque()
        by_id: dict[int, _Task] = {}
        next_seq = seq = 0
        while True:
            while not exhausted and len(queue) < self.n and seq - next_seq < self.n * (GROUPS_AHEAD + 1):
                try:
                    task = next(source)
                except StopIteration:
                    exhausted = True
                    break
                if isinstance(task, list):
                    groups[seq] = task
                    queue.append(self._task(seq, task))
                else:
                    finished[seq] = (task, None)
                seq += 1
            for worker, task in hand_out(queue, self._workers):
                by_id[task.id] = task
                worker.outstanding.append(task.id)
                worker.tasks.put((task.id, task.items))
            while next_seq in finished:
                yield finished.pop(next_seq)
                next_seq += 1
            if exhausted and next_seq == seq:
                return
            if not any(worker.outstanding for worker in self._workers):
                continue
            readable = wait([w.results for w in self._workers] + [w.process.sentinel for w in self._workers])
            for worker in list(self._workers):
                if worker.results not in readable and worker.process.sentinel not in readable:
                    continue
                while True:  # everything it sent, up to its death if it died
                    if not worker.results.poll():
                        if worker.process.is_alive():
                            break
                        message = None
                    else:
                        message = self._receive(worker)
                    if message is None:
                        self._replace(worker, by_id, queue, parts, groups, finished)
                        break
                    if message[0] == "ready":
                        worker.ready = True
                    elif message[0] == "error":  # a restarted worker could not load the model any more
                        self.close()
                        raise ModelCheckError(message[1], message[2])
                    else:
                        _, task_id, data = message
                        worker.outstanding.remove(task_id)
                        task = by_id.pop(task_id)
                        self._finish(task, unpack_outcome(data, task.items), parts, groups, finished)

    def _task(self, seq: int, items: list, part: int | None = None, attempts: int = 0) -> _Task:
        self._ids += 1
        return _Task(self._ids, seq, items, attempts, part)

    def _finish(self, task: _Task, outcome: tuple, parts, groups, finished) -> None:
        if task.part is None:
            finished[task.seq] = (groups.pop(task.seq), outcome)
            return
        parts[task.seq][task.part] = outcome
        group = groups[task.seq]
        if len(parts[task.seq]) == len(group):  # every letter of the group is back: one outcome, in group order
            outcomes = [parts[task.seq][i] for i in range(len(group))]
            del parts[task.seq]
            finished[task.seq] = (groups.pop(task.seq), ([r for o in outcomes for r in o[0]], [f for o in outcomes for f in o[1]]))

    def _replace(self, dead: _Worker, by_id, queue: deque, parts, groups, finished) -> None:
        """A worker died: start another, and hand its groups out again (see the module docstring)."""
        if not dead.ready:
            self.close()
            raise WorkerLostError(f"a worker process died while loading the model (exit code {dead.process.exitcode}; "
                                  "out of memory? try fewer --workers)")
        self.restarts += 1
        dead.process.join()
        dead.tasks.cancel_join_thread()
        dead.tasks.close()
        dead.results.close()
        self._workers[self._workers.index(dead)] = self._spawn()
        lost = [by_id.pop(task_id) for task_id in dead.outstanding]
        if not lost:
            return
        running, waiting = lost[0], lost[1:]  # only the first was being annotated; the others wait their turn
        again = list(waiting)
        running.attempts += 1
        if running.attempts <= self.retries:
            again.insert(0, running)
        elif len(running.items) > 1:
            parts[running.seq] = {}
            again[:0] = [self._task(running.seq, [item], part=i, attempts=self.retries)
                         for i, item in enumerate(running.items)]
        else:
            item = running.items[0]
            error = WorkerLostError(f"a worker process died annotating this letter {running.attempts} times (killed, "
                                    f"or out of memory); retried by --resume", item.file)
            item.error, item.code, item.letter = str(error), error.code, None
            self._finish(running, ([], [item]), parts, groups, finished)
        queue.extendleft(reversed(again))

"""``kamerbrief benchmark``: words per second of the whole pipeline on real letters, next to the same
pipeline around a BERT-base-sized encoder (12 x 768, random weights: the cost a BERTje or RobBERT
pipeline would have on this machine), measured in the same run on the same paragraphs.

Each configuration is warmed up on a few paragraphs, then timed ``runs`` times over the sample; the
median is reported. ``workers`` above 1 times a :class:`~kamerbrief.pipeline.workers.WorkerPool` (the
engine of ``annotate --workers``) over the sample in commit groups, after its processes have loaded the
model and annotated a first group. Recorded with the figures: the precision each pipeline ran at
(``auto`` resolved), the CPU (model, flags, cores, the ISA torch used) and the load average before and
after, since other processes on the machine change the figures. Peak RSS of the process is reported too.
"""
from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from kamerbrief.pipeline.nlp import DEFAULT_BATCH_SIZE


def sample_letters(corpus: str | Path, max_words: int) -> list:
    """Letters from a corpus (files, dirs or JSONL), in order, until ``max_words`` words."""
    from kamerbrief.pipeline.batch import iter_inputs

    letters, words = [], 0
    for item in iter_inputs([corpus], max_bytes=50 * 1024 * 1024):
        if item.letter is None:
            continue
        letters.append(item.letter)
        words += sum(len(p.text.split()) for p in item.letter.paragraphs)
        if words >= max_words:
            break
    return letters


def bert_base_sized(model_dir: str | Path, out_dir: str | Path) -> Path:
    """A kamerbrief model folder with the same heads and tokenizer around a random 12 x 768 BERT."""
    import torch
    from transformers import AutoTokenizer, BertConfig

    from kamerbrief.pipeline.model.multitask import KamerbriefConfig, KamerbriefModel

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = BertConfig(vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = KamerbriefModel(KamerbriefConfig(encoder=encoder.to_dict()))
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return Path(out_dir)


def _words(letter) -> int:
    return sum(len(p.text.split()) for p in letter.paragraphs)


def _timed(runs: int, letters: list, label: str, progress: bool, annotate) -> list[float]:
    """Seconds of each of ``runs`` passes of ``annotate(letters)``, which yields each letter as it is done."""
    from tqdm import tqdm

    seconds = []
    with tqdm(total=runs * sum(map(_words, letters)), desc=label[:40], unit=" words", unit_scale=True, disable=not progress,
              leave=False) as bar:
        for _ in range(runs):
            start = time.perf_counter()
            for letter in annotate(letters):
                bar.update(_words(letter))
            seconds.append(time.perf_counter() - start)
    return seconds


def time_pipeline(nlp, letters: list, runs: int, batch_size: int, label: str = "", progress: bool = False) -> dict:
    from kamerbrief.pipeline.letters import annotate_letters

    words = sum(map(_words, letters))
    list(annotate_letters(letters[:1], nlp, batch_size))  # warm-up: loads the model, fills caches
    seconds = _timed(runs, letters, label, progress,
                     lambda sample: (letter for letter, _, _ in annotate_letters(sample, nlp, batch_size, keep_docs=False)))
    return _figures(words, runs, seconds)


def time_workers(model, letters: list, runs: int, batch_size: int, workers: int, threads: int, precision: str,
                 group_size: int = 16, label: str = "", progress: bool = False) -> tuple[dict, dict]:
    """The figures of ``annotate --workers`` on the sample, and what the pool ran with (precision, threads)."""
    from kamerbrief.pipeline.batch import Item
    from kamerbrief.pipeline.workers import WorkerPool

    def groups(sample):
        items = [Item(f"{i}", "benchmark", letter) for i, letter in enumerate(sample)]
        return [items[i:i + group_size] for i in range(0, len(items), group_size)]

    pool = WorkerPool(model, workers=workers, threads=threads, batch_size=batch_size, precision=precision)
    pool.start()
    try:
        list(pool.map(groups(letters[:group_size])))  # warm-up: every worker has loaded the model by now
        seconds = _timed(runs, letters, label, progress,
                         lambda sample: (item.letter for group, _ in pool.map(groups(sample)) for item in group))
    finally:
        pool.close()
    return _figures(sum(map(_words, letters)), runs, seconds), pool.info


def _figures(words: int, runs: int, seconds: list[float]) -> dict:
    median = statistics.median(seconds)
    return {"words": words, "runs": runs, "seconds": [round(s, 2) for s in seconds], "median_seconds": round(median, 2),
            "words_per_second": round(words / median, 1)}


def default_corpus() -> Path:
    """What `kamerbrief benchmark` times when given no letters: the shared circulaires."""
    from kamerbrief.errors import KamerbriefError
    from kamerbrief.paths import find_shared_dir

    shared = find_shared_dir()
    if shared is None:
        raise KamerbriefError("no corpus given and ../shared not found")
    return shared / "corpora" / "circulaires.jsonl.gz"


def run_benchmark(corpus, models=(None,), max_words: int = 20000, runs: int = 3, batch_size: int = DEFAULT_BATCH_SIZE, threads: int = 0,
                  precisions: tuple[str, ...] = ("auto",), compare_bert_base: bool = True, workers: tuple[int, ...] = (1,),
                  progress: bool = False) -> dict:
    """Time each model (None: the default) at each precision and each number of worker processes, then the
    BERT-base-sized pipeline built around the first model's tokenizer and heads (one process), all on the
    same letters."""
    import torch

    from kamerbrief.paths import portable_path
    from kamerbrief.pipeline.hardware import cpu_info
    from kamerbrief.pipeline.nlp import load
    from kamerbrief.pipeline.workers import available_cores

    if threads:
        torch.set_num_threads(threads)
    letters = sample_letters(corpus, max_words)
    results: dict = {"corpus": portable_path(corpus), "letters": len(letters), "threads": torch.get_num_threads(),
                     "cpu": cpu_info(), "load_average_before": [round(x, 2) for x in os.getloadavg()], "models": {},
                     "pipelines": {}}
    first_model_dir = None
    for model in models:
        for precision in precisions:
            for n in workers:
                nlp = load(model, batch_size=batch_size, precision=precision, threads=threads)
                tagger = nlp.get_pipe("kamerbrief_transformer")
                model_dir = Path(tagger.model_path)
                name = pipeline_name(model_dir)
                results["models"][name] = portable_path(model_dir)
                first_model_dir = first_model_dir or model_dir
                label = f"{name} ({precision})" + (f", {n} workers" if n > 1 else "")
                if n == 1:
                    figures = time_pipeline(nlp, letters, runs, batch_size, label, progress)
                    used = {"precision": tagger.precision_used, "workers": 1, "threads": torch.get_num_threads()}
                else:
                    figures, info = time_workers(model, letters, runs, batch_size, n, threads or max(1, available_cores() // n),
                                                 precision, label=label, progress=progress)
                    used = {"precision": info["precision"], "workers": n, "threads": info["threads"]}
                results["pipelines"][label] = {**used, "precision_setting": precision, **figures}
                nlp = None
    if compare_bert_base:
        with tempfile.TemporaryDirectory() as tmp:
            folder = bert_base_sized(first_model_dir, tmp)
            for precision in precisions:
                base_nlp = load(folder, batch_size=batch_size, precision=precision, threads=threads)
                label = f"{BERT_BASE} ({precision})"
                results["pipelines"][label] = {"precision": base_nlp.get_pipe("kamerbrief_transformer").precision_used,
                                               "workers": 1, "threads": torch.get_num_threads(), "precision_setting": precision,
                                               **time_pipeline(base_nlp, letters, runs, batch_size, label, progress)}
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


BERT_BASE = "BERT-base-sized"


def pipeline_name(model_dir: Path) -> str:
    """The pipeline folder's name (``models/X/kamerbrief_transformer/model`` -> X)."""
    from kamerbrief.pipeline.transformer import COMPONENT, MODEL_DIR

    inside_pipeline = model_dir.name == MODEL_DIR and model_dir.parent.name == COMPONENT
    return model_dir.parent.parent.name if inside_pipeline else model_dir.name


def format_benchmark(results: dict) -> str:
    cpu = results.get("cpu", {})
    lines = [f"corpus: {results['corpus']} ({results['letters']} letters), torch threads {results['threads']}",
             f"cpu: {cpu.get('model')}, {cpu.get('cores')} cores, torch ISA {cpu.get('torch_capability')}, flags "
             f"{' '.join(cpu.get('flags', []))}; load average {results.get('load_average_before')} -> "
             f"{results.get('load_average_after')}",
             f"{'pipeline':<44} {'ran at':>6} {'words':>8} {'median s':>9} {'words/s':>9}"]
    for name, r in results["pipelines"].items():
        lines.append(f"{name:<44} {r['precision']:>6} {r['words']:>8} {r['median_seconds']:>9.2f} {r['words_per_second']:>9,.0f}")
    # Each pipeline against the BERT-base-sized one at the same precision.
    for name, r in results["pipelines"].items():
        base_name = f"{BERT_BASE} ({r.get('precision_setting', r['precision'])})"
        base = results["pipelines"].get(base_name)
        if base and name != base_name:
            lines.append(f"speed-up of {name} over {base_name}: {r['words_per_second'] / base['words_per_second']:.1f}x")
    lines.append(f"peak RSS: {results['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)

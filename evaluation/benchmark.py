"""``kamerbrief benchmark``: words per second of the whole pipeline on real letters, next to the same
pipeline around a BERT-base-sized encoder (12 x 768, random weights: the cost a BERTje or RobBERT
pipeline would have on this machine), measured in the same run on the same paragraphs.

Each configuration is warmed up on a few paragraphs, then timed ``runs`` times over the sample; the
median is reported. Peak RSS of the process is reported too.
"""
from __future__ import annotations

import resource
import statistics
import tempfile
import time
from pathlib import Path


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

    from kamerbrief.training.model import KamerbriefConfig, KamerbriefModel

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = BertConfig(vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = KamerbriefModel(KamerbriefConfig(encoder=encoder.to_dict()))
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return Path(out_dir)


def time_pipeline(nlp, letters: list, runs: int, batch_size: int) -> dict:
    from kamerbrief.pipeline.letters import annotate_letters

    words = sum(len(p.text.split()) for letter in letters for p in letter.paragraphs)
    list(annotate_letters(letters[:1], nlp, batch_size))  # warm-up: loads the model, fills caches
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in annotate_letters(letters, nlp, batch_size):
            pass
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return {"words": words, "runs": runs, "seconds": [round(s, 2) for s in seconds], "median_seconds": round(median, 2),
            "words_per_second": round(words / median, 1)}


def run_benchmark(corpus, models=(None,), max_words: int = 20000, runs: int = 3, batch_size: int = 64, threads: int = 0,
                  precisions: tuple[str, ...] = ("fp32",), compare_bert_base: bool = True) -> dict:
    """Time each model (None: the default) at each precision, then the BERT-base-sized pipeline built
    around the first model's tokenizer and heads, all on the same letters in this one process."""
    import torch

    from kamerbrief.paths import portable_path
    from kamerbrief.pipeline.nlp import load

    if threads:
        torch.set_num_threads(threads)
    letters = sample_letters(corpus, max_words)
    results: dict = {"corpus": portable_path(corpus), "letters": len(letters), "threads": torch.get_num_threads(), "models": {},
                     "pipelines": {}}
    first_model_dir = None
    for model in models:
        for precision in precisions:
            nlp = load(model, batch_size=batch_size, precision=precision, threads=threads)
            model_dir = Path(nlp.get_pipe("kamerbrief_transformer").model_path)
            name = pipeline_name(model_dir)
            results["models"][name] = portable_path(model_dir)
            first_model_dir = first_model_dir or model_dir
            results["pipelines"][f"{name} ({precision})"] = {"precision": precision, **time_pipeline(nlp, letters, runs, batch_size)}
            del nlp
    if compare_bert_base:
        with tempfile.TemporaryDirectory() as tmp:
            folder = bert_base_sized(first_model_dir, tmp)
            for precision in precisions:
                base_nlp = load(folder, batch_size=batch_size, precision=precision, threads=threads)
                results["pipelines"][f"{BERT_BASE} ({precision})"] = {"precision": precision,
                                                                       **time_pipeline(base_nlp, letters, runs, batch_size)}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


BERT_BASE = "BERT-base-sized"


def pipeline_name(model_dir: Path) -> str:
    """The pipeline folder's name (``models/X/kamerbrief_transformer/model`` -> X)."""
    from kamerbrief.pipeline.transformer import COMPONENT, MODEL_DIR

    inside_pipeline = model_dir.name == MODEL_DIR and model_dir.parent.name == COMPONENT
    return model_dir.parent.parent.name if inside_pipeline else model_dir.name


def format_benchmark(results: dict) -> str:
    lines = [f"corpus: {results['corpus']} ({results['letters']} letters), torch threads {results['threads']}",
             f"{'pipeline':<34} {'words':>8} {'median s':>9} {'words/s':>9}"]
    for name, r in results["pipelines"].items():
        lines.append(f"{name:<34} {r['words']:>8} {r['median_seconds']:>9.2f} {r['words_per_second']:>9,.0f}")
    # Each pipeline against the BERT-base-sized one at the same precision.
    for name, r in results["pipelines"].items():
        base_name = f"{BERT_BASE} ({r['precision']})"
        base = results["pipelines"].get(base_name)
        if base and name != base_name:
            lines.append(f"speed-up of {name} over {base_name}: {r['words_per_second'] / base['words_per_second']:.1f}x")
    lines.append(f"peak RSS: {results['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)

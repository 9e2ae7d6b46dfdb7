"""Vocabulary pruning: keep the pieces that Dutch government text and the training data use.

The embedding matrix is 96M of e5-small's 118M parameters, almost all of it for scripts and words
these letters never contain. Pruning keeps the pieces the full tokenizer produces on a corpus; the
unigram Viterbi over the remaining pieces then segments almost every word as before, which
``segmentation_change`` measures on held-back text.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from tqdm import tqdm

CHUNK = 512


def _chunks(texts: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def pieces_used(tokenizer, texts: Iterable[str], progress: bool = True) -> tuple[Counter, int]:
    """Count the piece ids the tokenizer produces on ``texts``; returns ``(counts, n_texts)``."""
    counts: Counter = Counter()
    n_texts = 0
    backend = tokenizer.backend_tokenizer
    with tqdm(desc="pieces used", unit=" texts", disable=not progress) as bar:
        for chunk in _chunks(texts):
            for encoding in backend.encode_batch(chunk, add_special_tokens=False):
                counts.update(encoding.ids)
            n_texts += len(chunk)
            bar.update(len(chunk))
    return counts, n_texts


def _words(encoding) -> list[tuple[str, ...]]:
    words: dict[int, list[str]] = {}
    for word_id, token in zip(encoding.word_ids, encoding.tokens, strict=True):
        if word_id is not None:
            words.setdefault(word_id, []).append(token)
    return [tuple(words[k]) for k in sorted(words)]


def segmentation_change(full, pruned, texts: Iterable[str]) -> dict:
    """How many whitespace words the pruned tokenizer splits differently from the full one."""
    n_words = n_changed = 0
    examples: list[str] = []
    for chunk in _chunks(texts):
        a = full.backend_tokenizer.encode_batch(chunk, add_special_tokens=False)
        b = pruned.backend_tokenizer.encode_batch(chunk, add_special_tokens=False)
        for enc_full, enc_pruned in zip(a, b, strict=True):
            words_full, words_pruned = _words(enc_full), _words(enc_pruned)
            n_words += len(words_full)
            for wf, wp in zip(words_full, words_pruned, strict=False):
                if wf != wp:
                    n_changed += 1
                    if len(examples) < 20:
                        examples.append(f"{''.join(wf)}: {' '.join(wf)} -> {' '.join(wp)}")
            n_changed += abs(len(words_full) - len(words_pruned))
    return {"words": n_words, "changed": n_changed, "rate": n_changed / max(n_words, 1), "examples": examples}


HELD_OUT_EVERY = 50  # one nl-gov-text document in 50 is held back to measure re-segmentation


def _is_held_out(record: dict) -> bool:
    from kamerbrief.data.records import stable_hash

    return stable_hash(record.get("path") or record["id"]) % HELD_OUT_EVERY == 0


def pruning_corpus(shared_dir, data_dir) -> tuple[Iterable[str], Iterable[str]]:
    """``(texts to keep pieces for, held-back texts)``: the shared Dutch government corpora (one
    nl-gov-text document in 50 held back), the project's letters and standoff paragraphs, and the
    CoNLL-2002 and Europeana sentences."""
    from pathlib import Path

    from kamerbrief.data.convert import iter_paragraphs
    from kamerbrief.data.records import iter_record_files, read_jsonl, read_records
    from kamerbrief.data.sources import conll2002_records, europeana_records

    shared_dir, data_dir = Path(shared_dir), Path(data_dir)
    corpora = shared_dir / "corpora"

    def gov(held_out: bool) -> Iterator[str]:
        for _, record in read_jsonl(corpora / "nl-gov-text.jsonl.xz"):
            if _is_held_out(record) == held_out:
                yield record.get("text", "")

    def keep() -> Iterator[str]:
        yield from gov(False)
        for name in ("circulaires.jsonl.gz", "beleidsregels.jsonl.gz"):
            for _, record in read_jsonl(corpora / name):
                yield record.get("text", "")
        records = [r for f in iter_record_files([data_dir / "letters", data_dir / "standoff"]) for r in read_records(f)]
        for _, _, paragraph in iter_paragraphs(records, shared_dir):
            yield paragraph["text"]
        for split in ("train", "dev", "test"):
            for record in conll2002_records(corpora / f"conll2002-nl/conll2002-ner-nld.{split}.txt"):
                yield from (p["text"] for p in record["paragraphs"])
        for record in europeana_records(corpora / "europeana-ner-nl/enp_NL.kb.bio"):
            yield from (p["text"] for p in record["paragraphs"])

    return keep(), gov(True)

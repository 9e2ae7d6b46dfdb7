"""Multi-task training end to end on a tiny random BERT built here (no download), and the partial-
annotation loss on hand-made logits."""
import json
import math

import pytest
import torch

from conftest import TINY_RECORDS


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_base):
    from kamerbrief.training.train import train

    tmp = tmp_path_factory.mktemp("train")
    train_file = _write(tmp / "train.jsonl", TINY_RECORDS * 4)
    dev_file = _write(tmp / "dev.jsonl", TINY_RECORDS)
    config = {"name": "tiny", "base_model": str(tiny_base), "seed": 7, "max_length": 16, "stride": 4,
              "data": {"train": [str(train_file)], "dev": [str(dev_file)]},
              "training": {"learning_rate": 5e-3, "batch_size": 4, "epochs": 3, "bf16": False, "torch_threads": 1,
                           "logging_steps": 5},
              "export": {"dtype": "float16"}}
    out = tmp / "model"
    metrics = train(config, out, progress=False)
    return out, metrics, config


def test_training_writes_a_complete_model_folder(trained):
    out, metrics, config = trained
    # A spaCy pipeline folder: the trained model inside its component, the metadata and card on top.
    for name in ("config.cfg", "meta.json", "training_config.json", "data_manifest.json", "dev_metrics.json", "README.md",
                 "kamerbrief_transformer/model/config.json", "kamerbrief_transformer/model/model.safetensors",
                 "kamerbrief_transformer/model/tokenizer.json"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "training_config.json").read_text())
    assert saved["seed"] == 7 and saved["base_model"] == config["base_model"]
    manifest = json.loads((out / "data_manifest.json").read_text())
    assert len(manifest["train"][0]["sha256"]) == 64
    assert set(metrics["thresholds"]) == {"recommendation", "adoption", "action", "deadline"}
    assert 0.0 <= metrics["dev"]["entity_f"] <= 1.0
    assert not (out / "checkpoints").exists()
    card = (out / "README.md").read_text()
    assert "Intended use" in card and "tiny" in card


def test_trained_model_reloads_in_float16_with_its_thresholds(trained):
    from transformers import AutoModel, AutoTokenizer

    from kamerbrief.training.model import KamerbriefModel

    out, metrics, _ = trained
    model = AutoModel.from_pretrained(out / "kamerbrief_transformer" / "model")
    assert isinstance(model, KamerbriefModel)
    assert model.token_head.weight.dtype == torch.float16
    assert model.config.thresholds == metrics["thresholds"]
    tokenizer = AutoTokenizer.from_pretrained(out / "kamerbrief_transformer" / "model")
    batch = tokenizer(["Het kabinet neemt de aanbeveling over."], return_tensors="pt")
    output = model.float()(**batch)
    assert output["token_logits"].shape[-1] == len(model.config.tags)
    assert output["paragraph_logits"].shape == (1, 4)


def test_training_learns_the_tiny_set(tiny_base, tmp_path):
    """Enough steps on four paragraphs drive the training loss well below its start."""
    from kamerbrief.training.train import train

    train_file = _write(tmp_path / "train.jsonl", TINY_RECORDS * 8)
    config = {"base_model": str(tiny_base), "seed": 1, "max_length": 32, "stride": 8, "data": {"train": [str(train_file)]},
              "training": {"learning_rate": 1e-2, "batch_size": 4, "epochs": 1, "torch_threads": 1, "logging_steps": 1}}
    from transformers import TrainerCallback
    losses = []
    import kamerbrief.training.train as module
    original = module.save_model
    module.save_model = lambda *a, **k: None
    try:
        from transformers import Trainer
        original_log = Trainer.log
        def log(self, logs, *args, **kwargs):
            if "loss" in logs:
                losses.append(logs["loss"])
            return original_log(self, logs, *args, **kwargs)
        Trainer.log = log
        train(config, tmp_path / "m", max_steps=40, progress=False)
    finally:
        module.save_model = original
        Trainer.log = original_log
    assert losses[-1] < 0.5 * losses[0]


def test_partially_annotated_source_does_not_punish_unannotated_labels():
    from kamerbrief.data.convert import BIO_TAGS, TAG_TO_ID
    from kamerbrief.data.schema import ENTITY_LABELS
    from kamerbrief.training.model import KamerbriefConfig, KamerbriefModel

    config = KamerbriefConfig(encoder={"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
                                       "num_attention_heads": 2, "intermediate_size": 16})
    model = KamerbriefModel(config)
    logits = torch.full((1, 1, len(BIO_TAGS)), -10.0)
    logits[0, 0, TAG_TO_ID["B-DATE"]] = 10.0  # the model says DATE; the gold (from a PER/ORG/LOC source) says O
    labels = torch.tensor([[TAG_TO_ID["O"]]])
    full = torch.ones(1, len(ENTITY_LABELS))
    conll = torch.tensor([[1.0 if label in ("PER", "ORG", "LOC") else 0.0 for label in ENTITY_LABELS]])
    assert model.token_loss(logits, labels, full).item() == pytest.approx(20.0, abs=1e-3)
    assert model.token_loss(logits, labels, conll).item() == pytest.approx(0.0, abs=1e-3)
    # A label the source does annotate is still punished: the allowed set is O plus the six DATE/REF/LAW
    # tags, each at -10, so the loss is 10 - (-10 + ln 7).
    logits_per = torch.full((1, 1, len(BIO_TAGS)), -10.0)
    logits_per[0, 0, TAG_TO_ID["B-PER"]] = 10.0
    assert model.token_loss(logits_per, labels, conll).item() == pytest.approx(20.0 - math.log(7), abs=1e-3)


def test_bucketed_sampler_is_a_seeded_permutation_of_similar_length_batches():
    from kamerbrief.training.train import BucketedRandomSampler

    lengths = [(i * 37) % 100 + 1 for i in range(200)]
    sampler = BucketedRandomSampler(lengths, batch_size=8, bucket_batches=4, seed=3)
    first = list(sampler)
    assert sorted(first) == list(range(200)) and len(sampler) == 200
    assert first == list(BucketedRandomSampler(lengths, batch_size=8, bucket_batches=4, seed=3))
    sampler.set_epoch(1)
    assert list(sampler) != first
    # Padding waste: a batch pads to its longest window. Bucketed batches pad far less than random ones.
    def padded(order):
        return sum(max(lengths[i] for i in order[b:b + 8]) * len(order[b:b + 8]) for b in range(0, len(order), 8))
    import random
    shuffled = list(range(200))
    random.Random(0).shuffle(shuffled)
    assert padded(first) < 0.8 * padded(shuffled)

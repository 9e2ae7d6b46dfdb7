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
              "training": {"learning_rate": 5e-3, "head_learning_rate": 5e-3, "freeze_embeddings": False, "warmup_ratio": 0.1,
                           "batch_size": 4, "epochs": 3, "bf16": False, "torch_threads": 1, "logging_steps": 5},
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

    from kamerbrief.pipeline.model.multitask import KamerbriefModel

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
              "training": {"learning_rate": 1e-2, "head_learning_rate": 1e-2, "freeze_embeddings": False, "warmup_ratio": 0.1,
                           "batch_size": 4, "epochs": 1, "torch_threads": 1, "logging_steps": 1}}
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
    from kamerbrief.data.schema import BIO_TAGS, ENTITY_LABELS, TAG_TO_ID
    from kamerbrief.pipeline.model.multitask import KamerbriefConfig, KamerbriefModel

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


def test_label_smoothing_softens_the_paragraph_and_stance_targets_only():
    """With smoothing s a paragraph label's target is 1 - s/2 (or s/2) and a stance's one-hot spreads s over the stances;
    the token loss is untouched."""
    from kamerbrief.data.schema import IGNORE, PARAGRAPH_LABELS, STANCES
    from kamerbrief.pipeline.model.multitask import KamerbriefConfig, KamerbriefModel

    torch.manual_seed(0)
    config = KamerbriefConfig(encoder={"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
                                       "num_attention_heads": 2, "intermediate_size": 16})
    model = KamerbriefModel(config).eval()
    batch = {"input_ids": torch.tensor([[1, 2, 3]]), "attention_mask": torch.ones(1, 3, dtype=torch.long),
             "labels": torch.tensor([[IGNORE, 0, IGNORE]]), "cats": torch.tensor([[1.0] + [0.0] * (len(PARAGRAPH_LABELS) - 1)]),
             "stance": torch.tensor([1])}
    plain, smooth = model(**batch), model(**batch, label_smoothing=0.2)
    token = model.token_loss(plain["token_logits"], batch["labels"], None)
    paragraph_targets = torch.tensor([[0.9] + [0.1] * (len(PARAGRAPH_LABELS) - 1)])
    expected = (token + torch.nn.functional.binary_cross_entropy_with_logits(plain["paragraph_logits"], paragraph_targets)
                + torch.nn.functional.cross_entropy(plain["stance_logits"], batch["stance"], label_smoothing=0.2))
    assert smooth["loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert abs(smooth["loss"].item() - plain["loss"].item()) > 1e-3 and len(STANCES) > 1


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


def test_a_student_keeps_the_bottom_layers_and_the_heads_of_a_trained_model(trained, tmp_path):
    """Training from a trained pipeline folder with ``keep_layers`` starts from its lower layers and
    its heads, and packages a smaller pipeline that loads and runs."""
    from kamerbrief.pipeline.model.multitask import KamerbriefModel
    from kamerbrief.pipeline.nlp import load
    from kamerbrief.training.train import TrainingConfigError, resolve_base, train

    teacher_dir, _, config = trained
    teacher = KamerbriefModel.from_pretrained(teacher_dir / "kamerbrief_transformer" / "model", dtype=torch.float32)
    student = KamerbriefModel.from_base(resolve_base(str(teacher_dir)), keep_layers=1)
    assert len(student.encoder.encoder.layer) == 1 and student.config.encoder["num_hidden_layers"] == 1
    assert torch.equal(student.token_head.weight, teacher.token_head.weight)
    assert torch.equal(student.encoder.encoder.layer[0].output.dense.weight, teacher.encoder.encoder.layer[0].output.dense.weight)
    assert student.config.thresholds == teacher.config.thresholds

    student_config = {**config, "base_model": str(teacher_dir), "keep_layers": 1}
    out = tmp_path / "student"
    train(student_config, out, max_steps=2, progress=False)
    nlp = load(out)
    assert nlp.get_pipe("kamerbrief_transformer").hf_model.config.encoder["num_hidden_layers"] == 1
    doc = nlp("Het kabinet neemt de aanbeveling over.")
    assert set(doc.cats) == {"recommendation", "adoption", "action", "deadline"}

    with pytest.raises(TrainingConfigError, match="keep_layers must be between 1 and 2"):
        train({**config, "keep_layers": 3}, tmp_path / "bad", max_steps=1, progress=False)


def test_distillation_loss_is_smallest_when_the_student_agrees_with_the_teacher():
    from kamerbrief.training.distillation import distillation_loss

    torch.manual_seed(0)
    teacher = {"token_logits": torch.randn(2, 5, 13), "paragraph_logits": torch.randn(2, 4), "stance_logits": torch.randn(2, 5)}
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    same = distillation_loss(teacher, teacher, mask)
    # KL terms vanish; what is left is the entropy of the teacher's paragraph probabilities.
    p = torch.sigmoid(teacher["paragraph_logits"])
    entropy = -(p * p.log() + (1 - p) * (1 - p).log()).mean()
    assert same.item() == pytest.approx(entropy.item(), abs=1e-5)
    other = {k: v + torch.randn_like(v) for k, v in teacher.items()}
    assert distillation_loss(other, teacher, mask).item() > same.item() + 0.1
    # Padded pieces do not count.
    padded_only = {**teacher, "token_logits": teacher["token_logits"].clone()}
    padded_only["token_logits"][0, 3:] += 5.0
    assert distillation_loss(padded_only, teacher, mask).item() == pytest.approx(same.item(), abs=1e-5)


def test_distillation_can_teach_the_entity_head_alone():
    from kamerbrief.training.distillation import distillation_loss

    torch.manual_seed(1)
    teacher = {"token_logits": torch.randn(2, 5, 13), "paragraph_logits": torch.randn(2, 4), "stance_logits": torch.randn(2, 5)}
    mask = torch.ones(2, 5, dtype=torch.long)
    # Paragraph and stance far from the teacher's: with the token head alone, only tokens count.
    student = {**teacher, "paragraph_logits": -5 * teacher["paragraph_logits"], "stance_logits": -teacher["stance_logits"]}
    assert distillation_loss(student, teacher, mask, heads=("token",)).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss(student, teacher, mask, heads=("stance",)).item() > 0.1
    moved = {**student, "token_logits": teacher["token_logits"] + torch.randn_like(teacher["token_logits"])}
    assert distillation_loss(moved, teacher, mask, heads=("token",)).item() > 0.1


def test_a_student_distils_from_a_teacher(trained, tmp_path):
    from kamerbrief.training.train import TrainingConfigError, train

    teacher_dir, _, config = trained
    student_config = {**config, "base_model": str(teacher_dir), "keep_layers": 1,
                      "distill": {"teacher": str(teacher_dir), "alpha": 0.7, "temperature": 2.0}}
    metrics = train(student_config, tmp_path / "student", max_steps=3, progress=False)
    assert metrics["train_windows"] > 0
    saved = json.loads((tmp_path / "student" / "training_config.json").read_text())
    assert saved["distill"]["teacher"] == str(teacher_dir)

    with pytest.raises(TrainingConfigError, match="distill.teacher is not a trained kamerbrief model"):
        train({**student_config, "distill": {"teacher": str(tmp_path / "nowhere")}}, tmp_path / "bad", max_steps=1, progress=False)


def _unlabeled_corpus(tmp_path):
    """A corpus file in the shared ``*.jsonl.gz`` layout; the text is the team's own."""
    import gzip

    records = [{"id": "A", "path": "a/1", "kind": "circulaire", "text": "# Kop\n\nDe minister stuurt de gemeenten vóór 1 juli 2021 een nieuwe handreiking.\n\nKort."},
               {"id": "B", "path": "b/1", "kind": "circulaire", "text": "De staatssecretaris neemt de aanbeveling van de Raad van State over."},
               {"id": "B", "path": "b/2", "kind": "circulaire", "text": "Een tweede versie van de brief over de aanbeveling van de Raad van State."},
               {"id": "C", "path": "c/1", "kind": "circulaire", "text": "Het kabinet werkt in het voorjaar van 2022 een wetsvoorstel uit.\n\nDe Tweede Kamer ontvangt het eind 2022."}]
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    held_out = _write(tmp_path / "test.jsonl", [{"id": "standoff-B", "doc_id": "B", "paragraphs": []}])
    return path, held_out


def test_unlabeled_source_leaves_out_held_out_documents_and_carries_no_gold(tiny_tokenizer, tmp_path):
    from kamerbrief.data.convert import records_to_dataset
    from kamerbrief.data.schema import IGNORE
    from kamerbrief.data.sources import annotated_labels, unlabeled_records

    corpus, held_out = _unlabeled_corpus(tmp_path)
    records = list(unlabeled_records(corpus, exclude=[held_out], min_chars=20))
    texts = [r["paragraphs"][0]["text"] for r in records]
    # Every version of the held-out document B is gone; the heading "Kop" and "Kort." are too short.
    assert [r["id"] for r in records] == ["a/1#1", "c/1#0", "c/1#1"]
    assert not any("Raad van State" in t for t in texts)
    assert all(annotated_labels(r) == ([], []) for r in records)
    sample = [r["id"] for r in unlabeled_records(corpus, exclude=[held_out], min_chars=20, max_paragraphs=2, seed=3)]
    assert len(sample) == 2 and set(sample) < {"a/1#1", "c/1#0", "c/1#1"}
    assert sample == [r["id"] for r in unlabeled_records(corpus, exclude=[held_out], min_chars=20, max_paragraphs=2, seed=3)]

    rows = records_to_dataset(records, tiny_tokenizer, max_length=16, stride=4)
    assert len(rows) >= len(records)
    assert all(tag == IGNORE for labels in rows["labels"] for tag in labels)
    assert all(not any(mask) for mask in rows["entity_mask"]) and all(not any(mask) for mask in rows["cats_mask"])
    assert set(rows["stance"]) == {IGNORE}


def test_a_student_distils_on_an_unlabeled_transfer_set(trained, tmp_path):
    from kamerbrief.training.train import train

    teacher_dir, metrics, config = trained
    corpus, held_out = _unlabeled_corpus(tmp_path)
    data = {**config["data"], "train": config["data"]["train"] + [{"source": "unlabeled", "path": str(corpus), "exclude": [str(held_out)], "min_chars": 20}]}
    student = train({**config, "base_model": str(teacher_dir), "data": data,
                     "distill": {"teacher": str(teacher_dir), "alpha": 0.7, "temperature": 2.0}}, tmp_path / "student", max_steps=2, progress=False)
    assert student["train_windows"] > metrics["train_windows"]
    card = (tmp_path / "student" / "README.md").read_text()
    assert f"- Transfer set: all paragraphs of `{corpus}`, no labels, learned from the teacher only; documents of `{held_out}` left out." in card


def test_train_from_a_trained_model_continues_it_on_new_data(trained, tmp_path):
    """`kamerbrief train --from MODEL --data NEW`: the parent's weights, heads and teacher, the new data plus the
    parent's labeled training files, thresholds tuned on dev again, and a card naming the parent."""
    import subprocess
    import sys

    from kamerbrief.pipeline.model.multitask import KamerbriefModel
    from kamerbrief.training.train import TrainingConfigError, parent_config

    parent, _, parent_config_used = trained
    new = _write(tmp_path / "nieuwe-brieven.jsonl", [TINY_RECORDS[1]] * 3)
    out = tmp_path / "child"
    done = subprocess.run([sys.executable, "-m", "kamerbrief.cli", "train", "--from", str(parent), "--data", str(new),
                           "--out", str(out), "--threads", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    saved = json.loads((out / "training_config.json").read_text())
    assert saved["base_model"] == str(parent) and saved["parent"]["name"] == "tiny"
    assert saved["data"]["train"] == [str(new), *parent_config_used["data"]["train"]]
    assert saved["data"]["dev"] == parent_config_used["data"]["dev"] and saved["training"]["epochs"] == 1
    child = KamerbriefModel.from_pretrained(out / "kamerbrief_transformer" / "model")
    metrics = json.loads((out / "dev_metrics.json").read_text())
    assert child.config.thresholds == metrics["thresholds"]  # tuned on dev again
    assert child.config.paragraph_labels == KamerbriefModel.from_pretrained(parent / "kamerbrief_transformer" / "model").config.paragraph_labels
    assert "Fine-tuned from its parent `tiny`" in (out / "README.md").read_text()

    assert parent_config(parent, [str(new)], replay=False).data.train == [str(new)]
    # The parent's own dev (and train) files passed again are not counted twice.
    again = parent_config(parent, [str(new), *parent_config_used["data"]["dev"], *parent_config_used["data"]["train"]])
    assert again.data.dev == parent_config_used["data"]["dev"]
    assert again.data.train == [str(new), *parent_config_used["data"]["train"]]
    with pytest.raises(TrainingConfigError, match="needs new training data"):
        parent_config(parent, [], replay=True)
    with pytest.raises(TrainingConfigError, match="trained kamerbrief model folder"):
        parent_config(tmp_path, [str(new)])


def test_train_from_can_take_the_parent_as_teacher_of_its_entity_head(trained, tmp_path):
    from kamerbrief.training.config import parse_settings
    from kamerbrief.training.train import parent_config, train

    parent, _, _ = trained
    new = _write(tmp_path / "nieuw.jsonl", [TINY_RECORDS[0]])
    overrides = parse_settings([f"distill.teacher={parent}", "distill.heads=token", "distill.alpha=0.5"])
    config = parent_config(parent, [str(new)], replay=False, overrides=overrides)
    assert (config.distill.teacher, config.distill.heads, config.distill.alpha) == (str(parent), "token", 0.5)
    train(config, tmp_path / "child", max_steps=2, progress=False)
    saved = json.loads((tmp_path / "child" / "training_config.json").read_text())
    assert saved["distill"]["heads"] == "token"


def test_train_from_can_leave_out_the_parents_teacher(trained, tmp_path):
    from kamerbrief.training.train import parent_config

    parent, _, config = trained
    teacher_config = {**config, "distill": {"teacher": str(parent), "alpha": 0.7, "temperature": 2.0}}
    (tmp_path / "parent").mkdir()
    (tmp_path / "parent" / "training_config.json").write_text(json.dumps(teacher_config))
    new = _write(tmp_path / "nieuw.jsonl", [TINY_RECORDS[0]])
    assert parent_config(tmp_path / "parent", [str(new)]).distill.teacher == str(parent)
    assert parent_config(tmp_path / "parent", [str(new)], distill=False).distill is None

"""The typed training config: every shipped config and every committed model's training_config.json
reads; unknown keys and wrong types are coded errors naming the key and the file; the defaults are the
shipped default config's; warmup_ratio reaches the Trainer as a ratio."""
import json
from pathlib import Path

import pytest
from conftest import TINY_RECORDS, write_jsonl

from kamerbrief.errors import TrainingConfigError, UnknownConfigKeyError
from kamerbrief.paths import DEFAULT_TRAINING_CONFIG
from kamerbrief.training.config import TrainingConfig, split_by_name

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = {"base_model": "models/base/e5-small-nl", "data": {"train": ["data/letters/train.jsonl"]}}


@pytest.mark.parametrize("path", sorted(ROOT.glob("training/configs/*.json")) + sorted(ROOT.glob("models/*/training_config.json")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_config_and_saved_model_config_reads_and_round_trips(path):
    config = TrainingConfig.from_file(path)
    raw = json.loads(path.read_text())
    assert config.base_model == raw["base_model"] and config.training.batch_size == raw["training"]["batch_size"]
    assert TrainingConfig.from_dict(config.to_dict()) == config


def test_defaults_are_the_shipped_default_configs():
    shipped = TrainingConfig.from_file(ROOT / DEFAULT_TRAINING_CONFIG)
    minimal = TrainingConfig.from_dict(MINIMAL)
    assert minimal.training == shipped.training
    assert minimal.export == shipped.export
    assert (minimal.seed, minimal.max_length, minimal.stride, minimal.distill) == (shipped.seed, shipped.max_length, shipped.stride, None)
    # The shipped file sets every hyper-parameter but the scheduler, so the comparison above covers them.
    written = set(json.loads((ROOT / DEFAULT_TRAINING_CONFIG).read_text())["training"])
    assert set(minimal.to_dict()["training"]) - written == {"lr_scheduler"}


@pytest.mark.parametrize("values, key", [
    ({**MINIMAL, "epochs": 3}, "'epochs'"),
    ({**MINIMAL, "training": {"batch_sise": 4}}, "'training.batch_sise'"),
    ({**MINIMAL, "distill": {"teacher": "models/x", "temprature": 2}}, "'distill.temprature'"),
    ({**MINIMAL, "data": {"train": [{"source": "unlabeled", "path": "{shared}/c.jsonl.gz", "max_paragraph": 5}]}},
     "'data.train[0].max_paragraph'"),
])
def test_an_unknown_key_is_refused_naming_the_key_and_the_file(tmp_path, values, key):
    path = tmp_path / "my-config.json"
    path.write_text(json.dumps(values))
    with pytest.raises(UnknownConfigKeyError) as caught:
        TrainingConfig.from_file(path)
    assert caught.value.code == "E401" and key in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.parametrize("values, message", [
    ({**MINIMAL, "training": {"epochs": "3"}}, 'training.epochs must be a number, not "3"'),
    ({**MINIMAL, "training": {"batch_size": True}}, "training.batch_size must be an integer, not true"),
    ({**MINIMAL, "training": {"warmup_ratio": 100}}, "warmup_ratio is a fraction of the steps in [0, 1)"),
    ({**MINIMAL, "training": {"label_smoothing": 1.0}}, "training.label_smoothing is in [0, 1), not 1.0"),
    ({**MINIMAL, "training": {"sampling": "sorted"}}, "training.sampling must be one of"),
    ({**MINIMAL, "export": {"dtype": "int4"}}, "export.dtype must be one of"),
    ({**MINIMAL, "distill": {"teacher": "models/x", "heads": "token+entities"}}, "distill.heads joins distinct heads"),
    ({**MINIMAL, "data": {"train": [{"source": "wikipedia", "path": "x"}]}}, "data.train[0].source must be one of"),
    ({"data": {"train": ["x"]}}, "missing key 'base_model'"),
    ({**MINIMAL, "data": {"train": []}}, "data.train is empty"),
])
def test_a_bad_value_is_a_coded_error(values, message):
    with pytest.raises(TrainingConfigError) as caught:
        TrainingConfig.from_dict(values, "c.json")
    assert caught.value.code == "E400" and message in str(caught.value) and "c.json" in str(caught.value)


def test_the_cli_reports_a_mistyped_key_without_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from kamerbrief.cli import app

    path = tmp_path / "typo.json"
    path.write_text(json.dumps({**MINIMAL, "training": {"learning_rte": 1e-4}}))
    result = CliRunner().invoke(app, ["train", "--config", str(path), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "E401" in result.output and "training.learning_rte" in result.output
    assert str(path) in result.output and not (tmp_path / "m").exists()


def test_a_single_path_stands_for_a_list_of_one():
    config = TrainingConfig.from_dict({**MINIMAL, "data": {"train": "a.jsonl", "dev": "b.jsonl", "test": "c.jsonl"}})
    assert (config.data.train, config.data.dev, config.data.test) == (["a.jsonl"], ["b.jsonl"], ["c.jsonl"])


def test_files_are_split_by_name_and_test_files_are_never_trained_on():
    files = ["d/train.jsonl", "d/dev.jsonl", "d/dev-writer.jsonl", "d/test.jsonl", "d/test-real.jsonl", "new/brieven.jsonl"]
    assert split_by_name(files) == {"train": ["d/train.jsonl", "new/brieven.jsonl"], "dev": ["d/dev.jsonl", "d/dev-writer.jsonl"],
                                    "test": ["d/test.jsonl", "d/test-real.jsonl"]}


def test_train_from_a_committed_model_reads_its_saved_config():
    """The default model's training_config.json holds records of its run (environment, weights_dtype,
    parent, base_description): they read, and a fine-tune does not take them over as settings."""
    from kamerbrief.training.train import parent_config

    config = parent_config(ROOT / "models" / "kamerbrief-nl-e5s-l4", ["new/brieven.jsonl", "new/test.jsonl"],
                           overrides={"training.epochs": 2, "seed": 5})
    assert config.data.train[0] == "new/brieven.jsonl" and "new/test.jsonl" not in config.data.train
    assert config.environment is None and config.weights_dtype is None and config.keep_layers is None
    assert config.parent.name == "kamerbrief-nl-e5s-l4" and config.parent.dev["entity_f"] > 0
    assert config.training.epochs == 2 and config.seed == 5
    with pytest.raises(UnknownConfigKeyError, match="'training.epoch'"):
        parent_config(ROOT / "models" / "kamerbrief-nl-e5s-l4", ["new/brieven.jsonl"], overrides={"training.epoch": 2})


def test_warmup_ratio_reaches_the_trainer_as_a_fraction_of_the_steps(tiny_base, tmp_path, monkeypatch):
    """warmup_ratio 0.5 of 4 steps: the learning rate climbs from 0 for 2 steps, peaks at step 3, then falls."""
    from transformers import Trainer

    import kamerbrief.training.train as module

    rates = []
    original_log = Trainer.log

    def log(self, logs, *args, **kwargs):
        if "learning_rate" in logs:
            rates.append(logs["learning_rate"])
        return original_log(self, logs, *args, **kwargs)

    monkeypatch.setattr(Trainer, "log", log)
    monkeypatch.setattr(module, "save_model", lambda *a, **k: None)
    config = {"base_model": str(tiny_base), "max_length": 16, "stride": 4,
              "data": {"train": [str(write_jsonl(tmp_path / "train.jsonl", TINY_RECORDS * 4))]},
              "training": {"batch_size": 4, "warmup_ratio": 0.5, "torch_threads": 1, "logging_steps": 1}}
    module.train(config, tmp_path / "m", max_steps=4, progress=False)
    peak = 1e-4  # the encoder's learning rate, the default
    assert rates == pytest.approx([0.0, peak / 2, peak, peak / 2])


def test_command_line_settings_are_read_as_json_where_they_are_json():
    from kamerbrief.training.config import parse_settings

    assert parse_settings(["training.learning_rate=5e-5", "distill.heads=token", "training.bf16=true",
                           "distill.teacher=models/a=b"]) == {
        "training.learning_rate": 5e-5, "distill.heads": "token", "training.bf16": True, "distill.teacher": "models/a=b"}
    with pytest.raises(TrainingConfigError, match="--set takes KEY=VALUE"):
        parse_settings(["epochs"])

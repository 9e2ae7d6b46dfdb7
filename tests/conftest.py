from __future__ import annotations

from pathlib import Path

import pytest

from kamerbrief.paths import find_shared_dir

TESTS = Path(__file__).resolve().parent
SHARED = find_shared_dir()


@pytest.fixture
def shared_dir() -> Path:
    if SHARED is None:
        pytest.skip("../shared is not beside this checkout")
    return SHARED


def resolve_input(spec: str) -> Path:
    """Case inputs are relative to tests/, or start with {shared}/ for files under ../shared."""
    if spec.startswith("{shared}/"):
        if SHARED is None:
            pytest.skip("../shared is not beside this checkout")
        return SHARED / spec[len("{shared}/"):]
    return TESTS / spec


TINY_CORPUS = [
    "Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over.",
    "De Minister van Justitie en Veiligheid stuurt voor het zomerreces van 2021 een brief.",
    "Zie Kamerstuk 28 638, nr. 185 en artikel 3 van de Wet milieubeheer.",
    "In Den Haag en Rotterdam organiseert het WODC eind 2021 expertmeetings met A. Broekers-Knol.",
]


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A small WordPiece tokenizer trained here, on a few sentences: no download."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tokenizer.train_from_iterator(TINY_CORPUS * 5, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    # BERT's pair template too: models that read paragraph context encode (context, paragraph) pairs.
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                             special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


# The ranges ANNOTATION.md gives these DATE spans: a DATE in a deadline paragraph carries one, so the
# tiny records pass `kamerbrief data validate` (evaluate checks its gold with it).
RANGES = {"het zomerreces van 2021": {"start": "2021-07-02", "end": "2021-08-30"},
          "eind 2021": {"start": "2021-10-01", "end": "2021-12-31"}}


def _paragraph(text: str, labels: list[str], spans: list[tuple[str, str]], stance: str | None = None) -> dict:
    entities, cursor = [], 0
    for surface, label in spans:
        start = text.index(surface, cursor)
        entities.append({"start": start, "end": start + len(surface), "label": label})
        if label == "DATE" and "deadline" in labels:
            entities[-1]["range"] = RANGES[surface]
        cursor = start + len(surface)
    paragraph = {"text": text, "labels": labels, "entities": entities}
    if stance:
        paragraph["stance"] = stance
    return paragraph


TINY_RECORDS = [
    {"id": "tiny-1", "meta": {"date": "2021-01-11"}, "paragraphs": [
        _paragraph(TINY_CORPUS[0], ["adoption"], [("Nationaal Rapporteur", "ORG")], stance="adopted"),
        _paragraph(TINY_CORPUS[1], ["action", "deadline"], [("Minister van Justitie en Veiligheid", "ORG"),
                                                           ("het zomerreces van 2021", "DATE")])]},
    {"id": "tiny-2", "meta": {"date": "2021-03-01"}, "paragraphs": [
        _paragraph(TINY_CORPUS[2], [], [("Kamerstuk 28 638, nr. 185", "REF"), ("artikel 3 van de Wet milieubeheer", "REF")]),
        _paragraph(TINY_CORPUS[3], ["action", "deadline"], [("Den Haag", "LOC"), ("Rotterdam", "LOC"), ("WODC", "ORG"),
                                                           ("eind 2021", "DATE"), ("A. Broekers-Knol", "PER")])]},
]


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, tiny_tokenizer):
    """A randomly initialised 2-layer BERT saved with the tiny tokenizer: a local "base model"."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(vocab_size=len(tiny_tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=tiny_tokenizer.pad_token_id)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


def write_jsonl(path: Path, records: list[dict]) -> Path:
    import json

    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def tiny_training_config(name: str, tiny_base: Path, tmp: Path, train_records: list[dict], dev_records: list[dict],
                         epochs: int, max_length: int = 16, **settings) -> dict:
    """A training config for a tiny model on ``tiny_base``, its data written to ``tmp``; ``settings`` add top-level
    keys (``context``, ...). The training settings are those the tiny runs were tuned with (not the shipped defaults)."""
    return {"name": name, "base_model": str(tiny_base), "seed": 3, "max_length": max_length, "stride": 4, **settings,
            "data": {"train": [str(write_jsonl(tmp / "train.jsonl", train_records))],
                     "dev": [str(write_jsonl(tmp / "dev.jsonl", dev_records))]},
            "training": {"learning_rate": 5e-3, "head_learning_rate": 5e-3, "freeze_embeddings": False, "warmup_ratio": 0.1,
                         "batch_size": 4, "epochs": epochs, "torch_threads": 1, "logging_steps": 5},
            "export": {"dtype": "float32"}}


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory, tiny_base):
    """A kamerbrief pipeline folder trained for a few steps on the tiny records (seconds, no download)."""
    from kamerbrief.training.train import train

    tmp = tmp_path_factory.mktemp("tiny-pipeline")
    config = tiny_training_config("tiny-pipeline", tiny_base, tmp, TINY_RECORDS * 4, TINY_RECORDS, epochs=2)
    out = tmp / "model"
    train(config, out, progress=False)
    return out

from __future__ import annotations

from pathlib import Path

import pytest

from kamerbrief.data.records import find_shared_dir

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
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)

"""The CoNLL-2002 run_ner-style script end to end on a tiny BERT and a handful of sentences."""
import json


def test_conll_script_trains_and_scores_test(tiny_base, tmp_path):
    from kamerbrief.training import conll

    sample = tmp_path / "sample.txt"
    sample.write_text("De B-PER\nMinister I-PER\nin O\nDen B-LOC\nHaag I-LOC\n\nHet O\nWODC B-ORG\nschrijft O\nEuropees B-MISC\n\n" * 3)
    config = {"base_model": str(tiny_base), "seed": 1, "max_length": 8,
              "data": {"train": str(sample), "dev": str(sample), "test": str(sample)},
              "training": {"learning_rate": 5e-3, "batch_size": 4, "epochs": 1, "torch_threads": 1}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = conll.main(["--config", str(tmp_path / "config.json"), "--out", str(tmp_path / "model")])
    assert result["test"]["sentences"] == 6
    assert 0.0 <= result["test"]["f1_strict"] <= 1.0
    assert (tmp_path / "model" / "metrics.json").is_file()


def test_long_sentences_are_split_at_word_boundaries(tiny_tokenizer):
    from kamerbrief.training.conll import encode

    words = ("Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over".split()) * 3
    data = encode([(words, ["O"] * len(words))], tiny_tokenizer, max_length=12)
    assert len(data) > 1 and all(len(ids) <= 12 for ids in data["input_ids"])
    assert sum(data["n_words"]) == len(words)
    assert sum(1 for row in data["labels"] for l in row if l != -100) == len(words)

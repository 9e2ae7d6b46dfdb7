"""Paragraph context (kamerbrief.data.context): what a model reads before each paragraph, built the same
way in training and inference, on tiny models trained here."""
import json

import numpy as np
import pytest
from conftest import TINY_RECORDS, tiny_training_config

HEADING = {"text": "Reactie op de aanbeveling van de Nationaal Rapporteur", "kind": "heading", "labels": [], "entities": []}


def _letter_with_headings() -> dict:
    """tiny-2 under a heading: heading, body, body."""
    return {"id": "tiny-3", "meta": {"date": "2021-03-01"},
            "paragraphs": [HEADING, *({**p, "kind": "body"} for p in TINY_RECORDS[1]["paragraphs"])]}


@pytest.fixture(scope="module")
def context_model(tmp_path_factory, tiny_base):
    """A tiny model trained with context "heading+previous" (a pipeline folder)."""
    from kamerbrief.training.train import train

    tmp = tmp_path_factory.mktemp("context")
    records = [*TINY_RECORDS, _letter_with_headings()]
    config = tiny_training_config("tiny-context", tiny_base, tmp, records * 2, records, epochs=1, max_length=32,
                                  context="heading+previous", context_tokens=8)
    out = tmp / "model"
    train(config, out, progress=False)
    return out


def test_neighbours_are_the_heading_above_and_the_paragraph_before():
    from kamerbrief.data.context import NEIGHBOUR_CHARS, paragraph_neighbours

    long = "x" * (NEIGHBOUR_CHARS + 50) + "einde"
    paragraphs = [("addressee", "Aan de Voorzitter"), ("heading", "Aanbeveling 1"), ("body", long), ("list_item", "item"),
                  ("heading", "Aanbeveling 2"), ("body", "tekst")]
    assert list(paragraph_neighbours(paragraphs)) == [
        {"heading": "", "previous": ""},
        {"heading": "", "previous": "Aan de Voorzitter"},
        {"heading": "Aanbeveling 1", "previous": ""},  # the paragraph before is the heading: not read twice
        {"heading": "Aanbeveling 1", "previous": long[-NEIGHBOUR_CHARS:]},  # the end of a long paragraph leads in
        {"heading": "Aanbeveling 1", "previous": "item"},
        {"heading": "Aanbeveling 2", "previous": ""},
    ]


def test_context_texts_keep_the_piece_budget(tiny_tokenizer):
    from kamerbrief.data.context import context_texts

    neighbours = [{"heading": "Zie Kamerstuk 28 638", "previous": "In Den Haag en Rotterdam organiseert het WODC eind 2021"},
                  {"heading": "Zie Kamerstuk 28 638", "previous": ""}, None]
    for budget in (4, 8, 40):
        texts = context_texts(tiny_tokenizer, neighbours, "heading+previous", budget)
        assert all(len(tiny_tokenizer(t, add_special_tokens=False)["input_ids"]) <= budget for t in texts)
        assert texts[2] == ""
    both = context_texts(tiny_tokenizer, neighbours, "heading+previous", 8)[0]
    # the heading's start and the previous paragraph's end
    assert both.startswith("Zie") and both.endswith("2021")
    assert context_texts(tiny_tokenizer, neighbours, "heading", 40) == ["Zie Kamerstuk 28 638", "Zie Kamerstuk 28 638", ""]
    with pytest.raises(ValueError, match="context must be one of"):
        context_texts(tiny_tokenizer, neighbours, "previous", 8)


def test_context_none_gives_the_old_encoding(tiny_tokenizer):
    from kamerbrief.data.convert import encode_paragraph, records_to_dataset

    dataset = records_to_dataset(TINY_RECORDS, tiny_tokenizer, max_length=16, stride=4)
    assert "pool_mask" not in dataset.column_names
    windows = [w for record in TINY_RECORDS for p in record["paragraphs"]
               for w in encode_paragraph(tiny_tokenizer, p["text"], p["entities"], 16, 4)]
    assert dataset["input_ids"] == [w["input_ids"] for w in windows]
    assert dataset["labels"] == [w["tags"] for w in windows]


@pytest.mark.parametrize("position", ["before", "after"])
def test_context_pieces_are_never_tagged_and_windows_repeat_the_context(tiny_tokenizer, position):
    from kamerbrief.data.convert import records_to_dataset
    from kamerbrief.data.schema import IGNORE

    record = _letter_with_headings()
    dataset = records_to_dataset([record], tiny_tokenizer, max_length=16, stride=4, context="heading+previous", context_tokens=8,
                                 context_position=position)
    plain = records_to_dataset([record], tiny_tokenizer, max_length=16, stride=4)
    heading_ids = tiny_tokenizer(HEADING["text"], add_special_tokens=False)["input_ids"]
    assert len(dataset) > len(plain)  # less room per window: the long paragraphs take more windows
    for row in dataset:
        context = [i for i, p in enumerate(row["pool_mask"]) if p == 0]
        assert all(row["labels"][i] == IGNORE for i in context)
        assert all(row["offsets"][i] == [0, 0] for i in context)
        text = record["paragraphs"][row["paragraph"]]["text"]
        assert all(0 <= s <= e <= len(text) for s, e in row["offsets"])
        if row["paragraph"] > 0:  # every window of a paragraph under the heading reads it
            assert [row["input_ids"][i] for i in context][:2] == heading_ids[:2]
    # every gold entity piece is still tagged, exactly as without context
    tagged = sorted((r["paragraph"], tuple(o), t) for r in dataset for o, t in zip(r["offsets"], r["labels"], strict=True) if t != IGNORE)
    tagged_plain = sorted((r["paragraph"], tuple(o), t) for r in plain for o, t in zip(r["offsets"], r["labels"], strict=True) if t != IGNORE)
    assert sorted(set(tagged)) == sorted(set(tagged_plain))
    if position == "after":  # the paragraph's first window starts where it does without context
        first = {r["paragraph"]: r["input_ids"] for r in dataset if r["window"] == 0}
        first_plain = {r["paragraph"]: r["input_ids"] for r in plain if r["window"] == 0}
        assert all(first[i][:8] == first_plain[i][:8] for i in first)


def test_the_context_setting_is_saved_with_the_model_and_a_config_without_it_reads_none(context_model, tmp_path):
    from kamerbrief.pipeline.model.multitask import KamerbriefConfig
    from kamerbrief.training.config import TrainingConfig

    inner = context_model / "kamerbrief_transformer" / "model"
    saved = json.loads((inner / "config.json").read_text())
    assert (saved["context"], saved["context_tokens"]) == ("heading+previous", 8)
    config = TrainingConfig.from_file(context_model / "training_config.json")
    assert config.context == "heading+previous" and TrainingConfig.from_dict(config.to_dict()) == config
    old = {k: v for k, v in saved.items() if k not in ("context", "context_tokens")}
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert KamerbriefConfig.from_pretrained(tmp_path).context == "none"
    assert "Paragraph context: `heading+previous`" in (context_model / "README.md").read_text()


def test_a_bad_context_setting_is_a_coded_error():
    from kamerbrief.errors import TrainingConfigError
    from kamerbrief.training.config import TrainingConfig

    with pytest.raises(TrainingConfigError, match="context must be one of"):
        TrainingConfig.from_dict({"base_model": "x", "data": {"train": ["t.jsonl"]}, "context": "previous"})
    with pytest.raises(TrainingConfigError, match="context_position must be one of"):
        TrainingConfig.from_dict({"base_model": "x", "data": {"train": ["t.jsonl"]}, "context_position": "above"})


def test_context_pieces_never_become_entities_and_offsets_stay_in_the_paragraph(context_model):
    """With the token head forced to say B-ORG on every piece, the entities are exactly the paragraph's own pieces."""
    import torch

    import kamerbrief

    nlp = kamerbrief.load(context_model, precision="fp32")
    tagger = nlp.get_pipe("kamerbrief_transformer")
    model, tokenizer = tagger.hf_model, tagger.hf_tokenizer
    with torch.no_grad():
        model.token_head.weight.zero_()
        model.token_head.bias.fill_(-10.0)
        model.token_head.bias[model.config.tags.index("B-ORG")] = 10.0
    text = "Het kabinet neemt de aanbeveling over. " * 6  # longer than one window
    neighbours = {"heading": "Zie Kamerstuk 28 638, nr. 185", "previous": "In Den Haag en Rotterdam organiseert het WODC"}
    tagger.max_length = 24
    [prediction] = tagger.predict([text], neighbours=[neighbours])
    pieces = {tuple(o) for o in tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]}
    assert {(e["start"], e["end"]) for e in prediction["entities"]} == pieces
    assert all(text[e["start"]:e["end"]].strip() == text[e["start"]:e["end"]] for e in prediction["entities"])


def test_training_and_inference_encode_a_letter_the_same_way(context_model, monkeypatch):
    """The windows the pipeline runs on gold letters (evaluate, annotate) are the training dataset's windows."""
    import kamerbrief
    from kamerbrief.data.convert import records_to_dataset
    from kamerbrief.evaluation.evaluate import predict_gold

    nlp = kamerbrief.load(context_model, precision="fp32")
    tagger = nlp.get_pipe("kamerbrief_transformer")
    tagger.max_length, tagger.stride = 32, 4  # the training run's
    model = tagger.hf_model
    seen = []
    forward = model.forward

    def recording(input_ids=None, attention_mask=None, pool_mask=None, **kwargs):
        for ids, mask, pool in zip(input_ids.tolist(), attention_mask.tolist(), pool_mask.tolist(), strict=True):
            n = sum(mask)
            seen.append((tuple(ids[:n]), tuple(pool[:n])))
        return forward(input_ids=input_ids, attention_mask=attention_mask, pool_mask=pool_mask, **kwargs)

    monkeypatch.setattr(model, "forward", recording)
    records = [*TINY_RECORDS, _letter_with_headings()]
    predict_gold(nlp, records, progress=False)
    dataset = records_to_dataset(records, tagger.hf_tokenizer, max_length=32, stride=4, context=model.config.context,
                                 context_tokens=model.config.context_tokens)
    assert sorted(seen) == sorted(zip(map(tuple, dataset["input_ids"]), map(tuple, dataset["pool_mask"]), strict=True))


def test_annotate_reads_the_letter_context_and_a_plain_model_ignores_it(context_model, tiny_pipeline):
    import kamerbrief
    from kamerbrief.pipeline.letters import annotate_letters
    from kamerbrief.pipeline.reader.letter import Letter, Paragraph

    paragraphs = [Paragraph(text=HEADING["text"], kind="heading"),
                  *(Paragraph(text=p["text"], kind="body") for p in TINY_RECORDS[1]["paragraphs"])]
    letter = Letter(id="brief", paragraphs=paragraphs, meta={})
    nlp = kamerbrief.load(context_model, precision="fp32")
    _, record, docs = next(annotate_letters([letter], nlp))
    assert [d._.context for d in docs] == [{"heading": "", "previous": ""}, {"heading": HEADING["text"], "previous": ""},
                                           {"heading": HEADING["text"], "previous": paragraphs[1].text}]
    tagger = nlp.get_pipe("kamerbrief_transformer")
    alone = tagger.predict([p.text for p in paragraphs])
    in_context = tagger.predict([p.text for p in paragraphs], neighbours=[d._.context for d in docs])
    assert [p["scores"]["action"] for p in record["paragraphs"]] == pytest.approx([p["cats"]["action"] for p in in_context], abs=1e-3)
    assert not np.allclose([p["cats"]["action"] for p in alone[1:]], [p["cats"]["action"] for p in in_context[1:]])
    # A model without context: no doc._.context, and neighbours change nothing.
    plain = kamerbrief.load(tiny_pipeline, precision="fp32")
    _, _, docs = next(annotate_letters([letter], plain))
    assert all(d._.context is None for d in docs)
    plain_tagger = plain.get_pipe("kamerbrief_transformer")
    assert plain_tagger.predict([p.text for p in paragraphs]) == plain_tagger.predict(
        [p.text for p in paragraphs], neighbours=[{"heading": "x", "previous": "y"}] * 3)

"""The spaCy pipeline around a tiny trained model: loading, components, windows, the letter level
and the HTML view."""
import pytest
import spacy

from kamerbrief.pipeline.model.decoding import decode_tags, merge_window_logits, tags_to_spans

LONG_TEXT = " ".join(["Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over en zal in Den Haag werken."] * 12)


def test_spacy_load_and_kamerbrief_load_give_the_same_pipeline(tiny_pipeline):
    import kamerbrief

    nlp = spacy.load(tiny_pipeline)
    assert nlp.pipe_names == ["kamerbrief_transformer", "kamerbrief_rules", "kamerbrief_deadlines", "kamerbrief_commitments"]
    assert kamerbrief.load(tiny_pipeline).pipe_names == nlp.pipe_names
    # A bare trained model folder is wrapped in a fresh pipeline too.
    inner = tiny_pipeline / "kamerbrief_transformer" / "model"
    assert kamerbrief.load(inner).pipe_names == nlp.pipe_names


def test_analyze_pipes_finds_every_required_attribute_assigned(tiny_pipeline):
    """The factories declare what they assign and require, so spaCy can check a pipeline's order."""
    import kamerbrief

    nlp = kamerbrief.load(tiny_pipeline)
    analysis = nlp.analyze_pipes(pretty=False)
    assert analysis["problems"] == {name: [] for name in nlp.pipe_names}
    assert "doc._.labels" in analysis["summary"]["kamerbrief_transformer"]["assigns"]
    assert analysis["summary"]["kamerbrief_deadlines"]["requires"] == ["doc.ents", "doc._.labels"]
    assert analysis["attrs"]["doc._.labels"] == {"assigns": ["kamerbrief_transformer"], "requires": ["kamerbrief_deadlines"]}
    # Deadlines before the model: nothing has set the paragraph labels yet, and spaCy says so.
    nlp.remove_pipe("kamerbrief_deadlines")
    nlp.add_pipe("kamerbrief_deadlines", first=True)
    assert nlp.analyze_pipes(pretty=False)["problems"]["kamerbrief_deadlines"] == ["doc.ents", "doc._.labels"]


def test_component_sets_cats_labels_and_entities(tiny_pipeline):
    nlp = spacy.load(tiny_pipeline)
    doc = nlp("Zie Kamerstuk 28 638, nr. 185. Het kabinet neemt de aanbeveling over.")
    assert set(doc.cats) == {"recommendation", "adoption", "action", "deadline"}
    assert all(0.0 <= v <= 1.0 for v in doc.cats.values())
    thresholds = nlp.get_pipe("kamerbrief_transformer").hf_model.config.thresholds
    assert doc._.labels == [l for l in doc.cats if doc.cats[l] >= thresholds[l]]
    assert set(doc._.stance_scores) == {"adopted", "partial", "rejected", "endorsed"}
    # The REF rule merges its span whatever the model said (policy: REF rules win).
    assert "Kamerstuk 28 638, nr. 185" in [e.text for e in doc.ents if e.label_ == "REF"]


def test_long_paragraphs_are_windowed_and_merged(tiny_pipeline):
    nlp = spacy.load(tiny_pipeline, config={"components.kamerbrief_transformer.max_length": 16,
                                             "components.kamerbrief_transformer.stride": 4})
    tagger = nlp.get_pipe("kamerbrief_transformer")
    prediction = tagger.predict([LONG_TEXT, "Kort."])
    assert len(prediction) == 2
    for e in prediction[0]["entities"]:
        assert 0 <= e["start"] < e["end"] <= len(LONG_TEXT) and not LONG_TEXT[e["start"]].isspace()
    docs = list(nlp.pipe([LONG_TEXT, "Kort.", LONG_TEXT[:200]], batch_size=2))
    assert [d.text for d in docs] == [LONG_TEXT, "Kort.", LONG_TEXT[:200]]


def test_merge_window_logits_keeps_each_piece_once_from_its_most_central_window():
    import numpy as np

    a = (np.array([[0, 0], [1, 0], [2, 0], [3, 0], [0, 0]], dtype=float), [(0, 0), (0, 3), (4, 7), (8, 11), (0, 0)])
    b = (np.array([[0, 0], [9, 9], [8, 8], [7, 7], [0, 0]], dtype=float), [(0, 0), (4, 7), (8, 11), (12, 15), (0, 0)])
    logits, offsets = merge_window_logits([a, b])
    assert offsets == [(0, 3), (4, 7), (8, 11), (12, 15)]
    # (4,7) is central in window a (margin 1) and at b's edge (margin 0); (8,11) the reverse.
    assert logits[:, 0].tolist() == [1, 2, 8, 7]


def test_tags_to_spans_is_strict_iob2_and_trims_leading_space():
    text = "De Nationaal Rapporteur in Den Haag"
    offsets = [(0, 2), (2, 12), (12, 23), (23, 26), (26, 30), (30, 35)]
    tags = ["O", "B-ORG", "I-ORG", "O", "I-LOC", "I-LOC"]
    assert tags_to_spans(tags, offsets, text) == [{"start": 3, "end": 23, "label": "ORG"}]


TAGS = ["O", "B-ORG", "I-ORG", "B-REF", "I-REF", "B-LAW", "I-LAW"]


def _probs(rows: list[dict]):
    import numpy as np

    return np.array([[row.get(tag, 0.0) for tag in TAGS] for row in rows])


def test_a_name_whose_pieces_flip_label_keeps_them_all():
    # The default model's distributions on "de Tweede Kamer der Staten-Generaal" (rounded): argmax tags
    # "Kamer" and "Staten" I-LAW, which strict IOB2 reads as the end of the ORG: "Tweede" alone.
    rows = [{"O": 0.75, "I-REF": 0.13, "I-LAW": 0.12},
            {"B-ORG": 0.80, "I-ORG": 0.13, "I-LAW": 0.07},
            {"I-LAW": 0.55, "I-ORG": 0.23, "I-REF": 0.22},
            {"I-ORG": 0.84, "I-REF": 0.08, "I-LAW": 0.08},
            {"I-LAW": 0.37, "I-REF": 0.36, "I-ORG": 0.27}]
    text = "de Tweede Kamer der Staten"
    offsets = [(0, 2), (2, 9), (9, 15), (15, 19), (19, 26)]
    assert decode_tags(_probs(rows), TAGS) == ["O", "B-ORG", "I-ORG", "I-ORG", "I-ORG"]
    assert tags_to_spans(decode_tags(_probs(rows), TAGS), offsets, text) == [{"start": 3, "end": 26, "label": "ORG"}]
    # span_continuation 1 (or more) is strict IOB2: the name stops where the label flips.
    assert decode_tags(_probs(rows), TAGS, span_continuation=1.0) == ["O", "B-ORG", "O", "O", "O"]


def test_a_stray_inside_piece_starts_no_span_and_a_confident_flip_ends_one():
    rows = [{"I-REF": 0.9, "O": 0.1},                   # I- with nothing open: O, as strict IOB2 reads it
            {"B-ORG": 0.9, "O": 0.1},
            {"I-REF": 0.95, "I-ORG": 0.05},              # the ORG's own inside tag is under 0.1: the span ends
            {"B-LAW": 0.6, "I-REF": 0.4},
            {"I-LAW": 0.7, "I-REF": 0.3}]
    assert decode_tags(_probs(rows), TAGS) == ["O", "B-ORG", "O", "B-LAW", "I-LAW"]
    assert decode_tags(_probs([]).reshape(0, len(TAGS)), TAGS) == []


def test_span_continuation_is_a_component_setting(tiny_pipeline):
    import kamerbrief
    from kamerbrief.pipeline.transformer import ModelLoadError

    assert kamerbrief.load(tiny_pipeline).get_pipe("kamerbrief_transformer").span_continuation == 0.1
    assert kamerbrief.load(tiny_pipeline, span_continuation=1.0).get_pipe("kamerbrief_transformer").span_continuation == 1.0
    with pytest.raises(ModelLoadError, match="span_continuation"):
        kamerbrief.load(tiny_pipeline, span_continuation=-0.5)


def test_a_saved_pipeline_is_self_contained_and_moves_with_its_folder(tiny_pipeline, tmp_path):
    """config.cfg keeps no path to where the weights came from (a training staging folder that is
    deleted afterwards): the copy inside the folder is used wherever the folder goes."""
    import shutil

    import kamerbrief

    assert 'model = ""' in (tiny_pipeline / "config.cfg").read_text()
    moved = shutil.copytree(tiny_pipeline, tmp_path / "moved")
    nlp = kamerbrief.load(moved)
    tagger = nlp.get_pipe("kamerbrief_transformer")
    assert nlp("Het kabinet neemt de aanbeveling over.").cats
    assert tagger.model_path == str(moved / "kamerbrief_transformer" / "model")


def test_a_component_without_a_model_says_so(tmp_path):
    import pytest

    from kamerbrief.pipeline.transformer import ModelLoadError

    nlp = spacy.blank("nl")
    nlp.add_pipe("kamerbrief_transformer")
    with pytest.raises(ModelLoadError, match="no model"):
        nlp("Tekst.")
    nlp.get_pipe("kamerbrief_transformer").model_path = str(tmp_path)
    with pytest.raises(ModelLoadError, match=str(tmp_path)):
        nlp("Tekst.")


@pytest.mark.parametrize("hash_seed", ["0", "1", "2", "3", "4", "5"])
def test_loading_does_not_depend_on_the_hash_seed(tiny_pipeline, hash_seed):
    """spaCy's protocol check (``hasattr(component, "model")``) walks a set, so its order follows
    PYTHONHASHSEED; loading must work whatever the order (regression: the intermittent E500)."""
    import os
    import subprocess
    import sys

    code = ("import kamerbrief, sys; nlp = kamerbrief.load(sys.argv[1]); "
            "print(sorted(nlp('Het kabinet neemt de aanbeveling over.').cats))")
    result = subprocess.run([sys.executable, "-c", code, str(tiny_pipeline)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONHASHSEED": hash_seed}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "recommendation" in result.stdout


def test_sub_batches_cap_windows_and_padded_positions():
    from kamerbrief.pipeline.transformer import TransformerTagger

    tagger = TransformerTagger(None, "t", "", batch_size=3, max_length=256, stride=64, threads=0, precision="fp32", batch_tokens=100)
    lengths = [5, 6, 7, 8, 40, 45, 90, 256]
    batches = list(tagger.sub_batches(list(range(len(lengths))), lengths))
    assert [i for b in batches for i in b] == list(range(len(lengths)))
    assert batches == [[0, 1, 2], [3, 4], [5], [6], [7]]
    # every batch but a single over-long window stays within the budget
    assert all(len(b) * max(lengths[i] for i in b) <= 100 or len(b) == 1 for b in batches)


def test_int8_quantises_every_linear_layer_per_output_channel(tiny_pipeline):
    import torch

    import kamerbrief

    fp32 = kamerbrief.load(tiny_pipeline, precision="fp32")
    int8 = kamerbrief.load(tiny_pipeline, precision="int8")
    model = int8.get_pipe("kamerbrief_transformer").hf_model
    quantized = [m for m in model.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert quantized and not any(type(m) is torch.nn.Linear for m in model.modules())
    assert all(m.weight().qscheme() == torch.per_channel_affine for m in quantized)
    text = "Het kabinet neemt de aanbeveling over en zal voor 1 juli 2021 een wet indienen."
    a, b = fp32(text).cats, int8(text).cats
    assert max(abs(a[label] - b[label]) for label in a) < 0.05


def test_training_dev_metrics_read_the_pieces_as_the_pipeline_does():
    import numpy as np

    from kamerbrief.data.schema import IGNORE
    from kamerbrief.training.dev_metrics import piece_sequences

    rows = [{"O": 1.0},   # the special token the labels ignore
            {"O": 0.75, "I-REF": 0.13, "I-LAW": 0.12},
            {"B-ORG": 0.80, "I-ORG": 0.13, "I-LAW": 0.07},
            {"I-LAW": 0.55, "I-ORG": 0.23, "I-REF": 0.22}]
    logits = np.log(np.clip(_probs(rows), 1e-9, None))[None]
    labels = np.array([[IGNORE, 0, TAGS.index("B-ORG"), TAGS.index("I-ORG")]])
    gold, pred = piece_sequences(logits, labels, TAGS)
    assert gold == [["O", "B-ORG", "I-ORG"]]
    assert pred == [["O", "B-ORG", "I-ORG"]]   # strict argmax would have read "B-ORG", "O": a cut name

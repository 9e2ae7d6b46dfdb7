"""The normalisation step (``kamerbrief.pipeline.normalize``), the tokenizer that applies it
(``kamerbrief.Tokenizer.v1``) and entity alignment (``kamerbrief.pipeline.transformer.entity_spans``):
offsets map both ways, real-text failure classes as JSON cases, and a property test."""
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamerbrief.errors import KamerbriefError
from kamerbrief.pipeline.normalize import normalize_text
from kamerbrief.pipeline.tokenizer import blank
from kamerbrief.pipeline.transformer import entity_spans

CASES = sorted((Path(__file__).parent / "cases" / "normalize").glob("*.json"))


@pytest.fixture(scope="module")
def rule_nlp():
    nlp = blank()
    nlp.add_pipe("kamerbrief_rules")
    return nlp


def _case(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_normalised_text_and_rule_entities(path, rule_nlp):
    case = _case(path)
    doc = rule_nlp(case["text"])
    assert doc.text == case["normalized"]
    assert doc._.source_text == case["text"]
    if "tokens" in case:
        assert [t.text for t in doc] == case["tokens"]
    # Entities come back as places in the text as given, never starting or ending on markup or a
    # removed character.
    got = [[case["text"][e._.source_start:e._.source_end], e.label_] for e in doc.ents]
    assert got == case["rule_entities"]
    for e in doc.ents:
        assert e._.source_text == case["text"][e._.source_start:e._.source_end]


@pytest.mark.parametrize("path", [p for p in CASES if "model_spans" in _case(p)], ids=lambda p: p.stem)
def test_case_model_spans_align_to_words(path):
    """The model's character spans (as a model would give them, on the normalised text) become entities
    without glued neighbours, closing punctuation or half words."""
    case = _case(path)
    doc = blank()(case["text"])
    predicted = []
    for surface, label in case["model_spans"]:
        start = doc.text.index(surface)
        predicted.append({"start": start, "end": start + len(surface), "label": label})
    got = [[case["text"][e._.source_start:e._.source_end], e.label_] for e in entity_spans(doc, predicted)]
    assert got == case["aligned_entities"]


def test_offset_map_both_directions():
    text = "Zie [artikel\u00a05](x.md) &amp; Ge\u00admeente\u200b."
    norm = normalize_text(text)
    assert norm.text == "Zie artikel 5 & Gemeente."
    for i, char in enumerate(norm.text):
        start, end = norm.to_source(i, i + 1)
        source = text[start:end]
        # A kept character is itself in the source; a replaced one stands for what it replaced.
        assert source == char or (char, source) in {(" ", "\u00a0"), ("&", "&amp;")}
        assert norm.from_source(start, end) == (i, i + 1)
    # A span over removed characters keeps them inside but never at its edges.
    start = norm.text.index("Gemeente")
    assert text[slice(*norm.to_source(start, start + len("Gemeente")))] == "Ge\u00admeente"
    link = text.index("artikel")
    assert norm.from_source(link, link + len("artikel\u00a05")) == (4, 13)
    assert norm.to_source(4, 4) == (link, link)  # an empty span stays where it is
    assert norm.from_source(0, len(text)) == (0, len(norm.text))
    with pytest.raises(ValueError):
        norm.to_source(0, len(norm.text) + 1)


def test_clean_text_is_left_alone():
    norm = normalize_text("Het kabinet neemt de aanbeveling over.")
    assert not norm.changed and norm.text == norm.source and norm.to_source(3, 10) == (3, 10)


def test_single_star_emphasis_is_optional():
    text = "Zie *Wet IB:* de wet en 5*3."
    assert normalize_text(text).text == text
    norm = normalize_text(text, star_emphasis=True)
    assert norm.text == "Zie Wet IB: de wet en 5*3."
    assert text[slice(*norm.to_source(4, 11))] == "Wet IB:"
    assert [t.text for t in blank(star_emphasis=True)(text)][:3] == ["Zie", "Wet", "IB"]


def test_the_reader_and_a_record_read_markdown_the_same():
    from kamerbrief.pipeline.reader.text_formats import markdown_inline_text

    raw = "Zie de [Wmo 2015](../wet/README.md) en **artikel 5** <sup>2</sup>."
    assert normalize_text(raw).text == markdown_inline_text(raw)


@pytest.mark.parametrize("text", ["a\x00b\x07c op 1\x0bmei 2020", "Kamer\ud800stuk van 1 mei 2020\udfff",
                                  "x" * 100_000 + " op 1 mei 2020", "\u200b\u00ad\ufeff", ""])
def test_hostile_text_gets_entities_not_tracebacks(text, rule_nlp):
    doc = rule_nlp(text)
    assert doc._.source_text == text
    for e in doc.ents:
        assert text[e._.source_start:e._.source_end].replace("\x0b", " ") == "1 mei 2020"
    assert all(not 0xD800 <= ord(c) <= 0xDFFF for c in doc.text)


def test_a_lone_surrogate_reaches_the_model(tiny_pipeline):
    import spacy

    nlp = spacy.load(tiny_pipeline)
    doc = nlp("Kamer\ud800stuk 28 638, nr. 185 van 1\u00a0mei 2020.")
    assert "1\u00a0mei 2020" in [e._.source_text for e in doc.ents]


def test_non_text_input_is_a_coded_error(rule_nlp):
    with pytest.raises(KamerbriefError) as err:
        rule_nlp.tokenizer(12345)
    assert err.value.code == "E107"


def test_saved_pipeline_keeps_the_tokenizer(tmp_path):
    import spacy

    nlp = blank()
    nlp.add_pipe("kamerbrief_rules")
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    doc = loaded("per 12\u00a0maart 2019 in UtrechtPostbus")
    assert [t.text for t in doc][-2:] == ["Utrecht", "Postbus"]
    assert [e._.source_text for e in doc.ents] == ["12\u00a0maart 2019"]
    assert loaded.config["nlp"]["tokenizer"]["@tokenizers"] == "kamerbrief.Tokenizer.v1"


def test_shipped_models_use_the_tokenizer():
    from configparser import ConfigParser

    for config in Path(__file__).resolve().parent.parent.glob("models/*/config.cfg"):
        parser = ConfigParser(interpolation=None)
        parser.read(config)
        assert parser["nlp.tokenizer"]["@tokenizers"] == '"kamerbrief.Tokenizer.v1"', config


def test_records_point_into_the_text_as_given(tiny_pipeline):
    import spacy

    from kamerbrief.pipeline.letters import annotate_letters
    from kamerbrief.pipeline.reader.letter import Letter, Paragraph, set_offsets

    text = "Zie [Kamerstuk 28\u00a0638, nr. 185](https://x.nl/k) van 12\u00a0maart 2019."
    paragraphs = [Paragraph(text, "body")]
    set_offsets(paragraphs)
    nlp = spacy.load(tiny_pipeline)
    _, record, _ = next(annotate_letters([Letter("n-1", paragraphs, {"date": "2019-04-01"})], nlp))
    paragraph = record["paragraphs"][0]
    assert paragraph["text"] == text
    surfaces = {(text[e["start"]:e["end"]], e["label"]) for e in paragraph["entities"]}
    assert {("Kamerstuk 28\u00a0638, nr. 185", "REF"), ("12\u00a0maart 2019", "DATE")} <= surfaces


# -- property: noise around entities changes nothing once mapped back ------------------------------

CLEAN = [("Het besluit van ", None), ("12 maart 2019", "DATE"), (" staat in ", None), ("Stcrt. 2019, nr. 12345", "REF"),
         (" en geldt tot ", None), ("eind 2021", "DATE"), (", zie ook ", None), ("artikel 5 van de Wet milieubeheer", "REF"), (".", None)]
NOISE = ["\u00a0", "\u202f", "\u2009", "\u00ad", "\u200b", "\ufeff"]


def _noisy(piece: str, draw_noise) -> str:
    """Noise inside a piece: a space becomes a Unicode space, or a soft hyphen/zero-width char goes
    between two characters."""
    out = []
    for i, char in enumerate(piece):
        noise = draw_noise()
        if char == " " and noise in ("\u00a0", "\u202f", "\u2009"):
            out.append(noise)
            continue
        out.append(char)
        if noise in ("\u00ad", "\u200b", "\ufeff") and i + 1 < len(piece) and char.isalnum() and piece[i + 1].isalnum():
            out.append(noise)
    return "".join(out)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_noise_and_markup_around_entities_give_the_same_entities(data, rule_nlp):
    clean_doc = rule_nlp("".join(piece for piece, _ in CLEAN))
    expected = [(e.text, e.label_) for e in clean_doc.ents]
    assert ("12 maart 2019", "DATE") in expected
    pieces = []
    for piece, label in CLEAN:
        noisy = _noisy(piece, lambda: data.draw(st.sampled_from(NOISE + [""] * 6)))
        if label and data.draw(st.booleans()):
            noisy = data.draw(st.sampled_from([f"[{noisy}](../x/README.md)", f"**{noisy}**", f"<b>{noisy}</b>", noisy]))
        pieces.append(noisy)
    text = "".join(pieces)
    doc = rule_nlp(text)
    got = [(normalize_text(e._.source_text).text, e.label_) for e in doc.ents]
    assert got == expected
    for e in doc.ents:  # edges are never markup or removed characters
        assert e._.source_text[0].isalnum() and e._.source_text[-1].isalnum()

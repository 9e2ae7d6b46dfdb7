"""Bytes to text: size, emptiness and binary checks, encoding detection, mojibake repair."""
from __future__ import annotations

import re
from pathlib import Path

import ftfy

from kamerbrief.errors import BinaryInputError, EmptyInputError, EncodingError, InputTooLargeError

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# UTF-8 text that was decoded as cp1252/latin-1 and encoded again ("cliÃ«nten", "â€“", a BOM as "ï»¿").
MOJIBAKE = re.compile("[ÃÂâï][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise InputTooLargeError(f"file is {size / 1e6:.1f} MB, above the limit of {max_bytes / 1e6:.0f} MB (--max-mb)", path)
    data = path.read_bytes()
    if not data.strip():
        raise EmptyInputError("file is empty", path)
    return data


def decode(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str]:
    """Decode ``data`` to text; returns ``(text, encoding)``. UTF-8 (with or without BOM), UTF-16 with a
    BOM, and cp1252 are accepted; double-encoded UTF-8 is repaired."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise EncodingError("starts with a UTF-16 byte-order mark but is not valid UTF-16", path) from None
    else:
        head = data[:65536]
        if b"\x00" in head or len(CONTROL.findall(head)) > max(8, len(head) // 100):
            raise BinaryInputError("looks like a binary file, not text (NUL or control bytes)", path)
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                raise EncodingError("is neither UTF-8 nor cp1252 text", path) from None
    if MOJIBAKE.search(text[:1_000_000]):
        text = ftfy.fix_encoding(text)
        encoding += "+repaired"
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise EmptyInputError("file holds no text", path)
    return text, encoding

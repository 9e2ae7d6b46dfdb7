"""Bytes to text: size, emptiness and binary checks, encoding detection, mojibake repair."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import ftfy

from kamerbrief.errors import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputTooLargeError,
    NotRegularFileError,
    UnreadableInputError,
)

MB = 1024 * 1024  # --max-mb counts these (MiB); messages give sizes in the same unit
DEFAULT_MAX_BYTES = 200 * MB
# UTF-8 text that was decoded as cp1252/latin-1 and encoded again ("cliÃ«nten", "â€“", a BOM as "ï»¿").
MOJIBAKE = re.compile("[ÃÂâï][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def regular_file_size(path: Path) -> int:
    """The size of ``path`` after checking that it is a regular file that exists: a FIFO or device
    would block or never end, so it is refused before it is opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UnreadableInputError("no such file", path) from None
    except OSError as err:
        raise UnreadableInputError(f"cannot be read ({err.strerror or err})", path) from None
    if stat.S_ISDIR(info.st_mode):
        try:
            os.scandir(path).close()
        except OSError as err:
            raise UnreadableInputError(f"is a folder that cannot be listed ({err.strerror or err})", path) from None
        raise NotRegularFileError("is a directory, not a file", path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFileError("is not a regular file (a FIFO, device or socket): refused instead of waiting on it", path)
    return info.st_size


def format_mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f}".removesuffix(".0") + " MB"


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    size = regular_file_size(path)
    if size > max_bytes:
        raise InputTooLargeError(f"file is {format_mb(size)}, above the limit of {format_mb(max_bytes)} (--max-mb; 1 MB = "
                                 f"{MB:,} bytes)", path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UnreadableInputError(f"cannot be read ({err.strerror or err})", path) from None
    if not data.strip():
        raise EmptyInputError("file is empty", path)
    return data


def utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when ``data`` looks like UTF-16 text without a byte-order mark:
    Latin-script text then has a NUL in nearly every other byte, always on the same side."""
    head = data[:65536]
    head = head[: len(head) - len(head) % 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    pairs = len(head) // 2
    for encoding, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros >= 0.3 * pairs and other <= 0.01 * pairs:
            try:
                sample = head.decode(encoding)
            except UnicodeDecodeError:
                continue
            printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in sample)
            if printable >= 0.95 * len(sample):
                return encoding
    return None


def decode(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str]:
    """Decode ``data`` to text; returns ``(text, encoding)``. UTF-8 (with or without BOM), UTF-16 with a
    BOM or recognisably without one, and cp1252 are accepted; double-encoded UTF-8 is repaired."""
    bomless_utf16 = None if data.startswith((b"\xff\xfe", b"\xfe\xff")) else utf16_without_bom(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise EncodingError("starts with a UTF-16 byte-order mark but is not valid UTF-16", path) from None
    elif bomless_utf16:
        try:
            text, encoding = data.decode(bomless_utf16), bomless_utf16
        except UnicodeDecodeError:
            raise EncodingError(f"looks like {bomless_utf16.upper()} without a byte-order mark but is not valid "
                                f"{bomless_utf16.upper()}", path) from None
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

"""What the CPU offers torch, and the precision ``auto`` resolves to on it.

``auto`` runs the encoder under bf16 autocast where the CPU computes bf16 natively (AVX512-BF16 or
AMX-BF16) and in fp32 elsewhere: without native bf16 the CPU emulates it and a forward pass gets
slower, not faster. The check honours the ISA limits a user puts on torch: ``ATEN_CPU_CAPABILITY``
(torch's own kernels, e.g. ``avx2``) and ``ONEDNN_MAX_CPU_ISA`` (oneDNN, which runs the bf16 matrix
products, e.g. ``AVX2``); with either set below AVX-512 the CPU counts as one without native bf16. The flags come from
``/proc/cpuinfo``; where there is none (macOS, Windows) ``auto`` is fp32.
``KAMERBRIEF_PRECISION`` sets the precision the CLI uses when ``--precision`` is not given.
"""
from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path

PRECISION_ENV = "KAMERBRIEF_PRECISION"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# The flags that decide which kernels torch and oneDNN can use, recorded next to every speed figure.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16",
               "amx_int8")


@lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """The CPU's model name and flags (Linux ``/proc/cpuinfo``; elsewhere the name only)."""
    name, flags = platform.processor() or platform.machine(), frozenset()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return name, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and value.strip():
            name = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
    return name, flags


def cpu_flags() -> list[str]:
    """The speed-relevant flags this CPU has (:data:`SPEED_FLAGS`)."""
    return [flag for flag in SPEED_FLAGS if flag in _cpuinfo()[1]]


def native_bf16() -> bool:
    """Whether bf16 runs natively here, as torch is allowed to use the CPU (see the module docstring)."""
    import torch

    flags = _cpuinfo()[1]
    return (any(flag in flags for flag in BF16_FLAGS) and torch.backends.cpu.get_cpu_capability().startswith("AVX512")
            and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()))


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``bf16`` where bf16 is native, ``fp32`` otherwise; any other precision as given."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16() else "fp32"


def default_precision() -> str:
    """``$KAMERBRIEF_PRECISION`` or ``auto``."""
    return os.environ.get(PRECISION_ENV) or "auto"


def cpu_info() -> dict:
    """What a speed figure depends on: the CPU, its flags, the cores, and the ISA torch runs at."""
    import torch

    name, _ = _cpuinfo()
    limits = {var: os.environ[var] for var in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA") if os.environ.get(var)}
    return {"model": name, "flags": cpu_flags(), "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "torch_capability": torch.backends.cpu.get_cpu_capability(), "native_bf16": native_bf16(),
            **({"isa_limits": limits} if limits else {})}

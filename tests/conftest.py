"""Shared fixtures. Append new fixtures at the end; keep each small."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import realparts


@pytest.fixture(scope="session")
def alpinetags_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """A factory ``(system, arch) -> root``: a chroot laid out as ``system`` (``"alpine:3.17"`` or an
    os-release sample name) whose ``/usr/bin/python3`` is the Alpine CPython of ``arch`` with the working
    tree's alpinetags installed by its own pip.

    pip runs once per arch per session; other systems are hard-linked clones with their own ``etc/``.
    Run commands in a root with ``realparts.run_in_root(root, argv, arch=arch)``.
    """
    installed: dict[str, Path] = {}
    roots: dict[tuple[str, str], Path] = {}

    def get(system: str, arch: str = "x86_64") -> Path:
        key = (system, arch)
        if key in roots:
            return roots[key]
        if arch not in installed:
            root = realparts.make_root(tmp_path_factory.mktemp(f"root-{arch}") / "root", system, python=arch)
            realparts.install_alpinetags(root, arch=arch)
            installed[arch] = roots[key] = root
        else:
            dest = tmp_path_factory.mktemp(f"root-{arch}") / "root"
            roots[key] = realparts.clone_root(installed[arch], dest, system)
        return roots[key]

    return get


@pytest.fixture(autouse=True)
def _restore_alpinetags_logger() -> Iterator[None]:
    """The pip hook, run in-process by some tests, gives the ``alpinetags`` logger its own stderr handler
    and stops propagation (right inside pip); later tests read warnings through pytest's capture."""
    import logging

    logger = logging.getLogger("alpinetags")
    handlers, propagate = list(logger.handlers), logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.propagate = propagate


@pytest.fixture(scope="module")
def shm() -> Iterator[Path]:
    """A scratch directory in memory (``/dev/shm`` where there is one) for tests that write many files."""
    import os
    import shutil
    import tempfile

    base = Path(
        tempfile.mkdtemp(prefix="alpinetags-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    )
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _private_detection_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The detection cache (alpinetags/_engine/detcache.py) of every test, and of every process a test starts,
    in a directory of this session: the suite never reads nor fills the user's ``~/.cache``, starts cold,
    and judges the answers given from the cache along with the others."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old

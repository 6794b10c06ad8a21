"""End to end: the Alpine-built CPython 3.11 with alpinetags installed by its own pip, run inside a chroot.

The expectations come from the facts of each root, not from alpinetags: the Alpine release written into
``etc/os-release``, the musl version the root's loader prints when it runs there, and the list
``packaging.tags.sys_tags()`` gives inside the same root (packaging runs that loader itself).
aarch64 roots run under qemu (see ``realparts.run_in_root``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import realparts

pytestmark = pytest.mark.realparts

PY = realparts.ROOT_PYTHON
PACKAGING_SYS_TAGS = "import packaging.tags as t\nfor tag in t.sys_tags(): print(tag)"


def run(root: Path, arch: str, argv: list[str]) -> str:
    proc = realparts.run_in_root(root, argv, arch=arch)
    assert proc.returncode == 0, f"{argv} in {root} ({arch}) failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def loader_musl_minor(root: Path, arch: str) -> tuple[int, int]:
    """(major, minor) of the musl the root's loader says it is, when run in the root."""
    proc = realparts.run_in_root(root, [f"/lib/ld-musl-{arch}.so.1"], arch=arch)
    m = re.search(r"^Version (\d+)\.(\d+)\.\d+", proc.stderr, re.MULTILINE)
    assert m, f"the loader in {root} printed no version: {proc.stderr!r}"
    return int(m.group(1)), int(m.group(2))


def cp311_platforms(tags: list[str]) -> list[str]:
    return [t.split("-", 2)[2] for t in tags if t.startswith("cp311-cp311-")]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_alpine_3_17(alpinetags_root: Callable[[str, str], Path], arch: str) -> None:
    root = alpinetags_root("alpine:3.17", arch)
    tags = run(root, arch, [PY, "-m", "alpinetags", "tags"]).split()
    major, minor = loader_musl_minor(root, arch)
    alpine = [f"alpine_3_{n}_{arch}" for n in range(17, -1, -1)]  # 64-bit: no time64 floor
    musllinux = [f"musllinux_{major}_{n}_{arch}" for n in range(minor, -1, -1)]
    assert tags[0] == f"cp311-cp311-alpine_3_17_{arch}"
    platforms = cp311_platforms(tags)
    assert platforms[: len(alpine)] == alpine
    assert [p for p in platforms if p.startswith("musllinux_")] == musllinux  # all after the alpine ones
    # without the alpine tags the list is exactly packaging's (its order too), computed in the same root
    packaging_tags = run(root, arch, [PY, "-c", PACKAGING_SYS_TAGS]).split()
    assert f"cp311-cp311-musllinux_{major}_{minor}_{arch}" in packaging_tags
    assert [t for t in tags if "-alpine_" not in t] == packaging_tags

    detected = json.loads(run(root, arch, [PY, "-m", "alpinetags", "detect", "--json"]))
    assert (detected["distro_id"], detected["distro_version"], detected["arch"]) == ("alpine", "3.17", arch)
    assert detected["libc"] == "musl"
    assert tuple(int(p) for p in detected["libc_version"].split(".")[:2]) == (major, minor)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_void(alpinetags_root: Callable[[str, str], Path], arch: str) -> None:
    root = alpinetags_root("void", arch)
    tags = run(root, arch, [PY, "-m", "alpinetags", "tags"]).split()
    major, minor = loader_musl_minor(root, arch)
    assert not [t for t in tags if "alpine" in t]
    musllinux = [f"musllinux_{major}_{n}_{arch}" for n in range(minor, -1, -1)]
    assert [p for p in cp311_platforms(tags) if p.startswith("musllinux_")] == musllinux
    assert tags == run(root, arch, [PY, "-c", PACKAGING_SYS_TAGS]).split()

    detected = json.loads(run(root, arch, [PY, "-m", "alpinetags", "detect", "--json"]))
    assert (detected["distro_id"], detected["libc"], detected["detected_by"]) == ("void", "musl", "musl")

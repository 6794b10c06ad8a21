"""End to end on a musl distro with no real root at hand (Void): the Alpine-built CPython 3.11 with
alpinetags installed by its own pip, in a root laid out by ``realparts.make_root`` on Debian's musl.

Alpine itself is tested on the real official minirootfs (tests/test_real_alpine_chroot.py); this root is
the fallback plugin's case. The expectations come from the root, not from alpinetags: the musl version
its loader prints when it runs there, and ``packaging.tags.sys_tags()`` run inside the same root.
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
    """The platforms of the ``cp311-cp311-*`` tags, in order."""
    return [t.split("-", 2)[2] for t in tags if t.startswith("cp311-cp311-")]


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

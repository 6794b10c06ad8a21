"""The ``manylinux`` platform tags a glibc interpreter accepts, from its glibc version alone.

``packaging.tags`` builds this list only for the interpreter it runs in (it asks the running glibc). For
another interpreter (``--executable``, a root on disk) the glibc version is read from the root's
``libc.so.6`` (``interpreter.glibc_version_in_root``) and the list is built here the way packaging 26
orders it: ``manylinux_2_<minor>_<arch>`` from that minor down to 2.17 (2.5 on x86_64 and i686), each
legacy alias (``manylinux2014``, ``manylinux2010``, ``manylinux1``) right after the version it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence

#: PEP 600's aliases: the legacy tag of each glibc version that has one.
LEGACY = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def manylinux_platforms(glibc_version: str, archs: Sequence[str]) -> list[str]:
    """``manylinux`` tags for a glibc ``"2.36"`` on ``archs`` (best first, as ``compatible_arches``
    gives them), newest first; ``[]`` for a version that is not ``2.N``."""
    parts = glibc_version.split(".")
    if len(parts) < 2 or parts[0] != "2" or not parts[1].isdigit():
        return []
    newest = int(parts[1])
    oldest = 5 if set(archs) & {"x86_64", "i686"} else 17
    out: list[str] = []
    for arch in archs:
        for minor in range(newest, oldest - 1, -1):
            out.append(f"manylinux_2_{minor}_{arch}")
            if (2, minor) in LEGACY:
                out.append(f"{LEGACY[(2, minor)]}_{arch}")
    return out

"""Which of Alpine's musl builds do which loader feature, as measured on real roots.

Alpine carried ``DT_RELR`` support back into musl 1.2.2 and 1.2.3 in a package revision: the real 3.14.10
root (musl ``1.2.2-r4``) ignores ``DT_RELR`` and a process loading such an object dies, the real 3.15.11
root (``1.2.2-r9``) applies it. So a release number does not decide it, the build does: this module reads
which musl package a root has from its apk database (``lib/apk/db/installed``), checks that the root's
loader is that package's file (its SHA-1, as the database records it), and looks the build up in
``data/alpine-loader-features.tsv``. A build nobody measured gives nothing (the core then takes the
feature as missing unless upstream musl has it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Optional

from alpinetags._load.facts import read_table_rows
from alpinetags.errors import AlpinetagsError

from . import facts

#: An apk database larger than this is not read (a full desktop system's is about 5 MB).
MAX_DB = 64 * 1024 * 1024
MAX_LOADER = 16 * 1024 * 1024


@dataclass(frozen=True)
class Measured:
    """One row of ``alpine-loader-features.tsv``."""

    feature: str
    arch: str  # Alpine's arch name
    musl_package: str  # "1.2.2-r9"
    works: bool
    root: str  # the real root it was measured on: "3.15.11"


@cache
def measured(data_dir: str = facts.DATA_DIR) -> tuple[Measured, ...]:
    rows = read_table_rows(os.path.join(data_dir, "alpine-loader-features.tsv"))
    return tuple(Measured(r[0], r[1], r[2], r[3] == "yes", r[4]) for r in rows if len(r) >= 5)


def works(feature: str, arch: str, musl_package: str) -> Optional[bool]:
    """The measured answer for one build, ``None`` if it was never measured."""
    for m in measured():
        if (m.feature, m.arch, m.musl_package) == (feature, arch, musl_package):
            return m.works
    return None


def backports(feature: str) -> tuple[Measured, ...]:
    """The measured builds that do ``feature`` (for a wheel's notes: where it loads before the floor)."""
    return tuple(m for m in measured() if m.feature == feature and m.works)


def _package_block(db: str, name: str) -> dict[str, list[str]]:
    """The fields of package ``name`` in an apk database: ``{"V": ["1.2.2-r9"], "R": [...], "Z": [...]}``,
    with each ``R`` (file) followed by its ``Z`` (checksum) kept in order in ``files``."""
    for block in db.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if f"P:{name}" not in lines:
            continue
        out: dict[str, list[str]] = {}
        for line in lines:
            key, sep, value = line.partition(":")
            if sep and len(key) == 1:
                out.setdefault(key, []).append(value)
                if key in ("R", "Z"):
                    out.setdefault("files", []).append(line)
        return out
    return {}


def _apk_sha1(data: bytes) -> str:
    import base64  # both loaded by pip and by any process that reads a wheel: not at plugin import
    import hashlib

    return "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def musl_build(root: str, loader: str) -> Optional[str]:
    """The musl package version of ``root`` (``"1.2.2-r9"``) when its apk database names one and the
    root's ``loader`` (a path inside it: ``/lib/ld-musl-x86_64.so.1``) is that package's file, else ``None``.
    """
    # the native check has loaded these by now (a plugin import must not: detection does not need them)
    from alpinetags._safefile import read_regular
    from alpinetags._system.loadpath import safe_resolve
    from alpinetags.model import Target

    target = Target(root=root)
    db_path = safe_resolve(target, "/lib/apk/db/installed")
    host_loader = safe_resolve(target, loader)
    if not db_path or not host_loader:
        return None
    try:
        db = read_regular(db_path, MAX_DB, AlpinetagsError, "the apk database").decode("utf-8", "replace")
        data = read_regular(host_loader, MAX_LOADER, AlpinetagsError, "the musl loader")
    except AlpinetagsError:
        return None
    block = _package_block(db, "musl")
    versions = block.get("V", [])
    files = block.get("files", [])
    name = "R:" + os.path.basename(loader)
    sums = [
        files[i + 1][2:]
        for i, line in enumerate(files[:-1])
        if line == name and files[i + 1].startswith("Z:")
    ]
    if len(versions) != 1 or not sums or sums[0] != _apk_sha1(data):
        return None
    return versions[0]


def root_features(root: str, arch: str, features: Sequence[str] = ("relr", "static-tls")) -> list[str]:
    """The features the root's musl build was measured to do (``arch``: the wheel-tag arch)."""
    by_tag = {a.tag_arch: a for a in facts.alpine_arches()}
    alpine = by_tag.get(arch)
    if alpine is None:
        return []
    build = musl_build(root, "/lib/" + alpine.loader)
    if build is None:
        return []
    return [f for f in features if works(f, alpine.alpine_arch, build)]

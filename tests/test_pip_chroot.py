"""The pip hook on the real Alpine-built musl CPython with its own pip (23.0), inside chroots.

Alpine 3.17 and 3.16 are the real official minirootfs (``realparts.copy_minirootfs``), with the CPython
prefix hard-linked in at ``/opt/backend.ai``; alpinetags is installed there by that CPython's own pip and
the hook enabled. The one thing added to a real root is ``/usr/lib/libexpat.so.1`` (a minirootfs has
none, and pip imports ``pyexpat``; see docs/realparts.md). Void has no real root here: it stays a root
laid out by ``make_root`` on Debian's musl. Plain ``python3 -m pip install demo`` inside each must pick
the wheel that system should get, and the installed module must import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import realparts
from tests.realparts import ROOT_PYTHON, install_alpinetags, make_root, run_in_root
from tests.test_pip import wheelhouse

pytestmark = pytest.mark.realparts

HOUSE_IN_ROOT = "/tmp/house"
PREFIX = "/opt/backend.ai"
REAL_PYTHON = f"{PREFIX}/bin/python3"


def in_root(root: Path, *argv: str, **env: str) -> str:
    proc = run_in_root(root, argv, env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", **env}, timeout=300)
    assert proc.returncode == 0, f"{argv} in {root} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert "alpinetags: warning" not in proc.stderr.lower(), proc.stderr
    return proc.stdout


def _house(base: Path, root: Path) -> None:
    house = base / "house"
    if not house.exists():
        wheelhouse(house, "alpine_3_17_x86_64", "musllinux_1_2_x86_64", "any", sdist=True)
    shutil.copytree(house, root / HOUSE_IN_ROOT.lstrip("/"))


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """name -> (root, python in it): real Alpine 3.17 and 3.16, and a Void layout."""
    base = tmp_path_factory.mktemp("pip-chroot")
    real = realparts.copy_minirootfs("3.17", base / "alpine-3.17")
    shutil.copytree(realparts.krunner_python("x86_64"), real / PREFIX.lstrip("/"), symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    expat = next(p for p in realparts.musl_libs("amd64") if p.name == "libexpat.so.1")
    shutil.copy2(expat, real / "usr" / "lib" / "libexpat.so.1")
    install_alpinetags(real, python_in_root=REAL_PYTHON)
    assert "alpinetags-pip-hook.pth" in in_root(real, REAL_PYTHON, "-m", "alpinetags", "pip", "enable")
    older = realparts.copy_minirootfs("3.16", base / "alpine-3.16")  # the same CPython and site-packages
    for rel in (PREFIX.lstrip("/"), "usr/lib/libexpat.so.1"):
        src = real / rel
        if src.is_dir():
            shutil.copytree(src, older / rel, symlinks=True, copy_function=realparts._link_or_copy)
        else:
            shutil.copy2(src, older / rel)
    void = make_root(base / "void", "void", python="x86_64")
    install_alpinetags(void)
    assert "alpinetags-pip-hook.pth" in in_root(void, ROOT_PYTHON, "-m", "alpinetags", "pip", "enable")
    for root in (real, older, void):
        _house(base, root)
    return {
        "alpine-3.17": (real, REAL_PYTHON),
        "alpine-3.16": (older, REAL_PYTHON),
        "void": (void, ROOT_PYTHON),
    }


@pytest.mark.parametrize(
    ("system", "hook", "expected"),
    [
        ("alpine-3.17", "1", "alpine_3_17_x86_64"),
        ("alpine-3.17", "0", "musllinux_1_2_x86_64"),  # ALPINETAGS_PIP=0: pip's own choice
        ("alpine-3.16", "1", "musllinux_1_2_x86_64"),
        ("void", "1", "musllinux_1_2_x86_64"),
    ],
)
def test_plain_pip_in_chroot_picks_the_right_wheel(
    roots: dict[str, tuple[Path, str]], system: str, hook: str, expected: str
) -> None:
    root, python = roots[system]
    in_root(root, python, "-m", "pip", "install", "--no-index", "--find-links", HOUSE_IN_ROOT,
            "--root-user-action=ignore", "--force-reinstall", "demo", ALPINETAGS_PIP=hook)  # fmt: skip
    which = in_root(root, python, "-c", "import demo; print(demo.WHICH)").strip()
    assert which == expected


def test_pip_debug_in_chroot_lists_alpine_first(roots: dict[str, tuple[Path, str]]) -> None:
    root, python = roots["alpine-3.17"]
    out = in_root(root, python, "-m", "pip", "debug", "--verbose")
    tags = [line.strip() for line in out.splitlines() if line.startswith("  ") and line.count("-") == 2]
    assert tags[0] == "cp311-cp311-alpine_3_17_x86_64"
    first_musl = tags.index("cp311-cp311-musllinux_1_2_x86_64")
    assert tags.index("cp311-cp311-alpine_3_0_x86_64") < first_musl

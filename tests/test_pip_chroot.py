"""The pip hook on the real Alpine-built musl CPython with its own pip (23.0), inside chroots.

One root gets the interpreter, alpinetags and the enabled hook; copies of it are laid out as Alpine 3.17,
Alpine 3.16 and Void. Plain ``python3 -m pip install demo`` inside each must pick the wheel that
system should get, and the installed module must import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.realparts import ROOT_PYTHON, clone_root, install_alpinetags, make_root, run_in_root
from tests.test_pip import wheelhouse

pytestmark = pytest.mark.realparts

HOUSE_IN_ROOT = "/tmp/house"


def in_root(root: Path, *argv: str, **env: str) -> str:
    proc = run_in_root(root, argv, env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", **env}, timeout=300)
    assert proc.returncode == 0, f"{argv} in {root} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert "alpinetags: warning" not in proc.stderr, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def base_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alpine 3.17 with the Alpine CPython, alpinetags installed by its own pip, the hook enabled."""
    base = tmp_path_factory.mktemp("pip-chroot")
    root = make_root(base / "base", "alpine:3.17", python="x86_64")
    install_alpinetags(root)
    out = in_root(root, ROOT_PYTHON, "-m", "alpinetags", "pip", "enable")
    assert "alpinetags-pip-hook.pth" in out
    house = wheelhouse(base / "house", "alpine_3_17_x86_64", "musllinux_1_2_x86_64", "any", sdist=True)
    shutil.copytree(house, root / HOUSE_IN_ROOT.lstrip("/"))
    return root


@pytest.mark.parametrize(
    ("system", "hook", "expected"),
    [
        ("alpine:3.17", "1", "alpine_3_17_x86_64"),
        ("alpine:3.17", "0", "musllinux_1_2_x86_64"),  # ALPINETAGS_PIP=0: pip's own choice
        ("alpine:3.16", "1", "musllinux_1_2_x86_64"),
        ("void", "1", "musllinux_1_2_x86_64"),
    ],
)
def test_plain_pip_in_chroot_picks_the_right_wheel(
    base_root: Path, tmp_path: Path, system: str, hook: str, expected: str
) -> None:
    root = clone_root(base_root, tmp_path / "root", system)
    in_root(root, ROOT_PYTHON, "-m", "pip", "install", "--no-index", "--find-links", HOUSE_IN_ROOT,
            "--root-user-action=ignore", "demo", ALPINETAGS_PIP=hook)  # fmt: skip
    which = in_root(root, ROOT_PYTHON, "-c", "import demo; print(demo.WHICH)").strip()
    assert which == expected


def test_pip_debug_in_chroot_lists_alpine_first(base_root: Path) -> None:
    out = in_root(base_root, ROOT_PYTHON, "-m", "pip", "debug", "--verbose")
    tags = [line.strip() for line in out.splitlines() if line.startswith("  ") and line.count("-") == 2]
    assert tags[0] == "cp311-cp311-alpine_3_17_x86_64"
    first_musl = tags.index("cp311-cp311-musllinux_1_2_x86_64")
    assert tags.index("cp311-cp311-alpine_3_0_x86_64") < first_musl

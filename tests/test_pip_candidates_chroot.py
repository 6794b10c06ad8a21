"""The candidate filter inside a real Alpine 3.19 system: the Alpine-built CPython 3.11 and its own pip
23.0 in a chroot of the real 3.19 minirootfs, hook enabled, the target being ``/``.

pip itself imports ``pyexpat`` there, so the root needs ``libexpat.so.1`` (see docs/realparts.md) and the
zexp wheels of tests/test_pip_candidates.py would both load. The two-wheel case is therefore made with a
library 3.19 really lacks: ``sslmod`` as an ``alpine_3_19`` wheel linked against the real
``libssl.so.1.1``/``libcrypto.so.1.1`` of Alpine 3.16 (declared in ``Requires-External``) and as a
``musllinux_1_2`` wheel linked against 3.19's own ``libssl.so.3``/``libcrypto.so.3``. Plain ``pip
install sslmod`` must pass over the first, install the second, and the module must really load and call
OpenSSL 3.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import realparts
from tests.parts_wheel import build_ssl_extension
from tests.realparts import install_alpinetags
from tests.test_pip import write_wheel
from tests.test_pip_check_chroot import PREFIX, PYTHON, in_root

pytestmark = pytest.mark.realparts

HOUSE = "/tmp/house"
NONE = "/tmp/none"
MODULE = "sslmod.cpython-311-x86_64-linux-musl.so"
ALPINE = "sslmod-1.0-cp311-cp311-alpine_3_19_x86_64.whl"
MUSL = "sslmod-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the real 3.19 root with the Alpine CPython, alpinetags, the hook, and two
    wheelhouses: both sslmod wheels (``HOUSE``), the alpine one alone (``NONE``)."""
    base = tmp_path_factory.mktemp("pip-candidates-chroot")
    r316, r319 = realparts.alpine_minirootfs("3.16"), realparts.alpine_minirootfs("3.19")
    old = build_ssl_extension(base / "old", r316, "libssl.so.1.1", "libcrypto.so.1.1")
    new = build_ssl_extension(base / "new", r319, "libssl.so.3", "libcrypto.so.3")
    root = realparts.copy_minirootfs("3.19", base / "alpine-3.19")
    expat = next(p for p in realparts.musl_libs("amd64") if p.name == "libexpat.so.1")
    shutil.copy2(expat, root / "usr" / "lib" / "libexpat.so.1")  # pip imports pyexpat
    shutil.copytree(realparts.krunner_python("x86_64"), root / PREFIX.lstrip("/"), symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    install_alpinetags(root, python_in_root=PYTHON)
    code, stdout, stderr = in_root(root, PYTHON, "-m", "alpinetags", "pip", "enable")
    assert code == 0 and "alpinetags-pip-hook.pth" in stdout, stderr
    declared = "Requires-External: libssl.so.1.1\nRequires-External: libcrypto.so.1.1\n"
    for folder, musl in ((HOUSE, True), (NONE, False)):
        house = root / folder.lstrip("/")
        house.mkdir(parents=True)
        write_wheel(
            house, "sslmod", "1.0", "cp311-cp311-alpine_3_19_x86_64", {MODULE: old.read_bytes()}, declared
        )
        if musl:
            write_wheel(
                house, "sslmod", "1.0", "cp311-cp311-musllinux_1_2_x86_64", {MODULE: new.read_bytes()}
            )
    return root


def pip_install(root: Path, house: str, **env: str) -> tuple[int, str, str]:
    return in_root(root, PYTHON, "-m", "pip", "install", "--no-index", "--no-cache-dir",
                   "--root-user-action=ignore", "--find-links", house, "sslmod", **env)  # fmt: skip


def test_the_alpine_wheel_is_passed_over_and_the_musllinux_one_loads(root: Path) -> None:
    code, stdout, stderr = pip_install(root, HOUSE)
    try:
        assert code == 0, (stdout, stderr)
        discarding = [line for line in stdout.splitlines() if line.startswith("Discarding ")]
        assert len(discarding) == 1 and ALPINE in discarding[0], stdout
        assert (
            "needs libssl.so.1.1, libcrypto.so.1.1 (Requires-External), which this system does not have"
            in (discarding[0])
        )
        assert f"Processing {HOUSE}/{MUSL}" in stdout, stdout
        assert "alpinetags: warning" not in stderr and "Traceback" not in stderr
        code, out, err = in_root(root, PYTHON, "-c", "import sslmod; print(hex(sslmod.version()))")
        assert code == 0 and out.strip().startswith("0x30"), (out, err)  # Alpine 3.19's OpenSSL 3
    finally:
        in_root(root, PYTHON, "-m", "pip", "uninstall", "-y", "sslmod")


def test_nothing_loadable_is_one_error_and_nothing_installed(root: Path) -> None:
    code, stdout, stderr = pip_install(root, NONE)
    assert code == 1, (stdout, stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: alpinetags: no wheel of sslmod that pip could use would load on this system; passed over:"
    ]
    assert f"  {ALPINE}: needs libssl.so.1.1, libcrypto.so.1.1 (Requires-External)" in stderr
    # the Alpine plugin's hint: 3.19 has no package for it (openssl1.1-compat ended with 3.18)
    assert "  no Alpine 3.19 package ships libssl.so.1.1 (Alpine 3.10-3.18: openssl1.1-compat)" in stderr
    assert "--no-binary sslmod" in stderr and "ALPINETAGS_CHECK=0" in stderr
    assert in_root(root, PYTHON, "-m", "pip", "show", "-q", "sslmod")[0] != 0

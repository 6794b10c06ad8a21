"""The native check at install inside real Alpine systems: the Alpine-built CPython 3.11 and its own pip
23.0, in chroots of the real Alpine 3.16 and 3.17 minirootfs, hook enabled, the target being ``/``.

The wheel is ``sslmod-1.0-cp311-cp311-alpine_3_16_x86_64.whl``, a real C extension linked against the
real ``libssl.so.1.1`` of Alpine 3.16 (see tests/test_pip_check.py). On 3.17 plain ``pip install``
refuses it; with ``ALPINETAGS_CHECK=0`` it installs and then really fails to import, which is what the
check predicted; on 3.16 it installs and really calls into Alpine's libssl.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import realparts
from tests.parts_wheel import build_ssl_extension
from tests.realparts import install_alpinetags, run_in_root
from tests.test_pip import write_wheel

pytestmark = pytest.mark.realparts

PREFIX = "/opt/backend.ai"
PYTHON = f"{PREFIX}/bin/python3"
HOUSE = "/tmp/house"
WHEEL = "sslmod-1.0-cp311-cp311-alpine_3_16_x86_64.whl"


def in_root(root: Path, *argv: str, **env: str) -> tuple[int, str, str]:
    proc = run_in_root(root, argv, env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", **env}, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """'3.17' and '3.16' -> a private copy of the real root with the Alpine CPython, alpinetags, the hook
    and a wheelhouse holding the sslmod wheel."""
    base = tmp_path_factory.mktemp("pip-check-chroot")
    module = build_ssl_extension(base / "build", realparts.alpine_minirootfs("3.16"), "libssl.so.1.1",
                                 "libcrypto.so.1.1")  # fmt: skip
    house = base / "house"
    house.mkdir()
    write_wheel(house, "sslmod", "1.0", "cp311-cp311-alpine_3_16_x86_64",
                {"sslmod.cpython-311-x86_64-linux-musl.so": module.read_bytes()})  # fmt: skip
    expat = next(p for p in realparts.musl_libs("amd64") if p.name == "libexpat.so.1")
    out = {}
    first = None
    for minor in ("3.17", "3.16"):
        root = realparts.copy_minirootfs(minor, base / f"alpine-{minor}")
        shutil.copy2(
            expat, root / "usr" / "lib" / "libexpat.so.1"
        )  # pip imports pyexpat; see docs/realparts.md
        if first is None:
            shutil.copytree(realparts.krunner_python("x86_64"), root / PREFIX.lstrip("/"), symlinks=True,
                            copy_function=realparts._link_or_copy)  # fmt: skip
            install_alpinetags(root, python_in_root=PYTHON)
            code, stdout, stderr = in_root(root, PYTHON, "-m", "alpinetags", "pip", "enable")
            assert code == 0 and "alpinetags-pip-hook.pth" in stdout, stderr
            first = root
        else:  # the same CPython, site-packages and .pth
            shutil.copytree(first / PREFIX.lstrip("/"), root / PREFIX.lstrip("/"), symlinks=True,
                            copy_function=realparts._link_or_copy)  # fmt: skip
        shutil.copytree(house, root / HOUSE.lstrip("/"))
        out[minor] = root
    return out


def pip_install(root: Path, **env: str) -> tuple[int, str, str]:
    return in_root(root, PYTHON, "-m", "pip", "install", "--no-index", "--no-cache-dir",
                   "--root-user-action=ignore", "--find-links", HOUSE, "sslmod", **env)  # fmt: skip


def sslmod_version(root: Path) -> tuple[int, str, str]:
    return in_root(root, PYTHON, "-c", "import sslmod; print(hex(sslmod.version()))")


def test_alpine_317_refuses_it(roots: dict[str, Path]) -> None:
    code, stdout, stderr = pip_install(roots["3.17"])
    assert code == 1, (stdout, stderr)
    assert f"ERROR: alpinetags: {WHEEL} would not load on this system, so pip does not install it:" in stderr
    assert "needs libcrypto.so.1.1, libssl.so.1.1, which the system does not have" in stderr
    assert "apk add so:libssl.so.1.1" in stderr and "ALPINETAGS_CHECK=0" in stderr
    assert "Traceback" not in stderr and "alpinetags: warning" not in stderr
    assert sslmod_version(roots["3.17"])[0] != 0  # not installed


def test_alpine_317_unchecked_installs_and_really_fails_to_load(roots: dict[str, Path]) -> None:
    code, stdout, stderr = pip_install(roots["3.17"], ALPINETAGS_CHECK="0")
    assert code == 0, (stdout, stderr)
    try:
        code, stdout, stderr = sslmod_version(roots["3.17"])
        assert code != 0 and "libssl.so.1.1" in stderr, (stdout, stderr)  # what the check said
    finally:
        in_root(roots["3.17"], PYTHON, "-m", "pip", "uninstall", "-y", "sslmod")


def test_alpine_316_installs_it_and_it_calls_libssl(roots: dict[str, Path]) -> None:
    code, stdout, stderr = pip_install(roots["3.16"])
    assert code == 0 and "alpinetags: warning" not in stderr, (stdout, stderr)
    code, stdout, stderr = sslmod_version(roots["3.16"])
    assert code == 0, stderr
    assert stdout.strip().startswith("0x1010"), stdout  # OPENSSL_VERSION_NUMBER of Alpine 3.16's 1.1.1


def test_alpine_317_with_the_old_libssl_on_its_path_file_installs_it(roots: dict[str, Path]) -> None:
    """3.16's libssl.so.1.1 and libcrypto.so.1.1 put in /opt/ssl11 and that directory named in musl's
    path file: the check finds them where the loader will, pip installs, and the module really loads."""
    root = roots["3.17"]
    old_lib = realparts.alpine_minirootfs("3.16") / "lib"
    (root / "opt" / "ssl11").mkdir()
    for name in ("libssl.so.1.1", "libcrypto.so.1.1"):
        shutil.copy2(old_lib / name, root / "opt" / "ssl11" / name)
    path_file = root / "etc" / "ld-musl-x86_64.path"
    path_file.write_text("/lib\n/usr/local/lib\n/usr/lib\n/opt/ssl11\n")
    try:
        code, stdout, stderr = pip_install(root)
        assert code == 0 and "alpinetags: warning" not in stderr, (stdout, stderr)
        code, stdout, stderr = sslmod_version(root)
        assert code == 0 and stdout.strip().startswith("0x1010"), (stdout, stderr)
    finally:
        path_file.unlink()
        in_root(root, PYTHON, "-m", "pip", "uninstall", "-y", "sslmod")

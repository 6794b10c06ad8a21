"""The musl version two ways, on every real loader: read from the file, and printed by the loader itself
when it runs (natively on x86_64, under ``qemu-<arch>-static`` elsewhere), parsed here from its stderr.
Then the musl plugin's detection on real sysroots reads the same version.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from alpinetags_musl import musl_loader_version

from alpinetags import Target
from alpinetags._engine.detect import detect
from alpinetags._system.musl import musllinux_platforms, read_musl_version, run_musl_version
from tests import realparts

pytestmark = pytest.mark.realparts

DEB_ARCHES = ["amd64", "i386", "arm64", "armhf", "s390x", "ppc64el"]
#: ``musl libc (<name>)`` in the banner, as musl names each arch.


def run_loader(deb_arch: str) -> tuple[str, str]:
    """Run the loader with no arguments; return (banner arch, version) parsed from what it printed."""
    loader = realparts.musl_loader(deb_arch)
    argv = [str(loader)] if deb_arch == "amd64" else [realparts.qemu_static(deb_arch), str(loader)]
    proc = subprocess.run(argv, capture_output=True, text=True, env={}, timeout=60, check=False)
    banner = re.search(r"^musl libc \(([a-z0-9_]+)\)$", proc.stderr, re.MULTILINE)
    version = re.search(r"^Version ([0-9][^\s]*)$", proc.stderr, re.MULTILINE)
    assert banner and version, f"{argv} printed no musl banner: {proc.stderr!r}"
    return banner.group(1), version.group(1)


@pytest.mark.parametrize("deb_arch", DEB_ARCHES)
def test_read_equals_run(deb_arch: str) -> None:
    banner_arch, ran = run_loader(deb_arch)
    assert banner_arch == realparts.LOADER_ARCHES[deb_arch]
    assert read_musl_version(str(realparts.musl_loader(deb_arch))) == ran


def test_guarded_run_on_the_native_loader() -> None:
    _, ran = run_loader("amd64")
    assert run_musl_version(str(realparts.musl_loader("amd64"))) == ran


@pytest.mark.parametrize("deb_arch", DEB_ARCHES)
def test_plugin_reads_a_foreign_sysroot(deb_arch: str) -> None:
    _, ran = run_loader(deb_arch)
    root = realparts.musl_sysroot(deb_arch)
    target = Target(root=str(root))
    assert not target.is_running_system  # so the plugin may only read, never run
    version, how = musl_loader_version(target, f"/lib/ld-musl-{realparts.LOADER_ARCHES[deb_arch]}.so.1")
    assert version == ran
    assert how.startswith("read from ") and how.endswith("libc.so")  # followed the link inside the root


def test_detect_musl_gcc_build_on_the_amd64_sysroot(tmp_path: Path) -> None:
    _, ran = run_loader("amd64")
    exe = realparts.musl_gcc_build(tmp_path, static=False)
    platform = detect(Target(root=str(realparts.musl_sysroot("amd64")), executable=str(exe)))
    assert (platform.libc, platform.libc_version, platform.arch) == ("musl", ran, "x86_64")
    assert platform.detected_by == "musl"
    major, minor = ran.split(".")[:2]
    assert f"musllinux_{major}_{minor}_x86_64" in musllinux_platforms(platform.libc_version, platform.arch)


def test_detect_static_musl_gcc_build_finds_no_musl(tmp_path: Path) -> None:
    exe = realparts.musl_gcc_build(tmp_path, static=True)
    platform = detect(Target(root=str(realparts.musl_sysroot("amd64")), executable=str(exe)))
    assert platform.libc == "" and platform.libc_version == ""


def test_detect_alpine_cpython_aarch64_on_the_arm64_sysroot() -> None:
    _, ran = run_loader("arm64")
    exe = realparts.krunner_python("aarch64") / "bin" / "python3.11"
    platform = detect(Target(root=str(realparts.musl_sysroot("arm64")), executable=str(exe)))
    assert (platform.libc, platform.libc_version, platform.arch) == ("musl", ran, "aarch64")

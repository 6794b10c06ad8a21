"""``Requires-External`` entries with environment markers (spec 5.1, readers): evaluated in the target's
environment, dropped only when known false there.

The METADATA is a real wheel's (jiter, pinned) with entries added after its headers; the environment is
the one alpinetags detects for a real Alpine root (3.20 minirootfs: Linux, musl, ``distro_id`` alpine),
so ``sys_platform``, ``libc`` and ``distro_version`` are the root's, read from its files.
"""

from __future__ import annotations

import zipfile

import pytest

from alpinetags._wheel import wheelfile
from alpinetags.markers import default_environment
from alpinetags.model import Target
from tests import parts_wheel, realparts

pytestmark = pytest.mark.realparts

ADDED = [
    "libalways.so.1",
    'libdarwin.so.1; sys_platform == "darwin"',
    'liblinux.so.1; sys_platform == "linux"',
    'libmusl.so.1; libc == "musl" and distro_version >= "3.19"',
    'libglibc.so.6; libc == "glibc"',
    "libbroken.so.1; sys_platform ==",  # malformed: kept
    'libunknown.so.1; no_such_variable == "x"',  # not evaluable: kept
    "libversioned.so.2 (>=2.0); os_name == 'posix'",
]


def _metadata() -> str:
    with zipfile.ZipFile(parts_wheel.real_wheel("jiter")) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode()
    head, sep, body = text.partition("\n\n")
    return head + "\n" + "".join(f"Requires-External: {e}\n" for e in ADDED) + sep.lstrip("\n") + body


def test_markers_are_evaluated_in_the_roots_environment() -> None:
    env = default_environment(target=Target(root=str(realparts.alpine_minirootfs("3.20"))))
    assert env["sys_platform"] == "linux" and env["libc"] == "musl"
    got = wheelfile.parse_requires_external(_metadata(), env)
    assert got == (
        "libalways.so.1",
        "liblinux.so.1",
        "libmusl.so.1",
        "libbroken.so.1",
        "libunknown.so.1",
        "libversioned.so.2",
    )


def test_an_older_alpine_drops_the_entry_its_marker_excludes() -> None:
    env = default_environment(target=Target(root=str(realparts.alpine_minirootfs("3.17"))))
    assert "libmusl.so.1" not in wheelfile.parse_requires_external(_metadata(), env)


def test_without_an_environment_every_entry_is_kept() -> None:
    got = wheelfile.parse_requires_external(_metadata())
    assert len(got) == len(ADDED) and "libdarwin.so.1" in got and "libglibc.so.6" in got


def test_under_pip_a_candidate_is_judged_with_its_markers_for_the_root() -> None:
    """What pip's candidate filter asks (``candidates.candidate_verdict``, with the values pip read from
    the metadata): on the real 3.19 root, which has no ``libexpat.so.1``, an entry for another platform
    does not pass the wheel over; the same entry for Linux does, and names the soname."""
    from alpinetags._pip import candidates, check

    root = str(realparts.alpine_minirootfs("3.19"))
    assert not list(realparts.alpine_minirootfs("3.19").glob("**/libexpat.so*"))
    environ = {"ALPINETAGS_ROOT": root}
    wheel = "zexp-1.0-cp311-cp311-alpine_3_19_x86_64.whl"
    darwin = ('libexpat.so.1; sys_platform == "darwin"',)
    linux = ('libexpat.so.1; sys_platform == "linux"',)
    assert candidates.candidate_verdict(wheel, "zexp", darwin, environ) is None
    passed_over = candidates.candidate_verdict(wheel, "zexp", linux, environ)
    assert passed_over is not None and "libexpat.so.1" in passed_over.reason
    assert check.marker_environment(root) is not None and check.marker_environment(root)["libc"] == "musl"

"""The check filters pip's candidates: real pip 23.0, 24.3.1 and 26.3, the real Alpine 3.19 root.

The project ``zexp`` publishes two real C extensions, compiled with musl-gcc for the Alpine CPython 3.11
(``tests/parts_pip.zexp_wheels``): an ``alpine_3_19`` wheel linked against ``libexpat.so.1`` and
``libz.so.1`` (its METADATA says so in ``Requires-External``, as ``alpinetags wheel tag`` writes), and a
``musllinux_1_2`` wheel linked against ``libz.so.1`` only. The 3.19 minirootfs has ``libz.so.1`` and no
``libexpat.so.1``. With ``ALPINETAGS_ROOT`` at that root, pip ranks the alpine wheel first; the check
must pass it over and pip must install the musllinux one: from ``--find-links`` and from a real index
served on 127.0.0.1 with PEP 658 metadata, where the alpine wheel must never be downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import parts_pip, parts_wheel, realparts
from tests.test_pip import demo_wheel, pip, warnings_of, write_sdist
from tests.venvs import NEWEST_PIP, OLD_PIP, OLDEST_PIP, clean_env, hooked_venv, run, venv_with_pip

pytestmark = pytest.mark.realparts

PIPS = [NEWEST_PIP, OLD_PIP, OLDEST_PIP]
ALPINE = f"zexp-1.0-{parts_pip.ZEXP_ALPINE_TAG}.whl"
MUSL = f"zexp-1.0-{parts_pip.ZEXP_MUSL_TAG}.whl"


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the test wheels are cp311 (the Alpine-built CPython's version)")
    base = tmp_path_factory.mktemp("pip-candidates")
    r319 = realparts.alpine_minirootfs("3.19")
    assert not list(r319.glob("**/libexpat.so*")), "the 3.19 minirootfs was expected to have no libexpat"
    both = parts_pip.zexp_wheels(base / "both", r319)
    parts_pip.zexp_wheels(base / "older", r319, "1.1", musl=False)  # a newer release, alpine only
    parts_pip.zexp_wheels(base / "older", r319, "1.0")
    parts_pip.zexp_wheels(base / "none", r319, "1.1", musl=False)
    parts_pip.zexp_wheels(base / "none", r319, "1.0", musl=False)
    mixed = base / "mixed"
    mixed.mkdir()
    demo_wheel(mixed, "manylinux_2_17_x86_64")
    demo_wheel(mixed, "musllinux_1_2_x86_64")
    return {"r319": r319, "both": both[0].parent, "older": base / "older", "none": base / "none",
            "mixed": mixed, "base": base}  # fmt: skip


@pytest.fixture(scope="module", params=PIPS)
def hooked(request: pytest.FixtureRequest) -> Path:
    return hooked_venv(request.param)


def installed_wheel(target: Path, project: str = "zexp") -> str:
    """The ``Tag:`` of the wheel installed into ``--target`` ``target`` (from its WHEEL file), or ''."""
    wheel_files = list(target.glob(f"{project}-*.dist-info/WHEEL"))
    if not wheel_files:
        return ""
    tags = [
        line.split(":", 1)[1].strip()
        for line in wheel_files[0].read_text().splitlines()
        if line.startswith("Tag:")
    ]
    version = wheel_files[0].parent.name.removesuffix(".dist-info").split("-")[1]
    return f"{version} {tags[0]}"


def install(python: Path, target: Path, *source: str, **env: str) -> subprocess.CompletedProcess[str]:
    return pip(python, "install", "--no-deps", "--no-cache-dir", "--target", str(target), *source, "zexp",
               check=False, **env)  # fmt: skip


def discarding(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Discarding ")]


def test_find_links_installs_the_musllinux_wheel(
    hooked: Path, places: dict[str, Path], tmp_path: Path
) -> None:
    proc = install(hooked, tmp_path / "t", "--no-index", "--find-links", str(places["both"]),
                   ALPINETAGS_ROOT=str(places["r319"]))  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert installed_wheel(tmp_path / "t") == f"1.0 {parts_pip.ZEXP_MUSL_TAG}"
    assert (tmp_path / "t" / parts_pip.ZEXP_MODULE).read_bytes() == (
        places["base"] / "zexp-build-both" / "plain" / parts_pip.ZEXP_MODULE
    ).read_bytes()
    lines = discarding(proc.stdout + proc.stderr)
    assert len(lines) == 1, proc.stdout
    assert ALPINE in lines[0] and "needs libexpat.so.1 (Requires-External)" in lines[0]
    assert "libz.so.1" not in lines[0]  # the root has it
    assert not warnings_of(proc.stderr) and "Traceback" not in proc.stderr


def test_without_the_filter_the_alpine_wheel_is_chosen(places: dict[str, Path], tmp_path: Path) -> None:
    """The case of the issue: the alpine wheel ranks first, so with the check off pip takes it."""
    python = hooked_venv(NEWEST_PIP)
    proc = install(python, tmp_path / "t", "--no-index", "--find-links", str(places["both"]),
                   ALPINETAGS_ROOT=str(places["r319"]), ALPINETAGS_CHECK="0")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert installed_wheel(tmp_path / "t") == f"1.0 {parts_pip.ZEXP_ALPINE_TAG}"


def test_an_older_release_is_taken_when_the_newest_is_passed_over(
    hooked: Path, places: dict[str, Path], tmp_path: Path
) -> None:
    proc = install(hooked, tmp_path / "t", "--no-index", "--find-links", str(places["older"]),
                   ALPINETAGS_ROOT=str(places["r319"]))  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert installed_wheel(tmp_path / "t") == f"1.0 {parts_pip.ZEXP_MUSL_TAG}"
    assert any("zexp-1.1-" in line for line in discarding(proc.stdout))


def test_index_with_pep658_metadata_never_downloads_the_passed_over_wheel(
    hooked: Path, places: dict[str, Path], tmp_path: Path
) -> None:
    index = parts_pip.Index(sorted(places["both"].glob("*.whl")), tmp_path / "index")
    try:
        proc = install(hooked, tmp_path / "t", "--index-url", index.url, ALPINETAGS_ROOT=str(places["r319"]),
                       NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", PIP_CONFIG_FILE=os.devnull)  # fmt: skip
    finally:
        index.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert installed_wheel(tmp_path / "t") == f"1.0 {parts_pip.ZEXP_MUSL_TAG}"
    assert f"GET /files/{ALPINE}.metadata" in index.requests, index.requests  # pip read its metadata only
    assert index.fetched(ALPINE) == [], index.requests  # and never downloaded it
    assert index.fetched(MUSL), index.requests  # (pip 23.0 GETs the chosen wheel twice)
    assert len(discarding(proc.stdout)) == 1, proc.stdout


def test_nothing_loadable_is_one_error_naming_every_candidate(
    hooked: Path, places: dict[str, Path], tmp_path: Path
) -> None:
    proc = install(hooked, tmp_path / "t", "--no-index", "--find-links", str(places["none"]),
                   ALPINETAGS_ROOT=str(places["r319"]))  # fmt: skip
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("ERROR: alpinetags: no wheel of zexp")
    for version in ("1.1", "1.0"):
        wheel = f"zexp-{version}-{parts_pip.ZEXP_ALPINE_TAG}.whl"
        assert f"  {wheel}: needs libexpat.so.1 (Requires-External)" in proc.stderr, proc.stderr
    assert "apk add so:libexpat.so.1" in proc.stderr
    assert "ALPINETAGS_CHECK=0" in proc.stderr and "--no-binary zexp" in proc.stderr
    assert "Traceback" not in proc.stderr and not warnings_of(proc.stderr)
    assert not (tmp_path / "t").exists() or not list((tmp_path / "t").iterdir())  # nothing installed


def test_the_sdist_is_built_when_every_wheel_is_passed_over(places: dict[str, Path], tmp_path: Path) -> None:
    """pip goes on to the sdist when building is allowed (pip 26.3; setuptools of the venv, no index)."""
    house = tmp_path / "house"
    house.mkdir()
    for wheel in places["none"].glob("zexp-1.0-*.whl"):
        (house / wheel.name).write_bytes(wheel.read_bytes())
    _zexp_sdist(house)
    # A venv of its own: building needs setuptools (CPython 3.11's ensurepip has it) and wheel (the pinned
    # wheel of tests/parts_wheel.py), which the shared venvs should not get.
    python = venv_with_pip(tmp_path / "venv", NEWEST_PIP, enable=True)
    tool = realparts._need(parts_wheel.CACHE / "wheel-0.48.0-py3-none-any.whl", "the pinned wheel 0.48.0")
    run([str(python), "-m", "pip", "install", "-q", "--no-index", str(tool)], env=clean_env())
    proc = install(python, tmp_path / "t", "--no-index", "--no-build-isolation", "--find-links", str(house),
                   ALPINETAGS_ROOT=str(places["r319"]))  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "t" / "zexp.py").read_text() == 'WHICH = "sdist"\n'
    assert len(discarding(proc.stdout)) == 1


def _zexp_sdist(dest: Path) -> Path:
    """``zexp-1.0.tar.gz``: a plain setuptools project whose ``zexp.WHICH`` is ``"sdist"``."""
    setup = "from setuptools import setup\nsetup(name='zexp', version='1.0', py_modules=['zexp'])\n"
    return write_sdist(dest, "zexp", "1.0", {"setup.py": setup, "zexp.py": 'WHICH = "sdist"\n'})


def test_a_pointed_root_gets_its_own_platforms_not_the_hosts(
    hooked: Path, places: dict[str, Path], tmp_path: Path
) -> None:
    """manylinux and musllinux wheels of one project, root = real Alpine 3.19: the musllinux one (the
    host's manylinux tags said nothing about the root, and used to rank above its musllinux)."""
    proc = pip(hooked, "install", "--no-deps", "--no-index", "--find-links", str(places["mixed"]), "--target",
               str(tmp_path / "t"), "demo", ALPINETAGS_ROOT=str(places["r319"]))  # fmt: skip
    assert (tmp_path / "t" / "demo.py").read_text() == "WHICH = 'musllinux_1_2_x86_64'\n", proc.stdout
    debug = pip(hooked, "debug", "--verbose", ALPINETAGS_ROOT=str(places["r319"])).stdout
    tags = [line.strip() for line in debug.splitlines() if line.startswith("  ") and line.count("-") == 2]
    assert tags[0] == "cp311-cp311-alpine_3_19_x86_64"
    assert not [t for t in tags if "manylinux" in t], tags
    assert "cp311-cp311-musllinux_1_2_x86_64" in tags and "cp311-cp311-linux_x86_64" in tags


def test_status_with_a_root_says_the_roots_platforms_replace_pips(places: dict[str, Path]) -> None:
    alpinetags = hooked_venv(NEWEST_PIP).parent / "alpinetags"
    text = run([str(alpinetags), "pip", "status", "--root", str(places["r319"])], env=clean_env()).stdout
    assert "instead of its own (the root's, as pip --platform)" in text, text
    assert "before its own" not in text
    data = json.loads(run([str(alpinetags), "pip", "status", "--root", str(places["r319"]), "--json"],
                          env=clean_env()).stdout)  # fmt: skip
    assert data["replaces_pip_platforms"] is True
    assert data["pip"]["candidate_patch_point"] is True
    added = data["platforms_added"]
    assert added[0] == "alpine_3_19_x86_64" and not [p for p in added if p.startswith("manylinux")]
    assert added.index("linux_x86_64") < added.index("musllinux_1_2_x86_64")  # as `alpinetags tags --root`
    tags = run([str(alpinetags), "tags", "--root", str(places["r319"]), "--json"], env=clean_env()).stdout
    assert json.loads(tags)["platforms"] == added


def test_a_pip_without_the_candidate_patch_point_still_checks_at_install(
    places: dict[str, Path], tmp_path: Path
) -> None:
    """A pip whose ``_check_metadata_consistency`` is renamed (a real pip 26.3 with that one edit): one
    warning says the filter is off, pip picks the alpine wheel by its tags, and the install step's own
    METADATA look refuses it, as before the filter existed."""
    python = venv_with_pip(tmp_path / "venv", NEWEST_PIP, enable=True)
    (candidates,) = (tmp_path / "venv").rglob("pip/_internal/resolution/resolvelib/candidates.py")
    source = candidates.read_text()
    assert source.count("_check_metadata_consistency") == 2  # the definition and its one call
    candidates.write_text(source.replace("_check_metadata_consistency", "_check_metadata_renamed"))
    for cached in candidates.parent.glob("__pycache__/candidates.*"):
        cached.unlink()
    proc = install(python, tmp_path / "t", "--no-index", "--find-links", str(places["both"]),
                   ALPINETAGS_ROOT=str(places["r319"]))  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = warnings_of(proc.stderr)
    assert "candidate filter off" in line and "_check_metadata_consistency(self, dist) not found" in line
    assert f"ERROR: alpinetags: {ALPINE} would not load on the system in {places['r319']}" in proc.stderr
    assert "METADATA (Requires-External) needs libexpat.so.1, which the system does not have" in proc.stderr
    assert "apk add so:libexpat.so.1" in proc.stderr  # the install step now gives the plugins' hints too
    assert installed_wheel(tmp_path / "t") == ""

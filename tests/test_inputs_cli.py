"""Ordinary inputs of the other commands, tried as a new user would (issue 17): a bad ``musl:`` value in
``--target``, ``wheel tag`` for releases the tables do not know or below the wheel's needs, ``-w`` that does
not exist yet, ``wheel show``'s exit and JSON shape. Real wheels, real pip-tooling output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    return subprocess.run([sys.executable, "-m", "alpinetags", *args], capture_output=True, text=True,
                          timeout=300, env=env, check=False)  # fmt: skip


@pytest.mark.parametrize(
    "spec", ["alpine:3.19,musl:x,x86_64", "musl:,x86_64", "alpine:3.19,musl:1.x", "glibc:two,x86_64"]
)
def test_a_bad_libc_version_in_target_is_exit_2_naming_it(spec: str) -> None:
    proc = run("tags", "--target", spec)
    assert proc.returncode == 2, proc.stdout
    bad = next(p for p in spec.split(",") if p.startswith(("musl:", "glibc:")))
    assert proc.stderr.startswith("alpinetags: error: --target: ") and repr(bad) in proc.stderr


def test_good_libc_versions_in_target_are_taken() -> None:
    for spec in ("alpine:3.19,musl:1.2.4,x86_64", "alpine:3.19,musl:1.2.4_git20230717,x86_64", "glibc:2.36"):
        proc = run("tags", "--limit", "1", "--target", spec)
        assert proc.returncode == 0, (spec, proc.stderr)


# --------------------------------------------------------------------------------------------------
# wheel tag and wheel show agree


def _jiter() -> Path:
    from tests import parts_native

    return parts_native.jiter_wheel()


@pytest.mark.realparts
@pytest.mark.parametrize(
    ("flag", "said"),
    [
        (["--alpine", "3.5"], "Alpine 3.5 ships musl 1.1.15, older than every musl symbol list"),
        (["--alpine", "3.0"], "Alpine 3.0 ships musl 1.1.1, older than every musl symbol list"),
        (["--alpine", "2.7"], "Alpine 2.7 is not a release the tables know"),
        (["--alpine", "4.0"], "Alpine 4.0 is not a release the tables know"),
        (["--alpine", "3.91"], "Alpine 3.91 is not a release the tables know"),
        (["--system", "alpine:3.5"], "Alpine 3.5 ships musl 1.1.15"),
    ],
)
def test_tag_refuses_a_release_the_tables_do_not_know(tmp_path: Path, flag: list[str], said: str) -> None:
    """jiter 0.19.0 (needs ``getrandom``: musl 1.1.20, Alpine 3.9) stated for releases the tables cannot
    judge. Before, each was written (``alpine_3_5`` ... ``alpine_3_91``), and its own ``wheel show`` then
    called ``alpine_3_5`` an overclaim."""
    proc = run("wheel", "tag", *flag, "-w", str(tmp_path), str(_jiter()))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert said in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.realparts
def test_what_tag_writes_show_does_not_call_an_overclaim(tmp_path: Path) -> None:
    """Every release the tables know, stated for jiter: tag writes exactly the releases ``wheel show``
    finds honest (3.9 and later) and refuses the others; -w is created, nested, as pip wheel does."""
    from alpinetags_alpine import facts

    out = tmp_path / "a" / "b"
    for release in [r.version for r in facts.alpine_releases()]:
        proc = run("wheel", "tag", "--alpine", release, "-w", str(out), str(_jiter()))
        written = sorted(out.glob(f"*-alpine_{release.replace('.', '_')}_x86_64.whl")) if out.is_dir() else []
        if proc.returncode == 0:
            (tagged,) = written
            again = run("wheel", "show", "--json", str(tagged))
            assert again.returncode == 0, (release, again.stdout)
            (data,) = json.loads(again.stdout)
            assert data["overclaims"] == [] and tuple(map(int, release.split("."))) >= (3, 9)
        else:
            assert proc.returncode == 1 and not written, (release, proc.stderr)
            assert tuple(map(int, release.split("."))) < (3, 9) or "not a release" in proc.stderr


@pytest.mark.realparts
def test_show_json_has_one_shape_and_exits_1_on_an_overclaim() -> None:
    """One wheel or two: a list. jiter carries ``musllinux_1_1`` and needs musl 1.1.20: exit 1."""
    one = run("wheel", "show", "--json", str(_jiter()))
    two = run("wheel", "show", "--json", str(_jiter()), str(_jiter()))
    assert one.returncode == two.returncode == 1
    assert isinstance(json.loads(one.stdout), list) and len(json.loads(one.stdout)) == 1
    assert len(json.loads(two.stdout)) == 2
    assert json.loads(one.stdout)[0]["overclaims"]

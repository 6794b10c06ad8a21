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


# --------------------------------------------------------------------------------------------------
# --executable: that interpreter's tags, read from its files and never run

PYENV = Path.home() / ".pyenv" / "versions"


def _pythons() -> list[Path]:
    """This machine's Debian CPython 3.11 (static libpython) and pyenv's 3.12 and 3.10 (shared libpython,
    found through RUNPATH), where present."""
    found = [Path("/usr/bin/python3.11"), PYENV / "3.12.1/bin/python3.12", PYENV / "3.10.13/bin/python3.10"]
    return [p for p in found if p.is_file()]


def _packaging_tags(python: Path) -> list[str]:
    """What packaging (this venv's, on PYTHONPATH) lists inside that interpreter: the ground truth."""
    import packaging

    site = str(Path(packaging.__file__).parent.parent)
    code = "import packaging.tags as t; print('\\n'.join(map(str, t.sys_tags())))"
    proc = subprocess.run([str(python), "-I", "-c", f"import sys; sys.path.insert(0, {site!r}); {code}"],
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return proc.stdout.split()


@pytest.mark.parametrize("python", _pythons(), ids=lambda p: p.name)
def test_tags_for_an_executable_are_what_packaging_lists_inside_it(python: Path) -> None:
    """Same tags, same order: Python version and ABI from the SOABI compiled into the interpreter or its
    libpython, glibc 2.36 from the root's ``libc.so.6`` version definitions. Before: 39 tags, no
    manylinux, "glibc (version unknown)", and a 3.12 executable got cp311 tags."""
    proc = run("tags", "--executable", str(python))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == _packaging_tags(python)
    version = python.name[len("python") :].replace(".", "")
    assert proc.stdout.split()[0].startswith(f"cp{version}-cp{version}-")
    detect = run("detect", "--executable", str(python))
    assert "libc:    glibc 2." in detect.stdout and "version unknown" not in detect.stdout
    shown = python.name[len("python") :]
    assert f"python:  CPython {shown} (cpython-{version}-x86_64-linux-gnu)" in detect.stdout

"""Ordinary inputs of the other commands, tried as a new user would (issue 17): a bad ``musl:`` value in
``--target``, ``wheel tag`` for releases the tables do not know or below the wheel's needs, ``-w`` that does
not exist yet, ``wheel show``'s exit and JSON shape. Real wheels, real pip-tooling output."""

from __future__ import annotations

import os
import subprocess
import sys

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

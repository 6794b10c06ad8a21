"""The project's own settings agree with each other: the locks pin what pyproject asks for, and the
oldest Python requires-python admits is the one mypy checks for and scripts/test runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCKS = ["requirements/test.txt", "requirements/test-py310.txt"]


def pins(lock: str) -> dict[str, str]:
    text = (REPO / lock).read_text()
    return {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_pins_every_requirement_in_its_range(lock: str) -> None:
    pinned = pins(lock)
    wanted = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["test"]]
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pinned, f"{lock} does not pin {req.name}: run bash scripts/lock"
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {req.name}=={pinned[name]}, outside {req.specifier}: run bash scripts/lock"
        )


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_a_hash(lock: str) -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (REPO / lock).read_text())
    for block in blocks:
        if re.match(r"[A-Za-z0-9_.-]+==", block):
            assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]} has no hash"


def test_oldest_python_is_the_one_checked_and_run() -> None:
    spec = SpecifierSet(PYPROJECT["project"]["requires-python"])
    oldest = min(v for v in ("3.9", "3.10", "3.11", "3.12") if spec.contains(f"{v}.0"))
    assert PYPROJECT["tool"]["mypy"]["python_version"] == oldest
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + oldest.replace(".", "")
    script = (REPO / "scripts" / "test").read_text()
    assert f"python{oldest}" in script and f"test-py{oldest.replace('.', '')}.txt" in script

"""A third-party plugin, built and installed with pip into a fresh venv, is found like the shipped ones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.venvs import make_venv

PLUGIN_SRC = Path(__file__).parent / "data" / "example_plugin"


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("third-party")
    src = base / "src"
    shutil.copytree(PLUGIN_SRC, src)
    wheels = base / "wheels"
    from tests.venvs import run

    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "-w", str(wheels), str(src)])  # fmt: skip
    (wheel,) = wheels.glob("alpinetags_example-2.5.0-*.whl")
    return make_venv(base / "venv", str(wheel))


def alpinetags(python: Path, *argv: str, **env: str) -> dict[str, object]:
    proc = subprocess.run(
        [str(python), "-m", "alpinetags", *argv, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_plugin_is_found_through_its_entry_point(venv_python: Path) -> None:
    rows = alpinetags(venv_python, "plugins")
    by_name = {r["name"]: r for r in rows}  # type: ignore[union-attr,index]
    assert by_name["example"]["distribution"] == "alpinetags-example"
    assert by_name["example"]["version"] == "2.5.0"
    assert by_name["example"]["status"] == "loaded"
    assert by_name["example"]["marker_variables"] == ["exampleos_major"]
    assert {"alpine", "musl"} <= set(by_name)


def test_plugin_adds_its_tag(venv_python: Path) -> None:
    data = alpinetags(venv_python, "tags", "--target", "exampleos:7.1,x86_64")
    assert data["platforms"] == ["exampleos_7_x86_64", "linux_x86_64"]


def test_plugin_detect_hook_taking_target_and_base_only(venv_python: Path, tmp_path: Path) -> None:
    """Its alpinetags_detect predates the hook's ``interpreter`` argument and still answers."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text("ID=exampleos\nVERSION_ID=7.1\n")
    data = alpinetags(venv_python, "tags", "--root", str(tmp_path))
    platform = data["platform"]
    assert (platform["detected_by"], platform["libc"]) == ("example", "glibc")  # type: ignore[index]
    assert data["platforms"][0] == f"exampleos_7_{platform['arch']}"  # type: ignore[index]


def test_plugin_can_be_blocked_by_name(venv_python: Path) -> None:
    by_env = alpinetags(
        venv_python, "tags", "--target", "exampleos:7.1,x86_64", ALPINETAGS_DISABLE_PLUGINS="example"
    )
    assert by_env["platforms"] == ["linux_x86_64"]
    by_flag = alpinetags(
        venv_python, "tags", "--target", "exampleos:7.1,x86_64", "--disable-plugin", "example"
    )
    assert by_flag["platforms"] == ["linux_x86_64"]
    rows = alpinetags(venv_python, "plugins", "--disable-plugin", "example")
    assert {r["name"]: r["status"] for r in rows}["example"] == "blocked"  # type: ignore[union-attr,index]

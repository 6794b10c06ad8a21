"""What makes start-up cheap changes no answer (issue 21; the figures are bench/bench_startup.py's, no
test here is timed): a command line builds only the parsers it needs, yet every help and error is the
full parser's; ``alpinetags tags`` and ``sys_tags()`` give, warm from the cache, what the full path gives;
and a warm call imports neither pluggy nor distro nor the plugins."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alpinetags.cli import main as cli
from tests import realparts


def registered(module: str) -> list[str]:
    """The command names ``module.register`` adds, as it adds them."""
    import argparse
    import importlib

    names: list[str] = []
    sub = argparse.ArgumentParser().add_subparsers()

    def add(name: str, func: Callable[..., int], help: str, examples: str = "") -> Any:
        names.append(name)
        return sub.add_parser(name)

    importlib.import_module(module).register(sub, add)
    return names


@pytest.mark.parametrize("module", cli.COMMAND_MODULES)
def test_module_commands_are_what_each_module_registers(module: str) -> None:
    assert tuple(registered(module)) == cli.MODULE_COMMANDS[module]


def _help(words: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.build_parser(words).parse_args(words)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _full(words: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.build_parser().parse_args(words)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "words",
    [
        ["--help"],
        ["check", "--help"],
        ["--root", "/", "check", "--help"],
        ["wheel", "show", "--help"],
        ["pip", "--help"],
        ["markers", "--help"],
        ["tags", "--help"],
        ["chek"],  # argparse lists every command
        ["tags", "--limit", "0"],
        ["--json", "--nosuch"],
        ["experiment", "--help"],
    ],
)
def test_a_partial_parser_says_what_the_full_one_says(words: list[str]) -> None:
    assert _help(words) == _full(words)


def test_the_command_names_its_module_only() -> None:
    assert cli.modules_for(["check", "x"]) == ["alpinetags.cli.check"]
    assert cli.modules_for(["--root", "check", "tags"]) == []  # "check" is --root's value here
    assert cli.modules_for(["tags"]) == [] and cli.modules_for([]) == []
    assert cli.modules_for(["nosuch"]) == cli.COMMAND_MODULES
    assert cli.modules_for(["tags", "-h"]) == cli.COMMAND_MODULES


def alpinetags(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alpinetags", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize("system", ["host", "alpine"])
def test_plain_tags_warm_and_cold_is_the_parsed_command(system: str, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    if system == "alpine":
        env["ALPINETAGS_ROOT"] = str(realparts.alpine_minirootfs("3.19"))
    full = alpinetags("tags", "--limit", "100000", env=env)  # the parser's path, never the cache's
    assert full.returncode == 0 and full.stderr == ""
    for _ in range(2):  # cold (stored), then warm (from the file)
        plain = alpinetags("tags", env=env)
        assert (plain.returncode, plain.stdout, plain.stderr) == (0, full.stdout, "")
    assert list((tmp_path / "cache" / "alpinetags").glob("detect-*"))


def test_a_warm_call_imports_no_plugin_machinery(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = (
        "import sys, alpinetags; tags = alpinetags.sys_tags(); "
        "print(len(tags), *sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pluggy', 'distro', 'alpinetags_alpine', 'alpinetags_musl', 'dataclasses')))"
    )
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "pluggy" in cold.stdout.split()
    assert warm.stdout.split()[0] == cold.stdout.split()[0]
    assert warm.stdout.split()[1:] == [], warm.stdout
    off = subprocess.run([sys.executable, "-c", code], env={**env, "ALPINETAGS_NO_CACHE": "1"},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert off.stdout.split()[0] == cold.stdout.split()[0] and "pluggy" in off.stdout.split()

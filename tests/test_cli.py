"""The command line keeps its word: bad counts and names are refused or warned about, every command's
``--help`` teaches with its own examples, ``-v`` says what was read and what each plugin answered."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from alpinetags.cli.main import build_parser
from tests import realparts


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alpinetags", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("value", ["0", "-1", "three"])
def test_limit_must_be_a_positive_count(value: str) -> None:
    proc = run("tags", "--limit", value)
    assert proc.returncode == 2
    assert repr(value) in proc.stderr
    assert proc.stdout == ""


def test_limit_keeps_the_first_tags() -> None:
    every = run("tags").stdout.splitlines()
    assert run("tags", "--limit", "3").stdout.splitlines() == every[:3]


def test_unknown_plugin_to_disable_is_warned_about_once() -> None:
    proc = run("tags", "--limit", "1", "--disable-plugin", "nosuch", "--disable-plugin", "nosuch,alpine")
    assert proc.returncode == 0
    warnings = [line for line in proc.stderr.splitlines() if "nosuch" in line]
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith("alpinetags: warning: no plugin named 'nosuch'")
    assert "'alpine'" not in proc.stderr  # a known plugin is blocked without a word


def _subcommands() -> dict[str, str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {name: p.format_help() for name, p in sub.choices.items()}  # type: ignore[attr-defined]


def _examples(help_text: str) -> str:
    m = re.search(r"^examples:\n(.*?)(?:\n\n|\Z)", help_text, re.S | re.M)
    return m.group(1) if m else ""


def test_every_command_ends_with_its_own_examples() -> None:
    helps = _subcommands()
    assert {"tags", "detect", "plugins", "markers", "filter"} <= set(helps)
    seen: dict[str, str] = {}
    for name, text in helps.items():
        examples = _examples(text)
        assert examples, f"`alpinetags {name} --help` has no examples"
        # Every example line that runs alpinetags runs this very command.
        commands = re.findall(r"alpinetags (\S+)", examples)
        assert commands and all(c == name for c in commands), (name, commands)
        assert examples not in seen.values(), f"{name} repeats the examples of another command"
        seen[name] = examples


def test_verbose_logs_the_files_read_and_each_plugins_answer() -> None:
    root = realparts.alpine_minirootfs("3.17")
    quiet = run("detect", "--root", str(root))
    assert quiet.returncode == 0 and quiet.stderr == ""
    proc = run("detect", "-v", "--root", str(root))
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()
    assert all(line.startswith("alpinetags: ") for line in lines), proc.stderr
    assert any(f"{root}/etc/os-release" in line and "ID=alpine" in line for line in lines), proc.stderr
    assert any("plugin 'alpine' alpinetags_detect -> distro_id=alpine" in line for line in lines), proc.stderr
    tags = run("tags", "-v", "--limit", "1", "--root", str(root)).stderr
    assert "plugin 'alpine' alpinetags_platform_tags -> ['alpine_3_17_x86_64'" in tags, tags

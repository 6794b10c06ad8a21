"""Habits of pip that alpinetags keeps: a bad switch is named, Ctrl-C is one line and exit 130, long work
shows progress on a terminal only. Real pip (26.3), real wheels, a real pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests import parts_pip
from tests.test_pip import WARNING, alpine_root, pip, warnings_of, wheelhouse
from tests.venvs import NEWEST_PIP, clean_env, hooked_venv

pytestmark = pytest.mark.realparts


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pip-habits")
    return {
        "house": wheelhouse(base / "house", "alpine_3_17_x86_64", "musllinux_1_2_x86_64", "any"),
        "r317": alpine_root(base / "r317", "3.17.5"),
    }


@pytest.fixture(scope="module")
def hooked() -> Path:
    return hooked_venv(NEWEST_PIP)


def alpinetags(hooked: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(hooked.parent / "alpinetags"), *argv], capture_output=True, text=True,
                          env=clean_env(**env), timeout=300)  # fmt: skip


@pytest.mark.parametrize("name", ["ALPINETAGS_PIP", "ALPINETAGS_CHECK"])
def test_a_bad_switch_is_an_error_naming_it(hooked: Path, places: dict[str, Path], name: str) -> None:
    for argv in (["pip", "status"], ["pip", "install", "--dry-run", "--no-index", "demo"]):
        proc = alpinetags(hooked, *argv, **{name: "maybe"})
        assert proc.returncode == 2, (argv, proc)
        assert proc.stderr.startswith(f"alpinetags: error: {name}='maybe' is not a switch"), proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("name", "which", "warning"),
    [
        ("ALPINETAGS_PIP", "any", "pip hook off"),  # 'maybe' is not on: pip's own tags
        ("ALPINETAGS_CHECK", "alpine_3_17_x86_64", "native check off"),  # the hook's tags, unchecked
    ],
)
def test_under_pip_a_bad_switch_is_one_warning_and_pip_runs(
    hooked: Path, places: dict[str, Path], tmp_path: Path, name: str, which: str, warning: str
) -> None:
    proc = pip(hooked, "install", "--no-deps", "--no-index", "--find-links", str(places["house"]), "--target",
               str(tmp_path / "t"), "demo", ALPINETAGS_ROOT=str(places["r317"]),
               **{name: "maybe"})  # fmt: skip
    assert (tmp_path / "t" / "demo.py").read_text() == f"WHICH = {which!r}\n"
    (line,) = warnings_of(proc.stderr)
    assert line.startswith(f"{WARNING} {warning}") and f"{name}='maybe' is not a switch" in line
    assert "Traceback" not in proc.stderr


# --- a real terminal ------------------------------------------------------------------------------------


def on_pty(argv: list[str], interrupt_on: str = "") -> tuple[int, str]:
    """Run ``argv`` with stdin and stderr on a new pseudo-terminal (stdout to a pipe, read back after);
    with ``interrupt_on``, send SIGINT once that text has appeared on the terminal. (exit code, terminal
    output). Without the check cache: these tests need the long work itself, not an answer kept from the
    test before (docs/speed.md, the check cache)."""
    master, slave = pty.openpty()
    env = {**clean_env(), "ALPINETAGS_NO_CACHE": "1"}
    proc = subprocess.Popen(argv, stdin=slave, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    sent = False
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                if interrupt_on and not sent and interrupt_on.encode() in seen:
                    proc.send_signal(signal.SIGINT)
                    sent = True
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, seen.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve copies of the real numpy and ujson wheels (pinned, tests/parts_pip.py): seconds of work."""
    folder = tmp_path_factory.mktemp("big")
    for i in range(6):
        for wheel in parts_pip.musllinux_wheels():
            (folder / wheel.name.replace("-cp311-", f"-{i}-cp311-", 1)).symlink_to(wheel)
    return folder


def test_check_shows_progress_on_a_terminal_only(hooked: Path, big_folder: Path) -> None:
    tool = str(hooked.parent / "alpinetags")
    code, shown = on_pty([tool, "check", str(big_folder)])
    assert code in (0, 1), shown
    assert f"alpinetags: checking {big_folder} ... " in shown, shown
    code, quiet = on_pty([tool, "check", "-q", str(big_folder)])
    assert code in (0, 1) and "alpinetags: checking" not in quiet, quiet
    piped = subprocess.run([tool, "check", str(big_folder)], capture_output=True, text=True, env=clean_env())
    assert piped.returncode in (0, 1) and "checking" not in piped.stderr, piped.stderr


def test_ctrl_c_is_one_line_and_exit_130(hooked: Path, big_folder: Path) -> None:
    tool = str(hooked.parent / "alpinetags")
    code, shown = on_pty([tool, "check", str(big_folder)], interrupt_on="alpinetags: checking")
    assert code == 130, shown
    assert "alpinetags: interrupted" in shown and "Traceback" not in shown, shown

"""The pip hook's two files in a real venv (issue 21): ``alpinetags pip enable`` writes
``alpinetags_pip_hook.py`` and the ``.pth`` whose line imports it, and plain pip gets the root's alpine
tags through them; ``disable`` removes both. Also: the upgrade from the ``.pth`` of the previous form (an
``exec`` line), what a half-removed hook does to Python and pip, and a site-packages the user cannot write.

Real pip 26.3 in one fresh venv (the tests run one after the other and each leaves the hook off), the
real Alpine 3.19 x86_64 minirootfs as ``ALPINETAGS_ROOT``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import realparts
from tests.venvs import NEWEST_PIP, REPO, clean_env, run, venv_with_pip

pytestmark = pytest.mark.realparts

EXEC_PTH = Path(__file__).parent / "data" / "alpinetags-pip-hook-exec-455e570.pth"
PTH = "alpinetags-pip-hook.pth"
MODULE = "alpinetags_pip_hook.py"
LOADED = "import sys; print(sum(bool(getattr(f, 'alpinetags_pip_hook', False)) for f in sys.meta_path))"


@pytest.fixture(scope="module")
def fresh() -> Iterator[Path]:
    """A venv with pip 26.3 and alpinetags, hook off, in a folder another user can enter."""
    base = Path(tempfile.mkdtemp(prefix="alpinetags-hookfiles-"))
    os.chmod(base, 0o755)
    try:
        yield venv_with_pip(base / "venv", NEWEST_PIP, enable=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def site_of(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(run([str(python), "-c", code], env=clean_env()).stdout.strip())


def alpinetags(python: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python.parent / "alpinetags"), "pip", *argv], capture_output=True, text=True,
                          env=clean_env(), timeout=120)  # fmt: skip


def started(python: Path, code: str = "print('started')") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=clean_env(), cwd="/")


def first_tag(python: Path) -> str:
    """The first tag of ``pip debug --verbose`` with the real Alpine 3.19 root."""
    root = str(realparts.alpine_minirootfs("3.19"))
    proc = subprocess.run([str(python), "-m", "pip", "debug", "--verbose"], capture_output=True, text=True,
                          env=clean_env(ALPINETAGS_ROOT=root), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    tags = [
        line.strip() for line in proc.stdout.splitlines() if line.startswith("  ") and line.count("-") == 2
    ]
    return tags[0]


def test_enable_writes_both_files_pip_gets_the_tags_and_disable_removes_both(fresh: Path) -> None:
    site = site_of(fresh)
    assert not first_tag(fresh).endswith("alpine_3_19_x86_64")
    # the module's name is nobody else's here: nothing of that name on the path before enable
    taken = started(fresh, "import importlib.util; print(importlib.util.find_spec('alpinetags_pip_hook'))")
    assert taken.stdout == "None\n", taken
    on = alpinetags(fresh, "enable", "--json")
    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout) == {"command": "enable", "user": False, "path": str(site / PTH),
                                     "module": str(site / MODULE), "changed": True}  # fmt: skip
    assert (site / PTH).read_text().splitlines()[-1] == "import alpinetags_pip_hook"
    # enable compiled the module: the first start finds that bytecode valid and does not rewrite it
    (cached,) = (site / "__pycache__").glob("alpinetags_pip_hook.*.pyc")
    stamp = cached.stat().st_mtime_ns
    proc = started(fresh, LOADED)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n", "")
    assert cached.stat().st_mtime_ns == stamp
    assert first_tag(fresh).endswith("-alpine_3_19_x86_64")
    # enable again: the module is left as it is (same text), still one finder
    written = (site / MODULE).stat().st_mtime_ns
    assert alpinetags(fresh, "enable").returncode == 0
    assert (site / MODULE).stat().st_mtime_ns == written
    assert started(fresh, LOADED).stdout == "1\n"
    status = json.loads(alpinetags(fresh, "status", "--json").stdout)
    assert status["pth_files"]["site"] == str(site / PTH)
    assert status["hook_modules"]["site"] == str(site / MODULE)
    assert status["hook_bytecode_cached"]["site"] is True
    # the bytecode deleted where Python may not write it again: status says so, enable writes it back
    cached.unlink()
    env = clean_env(PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([str(fresh.parent / "alpinetags"), "pip", "status"], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert "its bytecode is not cached in __pycache__" in proc.stdout, proc.stdout
    assert not cached.exists()
    assert alpinetags(fresh, "enable").returncode == 0 and cached.is_file()
    off = alpinetags(fresh, "disable")
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == f"pip hook off: removed {site / PTH} and {site / MODULE}"
    assert not list(site.glob("alpinetags*pip*hook*")) and not list(site.rglob("alpinetags_pip_hook.*"))
    assert started(fresh, LOADED).stdout == "0\n"
    assert not first_tag(fresh).endswith("alpine_3_19_x86_64")
    status = json.loads(alpinetags(fresh, "status", "--json").stdout)
    assert status["pth_files"]["site"] is None and status["hook_modules"]["site"] is None
    assert "was not on" in alpinetags(fresh, "disable").stdout


def test_the_exec_pth_of_the_previous_form_works_and_enable_replaces_it(fresh: Path) -> None:
    """The file ``enable`` wrote before issue 21 (kept as written at commit 455e570) still hooks pip after
    an upgrade; ``enable`` replaces it by the one-line import, and there is still one finder."""
    site = site_of(fresh)
    assert "import sys; exec(" in EXEC_PTH.read_text()
    shutil.copy(EXEC_PTH, site / PTH)
    try:
        proc = started(fresh, LOADED)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n", "")
        assert first_tag(fresh).endswith("-alpine_3_19_x86_64")
        assert alpinetags(fresh, "enable").returncode == 0
        assert "exec(" not in (site / PTH).read_text() and (site / MODULE).is_file()
        proc = started(fresh, LOADED)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n", "")
        assert first_tag(fresh).endswith("-alpine_3_19_x86_64")
    finally:
        alpinetags(fresh, "disable")
    assert not (site / PTH).exists()


def test_a_pth_without_its_module_python_and_pip_still_run(fresh: Path) -> None:
    """Only by hand (enable writes the module first, disable removes the .pth first): ``site`` prints its
    error for the line at each start, and Python and pip run as usual, pip with its own tags."""
    site = site_of(fresh)
    assert alpinetags(fresh, "enable").returncode == 0
    try:
        (site / MODULE).unlink()
        for cached in (site / "__pycache__").glob("alpinetags_pip_hook.*"):
            cached.unlink()
        proc = started(fresh)
        assert proc.returncode == 0 and proc.stdout == "started\n"
        first = proc.stderr.splitlines()[0]
        assert first.startswith("Error processing line ") and first.endswith(f" of {site / PTH}:"), first
        assert "ModuleNotFoundError: No module named 'alpinetags_pip_hook'" in proc.stderr
        assert "Remainder of file ignored" in proc.stderr
        assert run([str(fresh), "-m", "pip", "--version"], env=clean_env()).stdout.startswith("pip 26.3 ")
        assert not first_tag(fresh).endswith("alpine_3_19_x86_64")
        text = alpinetags(fresh, "status").stdout
        assert f"the site .pth has no {MODULE} beside it" in text, text
    finally:
        assert alpinetags(fresh, "disable").stdout.strip() == f"pip hook off: removed {site / PTH}"
    proc = started(fresh)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_a_module_without_its_pth_is_inert(fresh: Path) -> None:
    site = site_of(fresh)
    assert alpinetags(fresh, "enable").returncode == 0
    (site / PTH).unlink()
    code = f"{LOADED}; print('alpinetags_pip_hook' in sys.modules)"
    proc = started(fresh, code)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "0\nFalse\n", "")
    assert alpinetags(fresh, "disable").stdout.strip() == f"pip hook off: removed {site / MODULE}"


def test_a_site_packages_the_user_cannot_write_is_one_clear_error(fresh: Path) -> None:
    """``nobody`` runs ``enable`` and ``disable`` on root's venv: exit 1, one line naming the directory and
    the cause, no traceback, nothing written or removed."""
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    site = site_of(fresh)
    tool = str(fresh.parent / "alpinetags")
    nobody = {"user": 65534, "group": 65534, "extra_groups": [], "env": clean_env(HOME="/nonexistent")}
    proc = subprocess.run([tool, "pip", "enable"], capture_output=True, text=True, timeout=120, **nobody)
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith(f"alpinetags pip: cannot enable the hook in {site}: Permission denied")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not list(site.glob("alpinetags*pip*hook*"))
    assert alpinetags(fresh, "enable").returncode == 0
    try:
        proc = subprocess.run([tool, "pip", "disable"], capture_output=True, text=True, timeout=120, **nobody)
        assert proc.returncode == 1, proc
        assert proc.stderr == f"alpinetags pip: cannot disable the hook in {site}: Permission denied\n"
        assert (site / PTH).is_file() and (site / MODULE).is_file()
    finally:
        alpinetags(fresh, "disable")


def test_user_site_the_same(tmp_path: Path) -> None:
    """``--user`` with a Python that reads the user site (this venv's base interpreter, alpinetags from the
    working tree): the two files in the user site, the hook loaded at that Python's start, both removed."""
    base = getattr(sys, "_base_executable", sys.executable)
    env = clean_env(PYTHONUSERBASE=str(tmp_path / "userbase"), PYTHONPATH=str(REPO))
    user_site = Path(
        run([base, "-c", "import site; print(site.getusersitepackages())"], env=env).stdout.strip()
    )
    assert user_site.is_relative_to(tmp_path)
    on = run([base, "-m", "alpinetags", "pip", "enable", "--user"], env=env, cwd="/")
    assert on.stdout.strip() == f"pip hook on: wrote {user_site / PTH} and {user_site / MODULE}"
    assert (user_site / MODULE).is_file() and (user_site / PTH).is_file()
    assert list((user_site / "__pycache__").glob("alpinetags_pip_hook.*.pyc"))
    assert run([base, "-c", LOADED], env=env, cwd="/").stdout == "1\n"
    assert run([base, "-s", "-c", LOADED], env=env, cwd="/").stdout == "0\n"  # -s: no user site
    off = run([base, "-m", "alpinetags", "pip", "disable", "--user"], env=env, cwd="/")
    assert off.stdout.strip() == f"pip hook off: removed {user_site / PTH} and {user_site / MODULE}"
    assert list(user_site.iterdir()) == []  # the bytecode and the __pycache__ it made gone too
    assert run([base, "-c", LOADED], env=env, cwd="/").stdout == "0\n"

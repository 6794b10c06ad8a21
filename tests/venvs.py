"""Fresh virtual environments with this working tree's alpinetags installed, for tests that need a real pip.

The alpinetags wheel is built from the working tree once per test session; its dependencies are
downloaded once into ``.cache/wheels`` and installed with ``--no-index`` after that, so a venv takes a
few seconds and needs the network only on a machine's first run.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WHEEL_CACHE = REPO / ".cache" / "wheels"
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

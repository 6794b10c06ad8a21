"""A ``.pth`` line written before the layout move (alpinetags 0.1, which named ``alpinetags._pth``) keeps
working after an upgrade: Python starts cleanly, and pip still gets the root's alpine tags through it.

``tests/data/alpinetags-pip-hook-0.1.0.pth`` is the file ``alpinetags pip enable`` wrote at commit 2bcff3f,
kept as it was on disk (it is not made by the code under test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import realparts

OLD_PTH = Path(__file__).parent / "data" / "alpinetags-pip-hook-0.1.0.pth"

CODE = """\
import site, sys
site.addsitedir(sys.argv[1])   # runs the old .pth line, as site does at start for site-packages
assert any(getattr(f, "alpinetags_pip_hook", False) for f in sys.meta_path), "finder not installed"
from pip._internal.utils import compatibility_tags
print("\\n".join(str(t) for t in compatibility_tags.get_supported()))
"""


def test_an_old_pth_line_still_hooks_pip_after_the_move(tmp_path: Path) -> None:
    assert "alpinetags._pth import find_pip_module_spec" in OLD_PTH.read_text()
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "alpinetags-pip-hook.pth").write_text(OLD_PTH.read_text())
    root = realparts.alpine_minirootfs("3.19")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    env.update(ALPINETAGS_ROOT=str(root), ALPINETAGS_NO_CACHE="1")
    proc = subprocess.run([sys.executable, "-c", CODE, str(site_dir)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Error processing line" not in proc.stderr and "Traceback" not in proc.stderr
    tags = proc.stdout.split()
    assert tags[0].endswith("-alpine_3_19_x86_64"), tags[:3]


def test_an_old_pth_line_never_breaks_python_when_alpinetags_is_gone(tmp_path: Path) -> None:
    """The same line with alpinetags not importable (uninstalled, the file left behind): a clean start."""
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "alpinetags-pip-hook.pth").write_text(OLD_PTH.read_text())
    code = "import site, sys; site.addsitedir(sys.argv[1]); import json; print('started')"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(site_dir)], capture_output=True,
                          text=True, timeout=60, check=False, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip() == "started" and proc.stderr == "", proc.stderr

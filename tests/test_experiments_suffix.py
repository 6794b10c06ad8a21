"""Python's side of a wheel's platform: the interpreter imports only the extension file names its
``EXTENSION_SUFFIXES`` list, which no platform tag states (docs/spec.md, "the extension suffix").

Shown with the Alpine-built CPython 3.11 in the real Alpine 3.17 root: one of its own modules, copied
under the ``-linux-gnu`` name musllinux wheels once carried (cibuildwheel issue 934), still loads as a file
but is not found by ``import``; under its ``-linux-musl``, ``abi3`` and bare names it imports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import realparts

pytestmark = pytest.mark.realparts

SCRIPT = """
import importlib.machinery as m, importlib.util as u, sys
sys.path.insert(0, "/tmp/mods")
out = {"suffixes": m.EXTENSION_SUFFIXES, "found": {}}
for name in sys.argv[1:]:
    assert name not in sys.modules
    spec = u.find_spec(name)
    if spec is not None:
        mod = u.module_from_spec(spec)
        spec.loader.exec_module(mod)
    out["found"][name] = spec.origin if spec else None
import json  # only now: nothing it imports may be probed
print(json.dumps(out))
"""


def test_a_gnu_named_module_is_invisible_to_a_musl_named_python(tmp_path: Path) -> None:
    prefix = realparts.krunner_python("x86_64")
    src = next(
        (prefix / "lib" / "python3.11" / "lib-dynload").glob("_bisect.cpython-311-x86_64-linux-musl.so")
    )
    root = realparts.copy_minirootfs("3.17", tmp_path / "root")
    shutil.copytree(prefix, root / "opt" / "krunner", symlinks=True, copy_function=realparts._link_or_copy)
    mods = root / "tmp" / "mods"
    # the same ELF file under four names; PyInit__bisect inside, so each is imported as its own top name
    names = {
        "gnu": "cpython-311-x86_64-linux-gnu.so",
        "musl": "cpython-311-x86_64-linux-musl.so",
        "abi3": "abi3.so",
        "bare": "so",
    }
    for kind, suffix in names.items():
        (mods / kind).mkdir(parents=True)
        shutil.copy2(src, mods / kind / f"_bisect.{suffix}")
    (root / "tmp" / "probe.py").write_text(
        SCRIPT.replace('"/tmp/mods"', "sys.argv.pop(1)")  # one directory per run
    )
    found = {}
    for kind in names:
        proc = realparts.run_in_root(
            root, ["/opt/krunner/bin/python3.11", "-I", "-S", "/tmp/probe.py", f"/tmp/mods/{kind}", "_bisect"]
        )
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        found[kind] = out["found"]["_bisect"]
    assert out["suffixes"] == [".cpython-311-x86_64-linux-musl.so", ".abi3.so", ".so"]
    assert found["musl"] == "/tmp/mods/musl/_bisect.cpython-311-x86_64-linux-musl.so"
    assert found["abi3"] == "/tmp/mods/abi3/_bisect.abi3.so"
    assert found["bare"] == "/tmp/mods/bare/_bisect.so"
    # the -gnu file is skipped: the import falls through to the interpreter's own module
    assert found["gnu"].startswith("/opt/krunner/lib/python3.11/lib-dynload/")
    # ... though the file itself loads and works when named explicitly
    gnu = "/tmp/mods/gnu/_bisect.cpython-311-x86_64-linux-gnu.so"
    code = (
        "import importlib.machinery as m, importlib.util as u\n"
        f"loader = m.ExtensionFileLoader('_bisect', {gnu!r})\n"
        "mod = u.module_from_spec(u.spec_from_loader('_bisect', loader))\n"
        "loader.exec_module(mod)\n"
        "print(mod.__file__, mod.bisect_left([10, 20, 30], 20))\n"
    )
    proc = realparts.run_in_root(root, ["/opt/krunner/bin/python3.11", "-I", "-S", "-c", code])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [gnu, "1"]

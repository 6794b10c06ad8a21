"""The native check on glibc, on this machine (Debian 12, glibc 2.36) as the root: the Python running the
tests, its standard extension modules, and real manylinux wheels (numpy 2.4.6, pillow 13.0.0: bundled
libraries with their own symbol versions), every verdict confirmed by a real import in this interpreter.
The negative glibc case (a ``GLIBC``-style version the library does not define) is in test_native_cases.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from alpinetags._load.native import check_paths, check_wheel
from tests import parts_native

pytestmark = pytest.mark.realparts

IMPORT_EACH = """
import importlib.util, sys
site = sys.argv[1]
sys.path.insert(0, site)
for path in sys.argv[2:]:
    name = path[len(site) + 1:].split(".")[0].replace("/", ".")
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        print("OK", path, flush=True)
    except BaseException as e:
        print("FAIL", path, repr(e).replace("\\n", " ")[:1000], flush=True)
"""
LINKER_WORDS = ("cannot open shared object file", "undefined symbol", "version `", "wrong ELF class")


def _imports(site: Path, modules: list[str]) -> dict[str, tuple[bool, str]]:
    proc = subprocess.run([sys.executable, "-I", "-c", IMPORT_EACH, str(site), *modules], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    out = {}
    for line in proc.stdout.splitlines():
        status, path, *rest = line.split(" ", 2)
        message = rest[0] if rest else ""
        out[path] = (status == "OK" or not any(w in message for w in LINKER_WORDS), message)
    assert set(out) == set(modules), proc.stderr[-2000:]
    return out


def test_this_pythons_own_extension_modules() -> None:
    base = {
        "installed_base": sys.base_prefix,
        "installed_platbase": sys.base_prefix,
        "platbase": sys.base_prefix,
    }
    dynload = Path(sysconfig.get_paths(vars=base)["platstdlib"]) / "lib-dynload"
    report = check_paths([str(dynload)], "/")
    assert report.system.libc == "glibc" and len(report.objects) > 20
    real = _imports(dynload, [v.path for v in report.objects])
    for v in report.objects:
        assert v.libc == "glibc"
        assert v.loads == real[v.path][0], (v.path, v.reasons, real[v.path][1])
    assert report.ok
    resolved = {name for v in report.objects for name, _ in v.resolved}
    assert "libc.so.6" in resolved


@pytest.mark.parametrize("project", ["numpy", "pillow"])
def test_manylinux_wheels(project: str, tmp_path: Path) -> None:
    wheel = next(w for w in parts_native.real_wheels("manylinux") if w.name.startswith(project + "-"))
    report = check_wheel(str(wheel), "/")
    assert report.ok, [v.reasons[:3] for v in report.failures]
    assert report.dependencies  # the bundled libraries, checked through the modules that load them
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    installed = check_paths([str(site)], "/")
    modules = [v.path for v in installed.objects]
    real = _imports(site, modules)
    for v in installed.objects:
        assert v.loads == real[v.path][0], (v.path, v.reasons, real[v.path][1])
    wanted = {ver for v in installed.objects for ver in v.missing_versions}
    assert not wanted

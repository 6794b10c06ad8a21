"""The native check's predictions against real loads: real Alpine binaries and the Alpine-built CPython's
extension modules, in every real x86_64 Alpine root (3.6 ... 3.20, edge).

For each root R, one private copy holds every distinct ELF file of every x86_64 minirootfs under ``/x/f/``
and the Alpine CPython under ``/opt/py``. Then, in one chroot run per root and per kind:

* R's own musl loader runs ``--list FILE`` on each file (for an extension module with
  ``LD_PRELOAD=libpython``, which gives it Python's C API; lines about libpython itself are left out, since
  libpython is not the module under test);
* each Alpine file is loaded with code run (``tests/parts_dlprobe.py``: a library dlopened with its
  constructors, a program started): ``--list`` runs none, so a file it lists may still die (DT_RELR builds
  of 3.18+ on 3.14 and older), and then the real load decides;
* the CPython imports each extension module by file, in a fresh interpreter per root.

The check predicts the same from the files alone (``check_paths`` on the copy, nothing run) and must agree
on every (file, root): loads or not, and for failures the same missing sonames and the same missing symbols
of the file itself. The real results are computed once per session (``real_loads``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from alpinetags._elf.elffile import read_elf
from alpinetags._elf.elfscan import scan_tree
from alpinetags._load.native import CheckReport, ObjectVerdict, check_paths, plugin_hints
from tests import parts_dlprobe, realparts

pytestmark = pytest.mark.realparts

PY = "/opt/py"
PY_BIN = f"{PY}/bin/python3.11"
LIBPYTHON = f"{PY}/lib/libpython3.11.so.1.0"
DYNLOAD = f"{PY}/lib/python3.11/lib-dynload"
FILES = "/x/f"
LOADER = "/lib/ld-musl-x86_64.so.1"

_LOAD_ERR_RE = re.compile(r"Error loading shared library (\S+?): .*\(needed by (\S+)\)")
_RELOC_ERR_RE = re.compile(r"Error relocating (\S+?): (\S+): symbol not found")

#: Run by sh inside the root: the root's own loader in --list mode on each file, one block per file.
LIST_SCRIPT = """
for f in "$@"; do
  echo "@@@ $f"
  case "$f" in
    */lib-dynload/*) LD_PRELOAD={libpython} {loader} --list "$f" 2>&1 >/dev/null ;;
    *) {loader} --list "$f" 2>&1 >/dev/null ;;
  esac
  echo "@@@ rc=$?"
done
"""

#: Run by the Alpine CPython inside the root: import each extension module from its file.
IMPORT_SCRIPT = """
import importlib.util, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    try:
        spec = importlib.util.spec_from_file_location(f.split(".")[0], os.path.join(d, f))
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        print("OK", f, flush=True)
    except BaseException as e:
        print("FAIL", f, repr(e).replace("\\n", " ")[:2000], flush=True)
"""


@dataclass(frozen=True)
class Real:
    """What the real loader said about one file in one root."""

    loads: bool
    sonames: frozenset[str]  # "Error loading shared library X" (at any depth)
    own_symbols: frozenset[str]  # "Error relocating FILE: sym" for the file itself
    text: str


def _about_libpython(line: str) -> bool:
    """A loader line about libpython itself (the preload that stands in for the interpreter)."""
    m = _RELOC_ERR_RE.search(line)
    return bool(m) and os.path.basename(m.group(1)) == os.path.basename(LIBPYTHON)


def _parse_list_output(stdout: str) -> dict[str, Real]:
    out: dict[str, Real] = {}
    current = None
    lines: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("@@@ rc="):
            assert current is not None
            module = current.startswith(DYNLOAD)
            kept = [x for x in lines if not (module and _about_libpython(x))]
            sonames = frozenset(m.group(1) for x in kept if (m := _LOAD_ERR_RE.search(x)))
            own = frozenset(
                m.group(2) for x in kept if (m := _RELOC_ERR_RE.search(x)) and m.group(1) == current
            )
            # The module's result: its own errors and its dependencies', not libpython's (see the docstring).
            failed = bool(kept) if module else (line != "@@@ rc=0" or bool(kept))
            out[current] = Real(not failed, sonames, own, "\n".join(lines))
            current, lines = None, []
        elif line.startswith("@@@ "):
            current, lines = line[4:], []
        elif current is not None:
            lines.append(line)
    return out


def _distinct_alpine_files() -> list[tuple[str, Path]]:
    """Every distinct ELF file of the x86_64 minirootfs (by content), but the loaders (the libc: the tag's
    business), as (name in /x/f, host path)."""
    seen: set[str] = set()
    out = []
    for m in realparts.minirootfs_manifest():
        if m.arch != "x86_64":
            continue
        root = realparts.alpine_minirootfs(m.minor)
        for obj in scan_tree(str(root)).objects:
            if os.path.basename(obj.member).startswith("ld-musl-"):
                continue
            path = root / obj.member
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            out.append((f"{m.minor}-{obj.member.replace('/', '_')}", path))
    return out


@dataclass
class RootResult:
    name: str
    root: Path
    listed: dict[str, Real]  # inside path -> real --list result
    probed: dict[str, parts_dlprobe.Outcome]  # inside path -> real load with code run (Alpine's files)
    imported: dict[str, tuple[bool, str]]  # inside path -> (loads, message)
    predicted_plain: CheckReport  # Alpine files + modules, Py* names left to the interpreter
    predicted_python: CheckReport  # modules as the CPython at PY_BIN imports them


def _import_failed_by_loader(message: str) -> bool:
    return any(s in message for s in ("Error loading shared library", "Error relocating", "symbol not found"))


@pytest.fixture(scope="session")
def real_loads(tmp_path_factory: pytest.TempPathFactory) -> list[RootResult]:
    files = _distinct_alpine_files()
    krunner = realparts.krunner_python("x86_64")
    base = tmp_path_factory.mktemp("native-real")
    hints = plugin_hints()
    results = []
    for m in realparts.minirootfs_manifest():
        if m.arch != "x86_64":
            continue
        root = realparts.copy_minirootfs(m.minor, base / m.name)
        (root / FILES.lstrip("/")).mkdir(parents=True)
        for name, path in files:
            realparts._link_or_copy(str(path), str(root / FILES.lstrip("/") / name))
        shutil.copytree(krunner, root / PY.lstrip("/"), symlinks=True, copy_function=realparts._link_or_copy)
        modules = sorted(f"{DYNLOAD}/{f}" for f in os.listdir(root / DYNLOAD.lstrip("/")))
        targets = [f"{FILES}/{name}" for name, _ in files] + [PY_BIN, LIBPYTHON, *modules]
        script = LIST_SCRIPT.format(loader=LOADER, libpython=LIBPYTHON)
        proc = realparts.run_in_root(root, ["/bin/sh", "-c", script, "sh", *targets], timeout=600)
        listed = _parse_list_output(proc.stdout)
        assert set(listed) == set(targets), proc.stderr[-2000:]
        # --list runs no code: a file it lists may still die when loaded (DT_RELR on musl < 1.2.4)
        files_in = [(f"{FILES}/{name}", path) for name, path in files]
        items = [("x" if read_elf(str(p)).interpreter else "d", t) for t, p in files_in]
        probed = parts_dlprobe.run_probe(root, "x86_64", items)
        proc = realparts.run_in_root(root, [PY_BIN, "-I", "-c", IMPORT_SCRIPT, DYNLOAD], timeout=300)
        imported: dict[str, tuple[bool, str]] = {}
        if proc.returncode != 0 and not proc.stdout:  # the interpreter itself does not load here
            imported = {mod: (False, proc.stderr.strip()) for mod in modules}
        else:
            for line in proc.stdout.splitlines():
                status, f, *rest = line.split(" ", 2)
                msg = rest[0] if rest else ""
                ok = status == "OK" or not _import_failed_by_loader(msg)
                imported[f"{DYNLOAD}/{f}"] = (ok, msg)
        assert set(imported) == set(modules), proc.stderr[-2000:]
        # Each file named on its own: each is then checked alone, as the loader runs on it alone (in a
        # folder, a library another file needs by soname would be checked as that file's dependency).
        plain = check_paths([str(root / t.lstrip("/")) for t in targets], str(root), hints=hints)
        python = check_paths([str(root / DYNLOAD.lstrip("/"))], str(root), interpreter=PY_BIN, hints=hints)
        results.append(RootResult(m.name, root, listed, probed, imported, plain, python))
    return results


def _verdicts(report: CheckReport) -> dict[str, ObjectVerdict]:
    return {v.path: v for v in report.objects}


def test_predictions_match_the_real_loader_everywhere(real_loads: list[RootResult]) -> None:
    """Zero disagreements between the check and the real musl loader, over every file and root."""
    disagreements = []
    pairs = failures = crashes = 0
    for r in real_loads:
        predicted = _verdicts(r.predicted_plain)
        assert set(predicted) == set(r.listed), set(predicted) ^ set(r.listed)
        for path, real in r.listed.items():
            v = predicted[path]
            pairs += 1
            probe = r.probed.get(path)
            if real.loads and probe is not None and probe.actual == "fails":  # what --list cannot see
                failures += 1
                crashes += 1
                if v.loads or "relr" not in v.missing_features or "SIGSEGV" not in probe.reason:
                    disagreements.append(f"{r.name} {path}: predicted {v.reasons[:2]}, real: {probe}")
                continue
            failures += not real.loads
            own_predicted = {s for s in v.missing_symbols if ": " not in s}
            if v.loads != real.loads:
                disagreements.append(f"{r.name} {path}: predicted loads={v.loads}, real:\n{real.text}")
            elif not real.loads and (
                set(v.missing_sonames) != real.sonames or own_predicted != real.own_symbols
            ):
                disagreements.append(
                    f"{r.name} {path}: predicted {v.missing_sonames} {sorted(own_predicted)}, "
                    f"real:\n{real.text}"
                )
    print(f"{pairs} (file, root) pairs, {failures} real failures ({crashes} crashes), ", end="")
    print(f"{len(disagreements)} disagreements")
    assert not disagreements, "\n".join(disagreements[:20])
    assert crashes > 100  # DT_RELR builds of 3.18+ on 3.14 and older: --list lists them, they die
    assert failures > 100  # the matrix is not all green: sonames and symbols really go missing
    assert pairs > 4000


def test_predictions_match_real_imports_everywhere(real_loads: list[RootResult]) -> None:
    """The CPython's own extension modules, checked as that CPython imports them, against real imports."""
    disagreements = []
    pairs = failures = 0
    for r in real_loads:
        predicted = _verdicts(r.predicted_python)
        for path, (loads, message) in r.imported.items():
            v = predicted[path]
            pairs += 1
            failures += not loads
            if v.loads != loads:
                disagreements.append(f"{r.name} {path}: predicted loads={v.loads}, import said: {message}")
    print(f"{pairs} (module, root) imports, {failures} failed, {len(disagreements)} disagreements")
    assert not disagreements, "\n".join(disagreements[:20])
    assert failures > 50


def _result(real_loads: list[RootResult], name: str) -> RootResult:
    return next(r for r in real_loads if r.name == name)


def test_alpine_3_16_apk_on_3_17(real_loads: list[RootResult]) -> None:
    """The issue's first case: 3.16's apk and libapk lose OpenSSL 1.1 on 3.17; the hint names the package
    that still ships it there (community/openssl1.1-compat), from the soname table."""
    r = _result(real_loads, "3.17-x86_64")
    verdicts = _verdicts(r.predicted_plain)
    for name, soname in (
        ("3.16-sbin_apk", "libcrypto.so.1.1"),
        ("3.16-lib_libapk.so.3.12.0", "libssl.so.1.1"),
    ):
        path = f"{FILES}/{name}"
        v, real = verdicts[path], r.listed[path]
        assert not v.loads and not real.loads
        assert soname in v.missing_sonames and soname in real.sonames
        assert any(f"apk add so:{soname}" in h and "openssl1.1-compat" in h for h in v.hints), v.hints
    first = verdicts[f"{FILES}/3.16-sbin_apk"].reasons[0]
    assert first == (
        "Error loading shared library libcrypto.so.1.1: No such file or directory "
        "(needed by /x/f/3.16-sbin_apk)"
    )


def test_cpython_ssl_on_3_16_and_3_17(real_loads: list[RootResult]) -> None:
    """The issue's second case: the Alpine CPython's ``_ssl`` needs ``libssl.so.3``: missing on 3.16 (where
    only the side package openssl3 ships it, as the hint says), Alpine's own on 3.17."""
    ssl = next(p for p in _result(real_loads, "3.17-x86_64").imported if "/_ssl." in p)
    r16, r17 = _result(real_loads, "3.16-x86_64"), _result(real_loads, "3.17-x86_64")
    v16, v17 = _verdicts(r16.predicted_python)[ssl], _verdicts(r17.predicted_python)[ssl]
    assert v16.missing_sonames == ("libcrypto.so.3", "libssl.so.3")
    assert "libssl.so.3" in r16.imported[ssl][1]
    assert any(h.startswith("apk add so:libssl.so.3") and "openssl3" in h for h in v16.hints), v16.hints
    assert v17.loads and r17.imported[ssl][0]
    assert dict(v17.resolved)["libssl.so.3"] == "/lib/libssl.so.3"


def test_cpython_ctypes_and_libffi_hints(real_loads: list[RootResult]) -> None:
    """``_ctypes`` needs ``libffi.so.8``, which no minirootfs has: it fails on every root, really and as
    predicted. The hint differs: on 3.17 the package to add; on 3.13, whose libffi ships ``libffi.so.7``, that
    no package of that release has it."""
    ctypes = next(p for p in _result(real_loads, "3.17-x86_64").imported if "/_ctypes." in p)
    for name in ("3.13-x86_64", "3.17-x86_64"):
        r = _result(real_loads, name)
        v = _verdicts(r.predicted_python)[ctypes]
        assert not v.loads and not r.imported[ctypes][0]
        assert "libffi.so.8" in v.missing_sonames
    (h13,) = _verdicts(_result(real_loads, "3.13-x86_64").predicted_python)[ctypes].hints
    assert h13.startswith("no Alpine 3.13 package ships libffi.so.8 (Alpine 3.15-3.24: libffi)")
    assert h13.endswith("Alpine 3.13's libffi 3.3-r2 ships libffi.so.7")
    (h17,) = _verdicts(_result(real_loads, "3.17-x86_64").predicted_python)[ctypes].hints
    assert h17 == "apk add so:libffi.so.8  (Alpine 3.17: package libffi 3.4.4-r0 ships it)"

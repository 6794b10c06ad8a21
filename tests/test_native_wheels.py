"""Real musllinux wheels (jiter, numpy, pillow: pinned in tests/parts_native.py) checked as wheels against
real Alpine roots on both sides of musl 1.2, each verdict confirmed in the root:

* by a real load with code run: each module unpacked into the root is ``dlopen``ed, constructors run, after
  a stand-in library gave it the Python C API names (``tests/parts_dlprobe.py``); the root's own loader
  (``ld-musl --list``) is run beside it and must name what the check names whenever the load fails by a
  name (``--list`` runs no code, so it cannot see a ``DT_RELR`` crash: numpy's bundled libraries on 3.14);
* by that CPython importing each module from its file, with the module checked as that CPython imports it
  (an interpreter killed by a signal did not import it).

Bundled libraries (``numpy.libs/libstdc++…``, which finds ``libgcc_s`` only through the module's RPATH) are
checked where they are loaded, as the modules' dependencies, and never alone.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from alpinetags._load.native import CheckReport, check_paths, check_wheel
from tests import parts_dlprobe, parts_native, realparts

pytestmark = pytest.mark.realparts

ROOTS = ("3.8", "3.12", "3.14", "3.17")
PY = "/opt/py/bin/python3.11"
LIBPYTHON = "/opt/py/lib/libpython3.11.so.1.0"
LOADER = "/lib/ld-musl-x86_64.so.1"
LIST_SCRIPT = f"""
for f in "$@"; do
  echo "@@@ $f"
  LD_PRELOAD={LIBPYTHON} {LOADER} --list "$f" 2>&1 >/dev/null | grep -v "^Error relocating {LIBPYTHON}:"
done
true
"""
#: One fresh interpreter per module (a module that crashes or is loaded twice must not hide the next).
IMPORT_SCRIPT = """
import importlib.util, sys
site, path = sys.argv[1:3]
sys.path.insert(0, site)
name = path[len(site) + 1:].split(".")[0].replace("/", ".")
spec = importlib.util.spec_from_file_location(name, path)
spec.loader.exec_module(importlib.util.module_from_spec(spec))
"""
IMPORT_LOOP = f"""
for f in "$@"; do
  echo "@@@ $f"
  {PY} -I -c '{IMPORT_SCRIPT}' /site "$f" 2>&1
  echo "@@rc $?"
done
true
"""
LINKER_WORDS = ("Error loading shared library", "Error relocating", "symbol not found")


def _linked(output: str) -> bool:
    """Whether an import's output shows no loader failure of the module, its libraries or the interpreter
    (a Python-level error does not count, nor another module it imports: PIL's ``_imagingtk`` imports
    ``_tkinter``, whose libtk is not there)."""
    crashed = any(
        line.startswith("@@rc ") and int(line[5:]) in (132, 135, 139) for line in output.splitlines()
    )
    return not crashed and not any(
        w in line and ("/site/" in line or "libpython" in line)
        for line in output.splitlines()
        for w in LINKER_WORDS
    )


@dataclass
class WheelsInRoot:
    minor: str
    root: Path
    wheel_reports: dict[str, CheckReport]  # wheel file name -> check_wheel against the root
    unpacked_plain: CheckReport  # the wheels unpacked in /site, no interpreter (Py* assumed)
    unpacked_python: CheckReport  # the same, as the CPython at PY imports them
    listed: dict[str, str]  # inside path -> the loader's error lines ("" = loads)
    probed: dict[str, parts_dlprobe.Outcome]  # inside path -> the real dlopen
    imported: dict[str, tuple[bool, str]]  # inside path -> (linked, message)


@pytest.fixture(scope="module")
def wheels_in_roots(tmp_path_factory: pytest.TempPathFactory) -> list[WheelsInRoot]:
    wheels = parts_native.real_wheels()
    base = tmp_path_factory.mktemp("wheels")
    out = []
    for minor in ROOTS:
        root = realparts.copy_minirootfs(minor, base / minor)
        site = root / "site"
        for w in wheels:
            with zipfile.ZipFile(w) as zf:
                zf.extractall(site)
        shutil.copytree(realparts.krunner_python("x86_64"), root / "opt" / "py", symlinks=True,
                        copy_function=realparts._link_or_copy)  # fmt: skip
        plain = check_paths([str(site)], str(root), interpreter="")
        python = check_paths([str(site)], str(root), interpreter=PY)
        modules = [v.path for v in plain.objects]
        proc = realparts.run_in_root(root, ["/bin/sh", "-c", LIST_SCRIPT, "sh", *modules], timeout=300)
        listed: dict[str, str] = {}
        current = ""
        for line in proc.stdout.splitlines():
            if line.startswith("@@@ "):
                current = line[4:]
                listed[current] = ""
            elif line.startswith("Error"):
                listed[current] += line + "\n"
        probed = parts_dlprobe.run_probe(root, "x86_64", [("d", m) for m in modules])
        proc = realparts.run_in_root(root, ["/bin/sh", "-c", IMPORT_LOOP, "sh", *modules], timeout=600)
        outputs: dict[str, str] = {}
        for line in proc.stdout.splitlines():
            if line.startswith("@@@ "):
                current = line[4:]
                outputs[current] = ""
            else:
                outputs[current] += line + "\n"
        imported = {path: (_linked(text), text) for path, text in outputs.items()}
        reports = {w.name: check_wheel(str(w), str(root), interpreter="") for w in wheels}
        out.append(WheelsInRoot(minor, root, reports, plain, python, listed, probed, imported))
    return out


def test_wheel_verdicts_match_the_real_loader(wheels_in_roots: list[WheelsInRoot]) -> None:
    disagreements = []
    pairs = failures = crashes = 0
    for r in wheels_in_roots:
        assert set(r.listed) == set(r.probed) == {v.path for v in r.unpacked_plain.objects}
        for v in r.unpacked_plain.objects:
            real = r.probed[v.path]
            real_loads = real.actual == "loads"
            pairs += 1
            failures += not real_loads
            if v.loads != real_loads:
                disagreements.append(f"{r.minor} {v.path}: predicted {v.reasons[:3]}, real: {real}")
            elif real.reason.startswith("killed by signal"):  # --list was blind to it; the check is not
                crashes += 1
                assert not r.listed[v.path] and "relr" in v.missing_features, (r.minor, v.path)
            elif not real_loads:  # failed by a name: --list names it too
                assert r.listed[v.path], (r.minor, v.path, real)
    print(
        f"{pairs} (module, root) pairs, {failures} real failures, {crashes} crashes, "
        f"{len(disagreements)} disagreements"
    )
    assert not disagreements, "\n".join(disagreements[:10])
    assert failures and pairs > failures and crashes


def test_wheel_verdicts_match_real_imports(wheels_in_roots: list[WheelsInRoot]) -> None:
    disagreements = []
    for r in wheels_in_roots:
        assert set(r.imported) == {v.path for v in r.unpacked_python.objects}
        crashing = {v.path.split("/")[2] for v in r.unpacked_python.objects if "relr" in v.missing_features}
        for v in r.unpacked_python.objects:
            linked, message = r.imported[v.path]
            crashed = any(f"@@rc {c}" in message for c in (132, 135, 139))
            if v.loads and crashed and v.path.split("/")[2] in crashing:
                # importing numpy.random._generator imports numpy first, whose _multiarray_umath crashes
                # (DT_RELR): the crash is a sibling's, which the check predicts; this file loads (probed)
                assert r.probed[v.path].actual == "loads", (r.minor, v.path)
                continue
            if v.loads != linked:
                disagreements.append(f"{r.minor} {v.path}: predicted {v.reasons[:3]}, import: {message}")
    assert not disagreements, "\n".join(disagreements[:10])


def test_the_wheel_and_its_installed_files_get_the_same_verdicts(wheels_in_roots: list[WheelsInRoot]) -> None:
    """Checking the .whl (nothing unpacked) says what checking the unpacked files says, module by module;
    bundled libraries are reported as checked through the modules that load them."""
    for r in wheels_in_roots:
        installed = {v.path[len("/site/") :]: v.loads for v in r.unpacked_plain.objects}
        from_wheels = {}
        for name, report in r.wheel_reports.items():
            for v in report.objects:
                from_wheels[v.path.split("!", 1)[1]] = v.loads
            if name.startswith("numpy"):
                assert any("numpy.libs/libgcc_s" in d for d in report.dependencies)
        assert from_wheels == installed, r.minor


def _wheel(r: WheelsInRoot, project: str) -> CheckReport:
    return next(rep for name, rep in r.wheel_reports.items() if name.startswith(project + "-"))


def test_what_the_bundled_libraries_need_from_musl(wheels_in_roots: list[WheelsInRoot]) -> None:
    """Failures found through bundled libraries, as the real loads found them: pillow's ``_imaging`` loads
    ``pillow.libs/libzstd``, which calls ``qsort_r`` (musl 1.2.3): it fails on 3.14 (1.2.2), loads on 3.17.
    numpy's ``libstdc++`` calls ``getentropy`` (musl 1.1.20): fails on 3.8; its DT_RELR fails it on 3.12."""
    by = {r.minor: r for r in wheels_in_roots}
    imaging = next(v for v in _wheel(by["3.14"], "pillow").failures if "/_imaging." in v.path)
    assert any(s.endswith(": qsort_r") and "pillow.libs/libzstd" in s for s in imaging.missing_symbols)
    assert any(h.startswith("needs musl 1.2.3 or newer (qsort_r)") for h in imaging.hints), imaging.hints
    assert _wheel(by["3.17"], "pillow").ok
    numpy_old = _wheel(by["3.8"], "numpy")
    assert not numpy_old.ok and _wheel(by["3.17"], "numpy").ok
    assert any(s.endswith(": getentropy") for v in numpy_old.failures for s in v.missing_symbols)
    # numpy's bundled libraries use DT_RELR: 3.12's musl 1.1.24-r10 has every name and ignores DT_RELR
    numpy_312 = _wheel(by["3.12"], "numpy")
    assert not numpy_312.ok and all(v.missing_features == ("relr",) for v in numpy_312.failures)

"""The native check on the cases it exists for, each prediction confirmed by a real load.

* jiter 0.19.0 (``musllinux_1_1``, calls ``getrandom``): fails on the real Alpine 3.8 root (musl 1.1.19),
  loads on 3.9 (musl 1.1.20); the wheel itself and its module unpacked into the root give the same answer.
* The loader's search rules, on objects built here with ``musl-gcc``/``gcc``: ``RPATH $ORIGIN``,
  ``/etc/ld-musl-x86_64.path``, a bundled ``pkg.libs/`` reached through ``$ORIGIN`` inside a wheel, a
  symbol that a library no longer exports, a weak symbol that may be missing, and on glibc a symbol
  version (``VERS_2``) the library found does not define.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from alpinetags._elf.elfscan import scan_wheel
from alpinetags._load.native import (
    ObjectVerdict,
    check_paths,
    check_wheel,
    is_libc_soname,
    is_musl_reserved,
    read_system,
    resolve_soname,
    system_sonames_needed,
)
from tests import parts_native, realparts

pytestmark = pytest.mark.realparts

LOADER = "/lib/ld-musl-x86_64.so.1"
KRUNNER_LIBPYTHON = "/opt/py/lib/libpython3.11.so.1.0"


def _only(report_objects: tuple[ObjectVerdict, ...], suffix: str) -> ObjectVerdict:
    hits = [v for v in report_objects if v.path.endswith(suffix)]
    assert len(hits) == 1, [v.path for v in report_objects]
    return hits[0]


def _real_list(root: Path, inside: str, preload: str = "") -> tuple[bool, str]:
    """The root's own loader on ``inside`` in --list mode: (loads, its error lines). With ``preload``
    (libpython standing in for the interpreter) the preload's own errors are left out."""
    argv = [LOADER, "--list", inside]
    proc = realparts.run_in_root(root, argv, env={"LD_PRELOAD": preload} if preload else None, timeout=60)
    errors = [
        line
        for line in proc.stderr.splitlines()
        if line.startswith("Error") and not (preload and line.startswith(f"Error relocating {preload}:"))
    ]
    return (not errors and (proc.returncode == 0 or bool(preload))), "\n".join(errors)


# --------------------------------------------------------------------------------------------------
# jiter on Alpine 3.8 and 3.9


@pytest.fixture(scope="module")
def jiter_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of the real 3.8 and 3.9 roots with jiter unpacked into /opt/site and the Alpine CPython in
    /opt/py (its libpython is the preload that gives the module Python's C API in --list mode)."""
    base = tmp_path_factory.mktemp("jiter")
    out = {}
    for minor in ("3.8", "3.9"):
        root = realparts.copy_minirootfs(minor, base / minor)
        with zipfile.ZipFile(parts_native.jiter_wheel()) as zf:
            zf.extractall(root / "opt" / "site")
        shutil.copytree(realparts.krunner_python("x86_64"), root / "opt" / "py", symlinks=True,
                        copy_function=realparts._link_or_copy)  # fmt: skip
        out[minor] = root
    return out


def _jiter_module(root: Path) -> str:
    found = sorted((root / "opt" / "site" / "jiter").glob("jiter*.so"))
    assert len(found) == 1, found
    return "/" + str(found[0].relative_to(root))


def test_jiter_fails_on_alpine_3_8_for_getrandom(jiter_roots: dict[str, Path]) -> None:
    root = jiter_roots["3.8"]
    report = check_wheel(str(parts_native.jiter_wheel()), str(root))
    assert not report.ok
    v = _only(report.objects, ".so")
    assert v.missing_symbols == ("getrandom",)
    assert v.missing_sonames == ()
    assert any("needs musl 1.1.20 or newer" in h and "getrandom" in h for h in v.hints), v.hints
    # The same module unpacked into the root: the same answer, and the root's own loader agrees.
    unpacked = check_paths([str(root / "opt" / "site")], str(root))
    assert _only(unpacked.objects, "-musl.so").missing_symbols == ("getrandom",)
    assert len(unpacked.objects) == 1  # its bundled libgcc_s is checked as the module's dependency
    assert any(d.endswith("jiter.libs/libgcc_s-f685abf1.so.1") for d in unpacked.dependencies)
    loads, errors = _real_list(root, _jiter_module(root), preload=KRUNNER_LIBPYTHON)
    assert not loads
    assert f"Error relocating {_jiter_module(root)}: getrandom: symbol not found" in errors


def test_jiter_loads_on_alpine_3_9(jiter_roots: dict[str, Path]) -> None:
    root = jiter_roots["3.9"]
    report = check_wheel(str(parts_native.jiter_wheel()), str(root))
    assert report.ok, [v.reasons for v in report.objects]
    assert report.system.musl_version == "1.1.20"
    loads, errors = _real_list(root, _jiter_module(root), preload=KRUNNER_LIBPYTHON)
    assert loads, errors


def test_jiter_needs_nothing_from_the_system() -> None:
    """Its module needs libc and the libgcc_s bundled in ``jiter.libs/``: no soname to record."""
    assert system_sonames_needed(scan_wheel(str(parts_native.jiter_wheel())).objects) == ()


# --------------------------------------------------------------------------------------------------
# search rules, on objects built here


FOO_C = "int foo(void) { return 1; }\nint foo2(void) { return 2; }\n"
FOO_SMALL_C = "int foo(void) { return 1; }\n"
APP_C = "extern int foo(void);\nint main(void) { return foo() == 1 ? 0 : 1; }\n"
APP_SYM_C = "extern int foo(void), foo2(void);\nint main(void) { return foo() + foo2() == 3 ? 0 : 1; }\n"
APP_WEAK_C = (
    "extern int foo(void);\nextern int foo3(void) __attribute__((weak));\n"
    "int main(void) { return foo() == 1 && !foo3 ? 0 : 1; }\n"
)


@dataclass(frozen=True)
class Built:
    libfoo: Path  # libfoo.so.1 with foo and foo2
    libfoo_small: Path  # libfoo.so.1 with foo only
    app_rpath: Path  # needs libfoo.so.1, RPATH $ORIGIN/../lib
    app_plain: Path  # needs libfoo.so.1, no RPATH
    app_sym: Path  # needs foo and foo2 from libfoo.so.1, RPATH $ORIGIN/../lib
    app_weak: Path  # needs foo, and foo3 weakly, RPATH $ORIGIN/../lib
    mod: Path  # a shared object needing libbar.so.1 through RUNPATH $ORIGIN/../pkg.libs
    mod_top: Path  # the same for a module at the top of a wheel: RUNPATH $ORIGIN/top.libs
    libbar: Path


def _cc(compiler: str, out: Path, source: str, *flags: str) -> Path:
    src = out.with_suffix(".c")
    src.write_text(source)
    proc = subprocess.run([compiler, "-O1", "-o", str(out), str(src), *flags], capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if shutil.which("musl-gcc") is None:
        realparts._missing("musl-gcc", "apt-get install musl-tools")
    d = tmp_path_factory.mktemp("built")
    shared = ("-shared", "-fPIC", "-Wl,-soname,libfoo.so.1")
    libfoo = _cc("musl-gcc", d / "libfoo.so.1", FOO_C, *shared)
    small_dir = d / "small"
    small_dir.mkdir()
    libfoo_small = _cc("musl-gcc", small_dir / "libfoo.so.1", FOO_SMALL_C, *shared)
    link = (f"-L{d}", "-l:libfoo.so.1")
    rpath = "-Wl,-rpath,$ORIGIN/../lib,--disable-new-dtags"
    libbar = _cc("musl-gcc", d / "libbar.so.1", FOO_C, "-shared", "-fPIC", "-Wl,-soname,libbar.so.1")
    return Built(
        libfoo=libfoo,
        libfoo_small=libfoo_small,
        app_rpath=_cc("musl-gcc", d / "app_rpath", APP_C, *link, rpath),
        app_plain=_cc("musl-gcc", d / "app_plain", APP_C, *link),
        app_sym=_cc("musl-gcc", d / "app_sym", APP_SYM_C, *link, rpath),
        app_weak=_cc("musl-gcc", d / "app_weak", APP_WEAK_C, *link, rpath),
        mod=_cc("musl-gcc", d / "_mod.so", APP_C.replace("main", "mod_entry"), "-shared", "-fPIC",
                f"-L{d}", "-l:libbar.so.1", "-Wl,-rpath,$ORIGIN/../pkg.libs,--enable-new-dtags"),
        mod_top=_cc("musl-gcc", d / "_top.so", APP_C.replace("main", "mod_entry"), "-shared", "-fPIC",
                    f"-L{d}", "-l:libbar.so.1", "-Wl,-rpath,$ORIGIN/top.libs,--enable-new-dtags"),
        libbar=libbar,
    )  # fmt: skip


def _put(root: Path, inside: str, src: Path) -> str:
    dest = root / inside.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    return inside


@pytest.fixture(scope="module")
def search_root(tmp_path_factory: pytest.TempPathFactory, built: Built) -> Path:
    """A copy of the real Alpine 3.20 root with the built objects laid out in /opt."""
    root = realparts.copy_minirootfs("3.20", tmp_path_factory.mktemp("search") / "root")
    _put(root, "/opt/a/bin/app", built.app_rpath)
    _put(root, "/opt/a/lib/libfoo.so.1", built.libfoo)
    _put(root, "/opt/b/bin/app", built.app_plain)
    _put(root, "/opt/b/lib/libfoo.so.1", built.libfoo)
    _put(root, "/opt/c/bin/app", built.app_sym)
    _put(root, "/opt/c/lib/libfoo.so.1", built.libfoo_small)
    _put(root, "/opt/d/bin/app", built.app_weak)
    _put(root, "/opt/d/lib/libfoo.so.1", built.libfoo)
    return root


@pytest.mark.parametrize(
    ("where", "loads", "sonames", "symbols"),
    [
        ("/opt/a/bin/app", True, (), ()),  # found through RPATH $ORIGIN/../lib
        ("/opt/b/bin/app", False, ("libfoo.so.1",), ("foo",)),  # no RPATH, not in musl's default path
        ("/opt/c/bin/app", False, (), ("foo2",)),  # the library found lacks a symbol
        ("/opt/d/bin/app", True, (), ()),  # a weak symbol may be missing
    ],
)
def test_search_rules_agree_with_the_real_loader(
    search_root: Path, where: str, loads: bool, sonames: tuple[str, ...], symbols: tuple[str, ...]
) -> None:
    report = check_paths([str(search_root / where.lstrip("/"))], str(search_root))
    (v,) = report.objects
    assert v.path == where
    assert (v.loads, v.missing_sonames, v.missing_symbols) == (loads, sonames, symbols), v.reasons
    real_loads, errors = _real_list(search_root, where)
    assert real_loads == loads, errors
    for name in sonames:
        assert f"Error loading shared library {name}" in errors
    for name in symbols:
        assert f"Error relocating {where}: {name}: symbol not found" in errors
    # And the program itself, run in the root (it was built here, not taken from the root).
    ran = realparts.run_in_root(search_root, [where], timeout=30)
    assert (ran.returncode == 0) == loads, ran.stderr


def test_musl_path_file_replaces_the_default_path(
    tmp_path_factory: pytest.TempPathFactory, built: Built
) -> None:
    """``/etc/ld-musl-x86_64.path`` names /opt/b/lib and /usr/lib: the plain app loads, and /lib is searched
    no more, so 3.20's own apk loses ``libz.so.1`` and ``libapk.so.2.14.0`` (both only in /lib)."""
    root = realparts.copy_minirootfs("3.20", tmp_path_factory.mktemp("pathfile") / "root")
    _put(root, "/opt/b/bin/app", built.app_plain)
    _put(root, "/opt/b/lib/libfoo.so.1", built.libfoo)
    (root / "etc" / "ld-musl-x86_64.path").write_text("/opt/b/lib\n/usr/lib\n")
    assert read_system(str(root)).musl_path == ("/opt/b/lib", "/usr/lib")
    report = check_paths([str(root / "opt/b/bin/app"), str(root / "sbin/apk")], str(root))
    verdicts = {v.path: v for v in report.objects}
    assert verdicts["/opt/b/bin/app"].loads
    assert verdicts["/sbin/apk"].missing_sonames == ("libapk.so.2.14.0", "libz.so.1")
    for where, v in verdicts.items():
        real, errors = _real_list(root, where)
        assert real == v.loads, (where, errors, v.reasons)
        for name in v.missing_sonames:
            assert f"Error loading shared library {name}" in errors
    found = resolve_soname("libfoo.so.1", str(root), read_system(str(root)).musl_path)
    assert found == "/opt/b/lib/libfoo.so.1"


def _wheel(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, src in members.items():
            zf.write(src, name)
    return path


def test_bundled_library_inside_a_wheel_is_found_through_origin(
    tmp_path: Path, search_root: Path, built: Built
) -> None:
    """``pkg/_mod.so`` with RUNPATH ``$ORIGIN/../pkg.libs`` finds the bundled ``pkg.libs/libbar.so.1`` inside
    the wheel; without it, it does not, and after installing (unpacking) either the real loader agrees."""
    good = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl",
                  {"pkg/_mod.so": built.mod, "pkg.libs/libbar.so.1": built.libbar})  # fmt: skip
    bad = _wheel(tmp_path / "pkg-2.0-py3-none-any.whl", {"pkg/_mod.so": built.mod})
    ok = check_wheel(str(good), str(search_root))
    assert ok.ok and len(ok.objects) == 1
    assert ok.dependencies == (f"{good}!pkg.libs/libbar.so.1",)
    mod = _only(ok.objects, "!pkg/_mod.so")
    assert dict(mod.resolved)["libbar.so.1"] == f"{good}!pkg.libs/libbar.so.1"
    assert system_sonames_needed(scan_wheel(str(good)).objects) == ()
    assert system_sonames_needed(scan_wheel(str(bad)).objects) == ("libbar.so.1",)
    failed = check_wheel(str(bad), str(search_root))
    assert _only(failed.objects, "!pkg/_mod.so").missing_sonames == ("libbar.so.1",)
    for wheel, expect in ((good, True), (bad, False)):
        site = f"/opt/site-{wheel.name[:7]}"
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(search_root / site.lstrip("/"))
        real, errors = _real_list(search_root, f"{site}/pkg/_mod.so")
        assert real == expect, errors
        installed = check_paths([str(search_root / site.lstrip("/"))], str(search_root))
        assert _only(installed.objects, "pkg/_mod.so").loads == expect


# --------------------------------------------------------------------------------------------------
# glibc: symbol versions


VERSION_SCRIPT_NEW = "VERS_1 { global: foo; local: *; };\nVERS_2 { global: bar; } VERS_1;\n"
VERSION_SCRIPT_OLD = "VERS_1 { global: foo; local: *; };\n"
LIBV_NEW_C = "int foo(void) { return 1; }\nint bar(void) { return 2; }\n"
LIBV_OLD_C = "int foo(void) { return 1; }\n"
APP_V_C = "extern int foo(void), bar(void);\nint main(void) { return foo() + bar() == 3 ? 0 : 1; }\n"


def _libv(d: Path, source: str, script: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "v.map").write_text(script)
    return _cc("gcc", d / "libv.so.1", source, "-shared", "-fPIC", "-Wl,-soname,libv.so.1",
               f"-Wl,--version-script={d / 'v.map'}")  # fmt: skip


def test_glibc_symbol_versions_agree_with_the_real_loader(tmp_path: Path) -> None:
    """An app linked against ``bar@VERS_2`` of libv.so.1 runs beside that library and fails beside one that
    defines only VERS_1, as glibc's loader says (``version `VERS_2' not found``). Checked on ``/``, this
    glibc machine, with the objects built here."""
    new = tmp_path / "new"
    _libv(new, LIBV_NEW_C, VERSION_SCRIPT_NEW)
    _cc("gcc", new / "app", APP_V_C, f"-L{new}", "-l:libv.so.1", "-Wl,-rpath,$ORIGIN,--enable-new-dtags")
    old = tmp_path / "old"
    _libv(old, LIBV_OLD_C, VERSION_SCRIPT_OLD)
    shutil.copy2(new / "app", old / "app")
    for d, expect in ((new, True), (old, False)):
        report = check_paths([str(d / "app")], "/")
        (v,) = report.objects
        assert v.libc == "glibc"
        ran = subprocess.run([str(d / "app")], capture_output=True, text=True, check=False, timeout=30)
        assert (ran.returncode == 0) == expect == v.loads, (ran.stderr, v.reasons)
        if not expect:
            assert v.missing_versions == ("libv.so.1: VERS_2",)
            assert "version `VERS_2' not found" in ran.stderr
            assert any("version `VERS_2' not found" in r for r in v.reasons)


def test_this_machines_python_loads_here() -> None:
    """The interpreter running the tests, checked on ``/``: every library and GLIBC_x.y version found."""
    import sys

    report = check_paths([os.path.realpath(sys.executable)], "/")
    assert report.ok, [v.reasons for v in report.objects]
    (v,) = report.objects
    assert any(name == "libc.so.6" for name, _ in v.resolved)


# --------------------------------------------------------------------------------------------------
# names


def test_reserved_and_libc_names() -> None:
    assert is_musl_reserved("libc.musl-x86_64.so.1") and is_musl_reserved("libpthread.so.0")
    assert is_musl_reserved("libc.so.6")  # musl answers glibc's name with itself too
    assert not is_musl_reserved("libcrypto.so.3") and not is_musl_reserved("libcrypt.so.1")
    assert is_libc_soname("libc.so.6") and is_libc_soname("ld-linux-x86-64.so.2")
    assert not is_libc_soname("libssl.so.3")


def test_resolve_soname_in_real_roots() -> None:
    """libssl.so.1.1 is in 3.16's /lib and in no directory of 3.17's path; links resolve inside the root."""
    r16, r17 = realparts.alpine_minirootfs("3.16"), realparts.alpine_minirootfs("3.17")
    path = ("/lib", "/usr/local/lib", "/usr/lib")
    assert resolve_soname("libssl.so.1.1", str(r16), path) == "/lib/libssl.so.1.1"
    assert resolve_soname("libssl.so.1.1", str(r17), path) is None
    assert resolve_soname("libz.so.1", str(r17), path) == "/lib/libz.so.1"


def test_soname_table_and_hints() -> None:
    """The shared soname table as packaged: 15 releases; OpenSSL 1.1 until 3.18 (3.17-3.18 only from
    openssl1.1-compat), libffi.so.7 in 3.12-3.14; hints say which package, or that none is left."""
    from alpinetags_alpine import facts

    assert facts.soname_table_releases() == tuple(f"3.{n}" for n in range(10, 25))
    ssl11 = facts.soname_providers("libssl.so.1.1")
    assert [r.release for r in ssl11] == [f"3.{n}" for n in range(10, 19)]
    assert {r.package for r in ssl11 if r.release in ("3.17", "3.18")} == {"openssl1.1-compat"}
    assert [r.release for r in facts.soname_providers("libffi.so.7")] == ["3.12", "3.13", "3.14"]
    assert facts.soname_providers("libtinfo.so.6") == ()  # named only as absent in the table
    (hint,) = facts.alpine_soname_hints("3.19.4", "libffi.so.7")
    assert hint.startswith("no Alpine 3.19 package ships libffi.so.7 (Alpine 3.12-3.14: libffi)")
    assert hint.endswith("ships libffi.so.8")
    assert facts.alpine_soname_hints("3.16", "libssl.so.1.1") == [
        "apk add so:libssl.so.1.1  (Alpine 3.16: package openssl 1.1.1o-r0 ships it)"
    ]
    assert facts.alpine_soname_hints("3.16", "libnotinthetable.so.1") == []


def test_a_stated_musl_version_without_a_loader_uses_the_musl_abi_data(tmp_path: Path) -> None:
    """No loader to read (a system described, not unpacked): the release's export list decides, and says
    the same as the real 3.8 and 3.9 roots did for jiter."""
    from alpinetags._load.native import System

    for version, loads in (("1.1.19", False), ("1.1.20", True)):
        system = System(root=str(tmp_path), arch="x86_64", libc="musl", musl_version=version)
        report = check_wheel(str(parts_native.jiter_wheel()), str(tmp_path), system=system)
        assert report.ok == loads, [v.reasons for v in report.objects]


def test_a_module_at_the_top_of_a_wheel_finds_its_libs(
    tmp_path: Path, search_root: Path, built: Built
) -> None:
    """``_top.so`` at the wheel's top level with RUNPATH ``$ORIGIN/top.libs`` (ujson's layout): ``$ORIGIN``
    is the wheel's top, so ``top.libs/libbar.so.1`` is found in the wheel, as after installing."""
    wheel = _wheel(tmp_path / "top-1.0-py3-none-any.whl",
                   {"_top.so": built.mod_top, "top.libs/libbar.so.1": built.libbar})  # fmt: skip
    report = check_wheel(str(wheel), str(search_root))
    assert report.ok, [v.reasons for v in report.objects]
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(search_root / "opt" / "top")
    assert _real_list(search_root, "/opt/top/_top.so")[0]


def test_glibc_built_libraries_on_a_musl_root(tmp_path: Path) -> None:
    """Debian's libz and libexpat (glibc-built, needing ``libc.so.6``) on the real Alpine 3.20 root, which has
    only musl: musl loads them, answering ``libc.so.6`` with itself, so their symbols decide. As Debian
    ships them they need ``__snprintf_chk``/``__fprintf_chk``/``arc4random_buf``, which 3.20's musl lacks;
    patched (tests/realparts.patch_glibc_lib) they load. The real loader agrees on all four."""
    root = realparts.copy_minirootfs("3.20", tmp_path / "root")
    unpatched = realparts.CACHE / "musl-libs" / "amd64"
    cases = {
        "/opt/patched/libz.so.1": (unpatched / "libz.so.1", True),
        "/opt/patched/libexpat.so.1": (unpatched / "libexpat.so.1", True),
        "/opt/debian/libz.so.1": (unpatched / "zlib1g/lib/x86_64-linux-gnu/libz.so.1.2.13", False),
        "/opt/debian/libexpat.so.1": (unpatched / "libexpat1/lib/x86_64-linux-gnu/libexpat.so.1.8.10", False),
    }
    for inside, (src, _) in cases.items():
        if not src.is_file():
            realparts._missing(str(src))
        _put(root, inside, src)
    report = check_paths([str(root / inside.lstrip("/")) for inside in cases], str(root))
    assert report.system.only_libc == "musl"
    for v in report.objects:
        assert v.libc == "musl" and v.loads == cases[v.path][1], v.reasons
        real, errors = _real_list(root, v.path)
        assert real == v.loads, errors
        for name in v.missing_symbols:
            assert f"Error relocating {v.path}: {name}: symbol not found" in errors
    debian_z = next(v for v in report.objects if v.path == "/opt/debian/libz.so.1")
    assert "__snprintf_chk" in debian_z.missing_symbols


def test_pillow_needs_the_systems_libz(tmp_path: Path) -> None:
    """pillow 13.0.0 bundles 26 libraries but takes ``libz.so.1`` from the system. On a copy of the real
    3.20 root without zlib its ``_imaging`` does not load, the hint names the package, the loader agrees."""
    pillow = next(w for w in parts_native.real_wheels() if w.name.startswith("pillow-"))
    assert system_sonames_needed(scan_wheel(str(pillow)).objects) == ("libz.so.1",)
    root = realparts.copy_minirootfs("3.20", tmp_path / "root")
    for lib in (root / "lib").glob("libz.so*"):
        lib.unlink()
    with zipfile.ZipFile(pillow) as zf:
        zf.extractall(root / "opt" / "site")
    shutil.copytree(realparts.krunner_python("x86_64"), root / "opt" / "py", symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    from alpinetags._load.native import plugin_hints

    report = check_wheel(str(pillow), str(root), hints=plugin_hints(), interpreter="")
    imaging = next(v for v in report.failures if "/_imaging." in v.path)
    assert "libz.so.1" in imaging.missing_sonames
    assert any(h.startswith("apk add so:libz.so.1  (Alpine 3.20: package zlib") for h in imaging.hints)
    inside = "/opt/site/" + imaging.path.split("!", 1)[1]
    loads, errors = _real_list(root, inside, preload=KRUNNER_LIBPYTHON)
    assert not loads and "Error loading shared library libz.so.1" in errors


def test_an_interpreter_reached_through_a_link_uses_its_real_directory(tmp_path: Path) -> None:
    """``/venv/bin/python -> /opt/py/bin/python3.11`` (a venv's layout) in a copy of the real 3.17 root: the
    kernel maps the real file, so its ``RPATH $ORIGIN/../lib`` is /opt/py/lib and ``_ssl`` imports; the check
    follows the link the same way, and a real import through the link agrees."""
    root = realparts.copy_minirootfs("3.17", tmp_path / "root")
    shutil.copytree(realparts.krunner_python("x86_64"), root / "opt" / "py", symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    (root / "venv" / "bin").mkdir(parents=True)
    os.symlink("/opt/py/bin/python3.11", root / "venv" / "bin" / "python")
    ssl = next((root / "opt/py/lib/python3.11/lib-dynload").glob("_ssl.*.so"))
    report = check_paths([str(ssl)], str(root), interpreter="/venv/bin/python")
    assert report.ok, [v.reasons for v in report.objects]
    assert dict(report.objects[0].resolved)["libpython3.11.so.1.0"] == "/opt/py/lib/libpython3.11.so.1.0"
    real = realparts.run_in_root(root, ["/venv/bin/python", "-c", "import _ssl"], timeout=60)
    assert real.returncode == 0, real.stderr


def test_the_musl_hint_names_only_musls_symbols(tmp_path: Path) -> None:
    """The CPython's ``_ssl``, as that CPython imports it on a copy of the real 3.8 root: libssl is missing
    (so are hundreds of OpenSSL names) and the interpreter's libpython needs ``copy_file_range``,
    ``getrandom`` and ``memfd_create``. The musl hint names those three and the release that has them all."""
    root = realparts.copy_minirootfs("3.8", tmp_path / "root")
    shutil.copytree(realparts.krunner_python("x86_64"), root / "opt" / "py", symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    ssl = next((root / "opt/py/lib/python3.11/lib-dynload").glob("_ssl.*.so"))
    (v,) = check_paths([str(ssl)], str(root), interpreter="/opt/py/bin/python3.11").objects
    assert {"libssl.so.3", "libcrypto.so.3"} <= set(v.missing_sonames)
    musl_hints = [h for h in v.hints if h.startswith("needs musl")]
    assert musl_hints == [
        "needs musl 1.1.24 or newer (copy_file_range, getrandom, memfd_create); this root has musl 1.1.19"
    ]

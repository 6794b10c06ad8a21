"""Where musl looks for a ``DT_NEEDED`` name, against the real loader of a real Alpine root (3.20).

Each case is set up in a private copy of the real x86_64 3.20 minirootfs, then decided twice: by the root's
own loader in a chroot (``ld-musl-x86_64.so.1 --list`` for ``/sbin/apk``; the Alpine-built CPython started
for the interpreter), and by the native check from the files alone. The cases are the places where the
check used to differ from ``ldso/dynlink.c`` (spec 3.2):

* ``LD_LIBRARY_PATH`` is searched first: before the path file and before the RPATH of the requester;
* an RPATH with a ``$`` token other than ``$ORIGIN`` is ignored as a whole, not entry by entry;
* an open that fails with a link loop stops the search (a dangling link does not);
* a candidate ``dir/name`` longer than musl's 512-byte buffer is never opened.

The interpreter's RPATH is rewritten in a copy, byte for byte the same length (``$ORIGIN/../lib`` ->
``/opt/py/lib:$X``): the string table keeps its layout, only the text musl reads changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alpinetags._load.native import ObjectVerdict, check_paths
from tests import realparts

pytestmark = pytest.mark.realparts

LOADER = "/lib/ld-musl-x86_64.so.1"
APK = "/sbin/apk"
PY = "/opt/py"
PY_BIN = f"{PY}/bin/python3.11"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("search-order")


def _root(base: Path, name: str) -> Path:
    return realparts.copy_minirootfs("3.20", base / name)


def _not_elf(path: Path) -> None:
    """A file the loader opens and cannot map (not ELF): found, and fatal, wherever the search meets it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not an ELF object\n")


def _real_list(root: Path, target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return realparts.run_in_root(root, [LOADER, "--list", target], env=env, timeout=120)


def _verdict(root: Path, target: str, library_path: list[str]) -> ObjectVerdict:
    report = check_paths([str(root / target.lstrip("/"))], str(root), library_path=library_path)
    assert len(report.objects) == 1
    return report.objects[0]


def test_ld_library_path_comes_before_the_system_path(base: Path) -> None:
    root = _root(base, "lp-first")
    _not_elf(root / "opt/lp/libz.so.1")
    env = {"LD_LIBRARY_PATH": "/opt/lp"}
    real = _real_list(root, APK, env)
    assert real.returncode != 0 and "Error loading shared library libz.so.1" in real.stderr, real.stderr
    v = _verdict(root, APK, ["/opt/lp"])
    assert not v.loads and any("libz.so.1" in r for r in v.reasons), v.reasons
    # without it, both load apk from the root's own libz
    assert _real_list(root, APK, {}).returncode == 0
    assert _verdict(root, APK, []).loads


def test_ld_library_path_comes_before_the_rpath(base: Path) -> None:
    """The CPython finds libpython through its RPATH ``$ORIGIN/../lib``; a library path naming a directory
    with a broken libpython is searched first (glibc would take the RPATH first)."""
    root = _root(base, "lp-rpath")
    shutil.copytree(realparts.krunner_python("x86_64"), root / PY.lstrip("/"), symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    _not_elf(root / "opt/lp/libpython3.11.so.1.0")
    real = realparts.run_in_root(
        root, [PY_BIN, "-c", "pass"], env={"LD_LIBRARY_PATH": "/opt/lp"}, timeout=120
    )
    assert real.returncode != 0 and "libpython3.11.so.1.0" in real.stderr, real.stderr
    assert not _verdict(root, PY_BIN, ["/opt/lp"]).loads
    assert realparts.run_in_root(root, [PY_BIN, "-c", "pass"], timeout=120).returncode == 0
    assert _verdict(root, PY_BIN, []).loads


def _rewrite_rpath(root: Path, new: bytes) -> None:
    """The interpreter of ``root`` with its RPATH text replaced (same length), as a new file."""
    path = root / PY_BIN.lstrip("/")
    data = path.read_bytes()
    old = b"$ORIGIN/../lib\0"
    assert data.count(old) == 1 and len(new) + 1 == len(old)
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data.replace(old, new + b"\0"))
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)  # the copy's file is a hard link to the cache: replaced, never edited


@pytest.mark.parametrize(
    ("rpath", "loads"),
    [
        (b"/opt/py/lib:$X", False),  # "$X" is not $ORIGIN: musl ignores /opt/py/lib too
        (b"/opt/py/lib:/x", True),  # the same entry, no "$": found there
    ],
)
def test_an_rpath_with_another_dollar_token_is_ignored_as_a_whole(
    base: Path, rpath: bytes, loads: bool
) -> None:
    root = _root(base, f"rpath-{loads}")
    shutil.copytree(realparts.krunner_python("x86_64"), root / PY.lstrip("/"), symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    _rewrite_rpath(root, rpath)
    real = realparts.run_in_root(root, [PY_BIN, "-c", "pass"], timeout=120)
    assert (real.returncode == 0) is loads, real.stderr
    if not loads:
        assert "Error loading shared library libpython3.11.so.1.0" in real.stderr, real.stderr
    v = _verdict(root, PY_BIN, [])
    assert v.loads is loads, v.reasons
    if not loads:
        assert v.missing_sonames == ("libpython3.11.so.1.0",)


def test_a_link_loop_stops_the_search_a_dangling_link_does_not(base: Path) -> None:
    root = _root(base, "loop")
    (root / "etc/ld-musl-x86_64.path").write_text("/opt/first\n/lib:/usr/local/lib:/usr/lib\n")
    first = root / "opt/first"
    first.mkdir(parents=True)
    os.symlink("libz.so.1", first / "libz.so.1")  # a loop: open fails with ELOOP
    os.symlink("/nonexistent/libcrypto.so.3", first / "libcrypto.so.3")  # dangling: ENOENT, search on
    real = _real_list(root, APK, {})
    assert real.returncode != 0, real.stderr
    assert "Error loading shared library libz.so.1: Symbolic link loop" in real.stderr, real.stderr
    assert "libcrypto.so.3" not in real.stderr
    v = _verdict(root, APK, [])
    assert not v.loads
    assert any("libz.so.1: Symbolic link loop" in r for r in v.reasons), v.reasons
    assert not any("libcrypto" in r for r in v.reasons)


def test_a_candidate_past_musls_buffer_is_never_opened(base: Path) -> None:
    """``dir/libz.so.1`` of 512 bytes or more is skipped (musl's ``buf[2*NAME_MAX+2]``): the broken libz
    there is not found, apk loads with the root's own; one byte shorter, it is found and fatal."""
    root = _root(base, "buffer")
    longest = "/opt/" + "/".join(["d" * 200, "d" * 200, "d" * 100])  # 507 bytes: 507 + 1 + 9 = 517
    shorter = "/opt/" + "/".join(["e" * 200, "e" * 200, "e" * 90])  # 497 bytes: 507 < 512
    for d in (longest, shorter):
        _not_elf(root / d.lstrip("/") / "libz.so.1")
    assert _real_list(root, APK, {"LD_LIBRARY_PATH": longest}).returncode == 0
    assert _verdict(root, APK, [longest]).loads
    assert _real_list(root, APK, {"LD_LIBRARY_PATH": shorter}).returncode != 0
    assert not _verdict(root, APK, [shorter]).loads


def test_the_cli_takes_the_library_path_and_says_what_it_cannot_search(base: Path) -> None:
    root = _root(base, "cli")
    _not_elf(root / "opt/lp/libz.so.1")
    argv = [
        sys.executable,
        "-m",
        "alpinetags",
        "check",
        "--json",
        "--root",
        str(root),
        str(root / "sbin/apk"),
    ]
    ok = subprocess.run([*argv, "--library-path", "lib:/opt/nothing"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["system"]["library_path"] == ["lib", "/opt/nothing"]
    (obj,) = report["objects"]
    # a relative entry is the working directory's, which the check cannot know: not searched, and said
    assert any("relative to the working directory" in n and "lib" in n for n in obj["notes"]), obj["notes"]
    bad = subprocess.run([*argv, "--library-path", "/opt/lp"], capture_output=True, text=True)
    assert bad.returncode == 1, bad.stderr
    (obj,) = json.loads(bad.stdout)["objects"]
    assert obj["missing_sonames"] == [] and any("libz.so.1" in r for r in obj["reasons"])


# --------------------------------------------------------------------------------------------------
# libraries already loaded (built here with musl-gcc, loaded by the real 3.20 loader)


def _cc(argv: list[str]) -> None:
    proc = subprocess.run(["musl-gcc", "-fPIC", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``libfoo.so.1`` (no soname: musl does not read it) and two ways to link it, by name and by the path
    ``/opt/x/libfoo.so.1`` (a link-time copy whose soname is that path: the linker writes it as
    ``DT_NEEDED``); ``libbar.so.1`` (RUNPATH ``/opt/x``) and ``libbaz.so.1`` (no RUNPATH), each calling foo;
    a program ``byname`` needing libfoo.so.1 then libbar, and ``bypath`` needing /opt/x/libfoo.so.1, libbar,
    libbaz."""
    if shutil.which("musl-gcc") is None:
        realparts._missing("musl-gcc", "apt-get install musl-tools")
    d = tmp_path_factory.mktemp("built")
    (d / "foo.c").write_text("int foo(void) { return 1; }\n")
    (d / "bar.c").write_text("extern int foo(void);\nint bar(void) { return foo(); }\n")
    (d / "baz.c").write_text("extern int foo(void);\nint baz(void) { return foo(); }\n")
    (d / "byname.c").write_text("extern int bar(void);\nint main(void) { return bar() - 1; }\n")
    (d / "bypath.c").write_text(
        "extern int bar(void), baz(void);\nint main(void) { return bar() - baz(); }\n"
    )
    link = d / "link"
    link.mkdir()
    _cc(["-shared", "-o", str(d / "libfoo.so.1"), str(d / "foo.c")])
    _cc(["-shared", "-o", str(link / "libfoo.so.1"), "-Wl,-soname,libfoo.so.1", str(d / "foo.c")])
    _cc(["-shared", "-o", str(link / "libfoopath.so"), "-Wl,-soname,/opt/x/libfoo.so.1", str(d / "foo.c")])
    for lib, extra in (("bar", ["-Wl,--enable-new-dtags,-rpath,/opt/x"]), ("baz", [])):
        out = d / f"lib{lib}.so.1"
        _cc(["-shared", "-o", str(out), f"-Wl,-soname,lib{lib}.so.1", str(d / f"{lib}.c"), *extra,
             f"-L{link}", "-l:libfoo.so.1"])  # fmt: skip
        shutil.copy2(out, link / out.name)
    flags = [f"-L{link}", "-Wl,--no-as-needed"]
    _cc(["-o", str(d / "byname"), str(d / "byname.c"), *flags, "-l:libfoo.so.1", "-l:libbar.so.1"])
    _cc(["-o", str(d / "bypath"), str(d / "bypath.c"), *flags, "-l:libfoopath.so", "-l:libbar.so.1",
         "-l:libbaz.so.1"])  # fmt: skip
    return d


def _install(root: Path, built: Path, program: str) -> None:
    for lib in ("libbar.so.1", "libbaz.so.1"):
        shutil.copy2(built / lib, root / "usr/lib" / lib)
    shutil.copy2(built / program, root / "opt" / program)


def test_a_library_loaded_by_name_is_reused_before_any_rpath(base: Path, built: Path) -> None:
    """``byname`` loads libfoo.so.1 from /usr/lib; libbar's RUNPATH /opt/x holds a broken libfoo.so.1, never
    opened: musl reuses what is loaded under that name first."""
    root = _root(base, "byname")
    _install(root, built, "byname")
    shutil.copy2(built / "libfoo.so.1", root / "usr/lib/libfoo.so.1")
    _not_elf(root / "opt/x/libfoo.so.1")
    real = _real_list(root, "/opt/byname", {})
    assert real.returncode == 0, real.stderr
    v = _verdict(root, "/opt/byname", [])
    assert v.loads, v.reasons
    assert dict(v.resolved)["libfoo.so.1"] == "/usr/lib/libfoo.so.1"


def test_a_library_loaded_by_path_gets_its_name_when_a_search_finds_it(base: Path, built: Path) -> None:
    """``bypath`` loads /opt/x/libfoo.so.1 by path (no name yet). libbar's search (RUNPATH /opt/x) finds that
    same file, so it becomes "libfoo.so.1" to the loader; libbaz, with no RUNPATH and no libfoo on the
    system path, then gets it by name. Without the name it would not be found."""
    root = _root(base, "bypath")
    _install(root, built, "bypath")
    (root / "opt/x").mkdir(parents=True)
    shutil.copy2(built / "libfoo.so.1", root / "opt/x/libfoo.so.1")
    real = _real_list(root, "/opt/bypath", {})
    assert real.returncode == 0, real.stderr
    v = _verdict(root, "/opt/bypath", [])
    assert v.loads, v.reasons
    # and libbaz alone, with nothing loaded before it, does not find libfoo.so.1
    assert _real_list(root, "/usr/lib/libbaz.so.1", {}).returncode != 0
    assert _verdict(root, "/usr/lib/libbaz.so.1", []).missing_sonames == ("libfoo.so.1",)

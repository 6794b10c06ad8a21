"""The native check on hostile or broken roots and files: a verdict or a typed error, never a hang, never a
traceback of another type, never a file read outside the root.

The program checked is a real one built here with ``musl-gcc`` (it needs ``libfoo.so.1``); what lies where
``libfoo.so.1`` is looked for is the fault.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpinetags._elf.elfdynamic import parse_dynamic_symbols
from alpinetags._load.native import check_paths, check_wheel, read_system
from alpinetags.errors import ConfigError, ElfError, InputRefused
from tests import realparts

pytestmark = pytest.mark.realparts

APP_C = "extern int foo(void);\nint main(void) { return foo(); }\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("musl-gcc") is None:
        realparts._missing("musl-gcc", "apt-get install musl-tools")
    d = tmp_path_factory.mktemp("app")
    (d / "foo.c").write_text("int foo(void) { return 0; }\n")
    (d / "app.c").write_text(APP_C)
    for argv in (
        [
            "musl-gcc",
            "-shared",
            "-fPIC",
            "-o",
            str(d / "libfoo.so.1"),
            "-Wl,-soname,libfoo.so.1",
            str(d / "foo.c"),
        ],
        ["musl-gcc", "-o", str(d / "app"), str(d / "app.c"), f"-L{d}", "-l:libfoo.so.1"],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr
    return d


def _root(tmp_path: Path, app: Path) -> Path:
    """A small root: the real 3.20 loader in /lib, the app in /opt."""
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "opt").mkdir()
    loader = realparts.alpine_minirootfs("3.20") / "lib" / "ld-musl-x86_64.so.1"
    shutil.copy2(loader, root / "lib" / "ld-musl-x86_64.so.1")
    shutil.copy2(app / "app", root / "opt" / "app")
    return root


def _verdict(root: Path):  # type: ignore[no-untyped-def]
    (v,) = check_paths([str(root / "opt" / "app")], str(root)).objects
    return v


def test_the_library_in_place_loads(tmp_path: Path, app: Path) -> None:
    root = _root(tmp_path, app)
    shutil.copy2(app / "libfoo.so.1", root / "lib" / "libfoo.so.1")
    v = _verdict(root)
    assert v.loads and dict(v.resolved)["libfoo.so.1"] == "/lib/libfoo.so.1"


def test_a_fifo_where_the_library_should_be_is_not_waited_on(tmp_path: Path, app: Path) -> None:
    root = _root(tmp_path, app)
    os.mkfifo(root / "lib" / "libfoo.so.1")
    v = _verdict(root)
    assert not v.loads
    assert any("libfoo.so.1" in r and "not a regular file" in r for r in v.reasons), v.reasons


def test_a_link_loop_a_dangling_link_and_a_directory(tmp_path: Path, app: Path) -> None:
    root = _root(tmp_path, app)
    os.symlink("libfoo.so.1", root / "lib" / "libfoo.so.1")  # a loop: musl's open fails with ELOOP and
    v = _verdict(root)  # its search stops there (tests/test_native_search_order.py, with the real loader)
    assert not v.loads and v.missing_sonames == ()
    assert "Error loading shared library libfoo.so.1: Symbolic link loop (needed by /opt/app)" in v.reasons
    os.unlink(root / "lib" / "libfoo.so.1")
    os.symlink("/nowhere/libfoo.so.1", root / "lib" / "libfoo.so.1")  # dangling
    assert _verdict(root).missing_sonames == ("libfoo.so.1",)
    os.unlink(root / "lib" / "libfoo.so.1")
    (root / "lib" / "libfoo.so.1").mkdir()  # musl would open it and fail: found, but broken
    v = _verdict(root)
    assert not v.loads and v.missing_sonames == ()
    assert any(r.startswith("Error loading shared library libfoo.so.1: ") for r in v.reasons)


def test_absolute_links_stay_inside_the_root(tmp_path: Path, app: Path) -> None:
    """``/usr/lib/libfoo.so.1 -> /opt/real/libfoo.so.1`` names the root's file, not this machine's."""
    root = _root(tmp_path, app)
    (root / "opt" / "real").mkdir()
    shutil.copy2(app / "libfoo.so.1", root / "opt" / "real" / "libfoo.so.1")
    os.symlink("/opt/real/libfoo.so.1", root / "usr" / "lib" / "libfoo.so.1")
    assert not os.path.exists("/opt/real/libfoo.so.1")
    v = _verdict(root)
    assert v.loads and dict(v.resolved)["libfoo.so.1"] == "/usr/lib/libfoo.so.1"


def test_a_truncated_library(tmp_path: Path, app: Path) -> None:
    root = _root(tmp_path, app)
    (root / "lib" / "libfoo.so.1").write_bytes((app / "libfoo.so.1").read_bytes()[:200])
    v = _verdict(root)
    assert not v.loads
    assert any("libfoo.so.1" in r for r in v.reasons)


def test_a_root_without_a_loader(tmp_path: Path, app: Path) -> None:
    root = _root(tmp_path, app)
    os.unlink(root / "lib" / "ld-musl-x86_64.so.1")
    shutil.copy2(app / "libfoo.so.1", root / "lib" / "libfoo.so.1")
    v = _verdict(root)
    assert not v.loads and v.reasons == ("no musl loader for x86_64 in the root",)


def test_bad_roots_and_paths_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_system(str(tmp_path / "missing"))
    with pytest.raises(ConfigError):
        check_paths([str(tmp_path / "missing.whl")], str(tmp_path))


def test_a_broken_wheel_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    report = check_wheel(str(bad), str(tmp_path))
    assert report.ok and report.objects == () and report.problems
    pure = tmp_path / "pure-1.0-py3-none-any.whl"
    with zipfile.ZipFile(pure, "w") as zf:
        zf.writestr("pure/__init__.py", "")
    report = check_wheel(str(pure), str(tmp_path / "not-even-read"))
    assert report.ok and report.objects == () and report.problems == ()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_real_libraries_parse_or_raise_elferror(data: st.DataObject) -> None:
    """Bytes of a real glibc library with version sections (this machine's libssl.so.3) and a real musl one
    (Alpine 3.20's libssl.so.3) overwritten at random places: a result, ``ElfError``, or ``InputRefused``
    when a mutated count goes past a cap (4,123 section headers against 4,096), nothing else."""
    import io

    sources = _fuzz_sources()
    blob = bytearray(data.draw(st.sampled_from(sources)))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(blob) - 1))
        blob[at] = data.draw(st.integers(0, 255))
    try:
        parse_dynamic_symbols(io.BytesIO(bytes(blob)), len(blob))
    except (ElfError, InputRefused):
        pass


_SOURCES: list[bytes] = []


def _fuzz_sources() -> list[bytes]:
    if not _SOURCES:
        candidates = [
            Path("/usr/lib/x86_64-linux-gnu/libssl.so.3"),
            realparts.alpine_minirootfs("3.20") / "lib" / "libssl.so.3",
        ]
        _SOURCES.extend(p.read_bytes() for p in candidates if p.is_file())
        assert _SOURCES
    return _SOURCES


def test_a_library_of_another_machine(tmp_path: Path) -> None:
    """3.20's x86_64 apk beside 3.20's aarch64 libz: musl maps it, cannot relocate it; so says the check."""
    root = realparts.copy_minirootfs("3.20", tmp_path / "root")
    foreign = realparts.alpine_minirootfs("3.20", "aarch64") / "lib" / "libz.so.1.3.1"
    os.unlink(root / "lib" / "libz.so.1.3.1")
    shutil.copy2(foreign, root / "lib" / "libz.so.1.3.1")
    (v,) = check_paths([str(root / "sbin" / "apk")], str(root)).objects
    assert not v.loads
    assert v.reasons[0] == (
        "Error loading shared library libz.so.1: built for another machine (aarch64) (needed by /sbin/apk)"
    )
    real = realparts.run_in_root(root, ["/lib/ld-musl-x86_64.so.1", "--list", "/sbin/apk"], timeout=60)
    assert (
        real.returncode != 0 and "Error relocating /lib/libz.so.1: unsupported relocation type" in real.stderr
    )


def test_nothing_is_ever_executed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking real binaries and a real wheel against a real root starts no process at all: every way this
    process could run something raises while the check runs."""
    import subprocess as sp

    from tests import parts_native

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the check tried to run something: {args!r}")

    for name in ("execv", "execve", "execvp", "execvpe", "posix_spawn", "posix_spawnp", "system", "fork"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    monkeypatch.setattr(sp.Popen, "__init__", refuse)
    r16, r17 = realparts.alpine_minirootfs("3.16"), realparts.alpine_minirootfs("3.17")
    report = check_paths(
        [str(r16 / "sbin" / "apk"), str(r16 / "lib"), str(parts_native.jiter_wheel())], str(r17)
    )
    assert not report.ok and report.objects


def test_a_hidden_directory_in_the_root_keeps_its_dot(tmp_path: Path, app: Path) -> None:
    """A program under ``/.hidden`` of the root: its path inside the root is ``/.hidden/app``, so its
    ``$ORIGIN`` and its name in the report are right (a stripped dot would name another directory)."""
    root = _root(tmp_path, app)
    (root / ".hidden").mkdir()
    shutil.copy2(app / "app", root / ".hidden" / "app")
    shutil.copy2(app / "libfoo.so.1", root / "lib" / "libfoo.so.1")
    (v,) = check_paths([str(root / ".hidden" / "app")], str(root)).objects
    assert v.path == "/.hidden/app" and v.loads


def test_a_libc_so_6_without_glibc_versions_keeps_a_musl_root(tmp_path: Path) -> None:
    """Alpine's gcompat puts a ``libc.so.6`` in /lib that is musl underneath (no ``GLIBC_2.*`` versions).
    Stand-in: a link to 3.20's own libz. The root stays musl-only; with this machine's real glibc
    ``libc.so.6`` beside musl, it has both."""
    root = realparts.copy_minirootfs("3.20", tmp_path / "root")
    os.symlink("libz.so.1", root / "lib" / "libc.so.6")
    system = read_system(str(root))
    assert (system.libc, system.only_libc) == ("musl", "musl")
    os.unlink(root / "lib" / "libc.so.6")
    shutil.copy2("/lib/x86_64-linux-gnu/libc.so.6", root / "lib" / "libc.so.6")
    system = read_system(str(root))
    assert (system.libc, system.only_libc) == ("glibc", "")

"""``alpinetags check`` on the ordinary inputs a new user gives it (issue 17): a folder holding wheels and
loose ELF files, an empty folder, a folder named like a wheel, a file the user cannot read, a link given as
the path, a folder whose libraries nothing finds. Real Alpine roots, real files, the roots' own loaders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from alpinetags._load.native import check_paths
from tests import parts_native, realparts

pytestmark = pytest.mark.realparts

LOADER = "/lib/ld-musl-x86_64.so.1"


def run(*args: str, user: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
    return subprocess.run([*prefix, sys.executable, "-m", "alpinetags", "check", *args], capture_output=True,
                          text=True, timeout=300, env=env, check=False, cwd="/")  # fmt: skip


def _real_list(root: Path, inside: str) -> tuple[bool, str]:
    """The root's own musl loader on ``inside`` (``--list``, chrooted): loads, and its error lines."""
    proc = realparts.run_in_root(root, [LOADER, "--list", inside], timeout=60)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    return not errors and proc.returncode == 0, "\n".join(errors)


def _copy(src: Path, dest: Path) -> Path:
    """A real copy (the roots are hard-linked copies of the cache: a chmod must not reach the cache)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


@pytest.fixture(scope="module")
def root17(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return realparts.copy_minirootfs("3.17", tmp_path_factory.mktemp("r17") / "root")


def test_a_folder_with_wheels_also_checks_its_loose_elf_files(root17: Path) -> None:
    """A folder holding a wheel (jiter, loads on 3.17) and a loose program (3.16's apk, which needs
    ``libcrypto.so.1.1``): both are checked, and the real loader agrees apk fails. Before, a folder with any
    wheel was checked wheel by wheel only: "all load", exit 0."""
    folder = root17 / "opt" / "mixed"
    _copy(parts_native.jiter_wheel(), folder / "wheels" / parts_native.jiter_wheel().name)
    _copy(realparts.alpine_minirootfs("3.16") / "sbin" / "apk", folder / "bin" / "apk")
    proc = run("--json", "--root", str(root17), str(folder))
    assert proc.returncode == 1, proc.stdout
    data = json.loads(proc.stdout)
    by_path = {o["path"]: o for o in data["objects"]}
    assert by_path["/opt/mixed/bin/apk"]["loads"] is False
    assert "libcrypto.so.1.1" in by_path["/opt/mixed/bin/apk"]["missing_sonames"]
    jiter = [o for p, o in by_path.items() if p.endswith("jiter.cpython-311-x86_64-linux-musl.so")]
    assert len(jiter) == 1 and jiter[0]["loads"]
    assert _real_list(root17, "/opt/mixed/bin/apk")[0] is False


@pytest.mark.parametrize("name", ["empty", "x.whl"])
def test_nothing_found_is_said_plainly_never_all_load(tmp_path: Path, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "README").write_text("no ELF file here\n")
    proc = run("--root", str(realparts.alpine_minirootfs("3.17")), str(folder))
    assert proc.returncode == 2, proc.stdout
    assert "all load" not in proc.stdout + proc.stderr
    assert f"no ELF file found in {folder}: nothing was checked" in proc.stderr


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can enter (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="alpinetags-unreadable-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d)


def test_an_unreadable_file_is_an_error_naming_it(shared_dir: Path) -> None:
    """A real library the user cannot read (mode 000, run as ``nobody`` when the tests run as root), beside
    one that loads: the check does not say "all load" and exits 2 naming the file, in a folder and alone."""
    r17 = realparts.alpine_minirootfs("3.17")
    lib = shared_dir / "lib"
    _copy(r17 / "lib" / "libz.so.1.2.13", lib / "libz.so.1")
    secret = _copy(r17 / "lib" / "libapk.so.3.12.0", lib / "libsecret.so.1")
    os.chmod(lib, 0o755)
    os.chmod(lib / "libz.so.1", 0o644)
    os.chmod(secret, 0o000)
    user = "65534" if os.geteuid() == 0 else ""  # nobody
    if user:
        realparts.readable_by_others()
    folder = run("--root", str(r17), str(lib), user=user)
    assert folder.returncode == 2, folder.stdout + folder.stderr
    assert "all load" not in folder.stdout
    assert "1 file could not be read, not checked" in folder.stdout
    assert f"{secret}: cannot be read: Permission denied" in folder.stderr
    alone = run("--root", str(r17), str(secret), user=user)
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert f"{secret}: cannot be read: Permission denied" in alone.stderr
    assert "neither a wheel" not in alone.stderr


@pytest.mark.parametrize("inside", ["/bin/sh", "/lib/libz.so.1", "/lib/libc.musl-x86_64.so.1"])
def test_a_link_given_as_path_is_followed_inside_the_root(root17: Path, inside: str) -> None:
    """``/bin/sh -> /bin/busybox`` is an absolute link: followed inside the root, as the loader in a chroot
    follows it (this machine's /bin/busybox, if any, is not the file). Before: "neither a wheel, a
    directory nor an ELF file", exit 2."""
    assert (root17 / inside.lstrip("/")).is_symlink()
    proc = run("--all", "--root", str(root17), str(root17 / inside.lstrip("/")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ok    {inside}" in proc.stdout
    assert _real_list(root17, inside)[0] is True


def test_a_folder_library_nothing_loads_gets_its_own_verdict(root17: Path) -> None:
    """3.10's apk with its ``libssl.so.1.1`` and ``libcrypto.so.1.1`` in a folder of the real 3.17 root: no
    RPATH leads apk to the folder, so the loader takes neither library from there, and ``libssl.so.1.1``
    alone fails for ``libcrypto.so.1.1`` while ``libcrypto.so.1.1`` alone loads. Each gets its own verdict,
    as the real loader gives it; the header counts no library as loaded by another."""
    r10 = realparts.alpine_minirootfs("3.10")
    folder = root17 / "opt" / "old"
    for src in (r10 / "sbin" / "apk", r10 / "lib" / "libssl.so.1.1", r10 / "lib" / "libcrypto.so.1.1"):
        _copy(src, folder / src.name)
    report = check_paths([str(folder)], str(root17))
    verdicts = {v.path: v for v in report.objects}
    assert set(verdicts) == {"/opt/old/apk", "/opt/old/libssl.so.1.1", "/opt/old/libcrypto.so.1.1"}
    assert report.dependencies == ()
    assert verdicts["/opt/old/libssl.so.1.1"].missing_sonames == ("libcrypto.so.1.1",)
    for path, v in verdicts.items():
        assert _real_list(root17, path)[0] is v.loads, (path, v.reasons)
    proc = run("--root", str(root17), str(folder))
    assert proc.returncode == 1 and "3 ELF objects, 2 do not load" in proc.stdout.splitlines()[0]
    assert "they load" not in proc.stdout.splitlines()[0]


# --------------------------------------------------------------------------------------------------
# libc mismatches: a module the importing Python never imports by that name


def _markupsafe(kind: str) -> Path:
    """The pinned markupsafe 3.0.4 wheels (wheel-tools): one manylinux, one musllinux, same module."""
    found = sorted((realparts.CACHE / "wheel-tools").glob(f"markupsafe-3.0.4-cp311-cp311-{kind}*.whl"))
    if not found:
        realparts._missing(f"markupsafe 3.0.4 {kind} wheel")
    return found[0]


def test_a_linux_gnu_module_is_never_imported_by_alpines_python(root17: Path) -> None:
    """The manylinux markupsafe's ``_speedups.cpython-311-x86_64-linux-gnu.so`` links against ``libc.so.6``
    only, and musl resolves its names, so the loader alone would load it. But the real Alpine CPython in
    the real 3.17 root imports ``.cpython-311-x86_64-linux-musl.so``, ``.abi3.so`` and ``.so`` only: the
    import fails with ModuleNotFoundError. The check says "does not load", in words."""
    import zipfile

    py = root17 / "opt" / "py"
    if not py.exists():
        shutil.copytree(realparts.krunner_python("x86_64"), py, symlinks=True,
                        copy_function=realparts._link_or_copy)  # fmt: skip
    with zipfile.ZipFile(_markupsafe("manylinux")) as zf:
        zf.extractall(root17 / "opt" / "gnu")
    suffixes = realparts.run_in_root(root17, ["/opt/py/bin/python3.11", "-I", "-c",
        "import importlib.machinery as m; print(' '.join(m.EXTENSION_SUFFIXES))"])  # fmt: skip
    assert suffixes.stdout.split() == [".cpython-311-x86_64-linux-musl.so", ".abi3.so", ".so"], (
        suffixes.stderr
    )
    real = realparts.run_in_root(root17, ["/opt/py/bin/python3.11", "-I", "-c",
        "import sys; sys.path.insert(0, '/opt/gnu'); import markupsafe._speedups"])  # fmt: skip
    assert (
        real.returncode != 0 and "ModuleNotFoundError: No module named 'markupsafe._speedups'" in real.stderr
    )
    module = "/opt/gnu/markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"
    # the very file renamed to a suffix Alpine's CPython tries: it imports, so only its name keeps it out
    shutil.copytree(root17 / "opt" / "gnu", root17 / "opt" / "renamed")
    (root17 / "opt/renamed" / module[len("/opt/gnu/") :]).rename(
        root17 / "opt/renamed/markupsafe/_speedups.so"
    )
    renamed = realparts.run_in_root(root17, ["/opt/py/bin/python3.11", "-I", "-c",
        "import sys; sys.path.insert(0, '/opt/renamed'); import markupsafe._speedups"])  # fmt: skip
    assert renamed.returncode == 0, renamed.stderr
    for interpreter in ("/opt/py/bin/python3.11", ""):
        (v,) = check_paths([str(root17 / module.lstrip("/"))], str(root17), interpreter=interpreter).objects
        assert not v.loads
        assert v.reasons[0].startswith("built for glibc (_speedups.cpython-311-x86_64-linux-gnu.so is a")
        assert "a musl Python imports .cpython-3" in v.reasons[0]
    proc = run("--root", str(root17), str(_markupsafe("manylinux")))
    assert proc.returncode == 1 and "all load" not in proc.stdout and "built for glibc" in proc.stdout


def _import_speedups(python: str, site: Path) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.path.insert(0, {str(site)!r}); import markupsafe._speedups"
    return subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_a_musllinux_module_is_never_imported_by_a_glibc_python(tmp_path: Path) -> None:
    """The musllinux markupsafe wheel on this glibc machine, as the Python running the tests imports it:
    its ``-linux-musl`` module is not imported (ModuleNotFoundError, for real), so it does not load."""
    import zipfile

    with zipfile.ZipFile(_markupsafe("musllinux")) as zf:
        zf.extractall(tmp_path / "site")
    real = _import_speedups(sys.executable, tmp_path / "site")
    assert "ModuleNotFoundError: No module named 'markupsafe._speedups'" in real.stderr
    proc = run("--json", str(_markupsafe("musllinux")))
    assert proc.returncode == 1, proc.stdout
    (obj,) = json.loads(proc.stdout)["objects"]
    assert obj["loads"] is False and obj["reasons"][0].startswith("built for musl (")
    assert (
        "a glibc Python imports .cpython-311-x86_64-linux-gnu.so, .abi3.so and .so only" in obj["reasons"][0]
    )


def test_a_module_for_another_python_version_is_not_imported(tmp_path: Path) -> None:
    """The manylinux markupsafe module (cp311) checked for pyenv's CPython 3.12 (read from its libpython's
    SOABI, never run): 3.12 imports ``.cpython-312-…`` and does not import it, for real too."""
    py312 = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12"
    if not py312.is_file():
        pytest.fail("this test needs pyenv's CPython 3.12.1 (the machine image has it): pyenv install 3.12.1")
    import zipfile

    with zipfile.ZipFile(_markupsafe("manylinux")) as zf:
        zf.extractall(tmp_path / "site")
    real = _import_speedups(str(py312), tmp_path / "site")
    assert "ModuleNotFoundError" in real.stderr
    proc = run("--executable", str(py312), str(_markupsafe("manylinux")))
    assert proc.returncode == 1, proc.stdout
    assert (
        "is a module for CPython 3.11: CPython 3.12 imports .cpython-312-x86_64-linux-gnu.so" in proc.stdout
    )


# --------------------------------------------------------------------------------------------------
# 32-bit arches: musl 1.2's __*time64 names, measured on real loaders (musl-abi/arch-changes.tsv)


def test_a_time64_program_on_an_older_x86_root_gets_the_musl_floor(tmp_path: Path) -> None:
    """3.13's x86 busybox (built for 64-bit ``time_t``) on a copy of the real 3.12 x86 root (musl 1.1.24):
    the root's own loader (run natively) misses the same ``__*time64`` names the check names, and the hint
    says which musl has them. Before: the names, and no hint (the lists were x86_64's)."""
    root = realparts.copy_minirootfs("3.12", tmp_path / "r12", arch="x86")
    busybox = _copy(realparts.alpine_minirootfs("3.13", "x86") / "bin" / "busybox", root / "opt" / "busybox")
    (v,) = check_paths([str(busybox)], str(root)).objects
    assert not v.loads and v.arch == "i686"
    assert v.missing_symbols and all("time64" in n for n in v.missing_symbols)
    assert any(h.startswith("needs musl 1.2.2 or newer (__") for h in v.hints), v.hints
    proc = realparts.run_in_root(root, ["/lib/ld-musl-i386.so.1", "--list", "/opt/busybox"], timeout=60)
    real = sorted(line.split(": ")[1] for line in proc.stderr.splitlines() if "symbol not found" in line)
    assert real == sorted(v.missing_symbols)


@pytest.mark.parametrize(("musl", "loads"), [("1.2.2", True), ("1.2.3", True), ("1.1.24", False)])
def test_a_stated_32bit_system_knows_the_time64_names(musl: str, loads: bool) -> None:
    """A system stated with no loader (musl version only) judges 3.13's x86 busybox and apk by the lists:
    from 1.2.2 on (measured on real x86, i386 and ARM loaders) they have the ``__*time64`` names. Before,
    every 32-bit file built against musl 1.2 was a false failure there."""
    from alpinetags._load.native import System

    r13 = realparts.alpine_minirootfs("3.13", "x86")
    system = System(root=str(r13), arch="i686", libc="musl", musl_version=musl)
    report = check_paths([str(r13 / "bin" / "busybox"), str(r13 / "sbin" / "apk")], str(r13), system=system)
    for v in report.objects:
        assert v.loads is loads, (v.path, v.reasons[:3])


# --------------------------------------------------------------------------------------------------
# ARM: ARMv6 (Alpine's armhf) is armv6l, ARMv7 armv7l, as the file's own Tag_CPU_arch says


def test_an_armv6_file_is_armv6l_and_loads_where_armhf_loads() -> None:
    """The real ARMv6 executable of ruff's ``linux_armv6l`` wheel reads as ``armv6l`` (before: ``armv7l``
    for every ARM file); Debian's real ARMv7 musl loader as ``armv7l``. Checked against the Debian armhf
    musl package as the root, the root shows its own arch (its loader's, ARMv7) and the ARMv6 file is
    not "built for another arch": one loader loads both."""
    from alpinetags._elf.elfdynamic import read_dynamic_symbols
    from alpinetags._elf.elfscan import scan_wheel
    from tests import parts_inputs

    (obj,) = [o for o in scan_wheel(str(parts_inputs.armv6_wheel())).objects if o.member.endswith("/ruff")]
    assert obj.symbols.arch == "armv6l"
    armhf = realparts.musl_sysroot("armhf")
    assert read_dynamic_symbols(str(armhf / "lib" / "ld-musl-armhf.so.1")).arch == "armv7l"
    proc = run("--json", "--root", str(armhf), str(parts_inputs.armv6_wheel()))
    assert proc.returncode == 0, proc.stdout
    data = json.loads(proc.stdout)
    assert data["system"]["arch"] == "armv7l"
    (v,) = data["objects"]
    assert v["arch"] == "armv6l" and v["loads"] and not any("built for" in r for r in v["reasons"])


def test_a_glibc_library_that_fails_on_musl_says_it_was_built_for_glibc(root17: Path) -> None:
    """Debian's libz (glibc-built) in the real 3.17 root: musl's loader fails on ``__snprintf_chk`` (for real,
    too), and the verdict says why in words first. Before: a list of symbols only."""
    src = realparts.CACHE / "musl-libs" / "amd64" / "zlib1g" / "lib" / "x86_64-linux-gnu" / "libz.so.1.2.13"
    if not src.is_file():
        realparts._missing(str(src))
    lib = _copy(src, root17 / "opt" / "debian" / "libz.so.1")
    (v,) = check_paths([str(lib)], str(root17)).objects
    assert not v.loads and "__snprintf_chk" in v.missing_symbols
    assert v.hints[0] == "built for glibc (it names libc.so.6 or glibc versions); the loader here is musl's"
    assert _real_list(root17, "/opt/debian/libz.so.1")[0] is False

"""``alpinetags check`` as a user runs it: exit codes, text, JSON, warnings, help, on real parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import parts_native, realparts

pytestmark = pytest.mark.realparts


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "alpinetags", "check", *args], capture_output=True,
                          text=True, timeout=300, env=full_env, check=False)  # fmt: skip


def test_jiter_on_3_8_exits_1_naming_the_symbol_and_the_floor() -> None:
    proc = run("--root", str(realparts.alpine_minirootfs("3.8")), str(parts_native.jiter_wheel()))
    assert proc.returncode == 1, proc.stderr
    assert "getrandom: symbol not found" in proc.stdout
    assert "hint: needs musl 1.1.20 or newer (getrandom); this root has musl 1.1.19" in proc.stdout
    assert proc.stdout.startswith("root ")
    assert "alpine 3.8.5, musl 1.1.19, x86_64" in proc.stdout.splitlines()[0]


def test_jiter_on_3_9_exits_0_and_json_says_why() -> None:
    """ALPINETAGS_ROOT stands for --root; --json gives every verdict with what was resolved where."""
    proc = run("--json", str(parts_native.jiter_wheel()),
               env={"ALPINETAGS_ROOT": str(realparts.alpine_minirootfs("3.9"))})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is True and data["problems"] == []
    assert data["system"]["libc"] == "musl" and data["system"]["libc_version"] == "1.1.20"
    module = next(o for o in data["objects"] if o["path"].endswith("-musl.so"))
    assert module["loads"] is True
    assert module["resolved"]["libgcc_s-f685abf1.so.1"].endswith("!jiter.libs/libgcc_s-f685abf1.so.1")
    assert module["notes"] == ["Python C API names (Py*, _Py*) are left to the interpreter that imports it"]


def test_alpine_binaries_on_a_later_release_with_apk_hints() -> None:
    """3.16's apk on the real 3.17 root: exit 1, the missing soname and the package that still ships it."""
    r16, r17 = realparts.alpine_minirootfs("3.16"), realparts.alpine_minirootfs("3.17")
    proc = run("--root", str(r17), str(r16 / "sbin" / "apk"))
    assert proc.returncode == 1
    assert "Error loading shared library libcrypto.so.1.1: No such file or directory" in proc.stdout
    assert "hint: apk add so:libcrypto.so.1.1  (Alpine 3.17: package openssl1.1-compat" in proc.stdout


def test_a_root_checked_against_itself_loads(tmp_path: Path) -> None:
    """Every ELF file of the real 3.20 root, in place: all load (exit 0), with --all listing each."""
    r20 = realparts.alpine_minirootfs("3.20")
    proc = run("--all", "--root", str(r20), str(r20 / "usr"), str(r20 / "sbin"))
    assert proc.returncode == 0, proc.stdout
    assert "ok    /sbin/apk" in proc.stdout and "ok    /usr/bin/ssl_client" in proc.stdout


def test_bad_input_exits_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF file, not a wheel\n")
    for args in (["/nonexistent/path"], [str(text)], ["--root", str(tmp_path / "nope"), str(text)]):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("alpinetags: error: ")


def test_an_unreadable_elf_file_is_a_warning_then_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.so"
    broken.write_bytes(b"\x7fELF" + b"\x02\x01\x01" + b"\x00" * 120)  # an ELF header that lies
    proc = run(str(broken))
    assert proc.returncode == 2
    assert "alpinetags: warning: not checked: " in proc.stderr


def test_default_is_this_environments_site_packages() -> None:
    """No PATH: the compiled modules of the environment running it, on this system. They do load here."""
    proc = run("--json")
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = json.loads(proc.stdout)
    assert data["ok"] is True
    assert data["system"]["root"] == "/"


def test_help_has_examples_and_exit_codes() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and "alpinetags check --json" in proc.stdout
    assert "exit codes: 0 every object loads, 1 some object does not, 2 bad input" in proc.stdout
    assert "ALPINETAGS_ROOT" in proc.stdout


@pytest.mark.parametrize(("minor", "code"), [("3.10", 1), ("3.17", 0)])
def test_executable_checks_modules_as_that_python_imports_them(tmp_path: Path, minor: str, code: int) -> None:
    """``--executable``: the Alpine CPython in a copy of a real root. On 3.10 its own libpython needs
    ``copy_file_range`` (musl 1.1.24+), so no module can load; on 3.17 ``_ssl`` loads."""
    import shutil

    root = realparts.copy_minirootfs(minor, tmp_path / "root")
    shutil.copytree(realparts.krunner_python("x86_64"), root / "opt" / "py", symlinks=True,
                    copy_function=realparts._link_or_copy)  # fmt: skip
    ssl = next((root / "opt/py/lib/python3.11/lib-dynload").glob("_ssl.*.so"))
    proc = run("--root", str(root), "--executable", str(root / "opt/py/bin/python3.11"), str(ssl))
    assert proc.returncode == code, proc.stdout
    if code:
        assert "Error relocating /opt/py/lib/libpython3.11.so.1.0: copy_file_range: symbol not found" in (
            proc.stdout
        )
    outside = run("--root", str(root), "--executable", sys.executable, str(ssl))
    assert outside.returncode == 2 and "is not inside --root" in outside.stderr


def test_a_root_with_no_c_library_cannot_be_checked(tmp_path: Path) -> None:
    """An empty directory as the root: nothing to load against, exit 3 (cannot probe), not a verdict."""
    proc = run("--root", str(tmp_path), str(parts_native.jiter_wheel()))
    assert proc.returncode == 3, proc.stdout
    assert "no C library for x86_64" in proc.stderr


def test_another_arch_than_the_roots_is_a_verdict() -> None:
    """3.20's aarch64 apk against the real x86_64 3.20 root: exit 1, "built for aarch64", not exit 3."""
    r20 = realparts.alpine_minirootfs("3.20")
    foreign = realparts.alpine_minirootfs("3.20", "aarch64") / "sbin" / "apk"
    proc = run("--root", str(r20), str(foreign))
    assert proc.returncode == 1, proc.stderr
    assert "built for aarch64, the system is x86_64" in proc.stdout

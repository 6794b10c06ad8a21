"""The execution guard, proven with real executables.

Only an absolute path named ``ld-musl-<arch>.so.1`` that is a regular file is ever run, with no shell, an
empty environment, stdin on ``/dev/null`` (a read gives end-of-file at once), and a timeout after which
the loader and everything it started are killed. Nothing under a root other than ``/`` is ever run.

The fakes are real programs: a static musl-gcc build that records its argv, environment, what a read of
stdin gives and its session into a file, and shell scripts that hang or flood stderr.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alpinetags_musl import musl_loader_version

from alpinetags import hookimpl
from alpinetags._engine.detect import detect
from alpinetags._engine.plugins import load_plugins
from alpinetags._system.musl import read_musl_version, run_musl_version
from alpinetags.errors import LoaderError
from alpinetags.model import Platform, Target

LOADER = "ld-musl-x86_64.so.1"

RECORDER_C = r"""
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
extern char **environ;
/* Static strings a static reader would find: musl's banner and a version between NULs. */
static const char banner[] = "musl libc (x86_64)";
__attribute__((used)) static const char version[] = "\0" "1.2.88";
int main(int argc, char **argv) {
    FILE *f = fopen(RECORD, "w");
    if (!f) return 2;
    fprintf(f, "{\"argv\": [");
    for (int i = 0; i < argc; i++) fprintf(f, "%s\"%s\"", i ? ", " : "", argv[i]);
    fprintf(f, "], \"env\": [");
    for (char **e = environ; *e; e++) fprintf(f, "%s\"%s\"", e == environ ? "" : ", ", *e);
    char buf[16];
    ssize_t n = read(0, buf, sizeof buf);
    fprintf(f, "], \"stdin_read\": %zd, \"stdin_errno\": %d, \"own_session\": %d}\n",
            n, n < 0 ? errno : 0, getsid(0) == getpid());
    fclose(f);
    fprintf(stderr, "%s\nVersion 1.2.99\nDynamic Program Loader\n", banner);
    return 1;
}
"""


def _musl_gcc(src: Path, out: Path, *flags: str) -> Path:
    if shutil.which("musl-gcc") is None:
        pytest.fail("musl-gcc is missing: apt-get install musl-tools (scripts/test installs it)")
    subprocess.run(
        ["musl-gcc", "-static", "-O1", "-s", *flags, "-o", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    # The compilers' ident strings ("GCC: ... 12.2.0") would be a second version string near the banner.
    subprocess.run(["objcopy", "--remove-section=.comment", str(out)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def recorder_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A static program that records how it was run into ``record.json`` beside it; (program, record)."""
    d = tmp_path_factory.mktemp("recorder")
    src = d / "recorder.c"
    src.write_text(RECORDER_C)
    record = d / "record.json"
    return _musl_gcc(src, d / "recorder", f'-DRECORD="{record}"'), record


@pytest.fixture
def recorder(recorder_build: tuple[Path, Path]) -> tuple[Path, Path]:
    program, record = recorder_build
    record.unlink(missing_ok=True)
    return program, record


def place(program: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(program, dest)
    dest.chmod(0o755)
    return dest


def script(dest: Path, body: str) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("#!/bin/sh\n" + body)
    dest.chmod(0o755)
    return dest


def gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (absent, or a zombie waiting for its reaper)."""
    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


# --- how a loader is run --------------------------------------------------------------------------------


def test_loader_runs_with_no_shell_empty_env_and_stdin_at_eof(
    recorder: tuple[Path, Path], tmp_path: Path
) -> None:
    program, record = recorder
    # Shell metacharacters in the directory: a shell would run `touch pwned` and expand $(...).
    odd = tmp_path / "a dir;touch pwned;$(touch pwned2)"
    loader = place(program, odd / LOADER)
    assert run_musl_version(str(loader)) == "1.2.99"
    seen = json.loads(record.read_text())
    assert seen["argv"] == [str(loader)]  # exactly the path, no arguments
    assert seen["env"] == []  # not even PATH
    assert seen["stdin_read"] == 0  # end-of-file at once: nothing can be fed to it
    assert seen["own_session"] == 1  # started in a session of its own, so it can be killed with its children
    assert not list(tmp_path.rglob("pwned*")), "a shell ran"


def test_a_hanging_loader_costs_the_timeout_and_leaves_nothing_running(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    loader = script(tmp_path / LOADER, f"sleep 1000 &\necho $! > {pids}\necho $$ >> {pids}\nwait\n")
    start = time.monotonic()
    with pytest.raises(LoaderError, match=r"no version within 0\.5 s"):
        run_musl_version(str(loader), timeout=0.5)
    # The fake would take 1000 s; the call returned, and neither the loader nor its child runs on.
    assert time.monotonic() - start < 30
    child, parent = (int(p) for p in pids.read_text().split())
    assert gone(child), "the loader's child outlived the call"
    assert gone(parent)


def test_a_loader_that_floods_stderr_is_cut_off(tmp_path: Path) -> None:
    loader = script(tmp_path / LOADER, "exec yes 'no version here' >&2\n")
    with pytest.raises(LoaderError, match="printed no 'Version"):
        run_musl_version(str(loader), timeout=5)


def test_a_loader_with_a_huge_version_gives_no_version(tmp_path: Path) -> None:
    loader = script(tmp_path / LOADER, "echo 'Version 1.99999999.0' >&2\n")
    with pytest.raises(LoaderError, match="printed no 'Version"):
        run_musl_version(str(loader))


# --- what is refused ---------------------------------------------------------------------------------------


def _refused(path: str, match: str) -> None:
    with pytest.raises(LoaderError, match=match):
        run_musl_version(path, timeout=1)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / LOADER).mkdir()
    _refused(str(tmp_path / LOADER), "not a regular file")


def test_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / LOADER)
    _refused(str(tmp_path / LOADER), "not a regular file")
    with pytest.raises(LoaderError, match="not a regular file"):
        read_musl_version(str(tmp_path / LOADER))  # nor is it opened for reading (it would block)


def test_a_relative_path_is_refused(
    recorder: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program, record = recorder
    place(program, tmp_path / LOADER)
    monkeypatch.chdir(tmp_path)
    _refused(LOADER, "relative")
    _refused(f"./{LOADER}", "relative")
    assert not record.exists()


@pytest.mark.parametrize(
    "name",
    ["python3", "ld-musl-x86_64.so.2", "ld-linux-x86-64.so.2", "ld-musl-x86_64.so.1.bak", "ld-musl-.so.1"],
)
def test_a_differently_named_file_is_refused(recorder: tuple[Path, Path], tmp_path: Path, name: str) -> None:
    program, record = recorder
    path = place(program, tmp_path / name)
    _refused(str(path), "not named ld-musl")
    assert not record.exists()


def test_odd_paths_are_refused(tmp_path: Path) -> None:
    _refused("", "relative")
    _refused(f"/tmp/nul\x00/{LOADER}", "null")
    _refused(str(tmp_path / "missing" / LOADER), "No such file")
    script(tmp_path / LOADER, "exit 0\n").chmod(0o644)  # a regular file, not executable
    _refused(str(tmp_path / LOADER), "cannot run")


# --- through the plugin and detection ----------------------------------------------------------------------


def test_the_running_system_runs_the_loader_only_when_reading_fails(
    recorder: tuple[Path, Path], tmp_path: Path
) -> None:
    """musl_loader_version (what the musl plugin calls): read first; run only for the running system."""
    program, record = recorder
    loader = place(program, tmp_path / LOADER)
    version, how = musl_loader_version(Target(), str(loader))
    assert (version, how) == ("1.2.88", f"read from {loader}")  # the static read won: nothing ran
    assert not record.exists()
    loader.write_bytes(program.read_bytes().replace(b"musl libc (", b"xxxx xxxx ("))
    version, how = musl_loader_version(Target(), str(loader))
    assert (version, how) == ("1.2.99", f"ran {loader}")
    assert json.loads(record.read_text())["env"] == []


@pytest.fixture
def musl_root(recorder: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A root whose interpreter's PT_INTERP names /lib/ld-musl-x86_64.so.1, a recorder; (root, record)."""
    program, record = recorder
    root = tmp_path / "root"
    src = tmp_path / "hello.c"
    src.write_text("int main(void) { return 0; }\n")
    (root / "usr" / "bin").mkdir(parents=True)
    subprocess.run(
        ["musl-gcc", "-o", str(root / "usr/bin/python3"), str(src)], check=True, capture_output=True
    )
    place(program, root / "lib" / LOADER)
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text('ID=void\nNAME="Void"\n')
    return root, record


def test_nothing_under_a_root_is_run_static_read_works(musl_root: tuple[Path, Path]) -> None:
    root, record = musl_root
    platform = detect(Target(root=str(root)), load_plugins())
    assert (platform.libc, platform.libc_version, platform.detected_by) == ("musl", "1.2.88", "musl")
    assert not record.exists(), "a loader under --root was executed"


def test_nothing_under_a_root_is_run_unreadable_loader_is_not_detected(
    musl_root: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    root, record = musl_root
    loader = root / "lib" / LOADER
    loader.write_bytes(loader.read_bytes().replace(b"musl libc (", b"xxxx xxxx ("))  # no static answer
    registry = load_plugins()
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        platform = detect(Target(root=str(root)), registry)
    assert platform.libc_version == "" and platform.detected_by == ""  # not detected: no musllinux claim
    assert not record.exists(), "a loader under --root was executed"
    assert any("no musl banner" in f for f in registry.faults)


def test_nothing_under_a_root_is_run_from_the_command_line(musl_root: tuple[Path, Path]) -> None:
    """The same through the CLI (--root) and ALPINETAGS_ROOT, in a fresh process."""
    root, record = musl_root
    loader = root / "lib" / LOADER
    loader.write_bytes(loader.read_bytes().replace(b"musl libc (", b"xxxx xxxx ("))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    for argv, extra in (
        (["detect", "--root", str(root)], {}),
        (["tags", "--root", str(root)], {}),
        (["detect"], {"ALPINETAGS_ROOT": str(root)}),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "alpinetags", *argv, "--json"],
            capture_output=True,
            text=True,
            env={**env, **extra},
        )
        assert proc.returncode in (0, 1), proc.stderr
        assert not record.exists(), f"{argv} {extra} executed a loader under the root"


def test_a_hanging_loader_in_a_plugin_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The running system's loader hangs: the musl plugin's lookup costs the timeout, detection goes on."""
    loader = script(tmp_path / LOADER, "sleep 1000\n")

    class HangingLoaderPlugin:
        @hookimpl(tryfirst=True)
        def alpinetags_detect(self, target: Target, base: Platform) -> Platform:
            version, _ = musl_loader_version(target, str(loader))  # reads, fails, runs: the plugin's path
            return dataclasses.replace(base, libc="musl", libc_version=version)

    registry = load_plugins(extra=[(f"hanging-{tmp_path.name}", HangingLoaderPlugin())])
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        platform = detect(Target(), registry)
    assert platform.libc != "musl"  # fell back to what the core and the other plugins say
    assert platform.arch
    assert [r.getMessage() for r in caplog.records if "hanging-" in r.getMessage()] == [
        f"plugin 'hanging-{tmp_path.name}' raised in alpinetags_detect: LoaderError: {loader}: "
        "gave no version within 2 s"
    ]


def test_a_link_loop_in_a_root_never_lands_on_this_machine(tmp_path: Path) -> None:
    """Absolute links that loop inside a root: resolving gives up, and the path left would be followed on
    this machine (to this Python, this os-release). Neither may be read for the root."""
    from alpinetags._engine.detect import target_executable

    root = tmp_path / "root"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr" / "bin" / "python3").symlink_to("/usr/bin/python3")  # itself, inside the root
    (root / "etc" / "os-release").symlink_to("/etc/os-release")
    target = Target(root=str(root))
    assert target_executable(target) is None
    platform = detect(target, load_plugins())
    assert (platform.distro_id, platform.libc) == ("", "")


def _with_interpreter(elf: bytes, interpreter: str) -> bytes:
    """A copy of a little-endian ELF64 executable whose PT_INTERP names ``interpreter`` (appended at
    the end of the file, the program header pointed at it)."""
    import struct

    phoff = struct.unpack_from("<Q", elf, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    out = bytearray(elf)
    new = interpreter.encode() + b"\x00"
    at = len(out)
    out += new
    for i in range(phnum):
        ph = phoff + i * phentsize
        if struct.unpack_from("<I", out, ph)[0] == 3:  # PT_INTERP: p_offset, then p_filesz
            struct.pack_into("<Q", out, ph + 8, at)
            struct.pack_into("<Q", out, ph + 32, len(new))
            return bytes(out)
    raise AssertionError("no PT_INTERP")


def test_another_executable_on_this_system_never_runs_its_loader(
    recorder: tuple[Path, Path], musl_root: tuple[Path, Path], tmp_path: Path
) -> None:
    """--executable (root /, not this interpreter): its PT_INTERP names a recorder that cannot be read
    statically. It is not run; the libc is not detected."""
    program, record = recorder
    loader = place(program, tmp_path / "lib" / LOADER)
    loader.write_bytes(loader.read_bytes().replace(b"musl libc (", b"xxxx xxxx ("))
    root, _ = musl_root
    exe = tmp_path / "python3"
    exe.write_bytes(_with_interpreter((root / "usr/bin/python3").read_bytes(), str(loader)))
    exe.chmod(0o755)
    from alpinetags._elf.elffile import read_elf

    assert read_elf(str(exe)).interpreter == str(loader)
    target = Target(executable=str(exe))
    assert not target.is_running_system
    platform = detect(target, load_plugins())
    assert platform.libc_version == ""
    proc = subprocess.run(
        [sys.executable, "-m", "alpinetags", "detect", "--executable", str(exe), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["libc_version"] == ""
    assert not record.exists(), "the loader of an --executable was run"

"""time64, measured on real 32-bit Alpine roots (x86 runs natively on an x86_64 kernel, in a chroot).

Alpine 3.13 moved its 32-bit arches to musl 1.2 and a 64-bit ``time_t``. Two questions, two measurements:

1. Does a program built on 3.12 (32-bit ``time_t``) still work on 3.13 when it only talks to musl?
   The real busybox of the Alpine 3.12 x86 minirootfs runs ``stat``, ``ls -l`` and ``date`` inside the
   real 3.13 x86 root; its output is set beside 3.13's own busybox in the same root, and beside itself on
   3.12. musl 1.2 keeps the 32-bit symbols (``stat``, ``gmtime_r``, ...) beside the new ``__*_time64``
   ones, so the old binary gets 32-bit answers from the new libc.
2. What does break: a library that has ``time_t`` in its own API, rebuilt with 64-bit ``time_t`` under
   the same soname. ``time64/caller.c`` is compiled as 3.12 compiles it (32-bit ``time_t``), linked against
   the real 3.12 x86 ``libcrypto.so.1.1``, and asks musl's ``gmtime_r`` and OpenSSL's ``OPENSSL_gmtime``
   which year a timestamp is; then it runs on the real 3.12 and 3.13 roots. The year 3.13's OpenSSL
   answers is the harness's: it reads the int the caller stored after the 4-byte ``time_t`` as the high
   half, so the caller is built once per value of that int (``NEXT_SWEEP``) to show the mechanism rather
   than one number.
3. Whether a real 3.12 program is exposed: every ELF file of the real 3.12 x86 minirootfs is read for
   imports of ``TIME_T_API`` (functions of the 3.12 libraries with ``time_t`` in their signature), which
   are the only calls that change meaning across 3.13 (``time64_callers``).

Run from the repository root: ``python -m experiments.time64 [--out DIR]`` (writes ``time64.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from tests import realparts

HERE = Path(__file__).resolve().parent
CALLER_SOURCE = HERE / "time64" / "caller.c"
ARCH = "x86"
OLD, NEW = "3.12", "3.13"  # the last 32-bit time_t release, the first 64-bit one
#: Files with an mtime before 2038 and one after it (set from the host, the same in both roots).
STAMPS = {"/tmp/t2030": "2030-01-02 03:04:05", "/tmp/t2040": "2040-01-02 03:04:05"}
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("stat", "-c", "%y %n", "/tmp/t2030"),
    ("ls", "-l", "--full-time", "/tmp/t2030"),
    ("date", "-u", "-r", "/tmp/t2030", "+%F %T"),
    ("date", "-u", "-d", "@1700000000", "+%F %T"),
    ("stat", "-c", "%y %n", "/tmp/t2040"),
)
OLD_BUSYBOX = "/tmp/old/busybox"  # the 3.12 busybox inside a root (named busybox: it reads argv[0])
#: Values of the int the caller stores after its 32-bit time_t (caller.c's NEXT). 1 was the only value
#: measured before; 0, -1 and 7 show that the year 3.13's OpenSSL answers is whatever that word says.
NEXT_SWEEP = (1, 0, -1, 7)
#: Functions of OpenSSL 1.1.1's and libtls's public headers with a ``time_t`` (or a pointer to one) in their
#: signature, read by hand from those headers (crypto.h, asn1.h, x509.h, x509_vfy.h, tls.h); a 3.12 caller
#: of one of these passes or receives 4 bytes where 3.13's library uses 8. Hand-made, so possibly
#: incomplete: a struct with a ``time_t`` member passed by pointer would not be in it.
TIME_T_API = frozenset(
    {
        "OPENSSL_gmtime",
        "ASN1_TIME_set",
        "ASN1_TIME_adj",
        "ASN1_TIME_cmp_time_t",
        "ASN1_UTCTIME_set",
        "ASN1_UTCTIME_adj",
        "ASN1_UTCTIME_cmp_time_t",
        "ASN1_GENERALIZEDTIME_set",
        "ASN1_GENERALIZEDTIME_adj",
        "X509_cmp_time",
        "X509_time_adj",
        "X509_time_adj_ex",
        "X509_STORE_CTX_set_time",
        "X509_VERIFY_PARAM_set_time",
        "X509_VERIFY_PARAM_get_time",
        "tls_peer_cert_notbefore",
        "tls_peer_cert_notafter",
        "tls_peer_ocsp_revocation_time",
        "tls_peer_ocsp_this_update",
        "tls_peer_ocsp_next_update",
    }
)


@dataclass(frozen=True)
class Run:
    """One program run in one real root."""

    program: str  # "busybox (3.12)", "busybox (3.13)", "caller (3.12, libcrypto.so.1.1)"
    run_on: str
    command: str
    output: str
    returncode: int


def caller_name(next_word: int) -> str:
    """The program name of the caller built with ``NEXT=next_word`` in ``time64.json``."""
    return f"caller ({OLD}, libcrypto.so.1.1, next={next_word})"


def build_caller(dest: Path, next_word: int = 1) -> Path:
    """``caller.c`` built as Alpine 3.12 x86 builds (32-bit ``time_t``), linked against the real 3.12 libs.

    The host's gcc compiles it for i386 with no headers (the source declares what musl 1.1.24 and
    OpenSSL 1.1 declare), and ``ld -m elf_i386`` links it against the real ``libc.musl-x86.so.1`` and
    ``libcrypto.so.1.1`` of the 3.12 minirootfs, so its ``DT_NEEDED`` are exactly a 3.12 program's.
    """
    old = realparts.alpine_minirootfs(OLD, ARCH)
    dest.mkdir(parents=True, exist_ok=True)
    obj, out = dest / f"caller{next_word}.o", dest / f"caller{next_word}"
    flags = ["-m32", "-O1", "-ffreestanding", "-fno-builtin", "-fno-pie", "-fno-stack-protector"]
    flags.append(f"-DNEXT={next_word}")
    _check([shutil.which("gcc") or "gcc", *flags, "-c", str(CALLER_SOURCE), "-o", str(obj)])
    libs = [str(old / "lib" / "libc.musl-x86.so.1"), str(old / "lib" / "libcrypto.so.1.1")]
    _check(
        ["ld", "-m", "elf_i386", "-o", str(out), str(obj), "-dynamic-linker", "/lib/ld-musl-i386.so.1", *libs]
    )
    return out


def _check(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        realparts._missing(
            f"an i386-capable gcc and ld ({' '.join(argv)}: {proc.stderr.strip()})",
            "apt-get install gcc binutils",
        )


def _root(minor: str, workdir: Path, callers: Sequence[Path]) -> Path:
    """A private copy of the real x86 root with the 3.12 busybox, the callers, and the two stamped files."""
    root = realparts.copy_minirootfs(minor, workdir / f"x86-{minor}", ARCH)
    old_bb = root / OLD_BUSYBOX.lstrip("/")
    old_bb.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(realparts.alpine_minirootfs(OLD, ARCH) / "bin" / "busybox", old_bb)
    for caller in callers:
        shutil.copy2(caller, root / "tmp" / caller.name)
    for path, stamp in STAMPS.items():
        (root / path.lstrip("/")).write_text("x\n")
        os.utime(root / path.lstrip("/"), (0, _epoch(stamp)))
    return root


def _epoch(stamp: str) -> int:
    from datetime import datetime, timezone

    return int(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())


def _run(root: Path, minor: str, program: str, argv: Sequence[str]) -> Run:
    proc = subprocess.run(
        [shutil.which("chroot") or "/usr/sbin/chroot", str(root), *argv],
        env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "LANG": "C"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = (proc.stdout + proc.stderr).strip()
    return Run(program, minor, " ".join(argv[1:] if "busybox" in argv[0] else argv), output, proc.returncode)


def measure(workdir: Path) -> list[Run]:
    """Each command by the 3.12 busybox on 3.12 and 3.13 and by 3.13's on 3.13; the caller on both."""
    callers = [build_caller(workdir / "build", n) for n in NEXT_SWEEP]
    runs = []
    for minor in (OLD, NEW):
        root = _root(minor, workdir, callers)
        try:
            for cmd in COMMANDS:
                runs.append(_run(root, minor, f"busybox ({OLD})", [OLD_BUSYBOX, *cmd]))
                if minor == NEW:
                    runs.append(_run(root, minor, f"busybox ({NEW})", ["/bin/busybox", *cmd]))
            for n, caller in zip(NEXT_SWEEP, callers, strict=True):
                runs.append(_run(root, minor, caller_name(n), [f"/tmp/{caller.name}"]))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return runs


def time64_callers(minor: str = OLD) -> dict[str, list[str]]:
    """``{file: [TIME_T_API functions it imports]}`` for every ELF file of the real ``minor`` x86 root
    (relative paths, sorted; files importing none are listed with an empty list). Read, never run."""
    from alpinetags._elf.elfdynamic import read_dynamic_symbols

    root = realparts.alpine_minirootfs(minor, ARCH)
    out = {}
    for dirpath, _, filenames in sorted(os.walk(root)):
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file() or name.startswith("ld-musl-"):
                continue
            with open(path, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            syms = read_dynamic_symbols(str(path))
            out[str(path.relative_to(root))] = sorted((syms.required | syms.weak) & TIME_T_API)
    return dict(sorted(out.items()))


def by(runs: Sequence[Run], program: str, run_on: str, command: Optional[str] = None) -> Run:
    for r in runs:
        if r.program == program and r.run_on == run_on and (command is None or r.command == command):
            return r
    raise KeyError((program, run_on, command))


def callers_json() -> str:
    """``time64-callers.json``'s text."""
    return json.dumps(time64_callers(), indent=0) + "\n"


def runs_json(runs: Sequence[Run]) -> str:
    """``time64.json``'s text: one run per line, in the order measured (the same bytes on every run)."""
    return "[\n" + ",\n".join(json.dumps(asdict(r)) for r in runs) + "\n]\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.time64", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="experiments/results", help="directory for time64.json")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="time64-") as tmp:
        runs = measure(Path(tmp))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "time64.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(runs_json(runs))
    callers = os.path.join(args.out, "time64-callers.json")
    with open(callers, "w", encoding="utf-8") as f:
        f.write(callers_json())
    for r in runs:
        print(f"{r.program:<40} on {r.run_on}: {r.command:<40} -> {r.output}")
    print(f"-> {path}, {callers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

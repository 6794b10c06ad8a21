"""Start-up cost of alpinetags against packaging and the musl loader, run by hand (no timed test):

    nice -n 10 python bench/bench_startup.py [--runs 25] [--pth-runs 100] [--check-runs 5]

Every figure is measured from outside, on whole processes: CPU is the child's user + system time
(``os.wait4``), wall is spawn to reap. The two sides of a comparison are interleaved run by run (so
both see the same machine state), the figure is the median, the ratio median(alpinetags) /
median(other). Everything runs with this interpreter and its environment, in an empty directory,
except the ``.pth`` pair, which needs a venv that differs only by the hook file. Run it with the python
of a venv where alpinetags is installed (not editable: what users run); docs/speed.md says how its
figures were made.

1. ``alpinetags tags`` vs ``python -c 'import packaging.tags as t; print(*t.sys_tags(), sep="\\n")'``
2. ``python -c 'import alpinetags; alpinetags.sys_tags()'`` vs ``... list(packaging.tags.sys_tags())``
3. ``python -c pass`` in a fresh venv with pip, with the pip hook (this tree's ``enable_in``, the
   function ``alpinetags pip enable`` runs: ``alpinetags_pip_hook.py``, its bytecode and the ``.pth``
   that imports it) vs the same venv without it (the ``.pth`` renamed away and back between runs).
4. The native check on real Alpine files (``tests/realparts.py`` must have unpacked the minirootfs):
   a copy of the real 3.19 x86_64 minirootfs (hard links) gets, under ``/elf/<release>/``, every ELF
   file of every real x86_64 minirootfs (3.6 ... edge, about 255 files: each root has only ~17).
   * one ``alpinetags check --root COPY FILE`` per file of the 3.19 root itself, against the root's
     own musl loader run on the same file, natively:
     ``COPY/lib/ld-musl-x86_64.so.1 --library-path COPY/lib:COPY/usr/lib --list FILE``
     (``--library-path`` makes the loader resolve in the root instead of this host's /lib);
   * one ``alpinetags check --root COPY COPY/elf`` over the folder, against that loader run once per
     file (the sum of the children's CPU, and the wall time of the whole loop).

The cache of the detection (``ALPINETAGS_NO_CACHE``, docs/speed.md) is left as the user has it: the
first run fills it, the medians are of warm runs. ``--no-cache`` sets ``ALPINETAGS_NO_CACHE=1`` in
every alpinetags run, to show the cost without it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alpinetags._pip.hookfiles import enable_in  # noqa: E402
from alpinetags._pip.pth import pth_line  # noqa: E402
from tests import realparts  # noqa: E402

ELF_MAGIC = b"\x7fELF"
LOADER = "lib/ld-musl-x86_64.so.1"
Timing = tuple[float, float]  # (cpu, wall) in seconds
Run = tuple[list[str], dict[str, str]]
#: Every process runs in an empty directory: ``python -c`` puts the current one on ``sys.path``, and a
#: clone of the project there would be imported instead of the installed alpinetags.
CWD = {"dir": "/"}


def timed(argv: Sequence[str], env: dict[str, str], ok: Sequence[int] = (0,)) -> Timing:
    """One process: (user+system CPU of the child, wall from spawn to reap)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=CWD["dir"])  # fmt: skip
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {code}")
    return usage.ru_utime + usage.ru_stime, wall


def median(xs: list[Timing]) -> Timing:
    return statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs)


def interleaved(runs: int, sides: Sequence[Callable[[], Timing]]) -> list[Timing]:
    """Each side once per round, ``runs`` rounds, after one warm-up round; the median of each side."""
    for side in sides:
        side()
    out: list[list[Timing]] = [[] for _ in sides]
    for _ in range(runs):
        for i, side in enumerate(sides):
            out[i].append(side())
    return [median(xs) for xs in out]


def row(what: str, ours: Timing, theirs: Timing, target: str) -> str:
    return (
        f"| {what} | {ours[0] * 1e3:.1f} / {ours[1] * 1e3:.1f} ms | {theirs[0] * 1e3:.1f} / "
        f"{theirs[1] * 1e3:.1f} ms | {ours[0] / theirs[0]:.2f}x / {ours[1] / theirs[1]:.2f}x | {target} |"
    )


def tags_rows(runs: int, env: dict[str, str], our_env: dict[str, str]) -> list[str]:
    py = sys.executable
    exe = str(Path(py).with_name("alpinetags"))
    pk_print = "import packaging.tags as t; print(*t.sys_tags(), sep='\\n')"
    tags, pk = interleaved(
        runs,
        [lambda: timed([exe, "tags"], our_env), lambda: timed([py, "-c", pk_print], env)],
    )
    api, pk_api = interleaved(
        runs,
        [
            lambda: timed([py, "-c", "import alpinetags; alpinetags.sys_tags()"], our_env),
            lambda: timed([py, "-c", "import packaging.tags as t; list(t.sys_tags())"], env),
        ],
    )
    return [
        row("`alpinetags tags` vs packaging's `sys_tags()` printed", tags, pk, "≤ 1.2x"),
        row("`import alpinetags; alpinetags.sys_tags()` vs packaging's", api, pk_api, "≤ 1.15x"),
    ]


def line_alone(python: str, site: str, lines: Sequence[str], env: dict[str, str], runs: int) -> list[float]:
    """Median seconds of ``exec(line)`` for each of ``lines`` in fresh interpreters (interleaved), as
    ``site`` runs a ``.pth`` line at start.

    ``-S``: site has not run, so nothing of the hook is imported or compiled yet. The site-packages
    directory is appended to ``sys.path`` and its import finder made first (by looking for
    ``sitecustomize``, which every real start does anyway), so that what is timed is what the line adds.
    """
    probe = (
        "import sys, time\n"
        f"sys.path.append({site!r})\n"
        "try:\n    import sitecustomize\nexcept ImportError:\n    pass\n"
        "line = sys.argv[1]\n"
        "t = time.perf_counter(); exec(line); print(time.perf_counter() - t)\n"
    )
    out: list[list[float]] = [[] for _ in lines]
    for _ in range(runs):
        for i, line in enumerate(lines):
            argv = [python, "-S", "-c", probe, line]
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=True, cwd=CWD["dir"])
            out[i].append(float(proc.stdout))
    return [statistics.median(xs) for xs in out]


def pth_row(runs: int, env: dict[str, str], base: Path) -> str:
    """``python -c pass`` in one venv with the hook and without: ``enable``'s own function writes the
    module and the ``.pth`` into the venv's site-packages, and the ``.pth`` is renamed away and back
    between runs (the module alone is inert: nothing imports it)."""
    # With pip (and, on 3.11, the setuptools ensurepip puts beside it): the hook is for environments
    # that have pip, and such an environment already reads a .pth file (distutils-precedence.pth) at start.
    venv.create(base / "venv", with_pip=True, symlinks=True)
    py = str(base / "venv" / "bin" / "python")
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    pth = Path(enable_in(site).pth)
    parked = pth.with_name("parked.pth-off")
    env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def with_pth() -> Timing:
        if parked.exists():
            parked.rename(pth)
        return timed([py, "-c", "pass"], env)

    def without() -> Timing:
        if pth.exists():
            pth.rename(parked)
        return timed([py, "-c", "pass"], env)

    on, off = interleaved(runs, [with_pth, without])
    (alone,) = line_alone(py, site, [pth_line()], env, max(runs // 4, 5))
    return (
        row("`python -c pass`, hook `.pth` vs none", on, off, "≤ 1.02x")
        + f"\n\nWith the hook: +{(on[0] - off[0]) * 1e3:.2f} ms CPU ({on[0] / off[0]:.3f}x), "
        f"+{(on[1] - off[1]) * 1e3:.2f} ms wall ({on[1] / off[1]:.3f}x), medians of {runs} runs per side."
        + f"\nThe `.pth` line alone (`{pth_line().strip()}`), exec'd in a fresh interpreter: "
        f"{alone * 1e6:.0f} µs (median)\n"
    )


def elf_files(root: Path) -> list[Path]:
    """Every regular ELF file in ``root`` (symlinks not followed), sorted."""
    out = []
    for d, _dirs, names in os.walk(root):
        for name in names:
            p = Path(d) / name
            if p.is_symlink() or not p.is_file():
                continue
            try:
                with open(p, "rb") as f:
                    if f.read(4) == ELF_MAGIC:
                        out.append(p)
            except OSError:
                continue
    return sorted(out)


def build_check_root(base: Path) -> tuple[Path, list[Path], list[Path]]:
    """The 3.19 copy, its own ELF files, and the folder of every x86_64 root's ELF files inside it."""
    root = realparts.copy_minirootfs("3.19", base / "root")
    own = elf_files(root)
    folder = root / "elf"
    every: list[Path] = []
    for m in realparts.minirootfs_manifest():
        if m.arch != "x86_64":
            continue
        src = realparts.alpine_minirootfs(m.minor, m.arch)
        for f in elf_files(src):
            dest = folder / m.release / f.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(f, dest)
            every.append(dest)
    return root, own, every


def check_rows(runs: int, env: dict[str, str], our_env: dict[str, str], base: Path) -> list[str]:
    root, own, every = build_check_root(base)
    exe = str(Path(sys.executable).with_name("alpinetags"))
    loader = [str(root / LOADER), "--library-path", f"{root}/lib:{root}/usr/lib", "--list"]
    ours: list[Timing] = []
    theirs: list[Timing] = []
    tags = interleaved(3, [lambda: timed([exe, "tags"], our_env)])[0]
    for f in own:
        ours.append(median([timed([exe, "check", "--root", str(root), str(f)], our_env, (0, 1))
                            for _ in range(3)]))  # fmt: skip
        theirs.append(median([timed([*loader, str(f)], env, (0, 1, 127)) for _ in range(3)]))
    single, native = median(ours), median(theirs)

    def folder_check() -> Timing:
        return timed([exe, "check", "--root", str(root), str(root / "elf")], our_env, (0, 1))

    def loader_each() -> Timing:
        start = time.perf_counter()
        cpu = sum(timed([*loader, str(f)], env, range(256))[0] for f in every)
        return cpu, time.perf_counter() - start

    folder, each = interleaved(runs, [folder_check, loader_each])
    return [
        row(f"one `check FILE` vs the loader on it (median of {len(own)} 3.19 files)", single, native, ""),
        row("one `check FILE` vs `alpinetags tags`", single, tags, "≤ 2x"),
        row(f"one `check` over {len(every)} files vs the loader once per file", folder, each, "≤ 1x"),
    ]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="rounds of the tag comparisons")
    parser.add_argument("--pth-runs", type=int, default=100, help="rounds of the `python -c pass` pair")
    parser.add_argument("--check-runs", type=int, default=5, help="rounds of the folder check pair")
    parser.add_argument("--no-cache", action="store_true", help="ALPINETAGS_NO_CACHE=1 for alpinetags")
    parser.add_argument("--only", choices=("tags", "pth", "check"), action="append")
    args = parser.parse_args(argv)
    # Both sides as a user runs them: compiled modules cached in __pycache__ (written by the warm-up).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    our_env = {**env, "ALPINETAGS_NO_CACHE": "1"} if args.no_cache else env
    only = set(args.only or ("tags", "pth", "check"))
    print(f"Python {sys.version.split()[0]} ({sys.executable}); CPU / wall, medians\n")
    print("| what | alpinetags | other | ratio (CPU / wall) | target |\n|---|---|---|---|---|")
    base = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    (base / "cwd").mkdir()
    CWD["dir"] = str(base / "cwd")
    try:
        if "tags" in only:
            print("\n".join(tags_rows(args.runs, env, our_env)), flush=True)
        if "pth" in only:
            print(pth_row(args.pth_runs, env, base), flush=True)
        if "check" in only:
            print("\n".join(check_rows(args.check_runs, env, our_env, base)), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed of the pip hook, run by hand: `python bench/bench_pip.py [--runs N] [--pip-runs M]`.

Prints a Markdown table. Everything runs in one fresh venv (the working tree's alpinetags, the newest
tested pip), and the two sides of each comparison are interleaved, run by run, so both see the same
machine state; the figure is the median, and the ratio is median(on) / median(off).

1. Interpreter start: `python -c pass` with `alpinetags-pip-hook.pth` in site-packages vs without
   (the file is renamed away and back between runs; `alpinetags_pip_hook.py`, which it imports, stays).
   Also the in-process cost of the `.pth` line alone (`exec` of it, as `site` does), which is below
   what process timing can resolve, and the same for the line of the form before (an `exec` of the
   finder's source, tests/data/alpinetags-pip-hook-exec-455e570.pth).
2. pip: `pip install --dry-run --no-index --find-links WHEELHOUSE demo` with the hook on vs
   `ALPINETAGS_PIP=0`, once on this glibc host (detection runs, nothing added) and once with
   `ALPINETAGS_ROOT` at a root laid out as Alpine 3.17 (the alpine tags added).
3. The native check at install: `pip install --no-deps --no-index --target DIR` of the 40 real
   musllinux wheels of the experiments (`bash experiments/fetch.sh` -> .cache/experiments/wheels) with
   `ALPINETAGS_ROOT` at the real Alpine 3.20 minirootfs (its musl makes pip take them), check on vs
   `ALPINETAGS_CHECK=0` (same tags; DIR emptied before each run; every wheel read:
   `ALPINETAGS_NO_CACHE=1`).
4. The check as a filter of candidates against plain pip: `pip install --no-deps --target DIR` of 30
   of those wheels (the first 30 by name) plus the project `zexp` (an `alpine_3_19` wheel needing
   `libexpat.so.1`, which the 3.20 minirootfs lacks, and a `musllinux_1_2` one; tests/parts_pip.py),
   named as requirements so that pip resolves them, from a `--find-links` folder and from a real PEP 503
   index with PEP 658 metadata on 127.0.0.1. With the hook: `ALPINETAGS_ROOT` at the real Alpine 3.20
   root (its own platforms; the alpine zexp wheel is passed over on its metadata, every chosen wheel is
   checked at install). Plain pip: the `.pth` file parked, the root's standard platforms given with
   `--platform` (pip cannot see musllinux on this glibc host otherwise). The index side counts the wheel
   downloads of each (server log): the filter must add none. ``--same-runs N`` adds plain pip against
   plain pip, the same way: the scatter of the method itself, which the ratios above must be read against.
   alpinetags' caches live in a folder of the bench's own, empty at the start. ``--find-links`` is
   measured twice: every wheel read (``ALPINETAGS_NO_CACHE=1``, what a first install costs), and the
   same wheelhouse installed again, after the two runs that note each wheel file and then keep its read
   (``alpinetags._pip.readcache``; the verdicts are judged afresh each run). From the index, pip
   downloads each wheel to a new temporary path every run, so nothing is ever kept there: that row is
   a first install every time.
5. ``--breakdown N``: the ``--find-links`` command of 4., each side run N times in-process by
   ``bench/pip_inprocess.py`` (fresh processes, interleaved; every wheel read), with the median CPU of
   each part: pip's resolving and installing, and with the hook the filter, the tag list and the
   install-step check (its
   inflating, symbol reading and judging). Process timing of a 10 s install scatters by a few percent with
   the disk and the other processes of the machine; the parts show where the hook's cost is.

The CPU columns are user + system time of the child (``wait4``); "user CPU ratio" is user time alone
(writing the files is system time, the same work on both sides but its time varies most from run to run);
"CPU ratio, paired" the median, over the pairs of runs (one of each side, one after the other), of the
ratio within the pair: the load of the other processes of the machine changes during a bench of minutes,
and a pair sees nearly the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_startup import line_alone  # noqa: E402
from tests import realparts  # noqa: E402
from tests.test_pip import alpine_root, wheelhouse  # noqa: E402
from tests.venvs import NEWEST_PIP, clean_env, venv_with_pip  # noqa: E402

EXPERIMENT_WHEELS = REPO / ".cache" / "experiments" / "wheels"
#: The .pth file ``enable`` wrote before issue 21 made the line an import of a module.
EXEC_PTH = REPO / "tests" / "data" / "alpinetags-pip-hook-exec-455e570.pth"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the child: user + system, and user alone, from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode})")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_utime


#: (wall, CPU, user CPU) seconds, medians; and the median over the pairs of runs of this side's CPU over
#: the other side's in the same pair (the two runs of a pair are next to each other in time, so a change
#: of the machine's load during the bench moves both).
Timing = tuple[float, float, float, float]


def compare(
    runs: int,
    side_a: tuple[list[str], dict[str, str], Optional[Callable[[], None]]],
    side_b: tuple[list[str], dict[str, str], Optional[Callable[[], None]]],
    warm_up: bool = False,
) -> tuple[Timing, Timing]:
    """The ``Timing`` of each side; ``(argv, env, prepare)`` per side, the order alternating.
    ``warm_up``: one run of each side first, not counted (the first run after the venv or the wheelhouse
    is made reads files no later run reads; seen 1.4x slower than the next)."""
    a: list[tuple[float, float, float]] = []
    b: list[tuple[float, float, float]] = []
    for argv, env, prepare in (side_a, side_b) if warm_up else ():
        if prepare is not None:
            prepare()
        timed(argv, env)
    for i in range(runs):
        order = [(a, side_a), (b, side_b)]
        if i % 2:
            order.reverse()  # neither side always runs first
        for sink, (argv, env, prepare) in order:
            if prepare is not None:
                prepare()
            sink.append(timed(argv, env))

    def medians(xs: list[tuple[float, float, float]], ys: list[tuple[float, float, float]]) -> Timing:
        paired = statistics.median(x[1] / y[1] for x, y in zip(xs, ys, strict=True))
        return (statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs),
                statistics.median(x[2] for x in xs), paired)  # fmt: skip

    return medians(a, b), medians(b, a)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300, help="python -c pass runs per side")
    parser.add_argument("--pip-runs", type=int, default=20, help="pip runs per side")
    parser.add_argument("--install-runs", type=int, default=5, help="runs per side of the 40-wheel install")
    parser.add_argument(
        "--filter-runs", type=int, default=5, help="runs per side of the 30-wheel resolve (4.)"
    )
    parser.add_argument(
        "--same-runs",
        type=int,
        default=0,
        help="runs per side of plain pip against itself in 4. (the method's own scatter)",
    )
    parser.add_argument("--breakdown", type=int, default=0,
                        help="runs per side of 4. (--find-links) in-process, CPU per part (5.)")  # fmt: skip
    args = parser.parse_args()
    wheels = sorted(EXPERIMENT_WHEELS.glob("*.whl"))
    if args.install_runs and len(wheels) != 40:
        raise SystemExit(f"{EXPERIMENT_WHEELS} holds {len(wheels)} wheels, not 40: bash experiments/fetch.sh")
    if args.filter_runs and len(wheels) < 30:
        raise SystemExit(
            f"{EXPERIMENT_WHEELS} holds {len(wheels)} wheels, not 30 or more: bash experiments/fetch.sh"
        )

    base = Path(tempfile.mkdtemp(prefix="alpinetags-bench-pip-"))
    try:
        return run(args, wheels, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run(args: argparse.Namespace, wheels: list[Path], base: Path) -> int:
    """Every comparison, in a fresh venv under ``base``; prints the table."""
    python = venv_with_pip(base / "venv", NEWEST_PIP, enable=True)
    (pth,) = (base / "venv").rglob("alpinetags-pip-hook.pth")
    parked = pth.with_name("parked.pth-off")
    house = wheelhouse(base / "house", "alpine_3_17_x86_64", "musllinux_1_2_x86_64", "any", sdist=True)
    root = alpine_root(base / "r317", "3.17.5")
    env = clean_env(XDG_CACHE_HOME=str(base / "user-cache"))  # alpinetags' caches: empty, the bench's own
    rows = []

    def pth_on() -> None:
        if parked.exists():
            parked.rename(pth)

    def pth_off() -> None:
        if pth.exists():
            pth.rename(parked)

    py = [str(python), "-c", "pass"]
    with_pth, without = compare(args.runs, (py, env, pth_on), (py, env, pth_off))
    pth_on()
    rows.append(("`python -c pass`, .pth vs none", with_pth, without))

    # The .pth line alone, timed inside fresh interpreters as site runs it; and the line of the form
    # before (issue 21: an exec of the finder's source, compiled at every start), kept in tests/data.
    site = str(pth.parent)
    line = next(x for x in pth.read_text().splitlines(True) if x.startswith("import"))
    exec_line = next(x for x in EXEC_PTH.read_text().splitlines(True) if x.startswith("import"))
    per_exec, per_exec_old = line_alone(str(python), site, [line, exec_line], env, max(args.runs // 4, 5))

    pip_cmd = [
        str(python),
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--no-index",
        "--find-links",
        str(house),
        "demo",
    ]
    cases: list[tuple[str, dict[str, str]]] = [
        ("glibc host, nothing added", {}),
        ("ALPINETAGS_ROOT = Alpine 3.17", {"ALPINETAGS_ROOT": str(root)}),
    ]
    for label, extra in cases:
        hook_on = {**env, **extra}
        hook_off = {**hook_on, "ALPINETAGS_PIP": "0"}
        on, off = compare(args.pip_runs, (pip_cmd, hook_on, None), (pip_cmd, hook_off, None))
        rows.append((f"`pip install --dry-run ... demo`, {label}: hook on vs ALPINETAGS_PIP=0", on, off))

    if args.install_runs:
        target = base / "target"
        install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                   "--target", str(target), *map(str, wheels)]  # fmt: skip
        r320 = str(realparts.alpine_minirootfs("3.20"))
        check_on = {**env, "ALPINETAGS_ROOT": r320, "ALPINETAGS_NO_CACHE": "1"}  # every wheel read
        check_off = {**check_on, "ALPINETAGS_CHECK": "0"}

        def empty_target() -> None:
            shutil.rmtree(target, ignore_errors=True)

        on, off = compare(
            args.install_runs, (install, check_on, empty_target), (install, check_off, empty_target)
        )
        size = sum(w.stat().st_size for w in wheels) / 1e6
        rows.append((f"`pip install --target` of the 40 musllinux wheels ({size:.0f} MB), Alpine 3.20 root: "
                     "check on vs ALPINETAGS_CHECK=0", on, off))  # fmt: skip

    breakdown: list[str] = []
    if args.filter_runs:
        downloads = candidate_filter_rows(
            args, base, python, pth_on, pth_off, wheels[:30], env, rows, breakdown
        )

    print(f"pip {NEWEST_PIP}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"{args.runs} / {args.pip_runs} interleaved runs per side, medians\n")  # fmt: skip
    print("| what | wall with | wall without | ratio | CPU with | CPU without | ratio | user CPU ratio "
          "| CPU ratio, paired |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for what, (wa, ca, ua, paired), (wb, cb, ub, _) in rows:
        print(f"| {what} | {wa * 1000:.2f} ms | {wb * 1000:.2f} ms | {wa / wb:.3f}x "
              f"| {ca * 1000:.2f} ms | {cb * 1000:.2f} ms | {ca / cb:.3f}x | {ua / ub:.3f}x "
              f"| {paired:.3f}x |")  # fmt: skip
    print(
        f"\nThe .pth line alone (`{line.strip()}`), exec'd in a fresh interpreter: {per_exec * 1e6:.0f} µs "
        f"(median); the line of the form before, `import sys; exec(...)` of the finder's source: "
        f"{per_exec_old * 1e6:.0f} µs."
    )
    if args.filter_runs:
        print(f"\nWheel downloads from the index (server log), {downloads}")
    if breakdown:
        print(*breakdown, sep="\n")
    return 0


#: The platforms plain pip is given for the Alpine 3.20 root (what the root's musl accepts).
PLAIN_PLATFORMS = ("linux_x86_64", "musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64")


def candidate_filter_rows(
    args: argparse.Namespace,
    base: Path,
    python: Path,
    pth_on: Callable[[], None],
    pth_off: Callable[[], None],
    wheels: list[Path],
    env: dict[str, str],
    rows: list[tuple[str, Timing, Timing]],
    breakdown: list[str],
) -> str:
    """Sections 4 and 5 of the module doc: rows appended to ``rows``, the lines of the in-process table
    to ``breakdown``; the download counts, as a sentence."""
    runs = args.filter_runs
    from tests import parts_pip

    r320 = realparts.alpine_minirootfs("3.20")
    house = base / "house30"
    house.mkdir()
    for wheel in wheels:
        (house / wheel.name).symlink_to(wheel.resolve())
    zexp = parts_pip.zexp_wheels(house, r320)
    projects = sorted({w.name.split("-", 1)[0] for w in [*wheels, *zexp]})
    target = base / "target30"
    plain_args = [a for p in PLAIN_PLATFORMS for a in ("--platform", p)] + ["--only-binary=:all:"]

    def argv(source: list[str], plain: bool) -> list[str]:
        return [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-cache-dir", *source,
                "--target", str(target), *(plain_args if plain else []), *projects]  # fmt: skip

    def hooked() -> None:
        shutil.rmtree(target, ignore_errors=True)
        pth_on()

    def plain() -> None:
        shutil.rmtree(target, ignore_errors=True)
        pth_off()

    env = {
        **env,
        "PIP_CONFIG_FILE": os.devnull,
    }  # no site pip.conf (extra indexes, constraints) on either side
    on_env = {**env, "ALPINETAGS_ROOT": str(r320)}
    cold_env = {**on_env, "ALPINETAGS_NO_CACHE": "1"}
    links = ["--no-index", "--find-links", str(house)]
    label = f"{len(projects)} projects ({len(wheels) + len(zexp)} real wheels)"
    on, off = compare(runs, (argv(links, False), cold_env, hooked), (argv(links, True), env, plain), True)
    rows.append((f"`pip install --no-deps --target` of {label}, --find-links, Alpine 3.20 root: "
                 "hook + filter + check vs plain pip, every wheel read (ALPINETAGS_NO_CACHE=1: a first "
                 "install)", on, off))  # fmt: skip
    for _ in range(2):  # the first run notes each wheel file as seen, the second keeps its read
        hooked()
        timed(argv(links, False), on_env)
    on, off = compare(runs, (argv(links, False), on_env, hooked), (argv(links, True), env, plain), True)
    rows.append(("the same wheelhouse installed again: the reads kept by the runs before (`readcache`), "
                 "the verdicts judged afresh", on, off))  # fmt: skip
    if args.same_runs:
        a, b = compare(args.same_runs, (argv(links, True), env, plain), (argv(links, True), env, plain), True)
        rows.append(("the same, --find-links: plain pip vs plain pip (the scatter of the method)", a, b))
    if args.breakdown:
        inside = [str(python), str(REPO / "bench" / "pip_inprocess.py"), str(base / "parts.json")]
        parts = {True: [], False: []}  # type: dict[bool, list[dict[str, float]]]
        for i in range(args.breakdown):
            for hook in (True, False) if i % 2 == 0 else (False, True):
                (hooked if hook else plain)()
                timed([*inside, *argv(links, not hook)[3:]], cold_env if hook else env)
                parts[hook].append(json.loads((base / "parts.json").read_text())["spent"])
        breakdown.extend(inprocess_table(parts, args.breakdown))
    index = parts_pip.Index([*wheels, *zexp], base / "index")
    counts = {}
    try:
        served = ["--index-url", index.url]
        proxy = {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        on, off = compare(runs, (argv(served, False), {**on_env, **proxy}, hooked),
                          (argv(served, True), {**env, **proxy}, plain), True)  # fmt: skip
        for side, side_env, prepare, is_plain in (
            ("hook", on_env, hooked, False),
            ("plain", env, plain, True),
        ):
            prepare()
            index.requests.clear()
            timed(argv(served, is_plain), {**side_env, **proxy})
            got = [r for r in index.requests if r.startswith("GET /files/") and r.endswith(".whl")]
            metadata = [r for r in index.requests if r.endswith(".whl.metadata")]
            counts[side] = (len(got), len(set(got)), len(metadata), any("alpine" in r for r in got))
    finally:
        index.close()
        pth_on()
    rows.append(("the same from a PEP 503 index with PEP 658 metadata on 127.0.0.1: hook + filter + check "
                 "vs plain pip", on, off))  # fmt: skip
    return "; ".join(
        f"{side}: {n} wheel GETs ({unique} distinct wheels), {meta} .metadata GETs, "
        f"an alpine wheel downloaded: {'yes' if alpine else 'no'}"
        for side, (n, unique, meta, alpine) in counts.items()
    )


def inprocess_table(parts: dict[bool, list[dict[str, float]]], runs: int) -> list[str]:
    """Section 5: the median CPU of each part with the hook and without, and what the hook adds."""

    def median(hook: bool, part: str) -> float:
        return statistics.median(run.get(part, 0.0) for run in parts[hook])

    names = sorted({p for side in parts.values() for run in side for p in run})
    lines = [f"\nIn-process CPU (`bench/pip_inprocess.py`, --find-links), median of {runs} runs per side, "
             "interleaved:\n", "| part | with the hook | plain pip |", "| --- | ---: | ---: |"]  # fmt: skip
    lines += [f"| {p} | {median(True, p):.3f} s | {median(False, p):.3f} s |" for p in names]
    own = median(True, "check at install (all)") - median(True, "check: inflating ELF members")
    ratio = median(True, "whole command") / median(False, "whole command")
    lines.append(
        f"\nThe check's own CPU (all of it but the inflating, which pip's installer then does not do): "
        f"{own:.3f} s; whole command with / without: {ratio:.3f}x."
    )
    return lines


if __name__ == "__main__":
    sys.exit(main())

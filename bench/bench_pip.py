"""Speed of the pip hook, run by hand: `python bench/bench_pip.py [--runs N] [--pip-runs M]`.

Prints a Markdown table. Everything runs in one fresh venv (the working tree's alpinetags, the newest
tested pip), and the two sides of each comparison are interleaved, run by run, so both see the same
machine state; the figure is the median, and the ratio is median(on) / median(off).

1. Interpreter start: `python -c pass` with `alpinetags-pip-hook.pth` in site-packages vs without
   (the file is renamed away and back between runs). Also the in-process cost of the `.pth` line
   alone (`exec` of it, as `site` does), which is below what process timing can resolve.
2. pip: `pip install --dry-run --no-index --find-links WHEELHOUSE demo` with the hook on vs
   `ALPINETAGS_PIP=0`, once on this glibc host (detection runs, nothing added) and once with
   `ALPINETAGS_ROOT` at a root laid out as Alpine 3.17 (the alpine tags added).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.test_pip import NEWEST_PIP, alpine_root, clean_env, venv_with_pip, wheelhouse  # noqa: E402


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child: user + system, from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode})")
    return elapsed, usage.ru_utime + usage.ru_stime


Timing = tuple[float, float]  # (wall, CPU) seconds


def compare(
    runs: int,
    side_a: tuple[list[str], dict[str, str], Optional[Callable[[], None]]],
    side_b: tuple[list[str], dict[str, str], Optional[Callable[[], None]]],
) -> tuple[Timing, Timing]:
    """Median (wall, CPU) of each side; ``(argv, env, prepare)`` per side, the order alternating."""
    a: list[Timing] = []
    b: list[Timing] = []
    for i in range(runs):
        order = [(a, side_a), (b, side_b)]
        if i % 2:
            order.reverse()  # neither side always runs first
        for sink, (argv, env, prepare) in order:
            if prepare is not None:
                prepare()
            sink.append(timed(argv, env))

    def medians(xs: list[Timing]) -> Timing:
        return statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs)

    return medians(a), medians(b)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300, help="python -c pass runs per side")
    parser.add_argument("--pip-runs", type=int, default=20, help="pip runs per side")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="alpinetags-bench-pip-"))
    python = venv_with_pip(base / "venv", NEWEST_PIP, enable=True)
    (pth,) = (base / "venv").rglob("alpinetags-pip-hook.pth")
    parked = pth.with_name("parked.pth-off")
    house = wheelhouse(base / "house", "alpine_3_17_x86_64", "musllinux_1_2_x86_64", "any", sdist=True)
    root = alpine_root(base / "r317", "3.17.5")
    env = clean_env()
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

    # The .pth line alone, timed inside fresh interpreters (-S: site has not run it yet), so the
    # compile of the line is as cold as at a real start.
    probe = (
        "import sys, time\n"
        f"line = [l for l in open({str(pth)!r}) if l.startswith('import')][0]\n"
        "t = time.perf_counter(); exec(line); print(time.perf_counter() - t)\n"
    )
    cold = [
        float(
            subprocess.run([str(python), "-S", "-c", probe], capture_output=True, text=True, env=env).stdout
        )
        for _ in range(max(args.runs // 4, 5))
    ]
    per_exec = statistics.median(cold)

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

    print(f"pip {NEWEST_PIP}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"{args.runs} / {args.pip_runs} interleaved runs per side, medians\n")  # fmt: skip
    print("| what | wall with | wall without | ratio | CPU with | CPU without | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for what, (wa, ca), (wb, cb) in rows:
        print(f"| {what} | {wa * 1000:.2f} ms | {wb * 1000:.2f} ms | {wa / wb:.3f}x "
              f"| {ca * 1000:.2f} ms | {cb * 1000:.2f} ms | {ca / cb:.3f}x |")  # fmt: skip
    print(f"\nThe .pth line alone, exec'd in a fresh interpreter: {per_exec * 1e6:.0f} µs (median).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

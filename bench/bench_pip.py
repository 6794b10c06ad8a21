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
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.test_pip import NEWEST_PIP, alpine_root, clean_env, venv_with_pip, wheelhouse  # noqa: E402


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{proc.stderr}")
    return elapsed


def compare(runs: int, on: list[str], env_on: dict[str, str], off: list[str], env_off: dict[str, str],
            before_on=None, before_off=None) -> tuple[float, float]:  # type: ignore[no-untyped-def]  # fmt: skip
    a: list[float] = []
    b: list[float] = []
    for i in range(runs):
        order = [(a, on, env_on, before_on), (b, off, env_off, before_off)]
        if i % 2:
            order.reverse()  # neither side always runs first
        for sink, argv, env, before in order:
            if before:
                before()
            sink.append(timed(argv, env))
    return statistics.median(a), statistics.median(b)


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
    with_pth, without = compare(args.runs, py, env, py, env, pth_on, pth_off)
    pth_on()
    rows.append(("`python -c pass`, .pth vs none", with_pth, without))

    line = pth.read_text()

    def exec_line() -> None:
        before = list(sys.meta_path)
        exec(line, {})
        sys.meta_path[:] = before

    per_exec = min(timeit.repeat(exec_line, number=200, repeat=5)) / 200

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
    for label, extra in (("glibc host, nothing added", {}), ("ALPINETAGS_ROOT = Alpine 3.17", {
            "ALPINETAGS_ROOT": str(root)})):  # fmt: skip
        on, off = compare(
            args.pip_runs, pip_cmd, {**env, **extra}, pip_cmd, {**env, **extra, "ALPINETAGS_PIP": "0"}
        )
        rows.append((f"`pip install --dry-run ... demo`, {label}: hook on vs ALPINETAGS_PIP=0", on, off))

    print(f"pip {NEWEST_PIP}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"{args.runs} / {args.pip_runs} interleaved runs per side, medians\n")  # fmt: skip
    print("| what | with | without | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for what, a, b in rows:
        print(f"| {what} | {a * 1000:.2f} ms | {b * 1000:.2f} ms | {a / b:.3f}x |")
    print(f"\nThe .pth line alone, exec'd in-process as site does: {per_exec * 1e6:.1f} µs per start.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

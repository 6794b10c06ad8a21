"""Speed of the static musl version read, run by hand: `python bench/bench_musl_read.py [TREE ...]`.

Times ``alpinetags._system.musl.read_musl_version`` on the real loaders of the Alpine 3.19 and 3.6 x86_64
minirootfs (the newest and oldest layouts at hand), and ``detect()`` on the real 3.19 root (as
``bench_core.py`` times it: one call in a fresh process, plugins loaded first). Each TREE is a directory
holding an ``alpinetags`` package and ``plugins/`` (e.g. ``git archive REV alpinetags plugins | tar -x
-C DIR``); none means this working tree. Trees are compared in interleaved rounds: round k runs every
tree once, so all see the same machine state; the figures are medians over the rounds. In each round a
fresh process per tree and loader times its first read (what ``detect()`` pays: nothing warmed but the
imports and the page cache), then reads it ``--calls`` times more and reports the median of those.

Other work on the machine skews every figure: the 1-minute load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import realparts  # noqa: E402

MINORS = ("3.19", "3.6")

READ = """
import json, sys, time, statistics
from alpinetags._system.musl import read_musl_version
s = time.perf_counter()
version = read_musl_version(sys.argv[2])
first = time.perf_counter() - s
times = []
for _ in range(int(sys.argv[1])):
    s = time.perf_counter()
    read_musl_version(sys.argv[2])
    times.append(time.perf_counter() - s)
print(json.dumps([first * 1e3, statistics.median(times) * 1e3, version]))
"""

DETECT = """
import json, sys, time, alpinetags_alpine, alpinetags_musl, distro
from alpinetags._engine.detect import detect
from alpinetags.model import Target
from alpinetags._engine.plugins import load_plugins
r = load_plugins()
t = Target(root=sys.argv[1], environ={})
s = time.perf_counter(); c = time.process_time()
p = detect(t, r)
e = time.perf_counter(); f = time.process_time()
print(json.dumps([(e - s) * 1e3, (f - c) * 1e3]))
"""


def run(tree: Path, code: str, *args: str) -> object:
    """Run ``code`` in a fresh process that imports alpinetags and the plugins from ``tree``."""
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{tree / 'plugins'}{os.pathsep}{REPO}")
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd="/", env=env
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21, help="interleaved rounds (default 21)")
    parser.add_argument("--calls", type=int, default=200, help="reads per loader per round (default 200)")
    parser.add_argument("trees", nargs="*", type=Path, default=[REPO])
    opts = parser.parse_args()
    loaders = {m: realparts.alpine_minirootfs(m) / "lib" / "ld-musl-x86_64.so.1" for m in MINORS}
    root = str(realparts.alpine_minirootfs("3.19"))
    load_before = loadavg()
    firsts: dict[tuple[Path, str], list[float]] = {}
    reads: dict[tuple[Path, str], list[float]] = {}
    versions: dict[tuple[Path, str], str] = {}
    detects: dict[Path, list[tuple[float, float]]] = {t: [] for t in opts.trees}
    for _ in range(opts.runs):
        for tree in opts.trees:
            for minor, path in loaders.items():
                first, ms, version = run(tree, READ, str(opts.calls), str(path))  # type: ignore[misc]
                firsts.setdefault((tree, minor), []).append(first)
                reads.setdefault((tree, minor), []).append(ms)
                versions[tree, minor] = version
            ms, cpu = run(tree, DETECT, root)  # type: ignore[misc]
            detects[tree].append((ms, cpu))
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {opts.runs} interleaved rounds, "
        f"{opts.calls} reads per loader per round; load average before: {load_before}, after: {loadavg()}\n"
    )
    heads = [f"read_musl_version, Alpine {m} loader: first call; later calls" for m in MINORS]
    print("| tree | " + " | ".join(heads) + " | detect(), real Alpine 3.19 root |")
    print("|---" * (len(MINORS) + 2) + "|")
    for tree in opts.trees:
        cells = [
            f"{statistics.median(firsts[tree, m]):.3f} ms; {statistics.median(reads[tree, m]):.3f} ms"
            f" ({versions[tree, m]})"
            for m in MINORS
        ]
        d = detects[tree]
        cells.append(
            f"{statistics.median(x[0] for x in d):.3f} ms; CPU {statistics.median(x[1] for x in d):.3f} ms"
        )
        print(f"| {tree} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

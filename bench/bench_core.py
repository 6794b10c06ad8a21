"""Speed of the core, run by hand: `python bench/bench_core.py [--runs N]`; prints a Markdown table.

Each figure is the median over N fresh processes (the "first call" is what pip pays once per run),
with the alpinetags and packaging runs interleaved so that both see the same machine state. Each gives
wall time (what a user waits) and the process's CPU time (what other work on a loaded machine disturbs
least: a busy machine stretches wall time by preemption, far less the CPU time).

1. In-process, first call of the full tag list vs `list(packaging.tags.sys_tags())`, imports of the
   modules named at the top done before the clock starts; once with alpinetags' lazy imports (distro,
   the plugins) inside the call, once with them warmed too.
2. Detection alone (`detect()` with plugins loaded), for this system, for the REAL official Alpine
   minirootfs of 3.19 and 3.20 x86_64 (`tests.realparts.alpine_minirootfs`, read in place: detection
   only reads), and for a root laid out as Void. No real Void root exists here, so that one is
   assembled: the shared Void os-release sample, Debian's musl loader and a musl-gcc binary as its
   python3. Loader executions are counted with an audit hook on `subprocess.Popen`, so "no loader run"
   is measured, not assumed.
3. Whole process: `alpinetags tags` vs `python -c "import packaging.tags; list(packaging.tags.sys_tags())"`.

Needs `python -m tests.realparts fetch` (the unpacked Alpine roots) and musl-gcc. Other work on the
machine skews every figure: the 1-minute load average is printed before and after, and the interleaved
runs and medians are what keeps the two sides comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import packaging

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import realparts  # noqa: E402

ALPINE_MINORS = ("3.19", "3.20")

AUDIT = """
import sys
_runs = []
sys.addaudithook(lambda ev, args: _runs.append(args) if ev == "subprocess.Popen" else None)
"""

START = "s=time.perf_counter(); c=time.process_time()\n"  # the clock starts here: wall and CPU

FIRST_CALL = {
    "packaging": "import time, packaging.tags as T\n" + START + "list(T.sys_tags())\n",
    "alpinetags": "import time, packaging.tags, alpinetags.tags as T\n" + START + "T.sys_tags()\n",
    "alpinetags, imports warmed": (
        "import time, alpinetags.tags as T, distro, alpinetags_alpine, alpinetags_musl, packaging.tags\n"
        + START
        + "T.sys_tags()\n"
    ),
}

DETECT = (
    "import time, alpinetags_alpine, alpinetags_musl, distro\n"
    "from alpinetags._engine.detect import detect\nfrom alpinetags.model import Target\n"
    "from alpinetags._engine.plugins import load_plugins\nr = load_plugins()\n"
    "t = Target(root={root!r}, environ={{}})\n" + START + "p = detect(t, r)\n"
)
REPORT = (
    "e=time.perf_counter(); f=time.process_time()\nprint(json.dumps([(e-s)*1e3, (f-c)*1e3, len(_runs)]))\n"
)


def run_snippet(code: str) -> tuple[float, float, int]:
    """(wall ms, CPU ms of the process, loader runs) of the timed part of ``code`` in a fresh process."""
    full = "import json\n" + AUDIT + code + REPORT
    out = subprocess.run([sys.executable, "-c", full], capture_output=True, text=True, check=True, cwd="/")
    ms, cpu, runs = json.loads(out.stdout.strip().splitlines()[-1])
    return float(ms), float(cpu), int(runs)


def wall(argv: list[str]) -> tuple[float, float]:
    """(wall ms, user+system CPU ms) of one whole process. CPU time is what the load of other work on
    the machine disturbs least; wall time is what a user waits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd="/")
    ms = (time.perf_counter() - s) * 1e3
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1e3
    return ms, cpu


def make_void_root(base: Path) -> str:
    """A root laid out as Void (no real Void root is available): its os-release sample, Debian's real
    musl loader, and a real musl-linked executable where the musl plugin looks for the interpreter."""
    loader = realparts.musl_loader("amd64")
    root = base / "void"
    (root / "etc").mkdir(parents=True)
    shutil.copy(realparts.OS_RELEASE_SAMPLES / "void" / "os-release", root / "etc" / "os-release")
    (root / "lib").mkdir()
    shutil.copy(loader.resolve(), root / "lib" / loader.name)
    (root / "usr/bin").mkdir(parents=True)
    shutil.copy(realparts.musl_gcc_build(base / "build", static=False), root / "usr/bin/python3")
    return str(root)


def med(rows: Sequence[Sequence[float]], i: int) -> float:
    """The median of column ``i``."""
    return statistics.median(r[i] for r in rows)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=31)
    n = parser.parse_args().runs
    load_before = loadavg()
    rows: list[tuple[str, str]] = []

    first: dict[str, list[tuple[float, float, int]]] = {k: [] for k in FIRST_CALL}
    for _ in range(n):
        for name, code in FIRST_CALL.items():
            first[name].append(run_snippet(code))
    base, base_cpu = med(first["packaging"], 0), med(first["packaging"], 1)
    for name, got in first.items():
        ms, cpu = med(got, 0), med(got, 1)
        rows.append(
            (
                f"first call, {name}",
                f"{ms:.2f} ms ({ms / base:.2f}x); CPU {cpu:.2f} ms ({cpu / base_cpu:.2f}x)",
            )
        )

    tmp = Path(tempfile.mkdtemp(prefix="alpinetags-bench-"))
    roots = {"this system (/, glibc)": "/"}
    for minor in ALPINE_MINORS:
        m = realparts.find_minirootfs(minor)
        roots[f"real Alpine {m.release} x86_64 minirootfs"] = str(realparts.alpine_minirootfs(minor))
    roots["root laid out as Void (Debian's musl loader, a musl-gcc binary)"] = make_void_root(tmp)
    # interleaved: round k runs every root once, so all roots see the same machine state
    results: dict[str, list[tuple[float, float, int]]] = {label: [] for label in roots}
    for _ in range(n):
        for label, root in roots.items():
            results[label].append(run_snippet(DETECT.format(root=root)))
    for label, got in results.items():
        runs = max(r[2] for r in got)
        rows.append(
            (f"detect(), {label}", f"{med(got, 0):.3f} ms; CPU {med(got, 1):.3f} ms; loader runs: {runs}")
        )

    exe = Path(sys.executable).with_name("alpinetags")
    cmd_ours = [str(exe), "tags"] if exe.exists() else [sys.executable, "-m", "alpinetags", "tags"]
    cmd_base = [sys.executable, "-c", "import packaging.tags; list(packaging.tags.sys_tags())"]
    ours, theirs = [], []
    for _ in range(n):
        ours.append(wall(cmd_ours))
        theirs.append(wall(cmd_base))
    mo, mt = med(ours, 0), med(theirs, 0)
    co, ct = med(ours, 1), med(theirs, 1)
    rows.append(("whole process, packaging one-liner", f"{mt:.1f} ms; CPU {ct:.1f} ms"))
    rows.append(
        (
            "whole process, `alpinetags tags`",
            f"{mo:.1f} ms ({mo / mt:.2f}x); CPU {co:.1f} ms ({co / ct:.2f}x)",
        )
    )
    shutil.rmtree(tmp)

    print(
        f"python {sys.version.split()[0]}, packaging {packaging.__version__}, {os.cpu_count()} cpus, "
        f"{n} runs each, medians of interleaved runs; load average before: {load_before}, "
        f"after: {loadavg()}\n"
    )
    print("| measurement | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()

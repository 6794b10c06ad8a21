"""How fast the symbol scan reads real wheels: MB/s of ELF data, and the time for 100 wheels.

Run by hand, after ``bash experiments/fetch.sh`` (the wheels land in .cache/experiments/):

    python bench/bench_scan.py                 # every cached wheel, 3 rounds, best round reported
    python bench/bench_scan.py DIR_OR_WHEEL... # other wheels

"ELF data" is the uncompressed size of the ELF objects found; the time includes opening the zip,
decompressing every ELF member (and the one ``.tar.xz`` the krunner wheel carries) and reading its
``.dynsym``/``.dynstr``/``.dynamic``. The loader is not run here.
"""

from __future__ import annotations

import os
import sys
import time

from alpinetags._elf.elfscan import scan_paths
from alpinetags.experiments.libc import sweep, wheel_needs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = [os.path.join(REPO, ".cache", "experiments", d) for d in ("wheels", "krunner")]


def main(argv: list[str]) -> int:
    paths = argv or [p for p in DEFAULT if os.path.isdir(p)]
    if not paths:
        print("no wheels: run `bash experiments/fetch.sh` first, or name wheels/directories", file=sys.stderr)
        return 2
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        containers = scan_paths(paths)
        t1 = time.perf_counter()
        for c in containers:
            sweep(wheel_needs(c))
        t2 = time.perf_counter()
        if best is None or t2 - t0 < best[0] + best[1]:
            best = (t1 - t0, t2 - t1, containers)
    assert best is not None
    scan_s, sweep_s, containers = best
    wheels = len(containers)
    objects = sum(len(c.objects) for c in containers)
    mb = sum(c.bytes_scanned for c in containers) / 1e6
    compressed = sum(os.path.getsize(c.path) for c in containers if os.path.isfile(c.path)) / 1e6
    total = scan_s + sweep_s
    print(
        f"wheels {wheels}, ELF objects {objects}, ELF data {mb:.1f} MB ({compressed:.1f} MB of wheel files)"
    )
    print(f"scan  {scan_s:.2f} s  = {mb / scan_s:.0f} MB/s of ELF data")
    print(f"sweep {sweep_s:.2f} s  (every wheel against all 13 musl symbol lists)")
    print(
        f"per wheel {total / wheels * 1000:.0f} ms on average; 100 such wheels: {total / wheels * 100:.1f} s"
    )
    slow = sorted(containers, key=lambda c: -c.bytes_scanned)[:3]
    print("largest: " + ", ".join(f"{c.name[:40]} {c.bytes_scanned / 1e6:.0f} MB" for c in slow))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""How fast the native check is, against the real musl loader and against ``auditwheel show``, in one run.

Run by hand, after ``bash experiments/fetch.sh`` (the real musllinux wheels land in
``.cache/experiments/wheels``) and ``python -m tests.realparts fetch`` (the real Alpine roots):

    python bench/bench_check.py                  # the cached wheels against a copy of the real Alpine 3.20
    python bench/bench_check.py --rounds 5 W...  # other wheels, best of 5 for the in-process timings

What is timed, on the same wheels:

* ``check_paths(wheels, root)`` in this process: open each zip, decompress every ELF member, read its
  dynamic section and symbols, resolve every ``DT_NEEDED`` in the root, check every symbol. Reported as
  MB/s of ELF data (uncompressed), best of ``--rounds``.
* the same check on the wheels unpacked into the root (the files the loader reads, no decompression).
* the real musl loader of the root, ``ld-musl-x86_64.so.1 --list FILE``, on every unpacked ELF file, in
  one chroot run (a shell loop; one loader process per file, as a real import maps each).
* ``auditwheel show WHEEL`` (the newest auditwheel on PyPI, in a throwaway venv) and
  ``alpinetags check --root ROOT WHEEL``, one process per wheel each: the two command lines side by side.

Speed figures are machine-dependent; the ratios are what docs/check.md reports.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alpinetags._elf.elfscan import ELF_MAGIC  # noqa: E402
from alpinetags._load.native import check_paths  # noqa: E402
from tests import realparts  # noqa: E402

DEFAULT_WHEELS = REPO / ".cache" / "experiments" / "wheels"
LOADER = "/lib/ld-musl-x86_64.so.1"


def _unpack(wheels: list[Path], root: Path) -> list[str]:
    """Every ELF member of every wheel, unpacked under /site/<wheel>/ in the root; their inside paths."""
    out = []
    for w in wheels:
        dest = root / "site" / w.name[:-4]
        with zipfile.ZipFile(w) as zf:
            for info in zf.infolist():
                if info.is_dir() or info.file_size < 64:
                    continue
                with zf.open(info) as f:
                    if f.read(4) != ELF_MAGIC:
                        continue
                target = dest / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                out.append("/" + str(target.relative_to(root)))
    return out


def _auditwheel_venv(where: Path) -> tuple[Path, str]:
    venv.create(where, with_pip=True)
    py = where / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "auditwheel"],
                   check=True)  # fmt: skip
    version = subprocess.run([str(py), "-m", "pip", "show", "auditwheel"], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    line = next(x for x in version.splitlines() if x.startswith("Version:"))
    return where / "bin" / "auditwheel", line.split()[1]


def _each(argv_for: list[list[str]]) -> tuple[float, int]:
    start = time.perf_counter()
    failed = 0
    for argv in argv_for:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        failed += proc.returncode not in (0, 1)
    return time.perf_counter() - start, failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alpine", default="3.20", help="the real Alpine root to check against")
    parser.add_argument("--no-auditwheel", action="store_true")
    args = parser.parse_args(argv)
    wheels = sorted(args.wheels or DEFAULT_WHEELS.glob("*.whl"))
    if not wheels:
        print("no wheels: run `bash experiments/fetch.sh` first, or name wheels", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-check-"))
    try:
        root = realparts.copy_minirootfs(args.alpine, tmp / "root")
        files = _unpack(wheels, root)

        best = float("inf")
        report = None
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            report = check_paths([str(w) for w in wheels], str(root))
            best = min(best, time.perf_counter() - t0)
        assert report is not None
        mb = report.bytes_scanned / 1e6
        failing = sorted({v.path.split("!")[0].rsplit("/", 1)[-1] for v in report.failures})

        tree_best = float("inf")
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            check_paths([str(root / "site")], str(root), interpreter="")
            tree_best = min(tree_best, time.perf_counter() - t0)

        script = f'for f in "$@"; do {LOADER} --list "$f" >/dev/null 2>&1; done; true'
        t0 = time.perf_counter()
        proc = realparts.run_in_root(root, ["/bin/sh", "-c", script, "sh", *files], timeout=3600)
        loader_s = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr
        t0 = time.perf_counter()
        realparts.run_in_root(root, ["/bin/sh", "-c", 'for f in "$@"; do :; done', "sh", *files])
        loop_s = time.perf_counter() - t0  # the chroot and the shell alone, subtracted below

        system = f"real Alpine {args.alpine} ({report.system.libc} {report.system.libc_version})"
        print(
            f"wheels {len(wheels)}, ELF objects {len(report.objects)}, ELF data {mb:.1f} MB, root: {system}"
        )
        print(f"check (wheels, in-process)   {best:7.2f} s  {mb / best:6.0f} MB/s")
        print(f"    {len(report.failures)} objects do not load there, in: {', '.join(failing) or '-'}")
        print(f"check (unpacked files)       {tree_best:7.2f} s  {mb / tree_best:6.0f} MB/s")
        loader_net = max(loader_s - loop_s, 1e-9)
        print(f"musl loader --list, per file {loader_net:7.2f} s  {mb / loader_net:6.0f} MB/s")
        ratio = loader_net / tree_best
        print(f"    (chroot and shell loop, {loop_s:.2f} s, subtracted)  loader/check = {ratio:.2f}x")

        if not args.no_auditwheel:
            auditwheel, version = _auditwheel_venv(tmp / "aw")
            aw_s, aw_failed = _each([[str(auditwheel), "show", str(w)] for w in wheels])
            at = [sys.executable, "-m", "alpinetags", "check", "--root", str(root)]
            at_s, at_failed = _each([[*at, str(w)] for w in wheels])
            print(f"auditwheel {version} show, one process per wheel  {aw_s:7.2f} s  ({aw_failed} errors)")
            print(f"alpinetags check, one process per wheel      {at_s:7.2f} s  ({at_failed} errors)")
            print(f"    auditwheel/alpinetags = {aw_s / at_s:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

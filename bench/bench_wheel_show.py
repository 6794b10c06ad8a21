"""``auditwheel show`` against ``alpinetags wheel show`` on the real musllinux wheels, in one run.

Run by hand, as root (the real loads run in chroots), after ``bash experiments/fetch.sh`` and
``python -m tests.realparts fetch``:

    python bench/bench_wheel_show.py                  # the 40 wheels of .cache/experiments/wheels
    python bench/bench_wheel_show.py --md out.md      # also write the Markdown table

What it does:

1. makes a throwaway venv and installs the latest auditwheel from PyPI into it (its version is printed);
2. runs ``auditwheel show WHEEL`` and ``python -m alpinetags wheel show --json WHEEL`` once per wheel, as a
   user would, timing each command (wall clock, process start included), and also ``wheelinfo.show`` in
   this process (the cost without interpreter start);
3. puts the verdicts side by side; where they differ (or auditwheel fails), settles it with real loads:
   every extension module of the wheel is handed to musl's own loader (``ld-musl-x86_64.so.1 --list``) inside
   each real Alpine x86_64 root whose musl the carried tag admits and alpinetags says lacks names, and
   inside the root at alpinetags' floor, and dlopened there with its constructors run
   (``tests/parts_dlprobe.py``); the libc names the loader reports missing, and ``DT_RELR`` where the
   dlopen crashed, are compared with the prediction.
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
import time
import venv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alpinetags._load import facts  # noqa: E402
from alpinetags._wheel import wheelinfo  # noqa: E402
from tests import parts_dlprobe, realparts  # noqa: E402

DEFAULT_WHEELS = REPO / ".cache" / "experiments" / "wheels"
_CONSISTENT_RE = re.compile(r'is consistent with the following platform tag: "([^"]+)"')
_EXTERNAL_RE = re.compile(r"external shared libraries are required by the wheel: \{(.*?)\}")
_RELOC_RE = re.compile(r"Error relocating [^:]+: ([^:\s]+): symbol not found")


@dataclass
class Row:
    wheel: str
    carried: str
    auditwheel: str  # in the real Alpine root: the tag it says the wheel is consistent with, or "error: ..."
    auditwheel_s: float  # on this machine (the host), where it runs without chroot overhead
    auditwheel_host: str  # its answer on this machine
    alpinetags: dict[str, object]
    alpinetags_s: float
    inprocess_s: float
    loads: list[str] = field(default_factory=list)  # real-load findings, one per root

    @property
    def overclaims(self) -> bool:
        return bool(self.alpinetags["overclaims"])

    @property
    def differ(self) -> bool:
        """auditwheel calls the carried tag fine (or fails) where alpinetags finds it overclaims, or the
        other way round."""
        if not self.auditwheel.startswith("musllinux"):
            return True  # an error, or no musllinux tag at all (linux_x86_64): a different verdict
        return self.auditwheel_accepts_carried == self.overclaims

    @property
    def auditwheel_accepts_carried(self) -> bool:
        """auditwheel's tag is the carried one or a more permissive (older) one."""
        return _minor(self.auditwheel) <= _minor(self.carried)


def auditwheel_venv(where: Path) -> tuple[Path, str]:
    venv.EnvBuilder(with_pip=True).create(where)
    py = where / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "auditwheel"],
                   check=True, capture_output=True)  # fmt: skip
    out = subprocess.run(
        [str(py), "-m", "pip", "show", "auditwheel"], capture_output=True, text=True, check=True
    )
    version = next(ln.split(":", 1)[1].strip() for ln in out.stdout.splitlines() if ln.startswith("Version:"))
    return where / "bin" / "auditwheel", version


def _auditwheel_answer(proc: subprocess.CompletedProcess[str]) -> str:
    text = " ".join(proc.stdout.split())
    m = _CONSISTENT_RE.search(text)
    if proc.returncode == 0 and m:
        why = _EXTERNAL_RE.search(text)
        unfound = re.findall(r'"([^"]+)": null', why.group(1)) if why else []
        return m.group(1) + (f" (cannot find {', '.join(unfound)})" if unfound else "")
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return f"error: {last[:90]}"


def alpine_root_with_auditwheel(version: str, minor: str, scratch: Path) -> Path:
    """A copy of the real Alpine root of ``minor`` with the Alpine CPython and auditwheel ``version``
    installed by that CPython's pip (wheels downloaded here, installed there with --no-index)."""
    root = realparts.copy_minirootfs(minor, scratch / f"alpine-{minor}")
    realparts._put_python(root, "x86_64")
    dl = root / "tmp" / "aw"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                    "--only-binary=:all:", "-d", str(dl), f"auditwheel=={version}"],
                   check=True, capture_output=True)  # fmt: skip
    argv = [realparts.ROOT_PYTHON, "-m", "pip", "install", "-q", "--no-index", "--find-links", "/tmp/aw",
            "--root-user-action=ignore", "auditwheel"]  # fmt: skip
    proc = realparts.run_in_root(root, argv)
    if proc.returncode != 0:
        raise RuntimeError(f"auditwheel into {root}: {proc.stdout}{proc.stderr}")
    (root / "tmp" / "w").mkdir()
    return root


def run_auditwheel_in_root(root: Path, wheel: Path) -> str:
    shutil.copy2(wheel, root / "tmp" / "w" / wheel.name)
    argv = [realparts.ROOT_PYTHON, "-m", "auditwheel", "show", f"/tmp/w/{wheel.name}"]
    answer = _auditwheel_answer(realparts.run_in_root(root, argv, timeout=300))
    (root / "tmp" / "w" / wheel.name).unlink()
    return answer


#: Both tools run as their users run them: with their compiled modules cached in ``__pycache__`` (pip
#: compiles auditwheel's at install; alpinetags' are written by its first run here). A machine that sets
#: ``PYTHONDONTWRITEBYTECODE`` would otherwise make every alpinetags run compile its sources again.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_auditwheel(exe: Path, wheel: Path) -> tuple[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([str(exe), "show", str(wheel)], capture_output=True, text=True, check=False,
                          env=CHILD_ENV)  # fmt: skip
    took = time.perf_counter() - t0
    return _auditwheel_answer(proc), took


def run_alpinetags(wheel: Path) -> tuple[dict[str, object], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "alpinetags", "wheel", "show", "--json", str(wheel)],
                          capture_output=True, text=True, check=False, cwd=REPO, env=CHILD_ENV)  # fmt: skip
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"alpinetags wheel show {wheel} failed:\n{proc.stderr}")
    (report,) = json.loads(proc.stdout)  # one object per wheel, in a list
    return report, took


def _minor(tag: str) -> tuple[int, int]:
    m = re.match(r"musllinux_(\d+)_(\d+)_", tag)
    return (int(m.group(1)), int(m.group(2))) if m else (99, 99)


def carried_musllinux(name: str) -> str:
    plats = [p for p in name[: -len(".whl")].split("-")[-1].split(".") if p.startswith("musllinux")]
    return max(plats) if plats else ""


# --------------------------------------------------------------------------------------------------
# real loads


def loader_missing(root: Path, modules: list[str]) -> set[str]:
    found: set[str] = set()
    for module in modules:
        proc = realparts.run_in_root(
            root, ["/lib/ld-musl-x86_64.so.1", "--list", f"/tmp/w/{module}"], timeout=120
        )
        found |= {n for n in _RELOC_RE.findall(proc.stderr) if not n.startswith(("Py", "_Py"))}
    return found


def real_loads(wheel: Path, carried: str, report: wheelinfo.WheelReport, scratch: Path) -> list[str]:
    """Each real root the carried tag admits whose musl lacks names by the prediction, the oldest root it
    admits, and the floor's root: what musl's own loader says there."""
    predicted = dict(report.musl_missing)
    rows = [m for m in realparts.minirootfs_manifest() if m.arch == "x86_64" and m.branch != "edge"]
    admitted = _minor(carried)
    lacking = [
        m for m in rows if m.musl_version in predicted and facts.version_tuple(m.musl_version)[:2] >= admitted
    ]
    floor = [m for m in rows if m.minor == report.alpine_floor]
    oldest_admitted = [m for m in rows if facts.version_tuple(m.musl_version)[:2] >= admitted][:1]
    out = []
    for m in sorted(set(lacking + floor + oldest_admitted), key=rows.index):
        root = realparts.copy_minirootfs(m.minor, scratch / f"{wheel.name}-{m.minor}")
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(root / "tmp" / "w")
            modules = [n for n in zf.namelist() if n.endswith(".so") and ".libs/" not in n]
        got = loader_missing(root, modules)
        # --list runs no code: the modules are also dlopened with their constructors run, and a crash there
        # is what a loader that ignores DT_RELR does (issue 17)
        probed = parts_dlprobe.run_probe(root, "x86_64", [("d", f"/tmp/w/{n}") for n in modules])
        if any(o.reason.startswith("killed by signal") for o in probed.values()):
            got.add("DT_RELR")
        want = set(predicted.get(m.musl_version, ()))
        verdict = "as predicted" if got == want else f"predicted {sorted(want)}"
        said = ", ".join(sorted(got)) if got else "loads"
        out.append(f"{m.minor} (musl {m.musl_apk}): {said} [{verdict}]")
        shutil.rmtree(root, ignore_errors=True)
    return out


# --------------------------------------------------------------------------------------------------


def table(rows: list[Row], auditwheel_version: str, alpine: str) -> str:
    lines = [
        f"| wheel | carries | auditwheel {auditwheel_version} in Alpine {alpine} | ... on this machine | "
        "alpinetags: musl floor (set by) | honest musllinux | alpine floor | alpinetags verdict | differ | "
        "real loads |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a = r.alpinetags
        by = ", ".join(a["musl_floor_symbols"])  # type: ignore[arg-type]
        floor = f"{a['musl_floor']}" + (f" ({by})" if by else "")
        overclaims = a["overclaims"]
        verdict = "; ".join(f"overclaims: {o['systems']} lack {', '.join(o['lacking'])}" for o in overclaims)  # type: ignore[attr-defined]
        host = "same" if r.auditwheel_host == r.auditwheel else r.auditwheel_host
        loads = "<br>".join(r.loads) or "-"
        honest = a["honest_musllinux"] or "none"
        lines.append(
            f"| {r.wheel} | {r.carried} | {r.auditwheel} | {host} | {floor} | {honest} | "
            f"{a['alpine_floor']} | {verdict or 'consistent'} | {'**yes**' if r.differ else 'no'} | {loads} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wheels", nargs="*", type=Path, help=f"wheels (default: {DEFAULT_WHEELS})")
    ap.add_argument("--md", type=Path, help="also write the Markdown table here")
    ap.add_argument("--alpine", default="3.20", help="the real Alpine root auditwheel also runs in (3.20)")
    args = ap.parse_args(argv)
    wheels = sorted(args.wheels or DEFAULT_WHEELS.glob("*.whl"))
    wheels = [w for w in wheels if carried_musllinux(w.name)]
    if not wheels:
        print("no musllinux wheels: run `bash experiments/fetch.sh` first", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="bench-wheel-show-"))
    try:
        exe, aw_version = auditwheel_venv(scratch / "venv")
        alpine = alpine_root_with_auditwheel(aw_version, args.alpine, scratch)
        print(f"auditwheel {aw_version}; {len(wheels)} wheels; musl lists {facts.musl_abis()[0].version} to "
              f"{facts.musl_abis()[-1].version}", flush=True)  # fmt: skip
        run_auditwheel(exe, wheels[0])  # warm-up: each side's compiled modules cached, disk caches filled
        run_alpinetags(wheels[0])
        rows = []
        for w in wheels:
            aw_host, aw_s = run_auditwheel(exe, w)
            aw = run_auditwheel_in_root(alpine, w)
            at, at_s = run_alpinetags(w)
            t0 = time.perf_counter()
            report = wheelinfo.show(str(w))
            inproc = time.perf_counter() - t0
            row = Row(w.name, carried_musllinux(w.name), aw, aw_s, aw_host, at, at_s, inproc)
            if row.differ:
                row.loads = real_loads(w, row.carried, report, scratch)
            rows.append(row)
            said = "overclaims" if row.overclaims else "consistent"
            print(f"  {w.name}: auditwheel {aw} ({aw_s:.2f} s), alpinetags {said} ({at_s:.2f} s)", flush=True)
        aw_total = sum(r.auditwheel_s for r in rows)
        at_total = sum(r.alpinetags_s for r in rows)
        in_total = sum(r.inprocess_s for r in rows)
        summary = (
            f"{len(rows)} wheels: auditwheel show {aw_total:.1f} s, alpinetags wheel show {at_total:.1f} s "
            f"(one command per wheel each, process start included): ratio {aw_total / at_total:.2f}x; "
            f"alpinetags in-process {in_total:.2f} s ({aw_total / in_total:.1f}x). "
            f"Verdicts differ on {sum(r.differ for r in rows)}; auditwheel failed on "
            f"{sum(r.auditwheel.startswith('error') for r in rows)} in Alpine {args.alpine}, "
            f"on {sum(r.auditwheel_host.startswith('error') for r in rows)} on this machine."
        )
        md = table(rows, aw_version, args.alpine) + "\n\n" + summary + "\n"
        print()
        print(md)
        if args.md:
            args.md.write_text(md)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

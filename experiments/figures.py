"""Every figure docs/spec.md states that no single result file states outright, computed from the results.

The spec and docs quote counts; each is either a line of a file in ``experiments/results/`` or printed by
this command, from those files (and, for one figure, from the pinned wheels ``experiments/fetch.sh``
downloads). Nothing is measured here: it recounts what the experiments recorded, so a reader can check
each number and see what it counts.

Run from the repository root: ``python -m experiments.figures`` (``--wheels DIR`` for the suffix count;
default ``.cache/experiments/wheels`` when it is there).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "experiments" / "results"
#: The sonames of ``community/openssl1.1-compat``, a package of Alpine 3.17 and 3.18 (the soname table's
#: README; ``libmatrix`` counts it as providing them there, as the matrix's main figure does).
COMPAT_SONAMES = frozenset({"libssl.so.1.1", "libcrypto.so.1.1"})
COMPAT_RELEASES = frozenset({"3.17", "3.18"})
_SONAME = re.compile(r"(\S+\.so[.0-9]*) not found")


def _key(release: str) -> tuple[int, ...]:
    return (99,) if release == "edge" else tuple(int(x) for x in release.split("/")[0].split("."))


def _sonames(reason: str) -> frozenset[str]:
    return frozenset(_SONAME.findall(reason))


def real_loads(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The downward figures of ``real-loads.json`` (x86_64 minirootfs files, OS binaries on minimal images),
    under each meaning of "the release has this soname"."""
    mine = [r for r in rows if r["arch"] == "x86_64" and "/" not in r["built_on"]]
    down = [r for r in mine if _key(r["built_on"]) <= _key(r["run_on"])]
    later = [r for r in down if r["built_on"] != r["run_on"]]
    fails = [r for r in later if r["actual"] == "fails"]
    # the check names every missing soname (the real loader stops at the first): its list says what
    # would have to be installed for the file to load
    compat = [
        r
        for r in fails
        if r["run_on"] in COMPAT_RELEASES and _sonames(r["predicted_reason"]) <= COMPAT_SONAMES
    ]
    family = Counter(
        "libapk" if any("libapk" in s for s in _sonames(r["predicted_reason"]))
        else "libtls" if any("libtls" in s for s in _sonames(r["predicted_reason"]))
        else "libssl/libcrypto"
        for r in fails
    )  # fmt: skip
    return {
        "loads, all arches": len(rows),
        "x86_64 minirootfs loads built on B, run on R >= B": len(down),
        "... of which fail": sum(r["actual"] == "fails" for r in down),
        "... of which R = B": len(down) - len(later),
        "... R = B that fail": sum(r["actual"] == "fails" for r in down if r["built_on"] == r["run_on"]),
        "x86_64 minirootfs loads with R > B": len(later),
        "... of which fail (minimal image: only what the minirootfs installs)": len(fails),
        "... failures on 3.17/3.18 that openssl1.1-compat would fix": len(compat),
        "... failures counting openssl1.1-compat as present (the soname table's meaning)": len(fails)
        - len(compat),
        "... failures naming libssl/libcrypto (OpenSSL or LibreSSL) only": family["libssl/libcrypto"],
        "... failures naming libtls (LibreSSL's TLS library)": family["libtls"],
        "... failures naming libapk (apk-tools' library)": family["libapk"],
    }


def matrix_figures() -> dict[str, object]:
    """The matrix figures the spec quotes that ``matrix.md`` does not print as such."""
    from alpinetags_alpine import facts as data

    from alpinetags.experiments import matrix

    x86 = matrix.build_matrix(arches=["x86_64"])
    hidden = [c for c in x86 if c.alpine_accepts and c.breakage == "hidden-internal"]
    cells = matrix.build_matrix(arches=["armv7l"])
    span = [r.version for r in data.alpine_releases() if (3, 10) <= data.version_tuple(r.version) <= (3, 16)]
    alpine = matrix.count(cells, "alpine", "armv7l", span)
    musl = matrix.count(cells, "musllinux", "armv7l", span)
    return {
        "x86_64 pairs the alpine scheme accepts whose R lacks internal __* names B's musl exported": len(
            hidden
        ),
        "... of which cross 1.1.20 -> 1.1.21 (musl hid them)": sum(
            data.version_tuple(c.built_on) <= (3, 9) < data.version_tuple(c.installed_on) for c in hidden
        ),
        "armv7l builds needed for 3.10-3.16, alpine scheme (time64 floor)": _builds(alpine),
        "armv7l builds needed for 3.10-3.16, musllinux scheme": _builds(musl),
    }


def _builds(counts: Any) -> str:
    return f"{counts.builds_needed} (on {', '.join(counts.builds)})"


def suffixes(wheel_dir: Path) -> dict[str, int]:
    """How the scanned wheels name their extension modules (``.cpython-311-x86_64-linux-musl.so``, ...)."""
    wheels = sorted(wheel_dir.glob("*.whl"))
    out: Counter[str] = Counter()
    for w in wheels:
        with zipfile.ZipFile(w) as zf:
            names = [n for n in zf.namelist() if n.endswith(".so") and ".dist-info/" not in n]
        kinds = {
            m.group(0) for n in names if (m := re.search(r"\.cpython-\d+-[a-z0-9_]+-linux-[a-z]+\.so$", n))
        }
        cp311 = "-cp311-cp311-" in w.name
        if not cp311:
            out["wheels not cp311-specific (abi3 or pure)"] += 1
        elif kinds and all(k.endswith("-linux-musl.so") for k in kinds):
            out["cp311 wheels whose modules are all named -linux-musl"] += 1
        else:
            out["cp311 wheels with another module name: " + ", ".join(sorted(kinds)) or "none"] += 1
    out["wheels"] = len(wheels)
    return dict(sorted(out.items()))


def eras_figures(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    judged = [r for r in rows if r["actual"] in ("loads", "fails")]
    return {
        "imports": len(rows),
        "... fail": sum(r["actual"] == "fails" for r in rows),
        "... the check says loads, the import fails": sum(
            r["predicted"] == "loads" and r["actual"] == "fails" for r in judged
        ),
        "... the check says fails, the import loads": sum(
            r["predicted"] == "fails" and r["actual"] == "loads" for r in judged
        ),
    }


def report(wheel_dir: Optional[Path]) -> str:
    lines = ["# real-loads.json (x86_64: what downward acceptance admits, on OS binaries of minimal images)"]
    loads = json.loads((RESULTS / "real-loads.json").read_text())
    lines += [f"{v:>6}  {k}" for k, v in real_loads(loads).items()]
    lines += ["", "# eras.json (Python modules built on 3.8, 3.11, 3.17, imported on later roots)"]
    lines += [
        f"{v:>6}  {k}" for k, v in eras_figures(json.loads((RESULTS / "eras.json").read_text())).items()
    ]
    lines += ["", "# the matrix (musl symbol lists; tag policy)"]
    lines += [f"{v!s:>6}  {k}" for k, v in matrix_figures().items()]
    lines += ["", "# module names in the pinned wheels (experiments/wheels.txt)"]
    if wheel_dir is not None and wheel_dir.is_dir():
        lines += [f"{v:>6}  {k}" for k, v in suffixes(wheel_dir).items()]
    else:
        lines.append("(no wheels here: bash experiments/fetch.sh downloads them)")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.figures", description=__doc__.split("\n\n")[0])
    p.add_argument("--wheels", type=Path, default=REPO / ".cache" / "experiments" / "wheels")
    p.add_argument("--out", type=Path, help="also write figures.txt into this directory")
    args = p.parse_args(argv)
    text = report(args.wheels)
    sys.stdout.write(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "figures.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

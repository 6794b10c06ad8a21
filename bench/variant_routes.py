"""The three routes for one project with two OpenSSL builds, each installer, in real Alpine roots.

Run by hand (a few minutes; root, for the chroots): ``python bench/variant_routes.py [--json OUT]``.
Prints the table of docs/variants.md. Nothing here is asserted: tests/test_variants.py asserts the
variant route; this shows every route side by side.

The project: ``sslmod`` 1.0.0, a C extension for the Alpine CPython 3.11 built twice with musl-gcc, against
the real 3.16 root's ``libssl.so.1.1`` and the real 3.17 root's ``libssl.so.3`` (tests/parts_wheel.py).

* route A, alpine tags with the hook: both builds tagged by ``alpinetags wheel tag --root`` with their
  build root (``alpine_3_16``, ``alpine_3_17``); what a private index or ``--find-links`` holds.
* route B, musllinux tags with the check: one file name per version and tag, so one build can be
  uploaded as ``musllinux_1_2_x86_64``; the 3.17 build (the current OpenSSL) is.
* route C, musllinux plus an Alpine variant: B's wheel, and both builds made variants by ``alpinetags
  wheel variant --root`` (``...-musllinux_1_2_x86_64-<label>.whl``), with the ``sslmod-1.0.0-variants.json``
  of ``variantlib generate-index-json``.

Installers, each inside copies of the real 3.16, 3.17 and 3.20 roots with the Alpine CPython (pip 23.0),
alpinetags (hook enabled) and variantlib 0.2.2 installed by that pip, each into its own ``--target``:
``pip`` (``ALPINETAGS_PIP=0``: the hook off), ``pip+alpinetags`` (the hook on: tags and native check),
``uv`` (0.13.9, its musllinux binary, ``uv pip install --target``), and ``variantlib`` (its resolver
``get_variants_by_priority`` run by the root's CPython, the first variant unpacked; the plain wheel when
it ranks none). After each install the module is imported and called by the root's CPython.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import parts_variants, parts_wheel, realparts  # noqa: E402
from tests.test_wheel_roundtrip import PY, _overlay, in_root  # noqa: E402

UV_WHEEL = "uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl"
BUILDS = {
    "ssl11": ("3.16", "libssl.so.1.1", "libcrypto.so.1.1"),
    "ssl3": ("3.17", "libssl.so.3", "libcrypto.so.3"),
}
MINORS = ("3.16", "3.17", "3.20")
INSTALLERS = ("pip", "pip+alpinetags", "uv", "uv-preview", "variantlib")
SELECT = """
import json, sys
from variantlib.api import get_variants_by_priority
print(json.dumps([v.label for v in get_variants_by_priority(variants_json=json.load(open(sys.argv[1])))]))
"""
UNPACK = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])"
CALL = "import sslmod; print(hex(sslmod.version()))"


def alpinetags(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "alpinetags", *args], capture_output=True, text=True, check=True
    )
    (result,) = json.loads(proc.stdout)
    assert isinstance(result, dict)
    return result


def houses(work: Path) -> dict[str, Path]:
    """The three routes' wheel directories."""
    plain = {}
    for build, (minor, libssl, libcrypto) in BUILDS.items():
        d = work / build
        ext = parts_wheel.build_ssl_extension(d, realparts.alpine_minirootfs(minor), libssl, libcrypto)
        plain[build] = parts_wheel.pack_wheel(
            d, {ext.name: ext}, "sslmod", "1.0.0", "cp311-cp311-musllinux_1_2_x86_64"
        )
    out = {r: work / f"house-{r}" for r in "ABC"}
    for d in out.values():
        d.mkdir()
    for build, wheel in plain.items():
        root = str(realparts.alpine_minirootfs(BUILDS[build][0]))
        alpinetags("wheel", "tag", "--json", "--root", root, "-w", str(out["A"]), str(wheel))
        alpinetags("wheel", "variant", "--json", "--root", root, "-w", str(out["C"]), str(wheel))
    for r in "BC":
        shutil.copy2(plain["ssl3"], out[r] / plain["ssl3"].name)
    variantlib = str(Path(sys.executable).with_name("variantlib"))
    subprocess.run([variantlib, "generate-index-json", "-d", str(out["C"])], capture_output=True, check=True)
    return out


def staging(work: Path) -> Path:
    """A real 3.17 root with the Alpine CPython, alpinetags (hook on), variantlib and uv."""
    root = parts_variants.variant_root(work / "staging")
    dl = work / "uv"
    argv = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
            "--platform", "musllinux_1_1_x86_64", "-d", str(dl), "uv==0.13.9"]  # fmt: skip
    subprocess.run(argv, check=True)
    with zipfile.ZipFile(dl / UV_WHEEL) as zf:
        data = zf.read("uv-0.13.9.data/scripts/uv")
    (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
    (root / "usr/local/bin/uv").write_bytes(data)
    (root / "usr/local/bin/uv").chmod(0o755)
    return root


#: The lines of an installer's output that say why it installed nothing.
WHY = ("ERROR", "error:", "alpinetags:", "cause:")


def outcome(root: Path, target: str, took: float, proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        lines = [x.strip() for x in (proc.stderr + proc.stdout).splitlines()]
        why = [x for x in lines if x.startswith(WHY) or "Skipping unsupported wheel variant" in x]
        return f"nothing installed ({took:.1f} s): " + " / ".join(dict.fromkeys(why))[:300]
    called = in_root(root, PY, "-c", CALL, PYTHONPATH=target)
    if called.returncode == 0:
        return f"{what} ({took:.1f} s); loads, OpenSSL {called.stdout.strip()}"
    return f"{what} ({took:.1f} s); import FAILS: {called.stderr.strip().splitlines()[-1][:90]}"


def chosen_file(proc: subprocess.CompletedProcess[str]) -> str:
    """The wheel an installer's output names (pip: ``Processing /tmp/house-X/<file>``), from its tags on."""
    for line in (proc.stdout + proc.stderr).splitlines():
        for word in line.split():
            if word.endswith(".whl") and "sslmod" in word:
                return word.rsplit("/", 1)[-1].split("-", 2)[2].strip("()`'\"")
    return ""


def run_cell(root: Path, route: str, installer: str) -> str:
    house = f"/tmp/house-{route}"
    target = f"/tmp/t-{route}-{installer.replace('+', '_')}"
    start = time.monotonic()
    if installer in ("pip", "pip+alpinetags"):
        env = {"ALPINETAGS_PIP": "0"} if installer == "pip" else {}
        proc = in_root(root, PY, "-m", "pip", "install", "--no-index", "--find-links", house,
                       "--no-cache-dir", "--target", target, "sslmod==1.0.0", **env)  # fmt: skip
    elif installer.startswith("uv"):
        preview = ["--preview-features", "wheel-variants"] if installer == "uv-preview" else []
        proc = in_root(root, "/usr/local/bin/uv", "pip", "install", "-v", *preview, "--no-index",
                       "--find-links", house, "--no-cache", "--python", PY, "--target", target,
                       "sslmod==1.0.0")  # fmt: skip
    else:
        if route != "C":
            return "n/a: no variants on this route"
        sel = in_root(root, PY, "-c", SELECT, f"{house}/sslmod-1.0.0-variants.json")
        if sel.returncode != 0:
            return f"resolver failed: {sel.stderr.strip().splitlines()[-1]}"
        labels = json.loads(sel.stdout)
        wheels = sorted((root / house.lstrip("/")).glob("*.whl"))
        pick = next((w for w in wheels if labels[0] != "null" and w.name.endswith(f"-{labels[0]}.whl")), None)
        pick = pick or next(w for w in wheels if w.name.endswith("musllinux_1_2_x86_64.whl"))
        proc = in_root(root, PY, "-c", UNPACK, f"{house}/{pick.name}", target)
        took = time.monotonic() - start
        return outcome(root, target, took, proc, f"ranks {labels}, takes {pick.name.split('-', 2)[2]}")
    took = time.monotonic() - start
    return outcome(root, target, took, proc, f"takes {chosen_file(proc) or installed_kind(root, target)}")


def installed_kind(root: Path, target: str) -> str:
    """What was installed, from the installed dist-info: a variant keeps its ``variant.json``."""
    found = sorted((root / target.lstrip("/")).glob("sslmod-*.dist-info"))
    if not found:
        return "?"
    info = found[0] / "variant.json"
    if info.is_file():
        return f"the variant {next(iter(json.loads(info.read_text())['variants']))}"
    return "the plain wheel (no variant.json installed)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="variant-routes-"))
    try:
        h = houses(work)
        stage = staging(work)
        results: dict[str, dict[str, dict[str, str]]] = {}
        for minor in MINORS:
            root = realparts.copy_minirootfs(minor, work / f"root-{minor}")
            _overlay(stage, realparts.alpine_minirootfs("3.17"), root)
            for route, d in h.items():
                shutil.copytree(d, root / "tmp" / f"house-{route}")
            for route in "ABC":
                for inst in INSTALLERS:
                    cell = run_cell(root, route, inst)
                    results.setdefault(route, {}).setdefault(inst, {})[minor] = cell
                    print(f"{route} {inst:<15} {minor}: {cell}", flush=True)
        print()
        print("| route | installer | " + " | ".join(f"Alpine {m}" for m in MINORS) + " |")
        print("|---|---|" + "---|" * len(MINORS))
        for route, by_inst in results.items():
            for inst, cells in by_inst.items():
                print(f"| {route} | {inst} | " + " | ".join(cells[m] for m in MINORS) + " |")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

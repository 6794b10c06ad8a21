"""The build/install matrix and ``alpinetags compare``, checked against cells worked out by hand from
``alpine-musl.tsv`` (3.16/3.17 ship musl 1.2.3, 3.18/3.19 1.2.4, 3.20 1.2.5, 3.13-3.15 1.2.2, 3.9 1.1.20,
3.10 1.1.22, 3.11/3.12 1.1.24) and the musl-abi README (1.2.5 added preadv2, pwritev2, statx)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from alpinetags_alpine import facts as data
from packaging.tags import interpreter_name, interpreter_version

from alpinetags._load import facts as musl_data
from alpinetags.experiments import libmatrix, matrix

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="module")
def cells() -> dict[tuple[str, str, str], matrix.Cell]:
    return {(c.arch, c.built_on, c.installed_on): c for c in matrix.build_matrix()}


def test_package_data_is_the_shared_data() -> None:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} missing: the shared data sits beside the repository", pytrace=False)
    for name in ("alpine-musl.tsv", "alpine-arches.tsv"):
        assert (Path(data.DATA_DIR) / name).read_bytes() == (SHARED / name).read_bytes()
    for f in (SHARED / "musl-abi").glob("*.txt"):
        assert (Path(musl_data.DATA_DIR) / "musl-abi" / f.name).read_bytes() == f.read_bytes()


def test_every_release_and_arch_is_covered(cells: dict[tuple[str, str, str], matrix.Cell]) -> None:
    releases = [line.split("\t")[0] for line in (SHARED / "alpine-musl.tsv").read_text().splitlines()[3:]]
    arches = [line.split("\t")[2] for line in (SHARED / "alpine-arches.tsv").read_text().splitlines()[2:]]
    assert len(releases) == 25 and len(arches) == 9
    assert len(cells) == 25 * 25 * 9
    assert {(a, b, r) for a in arches for b in releases for r in releases} == set(cells)


def test_musllinux_1_2_accepts_a_1_2_5_build_on_1_2_3(cells: dict[tuple[str, str, str], matrix.Cell]) -> None:
    c = cells[("x86_64", "3.20", "3.16")]
    assert c.musllinux_accepts and not c.alpine_accepts and not c.safe
    assert c.breakage == "new-symbols"
    assert {"preadv2", "pwritev2", "statx"} <= set(c.lacking)


def test_1_2_4_on_1_2_3_is_unsafe_by_rule_but_lacks_no_name(
    cells: dict[tuple[str, str, str], matrix.Cell],
) -> None:
    c = cells[("x86_64", "3.18", "3.17")]
    assert c.musllinux_accepts and not c.safe
    assert c.breakage == "none"  # 1.2.4 only removed names (LFS64), it added none


def test_time64_boundary_on_32_bit_arches(cells: dict[tuple[str, str, str], matrix.Cell]) -> None:
    # Measured (tests/test_experiments_time64.py): musl-only code survives 3.13, so the pair is safe for
    # musl; the alpine scheme still rejects it (the floor is kept for libraries with time_t in their API).
    c = cells[("armv7l", "3.12", "3.13")]
    assert c.time64 and c.safe and c.musllinux_accepts and not c.alpine_accepts and not c.breaks_by_symbols
    same = cells[("x86_64", "3.12", "3.13")]
    assert not same.time64 and same.alpine_accepts and same.safe


def test_hidden_internal_names_and_needless_rejects(cells: dict[tuple[str, str, str], matrix.Cell]) -> None:
    hidden = cells[("x86_64", "3.9", "3.10")]
    assert hidden.safe and hidden.breakage == "hidden-internal"
    assert all(n.startswith("__") or n == "dummy_lock" for n in hidden.lacking)
    same_musl = cells[("x86_64", "3.14", "3.13")]  # both musl 1.2.2
    assert not same_musl.alpine_accepts and same_musl.musllinux_accepts and same_musl.safe
    assert same_musl.breakage == "none"


def test_identities_hold(cells: dict[tuple[str, str, str], matrix.Cell]) -> None:
    """Not findings: the alpine scheme accepts B on R only when B <= R, and Alpine's musl never goes down,
    so it never accepts a newer musl nor a musl-symbol break. Checked here so the report may label them."""
    for c in cells.values():
        if c.alpine_accepts:
            assert data.version_tuple(c.built_on) <= data.version_tuple(c.installed_on)
            assert c.safe and not c.breaks_by_symbols


def test_counts_show_the_difference() -> None:
    cells = matrix.build_matrix(arches=["x86_64", "armv7l"])
    supported = ["3.21", "3.22", "3.23", "3.24"]
    for arch in ("x86_64", "armv7l"):
        alpine = matrix.count(cells, "alpine", arch, supported)
        musl = matrix.count(cells, "musllinux", arch, supported)
        assert musl.symbol_break_accepts == 70 and musl.unsafe_accepts == 132  # the same on both arches
        assert musl.needless_rejects == 0 and alpine.needless_rejects > 0
        assert alpine.builds_needed == 1 and alpine.builds == ("3.21",)
    # the time64 floor: the alpine scheme rejects pre-3.13 builds on 3.13+ on 32-bit arches, so it needs two
    # builds across 3.13 there; musl alone would not need them (musllinux: one)
    span = [r.version for r in data.alpine_releases() if (3, 10) <= data.version_tuple(r.version) <= (3, 16)]
    assert matrix.count(cells, "alpine", "armv7l", span).builds_needed == 2
    assert matrix.count(cells, "alpine", "x86_64", span).builds_needed == 1
    assert matrix.count(cells, "musllinux", "armv7l", span).builds_needed == 1


def _matrix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "alpinetags", "experiment", "matrix", "--only-arch", "x86_64", *args]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env)


def test_cli_matrix_writes_report_and_picture(tmp_path: Path) -> None:
    proc = _matrix("--out", str(tmp_path / "a"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "a" / "matrix.md").read_text()
    assert "3.20 (1.2.5) -> 3.16 (1.2.3): preadv2, pwritev2, statx" in report
    assert "## What holds by construction (identities, not findings)" in report
    assert (
        "| libffi | 3.10-3.11: `libffi.so.6`; 3.12-3.14: `libffi.so.7`; 3.15-3.24: `libffi.so.8` |" in report
    )
    svg = ET.parse(tmp_path / "a" / "matrix-heatmap.svg").getroot()
    rects = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) >= 2 * 25 * 25
    # a second run elsewhere writes the same report: no path or option in its header
    assert _matrix("--out", str(tmp_path / "b"), cwd=tmp_path).returncode == 0
    assert (tmp_path / "b" / "matrix.md").read_text() == report


def test_cli_matrix_writes_nothing_without_out(tmp_path: Path) -> None:
    proc = _matrix(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []
    assert "# Build/install matrix" in proc.stdout and "nothing written" in proc.stdout


def test_library_matrix_against_the_table_read_by_hand() -> None:
    """Cells checked against sonames.tsv rows read by hand (and its README's change list)."""
    cells = {(c.library, c.built_on, c.installed_on): c for c in libmatrix.build()}
    ssl = cells[("openssl", "3.16", "3.17")]
    assert ssl.alpine_accepts and ssl.needs == ("libssl.so.1.1", "libcrypto.so.1.1")
    assert ssl.loads and ssl.missing_main == ssl.needs  # only community's openssl1.1-compat carries 1.1
    assert not cells[("openssl", "3.16", "3.19")].loads  # compat gone (moved to testing)
    assert cells[("openssl", "3.17", "3.24")].loads
    assert cells[("libffi", "3.11", "3.12")].missing == ("libffi.so.6",)
    assert cells[("libffi", "3.14", "3.15")].missing == ("libffi.so.7",)
    assert cells[("libsodium", "3.18", "3.19")].missing == ("libsodium.so.23",)
    assert cells[("mpdecimal", "3.19", "3.20")].missing == ("libmpdec.so.3",)
    assert cells[("zlib", "3.10", "3.24")].loads and cells[("libxml2", "3.10", "3.24")].loads
    assert not cells[("zlib", "3.20", "3.19")].alpine_accepts  # B > R: the scheme's definition
    summary = {s.library: s for s in libmatrix.summarize(cells.values())}
    assert summary["libffi"].breaks == (("3.10", "3.11", "3.12"), ("3.12", "3.14", "3.15"))
    assert summary["tiff"].breaks == (("3.10", "3.17", "3.18"),)
    assert summary["gdbm"].breaks == (("3.10", "3.12", "3.13"),)
    assert summary["openssl"].breaks == (("3.10", "3.16", "3.19"),)
    assert summary["zstd"].breaks == () and summary["zstd"].accepted_broken == 0
    assert "musl" not in summary and "python3" not in summary and "openssl3" not in summary


def _tag(platform: str) -> str:
    interp = f"{interpreter_name()}{interpreter_version()}"
    return f"{interp}-{interp}-{platform}"


def test_compare_picks_a_wheel_per_scheme(tmp_path: Path) -> None:
    names = [
        f"demo-1.0-{_tag('alpine_3_18_x86_64')}.whl",
        f"demo-1.0-{_tag('alpine_3_20_x86_64')}.whl",  # newer than the target: refused
        f"demo-1.0-{_tag('musllinux_1_2_x86_64')}.whl",
        "demo-0.9-py3-none-any.whl",
        f"other-2.0-{_tag('musllinux_1_1_x86_64')}.whl",
    ]
    for n in names:
        (tmp_path / n).write_bytes(b"")  # only the names are read
    argv = [sys.executable, "-m", "alpinetags", "compare", "--json", "--wheels", str(tmp_path)]
    proc = subprocess.run(
        [*argv, "--target", "alpine:3.19,musl:1.2.4,x86_64"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)["schemes"]
    assert out["alpine"]["platforms"][0] == "alpine_3_19_x86_64"
    assert out["musllinux"]["platforms"] == [
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
    ]
    picks = {s: {c["project"]: c["wheel"] for c in out[s]["choices"]} for s in ("alpine", "musllinux")}
    assert picks["alpine"] == {"demo": names[0], "other": None}
    assert picks["musllinux"] == {"demo": names[2], "other": names[4]}


def test_compare_without_a_distro_has_no_alpine_platform_tags(tmp_path: Path) -> None:
    names = [f"demo-1.0-{_tag('manylinux2014_x86_64')}.whl", "pure-1.0-py3-none-any.whl"]
    for n in names:
        (tmp_path / n).write_bytes(b"")
    argv = [sys.executable, "-m", "alpinetags", "compare", "--json", "--wheels", str(tmp_path)]
    proc = subprocess.run([*argv, "--target", "musl:1.2.3,x86_64"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    alpine = out["schemes"]["alpine"]
    assert alpine["platforms"] == []
    # it says so, and how to state a system outright
    assert "alpinetags: warning: no alpine platforms for this system" in proc.stderr
    assert "alpinetags compare --target alpine:" in proc.stderr
    assert len(out["notes"]) == 1 and "--target" in out["notes"][0]
    assert {c["project"]: c["wheel"] for c in alpine["choices"]} == {"demo": None, "pure": names[1]}


def test_compare_probes_a_root_on_disk(tmp_path: Path) -> None:
    loader = Path("/usr/lib/x86_64-linux-musl/libc.so")
    if not loader.is_file():
        pytest.fail(f"{loader} missing: apt-get install musl (bash scripts/test does)", pytrace=False)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.16.9\n')
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "ld-musl-x86_64.so.1").write_bytes(loader.read_bytes())  # Debian's musl 1.2.3
    argv = [sys.executable, "-m", "alpinetags", "compare", "--json", "--arch", "x86_64"]
    proc = subprocess.run([*argv, "--root", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["platform"]["libc_version"] == "1.2.3"
    assert out["schemes"]["alpine"]["platforms"][:2] == ["alpine_3_16_x86_64", "alpine_3_15_x86_64"]
    assert out["schemes"]["musllinux"]["platforms"][0] == "musllinux_1_2_x86_64"


#: The committed matrix results, remade here byte for byte (``bash experiments/run.sh`` writes them; the
#: optional PNG is not committed). About 3 s.
MATRIX_PINNED = {
    "matrix.md": "50b7a39846ea6e6212031e63962f2a86a01108f30ee92e45cd8db089eaf553e0",
    "matrix.txt": "db5807caa9464ece7e27accf5bf185be5f3fba18887195a326afbe7c1350c02e",
    "matrix-heatmap.svg": "00ba55ebb9497af8a39bd73edfe56a7c6aeb1adf4c3d6461616aeab0d2adf86e",
}


def test_committed_matrix_results_are_remade_byte_for_byte(tmp_path: Path) -> None:
    import hashlib

    proc = subprocess.run(
        [sys.executable, "-m", "alpinetags", "experiment", "matrix", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert proc.returncode == 0, proc.stderr
    # matrix.txt is run.sh's copy of stdout, which names the --out directory run.sh gives
    (tmp_path / "matrix.txt").write_text(proc.stdout.replace(str(tmp_path), "experiments/results"))
    results = Path(__file__).resolve().parent.parent / "experiments" / "results"
    for name, digest in MATRIX_PINNED.items():
        made = (tmp_path / name).read_bytes()
        assert hashlib.sha256(made).hexdigest() == digest, f"{name} changed: rerun bash experiments/run.sh"
        assert (results / name).read_bytes() == made, f"experiments/results/{name} is not what the run makes"

"""The native check's predictions against real loads: a sample of the Alpine-built ELF files of the real
x86_64 minirootfs (the programs and libraries that change across releases) and the Alpine CPython's
extension modules, loaded for real in every real x86_64 root.

The expected answers are real loads (``tests/parts_dlprobe.py``: dlopen with constructors run, a program
started, or an import, in a chroot), never the check's; ``ld-musl --list`` is run beside them to show
where it was blind. The whole matrix (every file) is ``python -m experiments.realload``, whose committed
results are checked below; the facts named here are the ones issues 12 and 17 report, seen again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import realload

pytestmark = pytest.mark.realparts
RESULTS = Path(__file__).resolve().parent.parent / "experiments" / "results" / "real-loads.json"


#: The sample: files whose name starts so (every release has some of them; OpenSSL's and apk's sonames
#: change, busybox and scanelf are the programs built with DT_RELR from 3.18 on).
SAMPLE = ("busybox", "apk", "libapk", "scanelf", "ssl_client", "libssl", "libcrypto", "libz", "padlock")


def sample(subjects: list[realload.Subject]) -> list[realload.Subject]:
    return [s for s in subjects if s.file.rsplit("/", 1)[-1].startswith(SAMPLE)]


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[realload.Load]:
    modules = {"zlib", "_ssl", "_hashlib", "_ctypes", "pyexpat", "_sqlite3", "_elementtree", "binascii"}
    krunner = [s for s in realload.krunner_subjects() if s.module is None or s.module in modules]
    subjects = sample(realload.alpine_subjects()) + krunner
    run_on = [m.minor for m in realload.roots()]
    return realload.run(subjects, run_on, tmp_path_factory.mktemp("realload"), with_list=True)


def _row(rows: list[realload.Load], built_on: str, file: str, run_on: str) -> realload.Load:
    found = [r for r in rows if (r.built_on, r.file, r.run_on) == (built_on, file, run_on)]
    assert len(found) == 1, (built_on, file, run_on)
    return found[0]


def test_every_file_on_every_root(rows: list[realload.Load]) -> None:
    roots = [m.minor for m in realload.roots()]
    assert roots[0] == "3.6" and roots[-1] == "edge" and len(roots) == 16
    files = {(r.built_on, r.file) for r in rows if r.built_on != realload.KRUNNER_BUILT_ON}
    assert len({b for b, _ in files}) == 16
    for built_on, file in files:
        assert {r.run_on for r in rows if (r.built_on, r.file) == (built_on, file)} == set(roots)
    assert {f for _, f in files} >= {"bin/busybox", "sbin/apk", "usr/bin/ssl_client", "lib/libz.so.1.2.11"}
    assert all(r.listed in ("loads", "fails") for r in rows if r.built_on != realload.KRUNNER_BUILT_ON)


def test_zero_mispredictions_and_every_failure_explained(rows: list[realload.Load]) -> None:
    wrong = [r for r in rows if r.predicted != r.actual]
    assert not wrong, wrong[:5]
    fails = [r for r in rows if r.actual == "fails"]
    assert len(fails) > 500
    unexplained = [r for r in fails if not realload.explained(r)]
    assert not unexplained, unexplained[:5]


def test_list_was_blind_only_to_the_relr_crashes(rows: list[realload.Load]) -> None:
    """Where ``--list`` and the real load disagree, the file was built on 3.18 or later (DT_RELR), run on
    a root whose musl ignores DT_RELR (3.14 and older), and died with SIGSEGV; the check says so."""
    blind = [r for r in rows if r.listed is not None and r.listed != r.actual]
    assert blind
    for r in blind:
        assert (r.listed, r.actual, r.reason) == ("loads", "fails", "killed by signal 11 (SIGSEGV)"), r
        assert realload._release_key(r.built_on) >= (3, 18) and realload._release_key(r.run_on) <= (3, 14), r
        assert r.predicted == "fails" and "relr" in r.predicted_reason
    assert {"bin/busybox", "usr/bin/scanelf"} <= {r.file for r in blind}
    on_315 = [r for r in rows if r.file == "bin/busybox" and r.built_on == "3.18" and r.run_on == "3.15"]
    assert on_315 and on_315[0].actual == "loads"  # musl 1.2.2-r9 carries DT_RELR support


def test_the_cases_of_issue_12(rows: list[realload.Load]) -> None:
    apk = _row(rows, "3.16", "sbin/apk", "3.17")  # 3.17 made OpenSSL 3 the default
    assert apk.actual == "fails" and "libcrypto.so.1.1 not found" in apk.reason
    assert _row(rows, "3.16", "sbin/apk", "3.16").actual == "loads"
    ssl = "lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-musl.so"
    on_316 = _row(rows, realload.KRUNNER_BUILT_ON, ssl, "3.16")
    assert on_316.actual == "fails" and on_316.reason == "libssl.so.3 not found"
    assert _row(rows, realload.KRUNNER_BUILT_ON, ssl, "3.17").actual == "loads"
    assert _row(rows, realload.KRUNNER_BUILT_ON, ssl, "edge").actual == "loads"


def test_modules_are_imported_only_where_the_interpreter_starts(rows: list[realload.Load]) -> None:
    py = {r.run_on: r for r in rows if r.file == "bin/python3.11"}
    no_start = {run_on for run_on, r in py.items() if r.actual == "fails"}
    assert "3.6" in no_start and "3.20" not in no_start
    assert all(py[r].reason.startswith("symbols not found: ") for r in no_start)  # musl lacks them
    zlib = [r for r in rows if r.file.endswith("/zlib.cpython-311-x86_64-linux-musl.so")]
    assert {r.run_on for r in zlib} == set(py) - no_start
    assert all(r.actual == "loads" for r in zlib)


def test_committed_results_say_the_same() -> None:
    committed = json.loads(RESULTS.read_text())
    assert len(committed) > 4000
    assert set(committed[0]) >= {
        "file",
        "built_on",
        "run_on",
        "arch",
        "predicted",
        "actual",
        "reason",
        "listed",
    }
    assert {r["actual"] for r in committed} == {"loads", "fails"}
    assert all(r["predicted"] == r["actual"] for r in committed)
    assert all(r["explained"] for r in committed if r["actual"] == "fails")
    crashes = [r for r in committed if r["reason"].startswith("killed by signal")]
    assert len(crashes) > 100 and all(r["listed"] == "loads" for r in crashes)


def test_other_arches_differ_only_where_the_arch_does(
    rows: list[realload.Load], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """aarch64 (under qemu) and x86 (natively): no misprediction either, and the same outcome as x86_64
    for the same file, release and root, except OpenSSL's padlock engine (VIA x86 code: on aarch64 a
    stub that links only libc) and, on x86, 3.13 builds on 3.12 (the new __*_time64 names)."""
    both = list(rows)
    for arch in ("aarch64", "x86"):
        subjects = sample(realload.alpine_subjects(arch=arch))
        if arch == "aarch64":
            subjects += realload.krunner_subjects(["zlib", "_ssl", "_ctypes"], arch=arch)
        run_on = [m.minor for m in realload.roots(arch)]
        mine = realload.run(subjects, run_on, tmp_path_factory.mktemp(f"realload-{arch}"), arch=arch)
        assert mine and all(r.predicted == r.actual for r in mine), [
            r for r in mine if r.predicted != r.actual
        ]
        both += mine
    _, aarch64 = realload.arch_differences(both, "aarch64")
    # and Alpine's aarch64 builds of 3.20 do not use DT_RELR, its x86_64 builds do (they crash on 3.12)
    x86_64 = {(r.built_on, r.file, r.run_on): r for r in rows}
    assert aarch64 and all(r.actual == "loads" for r in aarch64)
    assert all(
        r.file.endswith("/padlock.so") or "SIGSEGV" in x86_64[(r.built_on, r.file, r.run_on)].reason
        for r in aarch64
    )
    _, x86 = realload.arch_differences(both, "x86")
    assert x86 and all((r.built_on, r.run_on, r.actual) == ("3.13", "3.12", "fails") for r in x86)
    assert all("_time64" in r.reason or "time64" in r.reason for r in x86)

"""time64 across Alpine 3.13, measured on the real x86 roots (i386 runs natively here, in a chroot).

What a 3.12 program sees on 3.13 is compared with what the same program sees on 3.12: musl keeps the
32-bit time symbols, so a program that only talks to musl behaves the same; a library with ``time_t`` in
its API, rebuilt 64-bit under the same soname, does not. The expected years are the calendar's, not
anything alpinetags computes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from experiments import time64

pytestmark = pytest.mark.realparts
RESULTS = Path(__file__).resolve().parent.parent / "experiments" / "results"
#: The committed results, remade here byte for byte (bash experiments/run.sh writes them).
PINNED = {
    "time64.json": "a5907c38fa5e12960d81edbfe447c271e756ced32e40d9d60ef5a82338f1f7b6",
    "time64-callers.json": "4f59a69e8c9d955b70c1d0ee9e431aca334df80eb7f30c188243efbe3e5cf300",
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[time64.Run]:
    return time64.measure(tmp_path_factory.mktemp("time64"))


@pytest.mark.parametrize("command", [" ".join(c) for c in time64.COMMANDS])
def test_old_busybox_behaves_on_3_13_as_on_3_12(runs: list[time64.Run], command: str) -> None:
    old = time64.by(runs, "busybox (3.12)", "3.12", command)
    new = time64.by(runs, "busybox (3.12)", "3.13", command)
    assert old.returncode == new.returncode == 0
    assert new.output == old.output


def test_dates_before_2038_are_right_and_after_2038_wrap_on_both(runs: list[time64.Run]) -> None:
    for run_on in ("3.12", "3.13"):
        assert (
            "2030-01-02 03:04:05"
            in time64.by(runs, "busybox (3.12)", run_on, "stat -c %y %n /tmp/t2030").output
        )
        # 32-bit time_t cannot hold 2040: the old program wraps to 1903 on its own release too
        assert time64.by(runs, "busybox (3.12)", run_on, "stat -c %y %n /tmp/t2040").output.startswith(
            "1903-"
        )
    assert (
        "2040-01-02 03:04:05" in time64.by(runs, "busybox (3.13)", "3.13", "stat -c %y %n /tmp/t2040").output
    )


# The year of 1700000000 + next * 2**32 seconds after the epoch, by the calendar (not by the code under test):
# next=0 -> 1700000000 (2023-11-14); 1 -> 5994967296 (2159-12-21); -1 -> -2594967296 (1887-10-07);
# 7 -> 31764771072 (2976-07-31).
CALENDAR = {1: 2159, 0: 2023, -1: 1887, 7: 2976}


@pytest.mark.parametrize("next_word", time64.NEXT_SWEEP)
def test_a_library_with_time_t_in_its_api_reads_the_next_word_across_3_13(
    runs: list[time64.Run], next_word: int
) -> None:
    program = time64.caller_name(next_word)
    on_old, on_new = time64.by(runs, program, "3.12"), time64.by(runs, program, "3.13")
    assert on_old.returncode == on_new.returncode == 0
    # 1700000000 is in 2023: musl answers right on both releases, whatever follows the time_t
    assert "musl gmtime_r: 2023" in on_old.output and "musl gmtime_r: 2023" in on_new.output
    # OpenSSL 1.1 on 3.12 agrees; on 3.13 (same soname, rebuilt with 64-bit time_t) it reads 8 bytes where
    # the caller stored 4, so the int after it is the high half: the year is the harness's choice
    assert "libcrypto OPENSSL_gmtime: 2023" in on_old.output
    assert f"libcrypto OPENSSL_gmtime: {CALENDAR[next_word]}" in on_new.output


def test_the_committed_results_are_remade_byte_for_byte(runs: list[time64.Run]) -> None:
    made = {"time64.json": time64.runs_json(runs), "time64-callers.json": time64.callers_json()}
    for name, text in made.items():
        assert _sha256(text) == PINNED[name], f"{name} changed: rerun python -m experiments.time64"
        assert (RESULTS / name).read_text() == text, f"experiments/results/{name} is not what the run makes"


def test_no_real_3_12_program_calls_a_time_t_function_of_a_library() -> None:
    """Looked for a real 3.12 binary that the break reaches: the minirootfs has none (apk, ssl_client,
    libtls-standalone and OpenSSL's own engines import no function of ``TIME_T_API``), so the measured
    break needs the harness's caller; a wheel or package that calls such a function would be exposed."""
    callers = json.loads((RESULTS / "time64-callers.json").read_text())
    assert {"sbin/apk", "usr/bin/ssl_client", "usr/lib/libtls-standalone.so.1.0.0"} <= set(callers)
    assert all(found == [] for found in callers.values())


def test_the_caller_needs_what_a_3_12_program_needs(tmp_path: Path) -> None:
    from alpinetags._elf.elfdynamic import read_dynamic_symbols

    syms = read_dynamic_symbols(str(time64.build_caller(tmp_path)))
    # the scan that looks for real callers sees this one
    assert syms.required & time64.TIME_T_API == {"OPENSSL_gmtime"}
    assert set(syms.needed) == {"libc.musl-x86.so.1", "libcrypto.so.1.1"}
    assert {"gmtime_r", "OPENSSL_gmtime"} <= set(syms.required)
    assert not any(n.startswith("__") and "time64" in n for n in syms.required)


def test_no_soname_or_symbol_shows_the_break(tmp_path: Path) -> None:
    """Why the floor stays: the native check reads the 3.13 root and rightly finds every soname and
    symbol the 3.12 caller needs, so only the tag can keep such a wheel off 3.13."""
    from alpinetags._load import native
    from tests import realparts

    caller = str(time64.build_caller(tmp_path))
    for minor in ("3.12", "3.13"):
        report = native.check_paths([caller], root=str(realparts.alpine_minirootfs(minor, "x86")))
        assert report.ok and [o.arch for o in report.objects] == ["i686"]
        assert dict(report.objects[0].resolved)["libcrypto.so.1.1"] == "/lib/libcrypto.so.1.1"

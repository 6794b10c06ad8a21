"""Python modules built on Alpine 3.8, 3.11 and 3.17, imported for real on every later real x86_64 root.

The expected outcomes come from the releases' own facts (the soname table's README: LibreSSL until 3.8,
OpenSSL 1.1 as the default until 3.16, OpenSSL 3 from 3.17; zlib's ``libz.so.1`` throughout) and from the
real imports, never from the check. About 20 s (30 chroots, one interpreter start each).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from experiments import eras

pytestmark = pytest.mark.realparts
RESULTS = Path(__file__).resolve().parent.parent / "experiments" / "results"
#: The committed results, remade here byte for byte (bash experiments/run.sh writes them).
PINNED = {
    "eras.json": "20fd247d87a90d71dc3e196a71b77511d9439c3a0d6f4c05c8035f24d01fafb7",
    "eras.md": "7dbdb909e7f6e4caa98fd55bbc63a4bcbb880d282b822ce271c7fcab081a7066",
}


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[eras.Import]:
    return eras.run(tmp_path_factory.mktemp("eras"))


def _where(rows: list[eras.Import], built_on: str, module: str, actual: str) -> list[str]:
    return [r.run_on for r in rows if (r.built_on, r.module, r.actual) == (built_on, module, actual)]


def test_every_era_on_its_release_and_every_later_root(rows: list[eras.Import]) -> None:
    for era in eras.ERAS:
        mine = [r for r in rows if r.built_on == era.built_on]
        assert {r.run_on for r in mine} == set(eras.later_roots(era.built_on))
        assert "edge" in {r.run_on for r in mine}
        assert all(r.actual in ("loads", "fails") for r in mine)  # every interpreter started


def test_the_ssl_module_follows_the_openssl_soname(rows: list[eras.Import]) -> None:
    # built on 3.8 against LibreSSL (libssl.so.45): only 3.8 has it
    assert _where(rows, "3.8", "_ssl", "loads") == ["3.8"]
    # built on 3.11 against OpenSSL 1.1: loads until 3.16, gone from the minimal image at 3.17
    assert _where(rows, "3.11", "_ssl", "loads") == ["3.11", "3.12", "3.13", "3.14", "3.15", "3.16"]
    fails = [r for r in rows if (r.built_on, r.module, r.actual) == ("3.11", "_ssl", "fails")]
    assert {r.reason for r in fails} == {"libssl.so.1.1 not found"}  # dlopen stops at the first
    # built on 3.17 against OpenSSL 3: loads on every later root
    assert _where(rows, "3.17", "_ssl", "fails") == []


def test_zlib_loads_on_every_later_root(rows: list[eras.Import]) -> None:
    for era in eras.ERAS:
        assert _where(rows, era.built_on, "zlib", "loads") == eras.later_roots(era.built_on)


def test_with_the_library_path_stated_the_check_agrees_with_every_import(rows: list[eras.Import]) -> None:
    """The two older CPythons find libpython only through LD_LIBRARY_PATH: the check, told it, finds it
    there too (it refused all 1,427 imports of theirs that load when it did not read the library path)."""
    assert not [r for r in rows if r.predicted == "loads" and r.actual == "fails"]
    assert not [r for r in rows if r.predicted != r.actual]
    assert [r for r in rows if r.built_on != "3.17" and r.actual == "loads"]


def test_every_failure_names_a_missing_library(rows: list[eras.Import]) -> None:
    fails = [r for r in rows if r.actual == "fails"]
    assert fails and all(r.reason.endswith("not found") and "symbols" not in r.reason for r in fails)


def test_the_committed_results_are_remade_byte_for_byte(rows: list[eras.Import]) -> None:
    made = {"eras.json": eras.rows_json(rows), "eras.md": eras.markdown(rows)}
    for name, text in made.items():
        assert hashlib.sha256(text.encode()).hexdigest() == PINNED[name], (
            f"{name} changed: rerun experiments.eras"
        )
        assert (RESULTS / name).read_text() == text, f"experiments/results/{name} is not what the run makes"

"""A library pip meets again in one run is read once, and only when its bytes are the same.

``alpinetags._pip.twins``: of the wheels pip installs in one process, a member whose data in the zip is
byte for byte that of a library read before takes that library's symbols and is left to pip to
decompress. These tests run the install-step check (``check.inspect_wheel``) in this process on:

- a real shared library compiled with musl-gcc against the real Alpine 3.20 root's ``libz.so.1``, stored
  in several wheels under several names;
- the same library with its ``DT_NEEDED`` ``libz.so.1`` rewritten to ``libq.so.1`` (no root has it) and
  four bytes of its ``.comment`` chosen so that its CRC-32 is the first one's: same method, CRC and sizes
  in the central directory, other bytes. Taken for a twin it would pass as "loads";
- the real numpy musllinux wheel (bundled libgfortran, libstdc++, libgcc_s, libquadmath) copied under
  another name;

and through a real pip 26.3 with the hook, where the twin is installed from its own wheel.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from alpinetags._pip import check, twins
from alpinetags._pip.twins import Twins
from tests import parts_pip, realparts
from tests.test_pip import pip, warnings_of, write_wheel
from tests.venvs import NEWEST_PIP, hooked_venv

pytestmark = pytest.mark.realparts

LIB = "libtwin.so.1"
TAG = "cp311-cp311-musllinux_1_2_x86_64"


def crc32_forged(data: bytes, at: int, target: int) -> bytes:
    """``data`` with the four bytes at ``at`` changed so that its CRC-32 is ``target``. CRC-32 is affine
    in the data: flipping a bit XORs a fixed value into it, so the 32 bits of the window are solved for
    over GF(2)."""
    base = zipfile.crc32(data)
    effects = []
    for bit in range(32):
        flipped = bytearray(data)
        flipped[at + bit // 8] ^= 1 << (bit % 8)
        effects.append((zipfile.crc32(bytes(flipped)) ^ base, 1 << bit))
    want, rows = base ^ target, []  # reduced rows: (effect, bits of the window that make it)
    for effect, bits in effects:
        for row_effect, row_bits in rows:
            if effect ^ row_effect < effect:
                effect, bits = effect ^ row_effect, bits ^ row_bits
        if effect:
            rows.append((effect, bits))
    rows.sort(reverse=True)
    chosen = 0
    for row_effect, row_bits in rows:
        if want ^ row_effect < want:
            want, chosen = want ^ row_effect, chosen ^ row_bits
    assert want == 0, "the window cannot reach every CRC"
    out = bytearray(data)
    for bit in range(32):
        if chosen >> bit & 1:
            out[at + bit // 8] ^= 1 << (bit % 8)
    assert zipfile.crc32(bytes(out)) == target
    return bytes(out)


@pytest.fixture(scope="module")
def libs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The real library, its forged look-alike, and the Alpine 3.20 root both are checked against."""
    root = realparts.alpine_minirootfs("3.20")
    base = tmp_path_factory.mktemp("twins")
    out = parts_pip.build_zlib_library(base, root, LIB)
    real = out.read_bytes()
    assert real.count(b"\x00libz.so.1\x00") == 1
    renamed = real.replace(b"\x00libz.so.1\x00", b"\x00libq.so.1\x00")
    comment = renamed.index(b"GCC: (")
    forged = crc32_forged(renamed, comment + 6, zipfile.crc32(real))
    return {"root": root, "real": real, "forged": forged, "base": base}


def stored_wheel(dest: Path, name: str, member: str, data: bytes) -> Path:
    """A wheel of project ``name`` holding ``data`` at ``member``, stored: its sizes are the data's."""
    dest.mkdir(parents=True, exist_ok=True)
    return write_wheel(dest, name, "1.0", TAG, {member: data}, compression=zipfile.ZIP_STORED)


def inspect(wheel: Path, root: Path) -> check.Inspection:
    return check.inspect_wheel(wheel.name.split("-")[0], str(wheel), {"ALPINETAGS_ROOT": str(root)})


@pytest.fixture(autouse=True)
def fresh_twins() -> None:
    """Each test starts from a process that has read no library yet."""
    twins.this_process = Twins()


def info_of(wheel: Path, member: str) -> zipfile.ZipInfo:
    with zipfile.ZipFile(wheel) as zf:
        return zf.getinfo(member)


def test_the_real_library_loads_and_the_forged_one_does_not(libs: dict, tmp_path: Path) -> None:
    """Each judged on its own, as a first read: the premise of the two tests after."""
    good = stored_wheel(tmp_path, "good", f"good/{LIB}", libs["real"])
    bad = stored_wheel(tmp_path, "bad", f"bad.libs/{LIB}", libs["forged"])
    assert inspect(good, libs["root"]).refusal is None
    twins.this_process = Twins()
    refusal = inspect(bad, libs["root"]).refusal
    assert refusal is not None and "libq.so.1" in refusal.message()


def test_a_library_met_again_is_read_once_with_the_same_answer(libs: dict, tmp_path: Path) -> None:
    first = stored_wheel(tmp_path / "a", "first", f"first/{LIB}", libs["real"])
    again = stored_wheel(tmp_path / "b", "again", f"again.libs/{LIB}", libs["real"])
    assert inspect(first, libs["root"]).kept.keys() == {f"first/{LIB}"}  # read, kept for pip
    met_again = inspect(again, libs["root"])
    assert met_again.refusal is None
    assert met_again.kept == {}  # not inflated by the check: pip decompresses it
    twins.this_process = Twins()
    fresh = inspect(again, libs["root"])
    assert fresh.refusal is None and fresh.kept.keys() == {f"again.libs/{LIB}"}


def test_same_crc_and_sizes_with_other_bytes_is_not_a_twin(libs: dict, tmp_path: Path) -> None:
    """The forged library has the real one's method, CRC and sizes: only its bytes tell it apart."""
    first = stored_wheel(tmp_path / "a", "first", f"first/{LIB}", libs["real"])
    bad = stored_wheel(tmp_path / "b", "bad", f"bad.libs/{LIB}", libs["forged"])
    a, b = info_of(first, f"first/{LIB}"), info_of(bad, f"bad.libs/{LIB}")
    key = lambda i: (i.compress_type, i.flag_bits, i.CRC, i.compress_size, i.file_size)  # noqa: E731
    assert key(a) == key(b)
    assert inspect(first, libs["root"]).refusal is None
    refusal = inspect(bad, libs["root"]).refusal
    assert refusal is not None, "the forged library passed as the real one read before"
    assert "libq.so.1" in refusal.message()


def test_a_first_wheel_written_again_is_not_compared_against(libs: dict, tmp_path: Path) -> None:
    """Once the first wheel's file is not the one read, its member is read afresh, not trusted."""
    first = stored_wheel(tmp_path / "a", "first", f"first/{LIB}", libs["real"])
    again = stored_wheel(tmp_path / "b", "again", f"again.libs/{LIB}", libs["real"])
    inspect(first, libs["root"])
    data = first.read_bytes()
    first.unlink()
    first.write_bytes(data)  # the same bytes in a new file: another inode and change time
    met_again = inspect(again, libs["root"])
    assert met_again.refusal is None and met_again.kept.keys() == {f"again.libs/{LIB}"}


def test_a_member_of_an_unchanged_wheel_gone_missing_is_read_afresh(libs: dict, tmp_path: Path) -> None:
    first = stored_wheel(tmp_path / "a", "first", f"first/{LIB}", libs["real"])
    again = stored_wheel(tmp_path / "b", "again", f"again.libs/{LIB}", libs["real"])
    inspect(first, libs["root"])
    first.unlink()
    assert inspect(again, libs["root"]).kept.keys() == {f"again.libs/{LIB}"}


def test_only_libraries_are_remembered(libs: dict, tmp_path: Path) -> None:
    """An object without a soname (an extension module) is not kept in memory for a later wheel."""
    remembered = Twins()
    first = stored_wheel(tmp_path, "first", f"first/{LIB}", libs["real"])
    with zipfile.ZipFile(first) as zf:
        info = zf.getinfo(f"first/{LIB}")
        from alpinetags._elf.elfdynamic import read_dynamic_symbols

        symbols = read_dynamic_symbols(str(libs["base"] / LIB))
        assert symbols.soname == LIB
        remembered.remember(zf, str(first), info, symbols)
        assert remembered.find(zf, info) is symbols
        nameless = Twins()
        from dataclasses import replace

        nameless.remember(zf, str(first), info, replace(symbols, soname=""))
        assert nameless.find(zf, info) is None


def test_a_real_wheel_copied_gives_the_same_verdicts_unread(tmp_path: Path) -> None:
    """numpy's real wheel and a copy of it under another path: every bundled library of the copy is a
    twin; the verdict on 3.20 and on 3.8 (a refusal: musl 1.1.19) is the same as a fresh read's."""
    numpy = next(w for w in parts_pip.musllinux_wheels() if w.name.startswith("numpy-"))
    copy = tmp_path / "copy" / numpy.name
    copy.parent.mkdir()
    shutil.copyfile(numpy, copy)
    for minor in ("3.20", "3.8"):
        root = realparts.alpine_minirootfs(minor)
        twins.this_process = Twins()
        fresh = inspect(copy, root)
        twins.this_process = Twins()
        inspect(numpy, root)
        met_again = inspect(copy, root)
        assert (met_again.refusal is None) == (fresh.refusal is None) == (minor == "3.20")
        if fresh.refusal is None:  # passed: what was read is kept for pip, twins not
            libraries = {m for m in fresh.kept if ".libs/" in m}
            assert any("libstdc++" in m for m in libraries), fresh.kept.keys()
            assert met_again.kept.keys() == fresh.kept.keys() - libraries
        else:
            assert met_again.refusal is not None
            assert met_again.refusal.message() == fresh.refusal.message()
            assert "getrandom" in fresh.refusal.message() or "symbol" in fresh.refusal.message()


def test_pip_installs_the_twin_from_its_wheel_and_refuses_the_forged_one(libs: dict, tmp_path: Path) -> None:
    python = hooked_venv(NEWEST_PIP)
    house = tmp_path / "house"
    stored_wheel(house, "first", f"first/{LIB}", libs["real"])
    stored_wheel(house, "again", f"again.libs/{LIB}", libs["real"])
    root = str(libs["root"])
    target = tmp_path / "t"
    proc = pip(python, "install", "--no-deps", "--no-index", "--find-links", str(house), "--target",
               str(target), "first", "again", check=False, ALPINETAGS_ROOT=root)  # fmt: skip
    assert proc.returncode == 0 and not warnings_of(proc.stderr), proc
    assert (target / "first" / LIB).read_bytes() == libs["real"]
    assert (target / "again.libs" / LIB).read_bytes() == libs["real"]
    stored_wheel(house, "bad", f"bad.libs/{LIB}", libs["forged"])
    target = tmp_path / "t2"
    proc = pip(python, "install", "--no-deps", "--no-index", "--find-links", str(house), "--target",
               str(target), "first", "bad", check=False, ALPINETAGS_ROOT=root)  # fmt: skip
    assert proc.returncode == 1, proc
    assert "libq.so.1" in proc.stderr
    assert not (target / "bad.libs").exists()
    assert f"bad-1.0-{TAG}.whl" in proc.stderr

"""``zipguard.inflate`` and ``ChunkFile``: a wheel member read in pieces is read back, by seeks and reads
anywhere, exactly as the joined bytes would be (the ELF reader seeks near both ends; pip copies it
front to back), and a member shorter than it declares is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpinetags._elf import zipguard
from alpinetags._elf.elfdynamic import parse_dynamic_symbols
from alpinetags.errors import InputRefused
from tests import realparts

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("seek"), st.integers(-50, 5000), st.sampled_from([0, 1, 2])),
        st.tuples(st.just("read"), st.one_of(st.none(), st.integers(-1, 3000)), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000), st.integers(0, 4), st.sampled_from([1, 7, 64, 1000, 4096]), OPS)
def test_chunkfile_reads_as_the_joined_bytes(data: bytes, head_len: int, piece: int, ops: list) -> None:
    src = io.BytesIO(data)
    head = src.read(head_len)
    old, zipguard.CHUNK = zipguard.CHUNK, piece
    try:
        pieces = zipguard.inflate(src, head, len(data))
    finally:
        zipguard.CHUNK = old
    ours, theirs = zipguard.ChunkFile(pieces), io.BytesIO(data)
    for op, value, whence in ops:
        if op == "seek":
            if whence == 0 and value < 0:
                continue
            try:
                expected = theirs.seek(value, whence)
            except ValueError:
                with pytest.raises(ValueError):
                    ours.seek(value, whence)
                continue
            assert ours.seek(value, whence) == expected
        else:
            assert ours.read(value) == theirs.read(value)
        assert ours.tell() == theirs.tell()


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=4000),
    st.sampled_from([1, 7, 64, 1000, 4096]),
    st.lists(st.integers(1, 3000), max_size=40),
)
def test_piecefile_reads_short_but_in_order(data: bytes, piece: int, sizes: list[int]) -> None:
    """What pip copies from (``PieceFile``): each ``read(n)`` gives the next 1 to n bytes, never past a
    piece, and pip's copy (``shutil.copyfileobj``) or a ``read()`` gets the whole member."""
    import shutil

    old, zipguard.CHUNK = zipguard.CHUNK, piece
    try:
        pieces = zipguard.inflate(io.BytesIO(data), b"", len(data))
    finally:
        zipguard.CHUNK = old
    ours, at = zipguard.PieceFile(pieces), 0
    for size in sizes:
        got = ours.read(size)
        assert got == data[at : at + len(got)]
        assert (1 if at < len(data) else 0) <= len(got) <= min(size, piece)
        at += len(got)
        assert ours.tell() == at
    assert ours.read() == data[at:]
    for copy_size in (1, 1000, 1 << 20):
        out = io.BytesIO()
        shutil.copyfileobj(zipguard.PieceFile(pieces), out, copy_size)
        assert out.getvalue() == data


def test_a_member_shorter_than_declared_is_refused() -> None:
    with pytest.raises(InputRefused, match="not the 100 its entry declares"):
        zipguard.inflate(io.BytesIO(b"x" * 40), b"", 100)


def test_a_real_library_parses_the_same_from_pieces_as_from_bytes(tmp_path: Path) -> None:
    lib = realparts.alpine_minirootfs("3.19", "x86_64") / "lib" / "libcrypto.so.3"
    data = lib.read_bytes()
    wheel = tmp_path / "x.zip"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("libcrypto.so.3", data)
    with zipfile.ZipFile(wheel) as zf, zf.open("libcrypto.so.3") as raw:
        pieces = zipguard.inflate(raw, b"", len(data))
    assert len(pieces) > 1
    from_pieces = parse_dynamic_symbols(zipguard.ChunkFile(pieces), len(data))  # type: ignore[arg-type]
    assert from_pieces == parse_dynamic_symbols(io.BytesIO(data), len(data))
    assert len(from_pieces.exported) > 1000

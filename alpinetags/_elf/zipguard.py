"""Reading a wheel someone else wrote without letting it decide how much work that is.

A zip's central directory is a list of claims: names, offsets, sizes. A bomb lies in it: several entries
naming one stretch of data (a 1 MB wheel whose eight entries each inflate the same 1000 MiB), entries
that overlap, a stored entry whose sizes differ, a member declaring more than any real one, or many
members that are each small but together huge. ``check_archive`` refuses the structural lies before any
member is read; ``Inflation`` counts what the check then inflates from one wheel (ELF members, the tar
archives some wheels carry) against ``limits.MAX_MEMBER`` and ``limits.MAX_INFLATED``, refusing a member
on what it declares, before it is read. zipfile itself stops a member at its declared size (and fails on
its CRC when the data says otherwise), so declared sizes bound real work.

Large members are parsed from a temporary file, never held in memory, so a member at the cap costs
inflating and disk, not address space.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from bisect import bisect_right
from collections.abc import Callable
from typing import IO, Any, BinaryIO, Optional, TypeVar

from alpinetags import _limits as limits
from alpinetags._safefile import open_regular
from alpinetags.errors import InputRefused

T = TypeVar("T")
#: Members up to this size are parsed in memory; larger ones from a temporary file.
SPOOL_OVER = 64 * 1024 * 1024
#: What zipfile raises when a member's data does not inflate to what its entry says (zlib's own error
#: too; ``zipfile.zlib`` is ``None`` on a Python without zlib, and lzma is not imported at all: a minimal
#: Alpine Python has no liblzma).
DATA_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, EOFError) + (
    (zipfile.zlib.error,) if getattr(zipfile, "zlib", None) is not None else ()  # type: ignore[attr-defined]
)
#: A zip local file header is 30 bytes before its name, extra field and data.
_LOCAL_HEADER = 30


def check_archive(zf: zipfile.ZipFile, where: str) -> None:
    """Refuse (``InputRefused``) a zip whose central directory is a bomb's: more than ``MAX_MEMBERS``
    entries, a name twice, two entries whose data overlap (or lie past the central directory), a stored
    entry whose two sizes differ."""
    infos = zf.infolist()
    if len(infos) > limits.MAX_MEMBERS:
        raise limits.refused(where, len(infos), limits.MAX_MEMBERS, "members")
    names: set[str] = set()
    for info in infos:
        if info.filename in names:
            raise InputRefused(f"{where}: member {info.filename!r} appears twice in the central directory")
        names.add(info.filename)
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise InputRefused(
                f"{where}: member {info.filename!r} is stored, yet declares {info.compress_size} bytes "
                f"stored and {info.file_size} bytes inflated"
            )
    end_of_data = getattr(zf, "start_dir", None)
    previous = None
    for info in sorted(infos, key=lambda i: i.header_offset):
        # the local header's own name and extra field may differ from the central one: the lower bound
        # of where its data ends is enough to see entries sharing or overlapping data
        end = info.header_offset + _LOCAL_HEADER + info.compress_size
        if previous is not None and info.header_offset < previous[1]:
            raise InputRefused(
                f"{where}: members {previous[0]!r} and {info.filename!r} overlap (a zip bomb's layout)"
            )
        if isinstance(end_of_data, int) and end > end_of_data:
            raise InputRefused(f"{where}: member {info.filename!r} runs into the central directory")
        previous = (info.filename, end)


#: The end of central directory record: signature, its size, and where its entry count lies; the zip64
#: locator before it, and the zip64 record's entry count.
_EOCD, _EOCD_SIZE, _EOCD_MAX_COMMENT = b"PK\x05\x06", 22, 0xFFFF
_ZIP64_LOCATOR, _ZIP64_LOCATOR_SIZE, _ZIP64_EOCD = b"PK\x06\x07", 20, b"PK\x06\x06"


def declared_entries(path: str) -> int:
    """How many entries the zip at ``path`` says its central directory holds, read from its end records
    alone (at most 64 KiB), so that a zip of millions of entries is refused before zipfile builds an
    object for each. 0 when the records cannot be found (zipfile then says why)."""
    fd, _size = open_regular(path, None, InputRefused, "a wheel")  # a FIFO named .whl must not block
    with os.fdopen(fd, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        start = max(0, size - _EOCD_SIZE - _EOCD_MAX_COMMENT)
        f.seek(start)
        tail = f.read()
        at = tail.rfind(_EOCD)
        if at < 0 or at + _EOCD_SIZE > len(tail):
            return 0
        (count,) = struct.unpack_from("<H", tail, at + 10)
        loc = at - _ZIP64_LOCATOR_SIZE
        if count != 0xFFFF or loc < 0 or tail[loc : loc + 4] != _ZIP64_LOCATOR:
            return int(count)
        (record,) = struct.unpack_from("<Q", tail, loc + 8)
        f.seek(record)
        head = f.read(40)
        if len(head) < 40 or head[:4] != _ZIP64_EOCD:
            return int(count)
        return int(struct.unpack_from("<Q", head, 32)[0])


def open_archive(path: str) -> zipfile.ZipFile:
    """``zipfile.ZipFile(path)`` after ``check_archive`` (zipfile's own errors go to the caller); a zip
    declaring more than ``MAX_MEMBERS`` entries is refused before zipfile reads its directory."""
    declared = declared_entries(path)
    if declared > limits.MAX_MEMBERS:
        raise limits.refused(path, declared, limits.MAX_MEMBERS, "members declared")
    zf = zipfile.ZipFile(path)
    try:
        check_archive(zf, path)
    except BaseException:
        zf.close()
        raise
    return zf


def stored_data(fd: int, info: zipfile.ZipInfo) -> Optional[bytes]:
    """The bytes a member's entry says hold its data, as they lie in the zip open at ``fd`` (compressed, not
    inflated), read after its local header; ``None`` when that header is not one (no signature, or
    another name than the central directory's, which zipfile would refuse) or the data is cut short.
    Read with ``pread``: no file position, the zip's own or any other, moves."""
    header = os.pread(fd, _LOCAL_HEADER, info.header_offset)
    if len(header) != _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
        return None
    name_size, extra_size = struct.unpack_from("<HH", header, 26)
    name = os.pread(fd, name_size, info.header_offset + _LOCAL_HEADER)
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if name.decode(encoding, "replace") != info.orig_filename:
        return None
    data = os.pread(fd, info.compress_size, info.header_offset + _LOCAL_HEADER + name_size + extra_size)
    return data if len(data) == info.compress_size else None


class Inflation:
    """What the check inflates from one wheel, counted before each read: a member declaring more than
    ``MAX_MEMBER`` bytes, or the wheel's members together more than ``MAX_INFLATED``, is refused."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.total = 0

    def charge(self, member: str, declared: int) -> None:
        if declared > limits.MAX_MEMBER:
            raise limits.refused(f"{self.where}: {member}", declared, limits.MAX_MEMBER, "bytes declared")
        self.total += declared
        if self.total > limits.MAX_INFLATED:
            raise limits.refused(self.where, self.total, limits.MAX_INFLATED, "bytes to inflate")


def same_size(got: int, declared: int) -> None:
    """Refuse a member whose data inflates to less than its entry declares (zipfile stops a longer one at
    the declared size and fails it on its CRC; a shorter one it simply ends)."""
    if got != declared:
        raise InputRefused(f"its data inflates to {got} bytes, not the {declared} its entry declares")


#: A member is inflated in pieces of this size: each piece is written, CRC-checked and kept while it is
#: still in the CPU's cache, and no copy of the whole member is ever made (``inflate``).
CHUNK = 256 * 1024


def inflate(raw: IO[bytes], head: bytes, size: int) -> list[bytes]:
    """The ``size`` bytes of a member: ``head`` (already read) and the rest of the stream ``raw``, as a
    list of pieces (``ChunkFile`` reads them as one file). Reading a 60 MB library with one ``read()``
    inflated it into one buffer, copied it, and CRC-checked it cold, about a fifth slower than pip's own
    piecewise copy (pyarrow's wheel: 0.77 s against 0.63 s), and pip then copied it once more."""
    pieces = [head] if head else []
    got = len(head)
    while got < size:
        piece = raw.read(min(CHUNK, size - got))
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    same_size(got, size)  # zipfile stops a member at its declared size (and checks its CRC there)
    return pieces


class ChunkFile(io.RawIOBase):
    """A read-only, seekable file over the pieces ``inflate`` returned: what the ELF reader seeks and
    reads in, and what pip copies from when the check hands it the member (``_pip.check``)."""

    def __init__(self, pieces: list[bytes]) -> None:
        super().__init__()
        self._pieces = pieces
        self._starts: list[int] = []
        at = 0
        for piece in pieces:
            self._starts.append(at)
            at += len(piece)
        self._size = at
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET and offset < 0:
            raise ValueError(f"negative seek value {offset}")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)  # as BytesIO: a relative seek before the start stops at 0
        return self._pos

    def read(self, size: Optional[int] = -1) -> bytes:
        start = self._pos
        end = self._size if size is None or size < 0 else min(self._size, start + size)
        if end <= start:
            return b""
        out = []
        i = bisect_right(self._starts, start) - 1  # the piece holding ``start``
        while i < len(self._pieces) and self._starts[i] < end:
            piece_start = self._starts[i]
            out.append(self._pieces[i][max(0, start - piece_start) : end - piece_start])
            i += 1
        self._pos = end
        return out[0] if len(out) == 1 else b"".join(out)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class PieceFile(ChunkFile):
    """A ``ChunkFile`` whose ``read(n)`` returns at most the rest of the piece it is in, the piece itself
    when it reads one whole: the short read ``io.RawIOBase`` allows, and what ``shutil.copyfileobj`` (pip's
    copy of a member to its file) loops over until ``b""``. pip 26.3 reads 1 MB at a time, which a
    ``ChunkFile`` joins from four pieces into a new buffer: one more copy of every byte it writes. Not for
    the ELF reader, which wants each read whole."""

    def read(self, size: Optional[int] = -1) -> bytes:
        start = self._pos
        if size is None or size < 0 or start >= self._size:
            return super().read(size)
        i = bisect_right(self._starts, start) - 1
        piece, offset = self._pieces[i], start - self._starts[i]
        if offset == 0 and size >= len(piece):
            self._pos = start + len(piece)
            return piece
        out = piece[offset : offset + size]
        self._pos = start + len(out)
        return out


def parse_stream(raw: IO[bytes], head: bytes, size: int, parse: Callable[[BinaryIO, int], T]) -> T:
    """``parse(file, size)`` on ``head`` followed by the rest of the stream ``raw`` (``size`` bytes in
    all). Up to ``SPOOL_OVER`` in memory (``inflate``, in pieces); a larger member through a temporary
    file, inflated once (parsing it where it lies in the zip was 40 % slower on torch's wheel: zipfile
    seeks back by inflating again from the start, and an ELF reader reads near both ends). So a member at
    the cap costs inflating and disk, never its size in memory."""
    if size <= SPOOL_OVER:
        return parse(ChunkFile(inflate(raw, head, size)), size)  # type: ignore[arg-type]
    import shutil  # here, not at the top: only a large member is spooled (start-up cost, issue 21)
    import tempfile

    with tempfile.TemporaryFile(prefix="alpinetags-") as spool:
        spool.write(head)
        shutil.copyfileobj(raw, spool, 1 << 20)
        got = spool.tell()
        same_size(got, size)
        spool.seek(0)
        return parse(spool, got)

"""Read a wheel's name, ``WHEEL``, ``METADATA`` and ``RECORD``, and write a copy with another platform tag.

A retagged wheel must pass the same checks any installer applies to a fresh one: the file name, the
``Tag:`` lines of ``WHEEL`` and the hashes and sizes in ``RECORD`` all agree with each other and with the
bytes in the archive. So the copy is written member by member while hashing, and ``RECORD`` is made from
those hashes, never carried over. The input is only read: the copy goes to a temporary file beside its
final name and is renamed into place, and a copy that would land on the input is refused.

``METADATA`` gets one ``Requires-External: <soname>`` line per system library the wheel needs (core
metadata's field for dependencies outside Python), so an installer can learn what a wheel needs from the
system by reading one small file, before it scans any ELF; ``requires_external`` reads them back.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from alpinetags import _limits as limits
from alpinetags._elf.zipguard import open_archive
from alpinetags.errors import ConfigError, InputRefused

#: No WHEEL, METADATA or RECORD larger than this is read (real ones are a few kB to a few MB).
MAX_META = 32 * 1024 * 1024
#: Signatures of RECORD: a copy with a new RECORD cannot keep them valid, so they are left out.
RECORD_SIGNATURES = ("RECORD.jws", "RECORD.p7s")

_PLATFORM_RE = re.compile(r"[a-z0-9_]+\Z")
_TAG_PART_RE = re.compile(r"[A-Za-z0-9_.]+\Z")
_HEADER_RE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*):[ \t]?(.*)\Z")


class WheelError(ConfigError):
    """A wheel that cannot be read or rewritten (bad name, bad zip, missing or malformed metadata).

    A ``ConfigError``: the wheel is the user's input, so the CLI answers exit 2 and names the file.
    """


@dataclass(frozen=True)
class WheelName:
    """The parts of a wheel's file name, spelled as in the name (so a rewrite changes nothing else)."""

    distribution: str
    version: str
    build: str  # "" when there is none
    pythons: tuple[str, ...]  # "cp311", or several for a compressed tag set "py2.py3"
    abis: tuple[str, ...]
    platforms: tuple[str, ...]

    def filename(self, platform: Optional[str] = None) -> str:
        """The file name, with ``platform`` instead of the platform tags when it is given."""
        plats = (platform,) if platform else self.platforms
        parts = [self.distribution, self.version, *([self.build] if self.build else [])]
        parts += [".".join(self.pythons), ".".join(self.abis), ".".join(plats)]
        return "-".join(parts) + ".whl"


def parse_wheel_name(filename: str) -> WheelName:
    """Split a wheel file name into its parts; ``WheelError`` if it is not a valid one."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    base = os.path.basename(filename)
    try:
        parse_wheel_filename(base)
    except InvalidWheelFilename as exc:
        raise WheelError(f"{base}: not a valid wheel file name ({exc})") from None
    parts = base[: -len(".whl")].split("-")
    py, abi, plat = (tuple(p.split(".")) for p in parts[-3:])
    build = parts[2] if len(parts) == 6 else ""
    return WheelName(parts[0], parts[1], build, py, abi, plat)


@dataclass(frozen=True)
class RecordRow:
    path: str
    hash: str  # "sha256=<urlsafe b64, no padding>", or "" (RECORD's own row)
    size: str  # decimal, or ""


@dataclass(frozen=True)
class WheelContents:
    """What a wheel says about itself (nothing here is checked against the archive's bytes)."""

    path: str
    name: WheelName
    dist_info: str  # "demo-1.0.dist-info"
    wheel_headers: tuple[tuple[str, str], ...]  # WHEEL, in order
    metadata: str  # METADATA as text
    record: tuple[RecordRow, ...]
    members: tuple[str, ...]  # every file member of the zip, in archive order

    @property
    def tags(self) -> tuple[str, ...]:
        """The ``Tag:`` values of WHEEL (``cp311-cp311-linux_x86_64``), in order."""
        return tuple(v for k, v in self.wheel_headers if k.lower() == "tag")

    @property
    def requires_external(self) -> tuple[str, ...]:
        return parse_requires_external(self.metadata)


def record_hash(data: bytes) -> str:
    """A RECORD hash as the wheel spec writes it: ``sha256=`` and the urlsafe base64 digest, unpadded."""
    import hashlib  # here and below, not at the top: only writing a wheel hashes (start-up cost, issue 21)

    return _encode_digest(hashlib.sha256(data).digest())


def _encode_digest(digest: bytes) -> str:
    import base64

    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------------------------------
# the email-header files (WHEEL, METADATA)


def _header_lines(text: str) -> tuple[list[tuple[str, str]], list[str], int]:
    """The headers, the lines (with their ends) and how many lines the headers take (continuations in)."""
    headers: list[tuple[str, str]] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r\n")
        if not line:
            break
        if line[0] in " \t" and headers:
            key, value = headers[-1]
            headers[-1] = (key, value + "\n" + line)
        else:
            m = _HEADER_RE.match(line)
            if not m:
                break
            headers.append((m.group(1), m.group(2)))
        i += 1
    return headers, lines, i


def parse_headers(text: str) -> tuple[list[tuple[str, str]], str]:
    """The headers of an email-style file (continuation lines joined) and the body after the blank line.

    A line that is not a header ends the header block, as in the email parser pip uses.
    """
    headers, lines, end = _header_lines(text)
    if end < len(lines) and not lines[end].strip("\r\n"):
        end += 1
    return headers, "".join(lines[end:])


def parse_requires_external(
    metadata: str, environment: Optional[Mapping[str, object]] = None
) -> tuple[str, ...]:
    """The names in METADATA's ``Requires-External`` lines: ``libssl.so.3`` from ``libssl.so.3``, ``C``
    from ``C; sys_platform == "win32"``, ``libpng`` from ``libpng (>=1.5)``; in order, each once.

    With ``environment`` (the target's marker environment, as ``markers.default_environment`` makes it
    for the target, alpinetags' own variables allowed) an entry whose marker is false there is left out
    (spec 5.1: ``libfoo.so.1; sys_platform == "darwin"`` is no requirement on Linux). A marker that cannot
    be evaluated (malformed, a variable the environment lacks) keeps its entry: dropping it could make a
    wheel look loadable that is not. Without ``environment`` every entry is kept, markers unread."""
    headers, _ = parse_headers(metadata)
    out: list[str] = []
    for key, value in headers:
        if key.lower() != "requires-external":
            continue
        entry, semicolon, marker = value.partition(";")
        name = entry.split("(", 1)[0].strip()
        if not name or name in out:
            continue
        if semicolon and environment is not None and _marker_false(marker, environment):
            continue
        out.append(name)
    return tuple(out)


def _marker_false(marker: str, environment: Mapping[str, object]) -> bool:
    """Whether ``marker`` is known to be false in ``environment``; ``False`` when it cannot be evaluated."""
    from alpinetags.markers import EnvValue, InvalidMarker, Marker

    env: dict[str, EnvValue] = {
        k: v if isinstance(v, str) else frozenset(str(x) for x in v)
        for k, v in environment.items()
        if isinstance(v, (str, set, frozenset))
    }
    try:
        return not Marker(marker.strip()).evaluate(env)
    except (InvalidMarker, ValueError, TypeError):
        return False


def _with_requires_external(metadata: str, sonames: Sequence[str]) -> str:
    """METADATA with a ``Requires-External`` line for each soname it does not list yet, after the last
    header (the long description in the body is left as it is)."""
    have = set(parse_requires_external(metadata))
    new = [s for s in dict.fromkeys(sonames) if s not in have]
    if not new:
        return metadata
    headers, lines, end = _header_lines(metadata)
    if not headers:
        raise WheelError("METADATA has no headers")
    newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
    if not lines[end - 1].endswith(("\n", "\r")):
        lines[end - 1] += newline  # the last header had no line end (a METADATA with no body)
    added = [f"Requires-External: {s}{newline}" for s in new]
    return "".join(lines[:end] + added + lines[end:])


def _retag_wheel_file(text: str, platform: str) -> tuple[str, tuple[str, ...]]:
    """WHEEL with each ``Tag:`` line's platform replaced (duplicates dropped, order kept)."""
    headers, body = parse_headers(text)
    tags: list[str] = []
    out_lines: list[str] = []
    placed = False
    for key, value in headers:
        if key.lower() != "tag":
            out_lines.append(f"{key}: {value}")
            continue
        parts = value.strip().split("-")
        if len(parts) != 3 or not all(_TAG_PART_RE.match(p) for p in parts):
            raise WheelError(f"WHEEL: malformed Tag line {value!r}")
        tag = f"{parts[0]}-{parts[1]}-{platform}"
        if tag not in tags:
            tags.append(tag)
        if not placed:
            out_lines.append("\0TAGS\0")
            placed = True
    if not tags:
        raise WheelError("WHEEL has no Tag lines")
    rendered = "\n".join("\n".join(f"Tag: {t}" for t in tags) if ln == "\0TAGS\0" else ln for ln in out_lines)
    return rendered + "\n" + ("\n" + body if body.strip() else ""), tuple(tags)


# --------------------------------------------------------------------------------------------------
# reading


def _open_zip(path: str) -> zipfile.ZipFile:
    if not os.path.isfile(path):
        raise WheelError(f"{path}: no such file" if not os.path.exists(path) else f"{path}: not a file")
    try:
        return open_archive(path)  # a bomb's central directory: InputRefused
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WheelError(f"{path}: not a readable wheel (zip): {exc}") from None


def _read_member(zf: zipfile.ZipFile, name: str, where: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise WheelError(f"{where}: no {name}") from None
    if info.file_size > MAX_META:
        raise WheelError(f"{where}: {name} is {info.file_size} bytes, too large")
    try:
        with zf.open(info) as f:
            return f.read(MAX_META + 1)[:MAX_META]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise WheelError(f"{where}: {name} cannot be read: {exc}") from None


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WheelError(f"{what} is not UTF-8: {exc}") from None


def _find_dist_info(members: Sequence[str], name: WheelName, where: str) -> str:
    """The one top-level ``*.dist-info`` directory holding WHEEL (its name is the distribution's)."""
    found = sorted({m.split("/", 1)[0] for m in members if m.count("/") == 1 and m.endswith("/WHEEL")})
    found = [d for d in found if d.endswith(".dist-info")]
    if len(found) != 1:
        raise WheelError(f"{where}: expected one *.dist-info/WHEEL, found {found or 'none'}")
    return found[0]


def _parse_record(text: str, where: str) -> tuple[RecordRow, ...]:
    rows = []
    try:
        for row in csv.reader(io.StringIO(text)):
            if not row:
                continue
            if len(row) != 3:
                raise WheelError(f"{where}: RECORD row {row!r} does not have 3 fields")
            rows.append(RecordRow(*row))
    except csv.Error as exc:
        raise WheelError(f"{where}: RECORD is not valid CSV: {exc}") from None
    return tuple(rows)


def _members(zf: zipfile.ZipFile, where: str) -> tuple[str, ...]:
    names = [i.filename for i in zf.infolist() if not i.is_dir()]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise WheelError(f"{where}: member {n!r} appears twice")
        seen.add(n)
    return tuple(names)


def read_wheel(path: str) -> WheelContents:
    """Name, WHEEL, METADATA and RECORD of the wheel at ``path``; ``WheelError`` when any is unusable."""
    name = parse_wheel_name(path)
    with _open_zip(path) as zf:
        members = _members(zf, path)
        dist_info = _find_dist_info(members, name, path)
        wheel_text = _text(_read_member(zf, f"{dist_info}/WHEEL", path), f"{path}: WHEEL")
        metadata = _text(_read_member(zf, f"{dist_info}/METADATA", path), f"{path}: METADATA")
        record_name = f"{dist_info}/RECORD"
        record = (
            _parse_record(_text(_read_member(zf, record_name, path), f"{path}: RECORD"), path)
            if record_name in members
            else ()
        )
    headers, _ = parse_headers(wheel_text)
    return WheelContents(path, name, dist_info, tuple(headers), metadata, record, members)


def requires_external(path: str, environment: Optional[Mapping[str, object]] = None) -> tuple[str, ...]:
    """The ``Requires-External`` names in the METADATA of the wheel at ``path`` (``()`` when none); with
    ``environment``, those whose marker is false there left out (``parse_requires_external``).

    Meant for an installer's native check: a wheel written by ``alpinetags wheel tag`` lists every system
    soname it needs there, so the check knows them before it reads any ELF. Reads only METADATA.
    ``WheelError`` for a file that is not a readable wheel.
    """
    name = parse_wheel_name(path)
    with _open_zip(path) as zf:
        members = _members(zf, path)
        dist_info = _find_dist_info(members, name, path)
        metadata = _text(_read_member(zf, f"{dist_info}/METADATA", path), f"{path}: METADATA")
    return parse_requires_external(metadata, environment)


# --------------------------------------------------------------------------------------------------
# writing


@dataclass(frozen=True)
class Retagged:
    """A wheel written by ``retag``."""

    path: str
    tags: tuple[str, ...]  # the Tag lines now in WHEEL
    requires_external: tuple[str, ...]  # every Requires-External name now in METADATA
    dropped: tuple[str, ...]  # members left out (RECORD signatures, which the new RECORD invalidates)


def check_platform(platform: str) -> str:
    if not _PLATFORM_RE.match(platform):
        raise ConfigError(f"{platform!r} is not a platform tag (lower-case letters, digits, _)")
    return platform


def _copy_info(info: zipfile.ZipInfo, size: int) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, info.date_time)
    new.external_attr = info.external_attr
    new.create_system = info.create_system
    new.compress_type = (
        info.compress_type if info.compress_type in (zipfile.ZIP_STORED,) else zipfile.ZIP_DEFLATED
    )
    new.file_size = size
    return new


def _copy_member(zin: zipfile.ZipFile, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> tuple[str, int]:
    """Copy one member, returning its RECORD hash and size (of the bytes actually written)."""
    import hashlib

    digest = hashlib.sha256()
    size = 0
    out_info = _copy_info(info, info.file_size)
    with zin.open(info) as src, zout.open(out_info, "w", force_zip64=info.file_size > 0x7FFF0000) as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return _encode_digest(digest.digest()), size


def _write_bytes(zout: zipfile.ZipFile, like: zipfile.ZipInfo, data: bytes) -> tuple[str, int]:
    zout.writestr(_copy_info(like, len(data)), data)
    return record_hash(data), len(data)


def _record_text(rows: Iterable[tuple[str, str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def retag(
    src: str,
    dest_dir: str,
    platform: Optional[str],
    sonames: Sequence[str] = (),
    *,
    label: str = "",
    extra: Optional[Mapping[str, bytes]] = None,
) -> Retagged:
    """Write a copy of the wheel ``src`` into ``dest_dir`` with platform tag ``platform`` everywhere
    (file name and every WHEEL ``Tag:``), ``Requires-External`` lines for ``sonames`` added to METADATA,
    and a RECORD made from the bytes written. ``src`` is never modified; a destination that is ``src``
    itself is refused (``WheelError``).

    For a wheel variant (``alpinetags wheel variant``): ``platform`` ``None`` keeps the tags as they are,
    ``label`` is put after them in the file name, and ``extra`` adds members to ``*.dist-info/`` (by name,
    replacing one of that name)."""
    if platform is not None:
        check_platform(platform)
    contents = read_wheel(src)
    with _open_zip(src) as zf:
        check_members(zf.infolist(), contents.name, contents.dist_info, src)
    out_name = contents.name.filename(platform)
    if label:
        out_name = f"{out_name[: -len('.whl')]}-{label}.whl"
    if not os.path.isdir(dest_dir):
        raise ConfigError(f"{dest_dir!r} is not a directory")
    dest = os.path.join(dest_dir, out_name)
    if os.path.exists(dest) and os.path.samefile(dest, src):
        raise WheelError(f"{src}: already tagged {platform}; writing it again would replace the input")
    dist_info = contents.dist_info
    record_name = f"{dist_info}/RECORD"
    wheel_text = _text(_read_bytes(src, f"{dist_info}/WHEEL"), "WHEEL")
    if platform is None:
        tags = contents.tags
    else:
        wheel_text, tags = _retag_wheel_file(wheel_text, platform)
    added = {f"{dist_info}/{name}": data for name, data in (extra or {}).items()}
    metadata = _with_requires_external(contents.metadata, list(sonames))
    dropped = tuple(m for m in contents.members if m in {f"{dist_info}/{s}" for s in RECORD_SIGNATURES})

    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{out_name}.", suffix=".tmp", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as raw, _open_zip(src) as zin, zipfile.ZipFile(raw, "w") as zout:
            rows: list[tuple[str, str, str]] = []
            record_info: Optional[zipfile.ZipInfo] = None
            for info in zin.infolist():
                if info.is_dir() or info.filename in dropped or info.filename in added:
                    continue
                name = info.filename
                try:
                    if name == record_name:
                        record_info = info
                        continue
                    if name == f"{dist_info}/WHEEL":
                        h, n = _write_bytes(zout, info, wheel_text.encode("utf-8"))
                    elif name == f"{dist_info}/METADATA":
                        h, n = _write_bytes(zout, info, metadata.encode("utf-8"))
                    else:
                        h, n = _copy_member(zin, info, zout)
                except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                    raise WheelError(f"{src}: member {name} cannot be read: {exc}") from None
                rows.append((name, h, str(n)))
            for name, data in added.items():
                new = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                new.external_attr = 0o644 << 16
                h, n = _write_bytes(zout, new, data)
                rows.append((name, h, str(n)))
            rows.append((record_name, "", ""))
            like = record_info or zipfile.ZipInfo(record_name, (1980, 1, 1, 0, 0, 0))
            like.external_attr = like.external_attr or (0o644 << 16)
            zout.writestr(_copy_info(like, 0), _record_text(rows))
        os.chmod(tmp, os.stat(src).st_mode & 0o777)  # mkstemp made it 0600; the copy gets the input's mode
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return Retagged(dest, tags, parse_requires_external(metadata), dropped)


#: Mode bits a member of a wheel being retagged may carry: permissions, and the regular-file or directory
#: type (or none). A link, a device, a FIFO or setuid/setgid/sticky bits have no business in a wheel.
_FILE_TYPES = (0, stat.S_IFREG, stat.S_IFDIR)


def member_problem(info: zipfile.ZipInfo) -> Optional[str]:
    """Why a member may not be copied into a retagged wheel (``None``: it may): a name that leaves the
    wheel (absolute, ``..``, a backslash, a drive), or mode bits other than permissions of a file."""
    name = info.filename
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
        return f"member {name!r} names a path outside the wheel"
    mode = info.external_attr >> 16
    if stat.S_IFMT(mode) not in _FILE_TYPES:
        return f"member {name!r} is not a regular file (mode {mode:o})"
    if mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
        return f"member {name!r} carries setuid/setgid/sticky bits (mode {mode:o})"
    return None


def check_members(infos: Sequence[zipfile.ZipInfo], name: WheelName, dist_info: str, where: str) -> None:
    """Refuse (``InputRefused``) to retag a wheel whose members escape it or carry special mode bits, or
    whose dist-info names another distribution or version than its file name: a new, self-consistent
    RECORD over them would launder what an installer should see as wrong. Members declaring more than
    ``limits.MAX_INFLATED`` bytes in all are refused too: the copy would inflate and write them all."""
    from packaging.utils import canonicalize_name, canonicalize_version

    for info in infos:
        problem = member_problem(info)
        if problem:
            raise InputRefused(f"{where}: {problem}")
    total = sum(info.file_size for info in infos)  # what the copy would inflate and write
    if total > limits.MAX_INFLATED:
        raise limits.refused(where, total, limits.MAX_INFLATED, "bytes to inflate")
    said, _, version = dist_info[: -len(".dist-info")].rpartition("-")
    if canonicalize_name(said) != canonicalize_name(name.distribution) or canonicalize_version(
        version
    ) != canonicalize_version(name.version):
        raise InputRefused(
            f"{where}: its {dist_info} does not match the file name ({name.distribution} {name.version})"
        )


def _read_bytes(path: str, member: str) -> bytes:
    with _open_zip(path) as zf:
        return _read_member(zf, member, path)

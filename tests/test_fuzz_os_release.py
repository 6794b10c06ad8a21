"""Hostile os-release files: each ends in fields, "nothing found" or an ``OsReleaseError``, never a crash.

Each generated content is laid out as a root on tmpfs and goes through ``read_os_release`` and through the
whole of ``detect`` plus the plugins' tag hooks, as pip would run them. Reads are counted with the kernel's
own counter (``rchar`` in ``/proc/self/io``), not by trusting the code under test.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpinetags._engine.detect import detect
from alpinetags._engine.plugins import Registry, load_plugins
from alpinetags._system.os_release import MAX_OS_RELEASE_SIZE, read_os_release
from alpinetags.errors import OsReleaseError
from alpinetags.model import Platform, Target
from alpinetags.tags import plugin_platforms
from tests.fuzzing import EXAMPLES, fuzz_settings

#: A hostile version must not make a plugin produce an absurd number of tags.
MAX_TAGS = 1000
_TAG_RE = re.compile(r"[a-z0-9_]+\Z")

KEYS = ["ID", "VERSION_ID", "ID_LIKE", "NAME", "PRETTY_NAME", "VERSION", "id", "ID ", "", "X"]
VALUES = [
    "alpine", "3.19", "3.19.1", "3.21_alpha20240606", "3.999999999", "99999999999.1", "v3.19", "3",
    "debian", "alpine debian", "", "\x00", "é", "\udcff", "a\\", "$(reboot)", "`id`", "3.19\n",
]  # fmt: skip
QUOTES = ["", "'", '"', "'\"", "\\", "\\'"]


SEPARATORS = ["=", " = ", "==", ":"]
NEWLINES = [b"\n", b"\r\n", b"\x00", b"", b"\n\n"]


def grammar(code: bytes) -> bytes:
    """os-release-like text spelled by ``code``: every 4 bytes pick a key, a value, quotes and a separator.

    Drawing one byte string and decoding it is many times cheaper in hypothesis than drawing each part,
    and hypothesis still mutates and shrinks the bytes, so every line kind is reached.
    """
    newline = NEWLINES[code[0] % len(NEWLINES)] if code else b"\n"
    out = []
    for i in range(1, len(code) - 3, 4):
        k, v, q, s = code[i : i + 4]
        value = VALUES[v % len(VALUES)] if v < 200 else chr(0x80 + v) * (v % 4)
        line = f"{KEYS[k % len(KEYS)]}{SEPARATORS[s % len(SEPARATORS)]}"
        line += f"{QUOTES[q % len(QUOTES)]}{value}{QUOTES[(q // 8) % len(QUOTES)]}"
        out.append(line.encode("utf-8", "surrogateescape"))
    return newline.join(out)


#: key=value lines with unbalanced quotes, duplicate keys, odd separators and newlines.
structured = st.binary(max_size=33).map(grammar)


@dataclass(frozen=True)
class HugeLine:
    """A line of ``n`` times ``fill`` after ``key``; kept as a recipe so that examples print short."""

    key: bytes
    n: int
    fill: bytes

    def build(self) -> bytes:
        return self.key + self.fill * self.n


#: One huge line: ID=... of a megabyte (refused unread) or just under the cap (parsed).
huge = st.builds(
    HugeLine,
    st.sampled_from([b"ID=", b"VERSION_ID=", b"# ", b"ID='"]),
    # Refused unread, or parsed. Parsing 64 KB takes distro's shlex ~30 ms, so the at-the-cap size is
    # left to test_file_at_the_cap_is_parsed rather than drawn thousands of times.
    st.sampled_from([1 << 20, MAX_OS_RELEASE_SIZE + 1, 4096]),
    st.sampled_from([b"a", b"9", b"\x00", b"\xff", b"'"]),
)
#: A well-formed Alpine file whose version is hostile: absurd numbers must not become absurd tag lists.
hostile_alpine = st.builds(
    lambda version, code: b"ID=alpine\nID_LIKE=alpine\nVERSION_ID=" + version + b"\n" + grammar(code),
    st.sampled_from(
        [b"3.99999999", b"99999999.1", b"3.1000", b"3.999", b"3.0", b"3.-1", b"3.19_alpha99999999"]
    )
    | st.integers(min_value=0, max_value=10**12).map(lambda n: b"3.%d" % n),
    st.binary(max_size=9),
)
contents = st.one_of(
    hostile_alpine,
    st.binary(max_size=300),  # random bytes: invalid UTF-8, NULs
    structured,
    st.just(b""),
    st.builds(lambda a, b: a + b, structured, st.binary(max_size=20)),
    huge,
)
#: What stands where the file should be. A file most of the time.
KINDS = ["file"] * 6 + ["dir", "fifo", "loop", "self_loop", "dangling", "absolute_link", "usr_lib_only"]


def lay_out(root: Path, kind: str, data: bytes) -> None:
    """Make ``root`` a root whose os-release is ``data`` in the way ``kind`` says."""
    for sub in ("etc", "usr"):
        shutil.rmtree(root / sub, ignore_errors=True)
    etc = root / "etc"
    usr_lib = root / "usr" / "lib"
    etc.mkdir()
    usr_lib.mkdir(parents=True)
    target = etc / "os-release"
    if kind == "file":
        target.write_bytes(data)
    elif kind == "dir":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)  # nobody ever writes: a reader that opens it blocks forever
    elif kind == "loop":
        target.symlink_to("os-release.2")
        (etc / "os-release.2").symlink_to("os-release")
    elif kind == "self_loop":
        target.symlink_to("/etc/os-release")
    elif kind == "dangling":
        target.symlink_to("/nowhere/os-release")
        (usr_lib / "os-release").write_bytes(data)
    elif kind == "absolute_link":  # absolute, as in many images: must stay inside the root
        target.symlink_to("/usr/lib/os-release")
        (usr_lib / "os-release").write_bytes(data)
    elif kind == "usr_lib_only":
        (usr_lib / "os-release").write_bytes(data)
    else:  # pragma: no cover
        raise AssertionError(kind)


def rchar() -> int:
    """Bytes this process has read through read() calls so far, as the kernel counts them."""
    with open("/proc/self/io", "rb") as f:
        for line in f:
            if line.startswith(b"rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def bytes_read_by(func: Callable[[], object]) -> int:
    """Bytes read while ``func`` runs, less what reading the counter itself costs."""
    a = rchar()
    b = rchar()
    try:
        func()
    finally:
        c = rchar()
    return (c - b) - (b - a)


@pytest.fixture(scope="module")
def root(shm: Path) -> Path:
    return shm


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_plugins()


@functools.cache
def _warm_up() -> None:
    """Parse one real file first: the imports that parsing does (distro, shlex) read .pyc files, and
    those reads must not be counted against the file's cap."""
    with tempfile.TemporaryDirectory() as warm:
        (Path(warm) / "etc").mkdir()
        (Path(warm) / "etc" / "os-release").write_text('ID=warm\nNAME="x"\n')
        assert read_os_release(warm)[0]["id"] == "warm"


def check_os_release(root: Path) -> None:
    """``read_os_release`` gives string fields or an ``OsReleaseError``, reading at most the cap."""
    _warm_up()

    def probe() -> None:
        try:
            info, path = read_os_release(str(root))
        except OsReleaseError as exc:
            assert str(exc)
        else:
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.items())
            assert path == "" or os.path.realpath(path).startswith(str(root) + "/"), "read outside the root"

    read = bytes_read_by(probe)
    assert read <= MAX_OS_RELEASE_SIZE, f"read {read} bytes, cap {MAX_OS_RELEASE_SIZE}"


def check_detect(root: Path, registry: Registry) -> None:
    """The whole detection and the plugins' tags: a valid Platform, sane tags, whatever the file held."""
    platform = detect(Target(root=str(root)), registry)
    assert isinstance(platform, Platform)
    assert platform.arch
    tags = plugin_platforms(platform, registry)
    assert len(tags) <= MAX_TAGS
    assert all(_TAG_RE.match(t) for t in tags), tags[:5]


def test_fuzzed_os_release(root: Path, registry: Registry) -> None:
    ran = []

    @fuzz_settings()
    @given(kind=st.sampled_from(KINDS), data=contents)
    def run(kind: str, data: bytes | HugeLine) -> None:
        lay_out(root, kind, data.build() if isinstance(data, HugeLine) else data)
        check_os_release(root)
        check_detect(root, registry)
        ran.append(kind)

    run()
    assert len(ran) >= EXAMPLES
    assert set(ran) == set(KINDS), "every layout was tried"


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"file"}))
def test_each_odd_layout(root: Path, registry: Registry, kind: str) -> None:
    """Each layout once with a real Alpine file, named, so a failure says which one broke."""
    lay_out(root, kind, b"ID=alpine\nVERSION_ID=3.19.1\n")
    check_os_release(root)
    check_detect(root, registry)
    if kind in ("dir", "fifo", "loop", "self_loop"):
        with pytest.raises(OsReleaseError):
            read_os_release(str(root))
    else:  # the file is found where it is, inside the root
        assert read_os_release(str(root))[0]["id"] == "alpine"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", {}),
        (b"ID=alpine\nID=debian\n", {"id": "debian"}),  # the last of duplicate keys wins, as in a shell
        (b"ID='alpine\n", None),  # an unbalanced quote
        (b"ID=alp\xffine\n", None),  # not UTF-8
        (b"ID=" + b"a" * (1 << 20) + b"\n", None),  # a megabyte line: refused unread
    ],
    ids=["empty", "duplicate-keys", "unbalanced-quote", "not-utf8", "megabyte-line"],
)
def test_known_bad_contents(root: Path, data: bytes, expected: dict[str, str] | None) -> None:
    """Fixed expectations, written by hand, for the classic bad contents."""
    lay_out(root, "file", data)
    if expected is None:
        with pytest.raises(OsReleaseError):
            read_os_release(str(root))
    else:
        info, _ = read_os_release(str(root))
        assert {k: v for k, v in info.items() if k == "id"} == expected


def test_file_at_the_cap_is_parsed(root: Path, registry: Registry) -> None:
    """A file of exactly the cap is still read (and read once); one byte more is refused unread."""
    line = b"ID=alpine\nVERSION_ID=3.19\nX="
    lay_out(root, "file", line + b"a" * (MAX_OS_RELEASE_SIZE - len(line)))
    check_os_release(root)
    assert bytes_read_by(lambda: read_os_release(str(root))) == MAX_OS_RELEASE_SIZE  # read once, whole
    assert read_os_release(str(root))[0]["id"] == "alpine"
    check_detect(root, registry)
    lay_out(root, "file", line + b"a" * (MAX_OS_RELEASE_SIZE + 1 - len(line)))

    def refused() -> None:
        with pytest.raises(OsReleaseError, match="too large"):
            read_os_release(str(root))

    assert bytes_read_by(refused) == 0


def test_a_fifo_swapped_in_after_the_check_is_not_what_distro_opens(tmp_path: Path) -> None:
    """Between the check and distro's open, someone replaces the file by a FIFO nobody writes to.

    distro is handed the checked descriptor's /proc/self/fd name: it opens the checked file, not the
    FIFO (which would block it forever)."""
    from alpinetags._system.os_release import _pinned

    path = tmp_path / "os-release"
    path.write_text("ID=alpine\n")
    fd, name = _pinned(str(path))
    try:
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        os.replace(fifo, path)
        assert name.startswith("/proc/self/fd/")
        with open(name, encoding="utf-8") as f:  # what distro does with the name
            assert f.read() == "ID=alpine\n"
    finally:
        os.close(fd)

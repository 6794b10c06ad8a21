"""``alpinetags check`` answers again from the user's cache only while nothing it read has changed (issue 21).

Each case primes the cache on a real Alpine 3.19 root and a folder of real programs and libraries, then
*poisons* the kept answer (its printed text replaced by a marker, the rest of the entry intact). A call
that prints the marker was answered from the cache; so the tests can tell a kept answer from a fresh one
without timing anything. After one input changes (a checked file edited in place or replaced, a file
added, a library of the root added, removed, edited or reached through a retargeted link, os-release,
the library path, another user), the marker must be gone and the answer must be the one a check without
the cache gives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alpinetags._engine import readlog
from tests import realparts

pytestmark = pytest.mark.realparts

POISON = "POISONED: this text was kept in the cache, not found by a check"
CASES = (
    "same",
    "edited",
    "replaced",
    "added",
    "lib-added",
    "lib-removed",
    "lib-edited",
    "link",
    "os-release",
    "library-path",
    "racy",
    "nobody",
    "warned",
    "off",
    "hostile",
)


def _copy(src: Path, dest: Path) -> Path:
    """A real copy: the roots are hard links into the cache of real parts, which must not be edited."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _own(path: Path) -> None:
    """Break ``path``'s hard link to the cache of real parts, so it may be edited in place or removed (an
    unlink changes the link count, so the change time, of the inode every other copy shares)."""
    tmp = path.with_name(path.name + ".own")
    shutil.copy2(path, tmp)
    os.replace(tmp, path)


def _rewrite_in_place(path: Path, source: Path) -> None:
    """Give ``path`` the bytes of ``source``, same inode: only its size and times tell it changed."""
    with open(path, "r+b") as f:
        f.write(source.read_bytes())
        f.truncate()


class Case:
    """A private 3.19 root, a folder of real ELF files to check in it, and a cache directory."""

    def __init__(self, base: Path) -> None:
        r319, r316 = realparts.alpine_minirootfs("3.19"), realparts.alpine_minirootfs("3.16")
        self.base = base
        self.root = realparts.copy_minirootfs("3.19", base / "root")
        self.folder = base / "root" / "opt" / "check"
        for inside in ("sbin/apk", "usr/bin/ssl_client", "bin/busybox"):
            _copy(r319 / inside, self.folder / Path(inside).name)
        _copy(r316 / "lib" / "libssl.so.1.1", self.folder / "libssl.so.1.1")  # needs libcrypto.so.1.1
        self.old = r316
        self.cache = base / "cache"
        for inside in ("lib/libz.so.1.3.1", "lib/libssl.so.3", "etc/os-release"):  # edited or removed
            _own(self.root / inside)

    def run(self, *extra: str, user: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
        return subprocess.run(
            [*prefix, sys.executable, "-m", "alpinetags", "check", "--root", str(self.root), *extra,
             str(self.folder)],
            capture_output=True, text=True, timeout=300, check=False, cwd="/",
            env={**base, "XDG_CACHE_HOME": str(self.cache), **env},
        )  # fmt: skip

    def fresh(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """The same check without the cache: what the answer must be."""
        return self.run(*extra, ALPINETAGS_NO_CACHE="1")

    def entries(self) -> list[Path]:
        d = self.cache / "alpinetags"
        return sorted(d.glob("check-*")) if d.is_dir() else []

    def prime(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """Check once (the answer is kept), poison the kept text, and show the next call prints it."""
        first = self.run(*extra)
        assert first.returncode == self.fresh(*extra).returncode
        (entry,) = self.entries()
        lines = entry.read_text().split("\n")
        (at,) = [i for i, line in enumerate(lines) if line.startswith("stdout\t")]
        lines[at] = f"stdout\t{POISON}"
        entry.write_text("\n".join(lines))
        kept = self.run(*extra)
        assert kept.stdout.strip() == POISON, kept.stdout + kept.stderr
        assert kept.returncode == first.returncode
        return first


def _same_as_fresh(case: Case, *extra: str) -> subprocess.CompletedProcess[str]:
    now = case.run(*extra)
    assert POISON not in now.stdout, "a kept answer was printed after an input changed"
    fresh = case.fresh(*extra)
    assert (now.returncode, now.stdout, now.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    return now


@pytest.fixture(scope="module")
def cases() -> Iterator[dict[str, Case]]:
    """Every case's files, made at once, then left alone for ``RACY_NS``: the cache keeps nothing read
    from a file changed in the two seconds before the check (a change in the same clock tick would not
    show), and every file here was just copied or linked."""
    base = Path(tempfile.mkdtemp(prefix="alpinetags-checkcache-"))
    os.chmod(base, 0o755)  # the user nobody runs one case
    try:
        made = {name: Case(base / name) for name in CASES}
        time.sleep(readlog.RACY_NS / 1e9 + 0.2)
        yield made
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_kept_answer_is_the_answer_and_is_printed_again(cases: dict[str, Case]) -> None:
    """The first call prints what a call without the cache prints (text, errors, exit code) and keeps it;
    the next, with nothing changed, prints what was kept."""
    case = cases["same"]
    first = case.run()
    fresh = case.fresh()
    assert (first.returncode, first.stdout, first.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert first.returncode == 1 and "FAIL  /opt/check/libssl.so.1.1" in first.stdout
    (entry,) = case.entries()
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    again = case.run()
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)
    case.prime()


def test_the_entry_watches_every_module_that_answered(cases: dict[str, Case]) -> None:
    """The code is part of what was read: every module of alpinetags and of the plugins a check imports
    is among the files the entry signs (an upgrade or an edit of an editable install is seen)."""
    case = cases["same"]
    case.run()
    (entry,) = case.entries()
    body = entry.read_text().split("\n\n", 1)[1]
    watched = {v for line in body.split("\n") if line.startswith("files\t") for v in line.split("\t")[1:]}
    probe = "\n".join([
        "import sys",
        "from alpinetags.cli.main import main",
        "main(['check', '--root', sys.argv[1], sys.argv[2]])",
        "names = ('alpinetags', 'alpinetags_alpine', 'alpinetags_musl')",
        "mods = [m for n, m in list(sys.modules.items()) if n.split('.')[0] in names]",
        "print('\\n'.join(sorted(str(getattr(m, '__file__', '')) for m in mods)))",
    ])  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    argv = [sys.executable, "-c", probe, str(case.root), str(case.folder)]
    proc = subprocess.run(argv, capture_output=True, text=True, env={**env, "ALPINETAGS_NO_CACHE": "1"},
                          cwd="/", check=False)  # fmt: skip
    modules = [line for line in proc.stdout.splitlines() if line.endswith(".py")]
    assert len(modules) > 20, proc.stdout + proc.stderr
    assert any("alpinetags_alpine" in m for m in modules)  # a hint was asked of the plugins
    assert sorted(set(modules) - watched) == []


def test_a_checked_file_edited_in_place(cases: dict[str, Case]) -> None:
    case = cases["edited"]
    case.prime()
    _rewrite_in_place(case.folder / "ssl_client", case.old / "lib" / "libssl.so.1.1")
    now = _same_as_fresh(case)
    assert "FAIL  /opt/check/ssl_client" in now.stdout


def test_a_checked_file_replaced(cases: dict[str, Case]) -> None:
    case = cases["replaced"]
    case.prime()
    _copy(case.old / "sbin" / "apk", case.base / "apk.new")
    os.replace(case.base / "apk.new", case.folder / "apk")  # 3.16's apk needs libcrypto.so.1.1
    now = _same_as_fresh(case)
    assert "FAIL  /opt/check/apk" in now.stdout


def test_a_file_added_to_the_folder(cases: dict[str, Case]) -> None:
    case = cases["added"]
    first = case.prime()
    assert "4 ELF objects" in first.stdout
    _copy(case.old / "sbin" / "apk", case.folder / "sub" / "apk316")
    now = _same_as_fresh(case)
    assert "5 ELF objects" in now.stdout and "FAIL  /opt/check/sub/apk316" in now.stdout


def test_a_missing_library_added_to_the_root(cases: dict[str, Case]) -> None:
    """``libcrypto.so.1.1`` appears in the root's /lib: ``libssl.so.1.1`` loads now."""
    case = cases["lib-added"]
    case.prime()
    _copy(case.old / "lib" / "libcrypto.so.1.1", case.root / "lib" / "libcrypto.so.1.1")
    now = _same_as_fresh(case)
    assert now.returncode == 0 and "all load" in now.stdout


def test_a_library_removed_from_the_root(cases: dict[str, Case]) -> None:
    case = cases["lib-removed"]
    case.prime()
    (case.root / "lib" / "libssl.so.3").unlink()
    now = _same_as_fresh(case)
    assert "FAIL  /opt/check/ssl_client" in now.stdout


def test_a_library_of_the_root_edited_in_place(cases: dict[str, Case]) -> None:
    """``libz.so.1.3.1`` (what ``libz.so.1`` links to) gets other bytes, same inode: apk's zlib symbols go."""
    case = cases["lib-edited"]
    case.prime()
    _rewrite_in_place(case.root / "lib" / "libz.so.1.3.1", case.root / "usr" / "bin" / "getconf")
    now = _same_as_fresh(case)
    assert "FAIL  /opt/check/apk" in now.stdout


def test_a_link_of_the_root_retargeted(cases: dict[str, Case]) -> None:
    case = cases["link"]
    case.prime()
    link = case.root / "lib" / "libz.so.1"
    assert os.readlink(link) == "libz.so.1.3.1"
    os.symlink("libssl.so.3", case.root / "lib" / "libz.new")
    os.replace(case.root / "lib" / "libz.new", link)
    now = _same_as_fresh(case)
    assert "FAIL  /opt/check/apk" in now.stdout


def test_the_root_os_release_edited(cases: dict[str, Case]) -> None:
    case = cases["os-release"]
    first = case.prime()
    assert "alpine 3.19" in first.stdout
    release = case.root / "etc" / "os-release"
    release.write_text(release.read_text().replace("VERSION_ID=3.19", "VERSION_ID=3.99"))
    now = _same_as_fresh(case)
    assert "alpine 3.99" in now.stdout


def test_another_library_path_is_another_question(cases: dict[str, Case]) -> None:
    case = cases["library-path"]
    case.prime()
    _copy(case.old / "lib" / "libcrypto.so.1.1", case.root / "opt" / "old" / "libcrypto.so.1.1")
    now = _same_as_fresh(case, "--library-path", "/opt/old")
    assert now.returncode == 0 and "searched first (LD_LIBRARY_PATH): /opt/old" in now.stdout


def test_nothing_is_kept_from_files_changed_just_before(cases: dict[str, Case]) -> None:
    """Files copied less than ``RACY_NS`` ago: the answer is printed, nothing is kept."""
    case = cases["racy"]
    for f in case.folder.iterdir():  # the folder's own copies (the root shares its inodes with the cache)
        shutil.copyfile(f, case.folder / "new")
        os.replace(case.folder / "new", f)
    proc = case.run()
    assert proc.returncode == 1 and "FAIL" in proc.stdout
    assert case.entries() == []


def test_another_user_never_uses_the_kept_answer(cases: dict[str, Case]) -> None:
    """``nobody`` pointed at root's cache directory, made readable to all: it is not nobody's own, so the
    kept (poisoned) answer is not printed and nothing is written there."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a check as another user")
    realparts.readable_by_others()
    case = cases["nobody"]
    case.prime()
    for d in (case.cache, case.cache / "alpinetags"):
        os.chmod(d, 0o755)
    (entry,) = case.entries()
    os.chmod(entry, 0o644)
    proc = case.run(user="65534")
    assert POISON not in proc.stdout
    assert proc.returncode == 1 and "FAIL  /opt/check/libssl.so.1.1" in proc.stdout, proc.stderr
    assert case.entries() == [entry]


def test_an_answer_that_warned_is_not_kept(cases: dict[str, Case]) -> None:
    case = cases["warned"]
    proc = case.run(ALPINETAGS_DISABLE_PLUGINS="no-such-plugin")
    assert "no plugin named 'no-such-plugin'" in proc.stderr
    assert case.entries() == []


def test_switched_off(cases: dict[str, Case]) -> None:
    """``ALPINETAGS_NO_CACHE=1``: a kept answer is not printed, and none is written."""
    case = cases["off"]
    case.prime()
    (entry,) = case.entries()
    before = entry.read_text()
    proc = case.fresh()
    assert POISON not in proc.stdout and "FAIL  /opt/check/libssl.so.1.1" in proc.stdout
    assert entry.read_text() == before


@pytest.mark.parametrize(
    "spoil",
    ["garbled", "truncated", "no-stdout", "link", "writable-by-others", "huge-exit"],
)
def test_a_spoiled_entry_is_ignored(cases: dict[str, Case], spoil: str) -> None:
    """A garbled or cut file, a field missing, the entry a link or writable by others, a bad exit code:
    the check runs as always (no traceback) and prints the real answer."""
    case = cases["hostile"]
    case.prime()
    (entry,) = case.entries()
    text = entry.read_text()
    if spoil == "garbled":
        entry.write_bytes(os.urandom(4096))
    elif spoil == "truncated":
        entry.write_text(text[: len(text) // 2])
    elif spoil == "no-stdout":
        entry.write_text("\n".join(line for line in text.split("\n") if not line.startswith("stdout\t")))
    elif spoil == "huge-exit":
        entry.write_text("\n".join("exit\tnot-a-number" if line.startswith("exit\t") else line
                                   for line in text.split("\n")))  # fmt: skip
    elif spoil == "link":
        elsewhere = case.base / "elsewhere"
        elsewhere.write_text(text)
        entry.unlink()
        entry.symlink_to(elsewhere)
    else:
        os.chmod(entry, 0o666)
    proc = _same_as_fresh(case)
    assert "Traceback" not in proc.stderr
    for leftover in case.entries():  # the next prime starts clean
        leftover.unlink()

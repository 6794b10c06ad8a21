"""``readlog``: the paths a piece of work looked at, through the ``os`` layer every read of alpinetags uses,
and the signatures the check cache keys on (docs/speed.md, the check cache)."""

from __future__ import annotations

import builtins
import io
import os
import time
from pathlib import Path

import pytest

from alpinetags._engine import readlog


def test_the_reads_of_the_os_layer_are_noted_each_by_its_use(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    f = tmp_path / "d" / "f"
    f.write_bytes(b"x")
    (tmp_path / "link").symlink_to("d/f")
    with readlog.recording() as log:
        assert os.path.exists(f)
        os.path.realpath(tmp_path / "link")
        assert [d for d, _, _ in os.walk(tmp_path / "d")] == [str(tmp_path / "d")]
        with open(f, "rb") as stream:
            stream.read()
        with io.open(str(f), "rb"):  # noqa: UP020 - zipfile calls io.open, which is patched on its own
            pass
        os.close(os.open(f, os.O_RDONLY))
        os.stat(tmp_path / "link", follow_symlinks=False)
        assert not os.path.lexists(tmp_path / "missing")
    reads = set(log.reads)
    assert (readlog.STATED, str(f)) in reads
    assert (readlog.LSTATED, str(tmp_path / "link")) in reads  # realpath and the stat that does not follow
    assert (readlog.LISTED, str(tmp_path / "d")) in reads
    assert (readlog.OPENED, str(f)) in reads
    assert (readlog.LSTATED, str(tmp_path / "missing")) in reads
    assert log.complete
    assert os.stat is not None and builtins.open is io.open  # restored
    assert "noted" not in repr(os.stat) and "noted" not in repr(builtins.open)


def test_restored_when_the_work_raises_and_a_descriptor_relative_read_is_incomplete(tmp_path: Path) -> None:
    saved = (os.stat, os.lstat, os.open, builtins.open, io.open, os.scandir)
    with pytest.raises(RuntimeError):
        with readlog.recording() as log:
            fd = os.open(tmp_path, os.O_RDONLY)
            try:
                os.stat("x", dir_fd=fd)  # Linux takes dir_fd
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)
            raise RuntimeError("the work failed")
    assert (os.stat, os.lstat, os.open, builtins.open, io.open, os.scandir) == saved
    assert not log.complete
    assert readlog.settled(log) is None


def test_a_path_changed_just_before_is_not_settled_an_old_one_is(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.write_text("new")
    with readlog.recording() as log:
        open(fresh).close()
    assert readlog.settled(log) is None  # changed less than RACY_NS before the work
    old = Path("/etc/os-release").resolve()
    if time.time_ns() - os.stat(old).st_ctime_ns < readlog.RACY_NS:
        pytest.fail(f"{old} changed in the last seconds: run again")
    with readlog.recording() as log:
        open(old).close()
        os.path.exists(tmp_path / "missing")
    sigs = readlog.settled(log)
    assert sigs is not None and len(sigs) == 2
    assert sigs == readlog.signatures(log.reads)
    (tmp_path / "missing").write_text("now it exists")
    assert readlog.signatures(log.reads) != sigs


def test_a_directory_only_looked_at_signs_by_identity_a_listed_one_by_its_entries(tmp_path: Path) -> None:
    looked, listed = readlog.sign(readlog.STATED, str(tmp_path)), readlog.sign(readlog.LISTED, str(tmp_path))
    (tmp_path / "new").write_text("an entry")
    assert readlog.sign(readlog.STATED, str(tmp_path)) == looked
    assert readlog.sign(readlog.LISTED, str(tmp_path)) != listed

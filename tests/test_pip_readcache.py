"""What the install-step check read from a wheel file is kept per user until that file changes.

``alpinetags._pip.readcache``: the first pip run that reads a wheel file notes it was seen, the second
keeps what it read (the METADATA's ``Requires-External`` lines, each ELF member's symbols), and later
runs take that instead of opening the wheel; the root is read and the verdict judged afresh each time.
A hit is shown without timing anything: the kept symbols are altered to need ``libpoison.so.1`` and the
check then names it. The wheels are the real numpy musllinux wheel and a real library compiled with
musl-gcc against the Alpine 3.20 root's ``libz.so.1``; the roots are real Alpine minirootfs.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from alpinetags._engine.readlog import RACY_NS
from alpinetags._pip import check, readcache, twins
from alpinetags._pip.twins import Twins
from tests import parts_pip, realparts
from tests.test_pip import pip, warnings_of, write_wheel
from tests.venvs import NEWEST_PIP, hooked_venv

pytestmark = pytest.mark.realparts

LIB = "libcached.so.1"
TAG = "cp311-cp311-musllinux_1_2_x86_64"


def settle() -> None:
    """Wait until files written now are older than the racy window: only those are kept."""
    time.sleep(RACY_NS / 1e9 + 0.2)


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wheel of the real library, a copy of the real numpy wheel, settled; and the roots."""
    r320 = realparts.alpine_minirootfs("3.20")
    base = tmp_path_factory.mktemp("readcache")
    out = parts_pip.build_zlib_library(base, r320, LIB)
    wheels = base / "wheels"
    wheels.mkdir()
    lib_wheel = write_wheel(wheels, "cached", "1.0", TAG, {f"cached/{LIB}": out.read_bytes()})
    numpy = next(w for w in parts_pip.musllinux_wheels() if w.name.startswith("numpy-"))
    shutil.copyfile(numpy, wheels / numpy.name)
    settle()
    return {
        "lib": lib_wheel,
        "numpy": wheels / numpy.name,
        "r320": r320,
        "r38": realparts.alpine_minirootfs("3.8"),
    }


@pytest.fixture(autouse=True)
def fresh_process_state() -> None:
    twins.this_process = Twins()


def env_for(cache: Path, root: Path, **extra: str) -> dict[str, str]:
    """A pip run's environment: its cache under ``cache`` (``XDG_CACHE_HOME``, as tests/conftest.py sets
    one for the session), the target ``root``."""
    return {"XDG_CACHE_HOME": str(cache), "ALPINETAGS_ROOT": str(root), **extra}


def inspect(wheel: Path, env: dict[str, str]) -> check.Inspection:
    twins.this_process = Twins()  # each call as its own pip run would see it
    return check.inspect_wheel(wheel.name.split("-")[0], str(wheel), env)


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "alpinetags").glob(readcache.PREFIX + "*"))


def poison(entry: Path) -> None:
    """Make every kept object need ``libpoison.so.1``: only an answer taken from the entry names it."""
    text = entry.read_text()
    key, _, body = text.partition("\n\n")
    data = json.loads(body)
    for obj in data["objects"]:
        obj[2][3].append("libpoison.so.1")
    entry.write_text(key + "\n\n" + json.dumps(data))


def test_seen_then_kept_then_answered(house: dict[str, Path], tmp_path: Path) -> None:
    env = env_for(tmp_path, house["r320"])
    first = inspect(house["lib"], env)
    assert first.refusal is None and first.kept  # read and kept for pip
    (entry,) = entries(tmp_path)
    assert entry.read_text().endswith("\n\nnull")  # seen once: nothing of the read kept yet
    second = inspect(house["lib"], env)
    assert second.refusal is None and second.kept
    assert not entry.read_text().endswith("\n\nnull")
    third = inspect(house["lib"], env)
    assert third.refusal is None and third.kept == {}  # not opened: pip decompresses it all
    poison(entry)
    refusal = inspect(house["lib"], env).refusal
    assert refusal is not None and "libpoison.so.1" in refusal.message()


def test_the_root_is_judged_afresh(house: dict[str, Path], tmp_path: Path) -> None:
    """Kept from runs against 3.20 (where numpy loads), the read answers for 3.8 what a fresh read
    does: a refusal, word for word."""
    for _ in range(2):
        assert inspect(house["numpy"], env_for(tmp_path, house["r320"])).refusal is None
    from_cache = inspect(house["numpy"], env_for(tmp_path, house["r38"]))
    fresh = inspect(house["numpy"], env_for(tmp_path, house["r38"], ALPINETAGS_NO_CACHE="1"))
    assert fresh.refusal is not None and from_cache.refusal is not None
    assert from_cache.refusal.message() == fresh.refusal.message()
    assert from_cache.kept == {} and inspect(house["numpy"], env_for(tmp_path, house["r320"])).kept == {}


def test_a_wheel_file_written_again_is_read_again(house: dict[str, Path], tmp_path: Path) -> None:
    wheel = tmp_path / "w" / house["lib"].name
    wheel.parent.mkdir()
    shutil.copyfile(house["lib"], wheel)
    settle()
    env = env_for(tmp_path / "cache", house["r320"])
    inspect(wheel, env)
    inspect(wheel, env)
    (entry,) = entries(tmp_path / "cache")
    poison(entry)
    data = wheel.read_bytes()
    wheel.unlink()
    wheel.write_bytes(data)  # the same bytes in a new file
    assert inspect(wheel, env).refusal is None  # not the poisoned entry


def test_a_wheel_written_just_now_is_not_kept(house: dict[str, Path], tmp_path: Path) -> None:
    wheel = tmp_path / "w" / house["lib"].name
    wheel.parent.mkdir()
    shutil.copyfile(house["lib"], wheel)
    env = env_for(tmp_path / "cache", house["r320"])
    for _ in range(3):
        assert inspect(wheel, env).kept  # read every time
    assert entries(tmp_path / "cache") == []


def test_switched_off_writes_nothing(house: dict[str, Path], tmp_path: Path) -> None:
    env = env_for(tmp_path, house["r320"], ALPINETAGS_NO_CACHE="1")
    for _ in range(3):
        assert inspect(house["lib"], env).kept
    assert entries(tmp_path) == []


def test_other_code_is_another_key(
    house: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry names the code that read it: alpinetags upgraded or edited reads the wheel again."""
    env = env_for(tmp_path, house["r320"])
    inspect(house["lib"], env)
    inspect(house["lib"], env)
    (entry,) = entries(tmp_path)
    poison(entry)
    monkeypatch.setattr(readcache, "_code_signature", lambda: "another signature of the code")
    assert inspect(house["lib"], env).refusal is None


@pytest.mark.parametrize(
    "spoil",
    ["not json", "wrong shape", "a name not a string", "writable by others", "a link"],
)
def test_a_spoiled_entry_is_read_afresh(house: dict[str, Path], tmp_path: Path, spoil: str) -> None:
    env = env_for(tmp_path, house["r320"])
    inspect(house["lib"], env)
    inspect(house["lib"], env)
    (entry,) = entries(tmp_path)
    key, _, body = entry.read_text().partition("\n\n")
    data = json.loads(body)
    for obj in data["objects"]:
        obj[2][3].append("libpoison.so.1")  # so that an entry taken despite its fault shows
    if spoil == "not json":
        entry.write_text(key + "\n\n" + json.dumps(data)[:-9])
    elif spoil == "wrong shape":
        data["objects"][0][2] = data["objects"][0][2][:15]
        entry.write_text(key + "\n\n" + json.dumps(data))
    elif spoil == "a name not a string":
        data["objects"][0][2][6].append(7)
        entry.write_text(key + "\n\n" + json.dumps(data))
    elif spoil == "writable by others":
        entry.write_text(key + "\n\n" + json.dumps(data))
        entry.chmod(0o666)
    else:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_text(key + "\n\n" + json.dumps(data))
        entry.unlink()
        entry.symlink_to(elsewhere)
    found = inspect(house["lib"], env)
    assert found.refusal is None and found.kept  # read afresh


def test_pip_answers_from_the_kept_read(house: dict[str, Path], tmp_path: Path) -> None:
    """Through a real pip 26.3 with the hook: the third install of the wheel does not open it (the
    poisoned entry refuses it); with the cache off it installs, byte for byte."""
    python = hooked_venv(NEWEST_PIP)
    cache = tmp_path / "cache"
    root = str(house["r320"])
    for i in range(2):
        proc = pip(python, "install", "--no-deps", "--no-index", "--target", str(tmp_path / f"t{i}"),
                   str(house["lib"]), check=False, XDG_CACHE_HOME=str(cache),
                   ALPINETAGS_ROOT=root)  # fmt: skip
        assert proc.returncode == 0 and not warnings_of(proc.stderr), proc
    (entry,) = entries(cache)
    poison(entry)
    proc = pip(python, "install", "--no-deps", "--no-index", "--target", str(tmp_path / "t2"),
               str(house["lib"]), check=False, XDG_CACHE_HOME=str(cache), ALPINETAGS_ROOT=root)  # fmt: skip
    assert proc.returncode == 1 and "libpoison.so.1" in proc.stderr, proc
    proc = pip(python, "install", "--no-deps", "--no-index", "--target", str(tmp_path / "t3"),
               str(house["lib"]), check=False, XDG_CACHE_HOME=str(cache), ALPINETAGS_ROOT=root,
               ALPINETAGS_NO_CACHE="1")  # fmt: skip
    assert proc.returncode == 0, proc
    with zipfile.ZipFile(house["lib"]) as zf:
        assert (tmp_path / "t3" / "cached" / LIB).read_bytes() == zf.read(f"cached/{LIB}")


def test_files_seen_once_do_not_pile_up(house: dict[str, Path], tmp_path: Path) -> None:
    """pip downloads an index's wheel to a new temporary path each run: each is seen once, never kept,
    and the notes of them are pruned with the rest, at ``MAX_ENTRIES``."""
    copies = []
    for i in range(readcache.MAX_ENTRIES + 20):
        copy = tmp_path / "dl" / str(i) / house["lib"].name
        copy.parent.mkdir(parents=True)
        shutil.copyfile(house["lib"], copy)
        copies.append(copy)
    settle()
    env = env_for(tmp_path / "cache", house["r320"])
    for copy in copies:
        assert inspect(copy, env).refusal is None
    assert len(entries(tmp_path / "cache")) == readcache.MAX_ENTRIES

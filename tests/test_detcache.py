"""The detection cache never gives a wrong answer: each input it keys on, changed, changes the answer;
a file it may not trust is ignored. Real Alpine roots (tests/realparts.py), a real plugin installed with
pip, real processes of another user.

A cache entry is shown to be *used* by tampering with the answer it holds (an ``alpine_9_9`` tag no
detection gives): while its inputs are unchanged that answer comes back; once an input changes, or the
file is one that may not be trusted, the real answer does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from alpinetags._engine import detcache
from alpinetags.tags import all_platforms, default_platforms, sys_tags, tags_for_platforms
from tests import realparts
from tests.venvs import make_venv, run

FAKE = "alpine_9_9_x86_64"
PLUGIN_SRC = Path(__file__).parent / "data" / "example_plugin"


def env_for(root: Path, cache_home: Path, **extra: str) -> dict[str, str]:
    return {"ALPINETAGS_ROOT": str(root), "XDG_CACHE_HOME": str(cache_home), "HOME": "/nonexistent", **extra}


def entries(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "alpinetags").glob("detect-*"))


def tamper(cache_home: Path) -> Path:
    """Put ``FAKE`` first in the plugin platforms of the one entry there (its key left as it is)."""
    (path,) = entries(cache_home)
    lines = path.read_text().split("\n")
    (i,) = [n for n, line in enumerate(lines) if line.startswith("plugin\t") or line == "plugin"]
    lines[i] = "plugin\t" + FAKE + lines[i][len("plugin") :]
    tmp = path.with_name("tampered")
    tmp.write_text("\n".join(lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def replace_file(path: Path, text: str) -> None:
    """A new file in place of ``path`` (the roots are hard-linked to the shared copy: never edit one)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    os.replace(tmp, path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return realparts.copy_minirootfs("3.19", tmp_path / "root")


def test_the_answer_is_the_live_one_and_a_stored_one_is_used(root: Path, tmp_path: Path) -> None:
    env = env_for(root, tmp_path / "cache")
    live = default_platforms({**env, "ALPINETAGS_NO_CACHE": "1"})
    assert entries(tmp_path / "cache") == []  # switched off: nothing written
    assert live[0] == "alpine_3_19_x86_64"
    assert default_platforms(env) == live  # stored now
    assert default_platforms(env) == live  # answered from the file
    tamper(tmp_path / "cache")
    assert default_platforms(env) == [FAKE, *live]  # the file is what answers
    assert default_platforms({**env, "ALPINETAGS_NO_CACHE": "1"}) == live
    other_home = {k: v for k, v in env.items() if k != "XDG_CACHE_HOME"} | {"HOME": str(tmp_path / "home")}
    assert default_platforms(other_home) == live  # another user's (another HOME's) cache is another
    assert default_platforms(other_home) == live and (tmp_path / "home" / ".cache" / "alpinetags").is_dir()


def test_os_release_edited_in_place_same_size_same_mtime(root: Path, tmp_path: Path) -> None:
    env = env_for(root, tmp_path / "cache")
    os_release = root / "etc" / "os-release"
    replace_file(os_release, os_release.read_text())  # a private file, which may be edited in place
    assert default_platforms(env)[0] == "alpine_3_19_x86_64"
    tamper(tmp_path / "cache")
    st = os_release.stat()
    text = os_release.read_text()
    assert "VERSION_ID=3.19.4" in text
    with open(os_release, "r+") as f:  # same length, and the modification time put back
        f.write(text.replace("VERSION_ID=3.19.4", "VERSION_ID=3.17.4"))
    os.utime(os_release, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os_release.stat().st_size == st.st_size
    got = default_platforms(env)
    assert FAKE not in got and got[0] == "alpine_3_17_x86_64"


def test_os_release_replaced_and_alpine_release_of_a_derivative(root: Path, tmp_path: Path) -> None:
    env = env_for(root, tmp_path / "cache")
    assert default_platforms(env)[0] == "alpine_3_19_x86_64"
    tamper(tmp_path / "cache")
    replace_file(root / "etc" / "os-release", 'ID=postmarketos\nID_LIKE="alpine"\nVERSION_ID=v24.06\n')
    assert default_platforms(env)[0] == "alpine_3_19_x86_64"  # from /etc/alpine-release (3.19.4)
    tamper(tmp_path / "cache")
    replace_file(root / "etc" / "alpine-release", "3.16.9\n")
    got = default_platforms(env)
    assert FAKE not in got and got[0] == "alpine_3_16_x86_64"


def test_the_interpreter_replaced(root: Path, tmp_path: Path) -> None:
    """A glibc interpreter put in the root: the interpreter decides the libc, the alpine tags go."""
    env = env_for(root, tmp_path / "cache")
    assert default_platforms(env)[0] == "alpine_3_19_x86_64"
    tamper(tmp_path / "cache")
    (root / "usr" / "bin").mkdir(exist_ok=True)
    shutil.copy(os.path.realpath(sys.executable), root / "usr" / "bin" / "python3")  # this glibc Python
    got = default_platforms(env)
    assert got == ["linux_x86_64"]
    assert got == default_platforms({**env, "ALPINETAGS_NO_CACHE": "1"})


def test_the_loader_replaced(root: Path, tmp_path: Path) -> None:
    """The musl version is read from the loader the interpreter names: another musl, other tags."""
    env = env_for(root, tmp_path / "cache")
    before = default_platforms(env)
    assert "musllinux_1_2_x86_64" in before
    tamper(tmp_path / "cache")
    older = realparts.alpine_minirootfs("3.8")  # musl 1.1.19
    loader = root / "lib" / "ld-musl-x86_64.so.1"
    target = loader.parent / os.readlink(loader) if loader.is_symlink() else loader
    shutil.copy(older / "lib" / "libc.musl-x86_64.so.1", target.with_name("new"))
    os.replace(target.with_name("new"), target)
    got = default_platforms(env)
    assert FAKE not in got and "musllinux_1_2_x86_64" not in got and "musllinux_1_1_x86_64" in got


def test_another_root_and_another_setting(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    r19 = realparts.copy_minirootfs("3.19", tmp_path / "r19")
    r17 = realparts.copy_minirootfs("3.17", tmp_path / "r17")
    for _ in range(2):  # each root keeps its own entry: no eviction, no mix-up
        assert default_platforms(env_for(r19, cache))[0] == "alpine_3_19_x86_64"
        assert default_platforms(env_for(r17, cache))[0] == "alpine_3_17_x86_64"
    assert len(entries(cache)) == 2
    assert default_platforms(env_for(r19, cache, ALPINETAGS_ALPINE_VERSION="3.18"))[0] == "alpine_3_18_x86_64"
    assert "alpine_3_19_x86_64" not in default_platforms(env_for(r19, cache, ALPINETAGS_ALPINE_VERSION=""))


def test_a_warning_is_never_cached(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_bytes(b"ID=alpine\nVERSION_ID=3.19\n" + b"#" * (70 * 1024))
    env = env_for(root, tmp_path / "cache")
    default_platforms(env)  # os-release too large: reported and left out
    assert entries(tmp_path / "cache") == []


HOSTILE: dict[str, Callable[[Path], None]] = {
    "garbage": lambda p: p.write_bytes(os.urandom(4096)),
    "empty": lambda p: p.write_bytes(b""),
    "key only": lambda p: p.write_text(p.read_text().split("\n\n")[0]),
    "a field of the wrong shape": lambda p: p.write_text(p.read_text().replace("plugin\t", "plugin\t\\", 1)),
    "world-writable": lambda p: os.chmod(p, 0o666),
    "group-writable": lambda p: os.chmod(p, 0o620),
    "another owner": lambda p: os.chown(p, 65534, 65534),
    "a symlink": lambda p: (os.replace(p, p.with_name("real")), os.symlink("real", p)),
    "a directory": lambda p: (p.unlink(), p.mkdir()),
    "a fifo": lambda p: (p.unlink(), os.mkfifo(p, 0o600)),
    "the directory world-writable": lambda p: os.chmod(p.parent, 0o777),
    "the directory another user's": lambda p: os.chown(p.parent, 65534, 65534),
    "the directory a symlink": lambda p: (
        os.replace(p.parent, p.parent.with_name("elsewhere")),
        os.symlink("elsewhere", p.parent),
    ),
}


@pytest.mark.parametrize("how", sorted(HOSTILE))
def test_a_file_that_may_not_be_trusted_is_ignored(how: str, root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = env_for(root, cache)
    live = default_platforms(env)
    path = tamper(cache)
    assert default_platforms(env)[0] == FAKE  # trusted as it is
    HOSTILE[how](path)
    assert default_platforms(env) == live


def test_no_cache_directory_no_cache(root: Path, tmp_path: Path) -> None:
    env = {"ALPINETAGS_ROOT": str(root), "HOME": "relative/home"}
    assert detcache.cache_dir(env) is None
    assert default_platforms(env)[0] == "alpine_3_19_x86_64"
    assert detcache.cache_dir({"HOME": "/home/u"}) == "/home/u/.cache/alpinetags"
    assert detcache.cache_dir({"HOME": "/home/u", "XDG_CACHE_HOME": "/c"}) == "/c/alpinetags"


def test_another_user_neither_reads_nor_writes_ours() -> None:
    """The same HOME and XDG_CACHE_HOME, another user (as ``sudo`` without ``-H`` leaves them): the
    entry of the first, tampered, is not taken, and nothing is written into their directory."""
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    realparts.readable_by_others()
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="detcache-users-"))  # readable by the other user, unlike tmp_path
    try:
        os.chmod(base, 0o755)
        root = realparts.copy_minirootfs("3.19", base / "root")
        cache = base / "cache"
        env = env_for(root, cache)
        live = default_platforms(env)
        tamper(cache)
        assert default_platforms(env)[0] == FAKE
        os.seteuid(65534)
        try:
            theirs = default_platforms(env)
        finally:
            os.seteuid(0)
        assert theirs == live
        assert len(entries(cache)) == 1 and entries(cache)[0].stat().st_uid == 0
        assert default_platforms(env)[0] == FAKE  # and ours is still ours
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_plugin_installed_and_removed_is_seen_on_the_next_call(tmp_path: Path) -> None:
    """The real example plugin, installed with pip into a venv whose cache answered without it."""
    src = tmp_path / "src"
    shutil.copytree(PLUGIN_SRC, src)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "w"), str(src)])
    (wheel,) = (tmp_path / "w").glob("alpinetags_example-*.whl")
    python = make_venv(tmp_path / "venv")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=exampleos\nVERSION_ID=7.1\n")
    env = {**os.environ, **env_for(root, tmp_path / "cache")}

    def tags() -> list[str]:
        proc = subprocess.run([str(python), "-m", "alpinetags", "tags"], env=env, capture_output=True,
                              text=True, check=True)  # fmt: skip
        return proc.stdout.split()

    def api() -> list[str]:
        code = "import alpinetags; print(' '.join(alpinetags.all_platforms()))"
        proc = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, check=True)
        return proc.stdout.split()

    without = tags()
    assert not any(t.endswith("-exampleos_7_x86_64") for t in without)
    assert tags() == without and api()[0] == "linux_x86_64"
    assert entries(tmp_path / "cache")  # the shipped plugins alone: stored
    pip = [str(python), "-m", "pip", "-q", "--disable-pip-version-check"]
    run([*pip, "install", "--no-index", "--no-deps", str(wheel)])
    assert tags()[0].endswith("-exampleos_7_x86_64")
    assert api()[0] == "exampleos_7_x86_64"
    run([*pip, "uninstall", "-y", "alpinetags-example"])
    assert tags() == without and api()[0] == "linux_x86_64"


def test_all_platforms_without_arguments_is_the_cached_default(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_for(root, tmp_path / "cache")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    live = default_platforms({**env, "ALPINETAGS_NO_CACHE": "1"})
    assert all_platforms() == live
    assert [str(t) for t in sys_tags()] == [str(t) for t in tags_for_platforms(live)]
    tamper(tmp_path / "cache")
    assert all_platforms()[0] == FAKE


def test_the_directory_keeps_the_newest_entries_only(tmp_path: Path) -> None:
    """``python -c`` from many directories asks as many questions (the current one is on ``sys.path``)."""
    directory = str(tmp_path / "alpinetags")
    for i in range(detcache.MAX_ENTRIES + 6):
        assert detcache.write_entry(directory, f"detect-{i:03d}", "x")
        os.utime(os.path.join(directory, f"detect-{i:03d}"), ns=(i * 10**9, i * 10**9))
    left = sorted(os.listdir(directory))
    assert left == [f"detect-{i:03d}" for i in range(6, detcache.MAX_ENTRIES + 6)]
    assert oct(os.stat(directory).st_mode & 0o777) == "0o700"
    assert {oct(os.stat(os.path.join(directory, n)).st_mode & 0o777) for n in left} == {"0o600"}


def test_the_directory_keeps_a_bounded_number_of_bytes_per_prefix(tmp_path: Path) -> None:
    """The check cache's entries are larger: beyond the bytes allowed the oldest go; another prefix's
    entries (the detection's) are not counted nor removed."""
    directory = str(tmp_path / "alpinetags")
    assert detcache.write_entry(directory, "detect-0", "d" * 5000)
    for i in range(5):
        assert detcache.write_entry(directory, f"check-{i}", "c" * 1000, keep=100, keep_bytes=3500)
        os.utime(os.path.join(directory, f"check-{i}"), ns=(i * 10**9, i * 10**9))
    assert sorted(os.listdir(directory)) == ["check-2", "check-3", "check-4", "detect-0"]


def test_the_key_watches_the_code_in_every_subpackage() -> None:
    """The detection's own code lives in subpackages since the layout move (``_engine``, ``_system``,
    ``_elf``): an edit there must change the key, so their folders and files are watched too."""
    from alpinetags import tags
    from alpinetags._elf import elffile
    from alpinetags._engine import detect, plugins
    from alpinetags._system import musl

    dirs = tags._code_dirs(plugins.load_plugins())
    for module in (detect, musl, elffile, tags):
        assert os.path.dirname(os.path.abspath(str(module.__file__))) in dirs, module.__name__

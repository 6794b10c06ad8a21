"""Under pip, with the hook on, no fault stops ``pip install``: real pip, a fresh venv, real plugin wheels.

The faulty plugins are a real distribution installed into the venv with pip, found through their entry
points: one fails to import, one returns garbage, one calls ``sys.exit()``, one is slow, one asks a
loader that hangs. Beside them the os-release is a FIFO, a directory, a symlink loop, or unreadable
(mode 000 seen from a user namespace), and a root's loader would hang if it were ever run. In every case
pip finishes, installs what the remaining tags choose (the Alpine wheel when the root is Alpine 3.17, the
``any`` wheel with pip's standard tags otherwise), prints one warning per fault and no traceback.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_pip import (
    NEWEST_PIP,
    alpine_root,
    clean_env,
    install_demo,
    venv_with_pip,
    warnings_of,
    wheelhouse,
    write_wheel,
)

HANGING = "#!/bin/sh\nsleep 1000\n"

FAULTY_PLUGINS = {
    # entry point name -> module source
    "imports-badly": "raise ImportError('cannot import on purpose')\n",
    "garbage-detect": (
        "from alpinetags import hookimpl\n"
        "@hookimpl(tryfirst=True)\n"
        "def alpinetags_detect(target, base):\n    return {'arch': 'x86_64', 'distro_id': 'alpine'}\n"
    ),
    "garbage-tags": (
        "from alpinetags import hookimpl\n"
        "@hookimpl\n"
        "def alpinetags_platform_tags(platform):\n    return ['Alpine 9.9']\n"
    ),
    "exits": (
        "import sys\nfrom alpinetags import hookimpl\n"
        "@hookimpl\n"
        "def alpinetags_platform_tags(platform):\n    sys.exit('bye from a plugin')\n"
    ),
    "slow": (
        "import time\nfrom alpinetags import hookimpl\n"
        "@hookimpl\n"
        "def alpinetags_platform_tags(platform):\n    time.sleep(1.2)\n    return []\n"
    ),
    "hangs": (
        "import os\nfrom alpinetags import hookimpl\nfrom alpinetags_musl import musl_loader_version\n"
        "@hookimpl(tryfirst=True)\n"
        "def alpinetags_detect(target, base):\n"
        "    musl_loader_version(target, os.environ['FAULTY_HANGING_LOADER'])\n"
    ),
}
#: What each fault's one warning says.
EXPECTED = {
    "imports-badly": "failed to load: ImportError: cannot import on purpose",
    "garbage-detect": "returned an invalid result from alpinetags_detect",
    "garbage-tags": "returned an invalid result from alpinetags_platform_tags",
    "exits": "raised in alpinetags_platform_tags: SystemExit: bye from a plugin",
    "slow": "is slow: alpinetags_platform_tags took",
    "hangs": "raised in alpinetags_detect: LoaderError: ",  # the timeout here; under a root, never run
}


def faulty_wheel(dest: Path) -> Path:
    files = {f"faulty_{n.replace('-', '_')}.py": src for n, src in FAULTY_PLUGINS.items()}
    eps = "[alpinetags]\n" + "".join(f"{n} = faulty_{n.replace('-', '_')}\n" for n in FAULTY_PLUGINS)
    files["alpinetags_faulty-0.1.dist-info/entry_points.txt"] = eps
    return write_wheel(dest, "alpinetags_faulty", "0.1", "py3-none-any", files)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pip-faults")
    python = venv_with_pip(base / "venv", NEWEST_PIP, enable=True)
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", str(faulty_wheel(base))],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    loader = base / "hanging" / "ld-musl-x86_64.so.1"
    loader.parent.mkdir()
    loader.write_text(HANGING)
    loader.chmod(0o755)
    return {
        "python": python,
        "house": wheelhouse(base / "house", "alpine_3_17_x86_64", "any"),
        "r317": alpine_root(base / "r317", "3.17.5"),
        "loader": loader,
        "base": base,
    }


def check_one_warning_per_fault(stderr: str, extra: tuple[str, ...] = ()) -> None:
    warnings = warnings_of(stderr)
    assert "Traceback" not in stderr
    for name, text in EXPECTED.items():
        mine = [w for w in warnings if f"plugin {name!r}" in w]
        assert len(mine) == 1 and text in mine[0], (name, warnings)
    for text in extra:
        assert len([w for w in warnings if text in w]) == 1, (text, warnings)
    assert len(warnings) == len(EXPECTED) + len(extra), warnings


def test_faulty_plugins_on_an_alpine_root(setup: dict[str, Path]) -> None:
    got = install_demo(
        setup["python"],
        setup["house"],
        ALPINETAGS_ROOT=str(setup["r317"]),
        FAULTY_HANGING_LOADER=str(setup["loader"]),
    )
    assert got.which == "alpine_3_17_x86_64", got  # the Alpine plugin's tags still came out
    check_one_warning_per_fault(got.stderr)


def test_faulty_plugins_on_this_host(setup: dict[str, Path]) -> None:
    got = install_demo(setup["python"], setup["house"], FAULTY_HANGING_LOADER=str(setup["loader"]))
    assert got.which == "any", got  # pip's standard tags
    check_one_warning_per_fault(got.stderr)
    assert f"{setup['loader']}: gave no version within 2 s" in got.stderr  # it ran, and was cut off


@pytest.mark.parametrize("kind", ["fifo", "directory", "loop"])
def test_broken_os_release_in_the_root(setup: dict[str, Path], kind: str) -> None:
    root = setup["base"] / f"root-{kind}"
    (root / "etc").mkdir(parents=True)
    target = root / "etc" / "os-release"
    if kind == "fifo":
        os.mkfifo(target)  # a naive reader would block pip forever
    elif kind == "directory":
        target.mkdir()
    else:
        target.symlink_to("os-release")
    got = install_demo(
        setup["python"], setup["house"], ALPINETAGS_ROOT=str(root), FAULTY_HANGING_LOADER=str(setup["loader"])
    )
    assert got.which == "any", got
    check_one_warning_per_fault(got.stderr, extra=("os-release ignored",))


def test_a_roots_hanging_loader_is_never_run(setup: dict[str, Path]) -> None:
    """A Void-like root whose interpreter names a loader that would hang and leave a mark: never run.

    No distro plugin knows the root, so the musl fallback reads the interpreter's PT_INTERP and finds
    the loader; it cannot read a version from it, and under a root it must not run it.
    """
    if shutil.which("musl-gcc") is None:
        pytest.fail("musl-gcc is missing: apt-get install musl-tools (scripts/test installs it)")
    root = setup["base"] / "void-hanging"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('NAME="Void"\nID="void"\n')
    src = setup["base"] / "hello.c"
    src.write_text("int main(void) { return 0; }\n")
    (root / "usr" / "bin").mkdir(parents=True)
    subprocess.run(["musl-gcc", "-o", str(root / "usr/bin/python3"), str(src)], check=True)
    mark = setup["base"] / "loader-ran"
    (root / "lib").mkdir()
    loader = root / "lib" / "ld-musl-x86_64.so.1"
    loader.write_text(f"#!/bin/sh\ntouch {mark}\nsleep 1000\n")
    loader.chmod(0o755)
    got = install_demo(
        setup["python"], setup["house"], ALPINETAGS_ROOT=str(root), FAULTY_HANGING_LOADER=str(setup["loader"])
    )
    assert got.which == "any", got
    assert not mark.exists(), "a loader under the root was executed"
    assert f"plugin 'musl' raised in alpinetags_detect: LoaderError: {loader}: no musl banner" in got.stderr


def _in_namespace(setup: dict[str, Path], command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``command`` with /etc/os-release unreadable: mode 000, owned by nobody, seen from a user namespace."""
    if os.geteuid() != 0:
        pytest.fail("this test makes a real unreadable file and mount namespace: run the suite as root")
    if shutil.which("unshare") is None:
        pytest.fail("unshare is missing: apt-get install util-linux")
    f = setup["base"] / "os-release-unreadable"
    if not f.exists():
        f.write_text("ID=alpine\nVERSION_ID=3.17.5\n")
        os.chown(f, 65534, 65534)
        f.chmod(0)
    script = f"mount --bind {shlex.quote(str(f))} /etc/os-release && {command}"
    argv = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-ec", script]
    return subprocess.run(argv, capture_output=True, text=True, env=clean_env(**env), cwd="/")


def test_unreadable_os_release_on_this_host(setup: dict[str, Path]) -> None:
    """pip's tags with the hook and every fault equal pip's own tags; one warning per fault."""
    debug = f"{shlex.quote(str(setup['python']))} -m pip debug --verbose"
    on = _in_namespace(setup, debug, FAULTY_HANGING_LOADER=str(setup["loader"]))
    off = _in_namespace(setup, debug, ALPINETAGS_PIP="0")
    assert on.returncode == off.returncode == 0, on.stderr + off.stderr
    assert on.stdout == off.stdout
    check_one_warning_per_fault(on.stderr, extra=("os-release ignored: /etc/os-release: Permission denied",))


def test_unreadable_os_release_stops_pip_install_without_alpinetags_too(setup: dict[str, Path]) -> None:
    """pip itself cannot install here: its User-Agent reads /etc/os-release with its vendored distro.

    Not a fault of the hook (the same failure with the hook off); pinned so that the day pip copes, the
    claim "pip install finishes" can be tested here too. See docs/robustness.md.
    """
    install = (
        f"{shlex.quote(str(setup['python']))} -m pip install --no-index "
        f"--find-links {shlex.quote(str(setup['house']))} demo"
    )
    for env in ({}, {"ALPINETAGS_PIP": "0"}):
        proc = _in_namespace(setup, install, **env)
        assert proc.returncode != 0
        assert "user_agent" in proc.stderr and "PermissionError" in proc.stderr
        assert "alpinetags" not in proc.stderr.replace("alpinetags: warning: plugin", "")

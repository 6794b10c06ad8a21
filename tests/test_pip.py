"""The pip hook with real pip (the newest and one from two years earlier), real wheels, fresh venvs.

Every venv gets the working tree's alpinetags; roots laid out as Alpine 3.16 / 3.17 / 3.18 are given to
pip through ``ALPINETAGS_ROOT``. Which wheel pip chose is read back from the installed module, which
says which wheel it came from.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import NamedTuple, Union

import pytest

from tests.venvs import (
    NEWEST_PIP,
    OLD_PIP,
    REPO,
    clean_env,
    hooked_venv,
    make_venv,  # noqa: F401  (re-exported for bench/ and other test files)
    pip_wheel,  # noqa: F401
    run,
    venv_with_pip,
)

OS_RELEASE_SAMPLE = REPO.parent / "shared" / "data" / "os-release" / "alpine-3.19" / "os-release"
MUSL_LOADER = Path("/lib/ld-musl-x86_64.so.1")  # Debian's musl package (scripts/test installs it)
WARNING = "alpinetags: warning:"


# --- real wheels and an sdist ---------------------------------------------------------------------


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(
    dest: Path,
    name: str,
    version: str,
    tag: str,
    files: dict[str, Union[str, bytes]],
    metadata: str = "",
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A valid wheel (METADATA, WHEEL, RECORD with hashes) holding ``files``; ``metadata``: more lines;
    every member written with ``compression``."""
    dist_info = f"{name}-{version}.dist-info"
    entries = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    entries[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{metadata}".encode()
    )
    purelib = "true" if tag.endswith("-any") else "false"
    entries[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: alpinetags-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    ).encode()
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in entries.items()]
    record.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = dest / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", compression) as zf:
        for arc, data in entries.items():
            zf.writestr(arc, data)
    return path


def demo_wheel(dest: Path, platform: str) -> Path:
    """``demo-1.0-py3-none-<platform>.whl`` whose ``demo.WHICH`` is ``platform``."""
    return write_wheel(dest, "demo", "1.0", f"py3-none-{platform}", {"demo.py": f"WHICH = {platform!r}\n"})


def write_sdist(dest: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """``<name>-<version>.tar.gz`` holding ``files`` under ``<name>-<version>/``, plus its PKG-INFO."""
    files = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", **files}
    path = dest / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for inside, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{inside}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def demo_sdist(dest: Path) -> Path:
    """``demo-1.0.tar.gz``, a setuptools sdist whose ``demo.WHICH`` is ``"sdist"``."""
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "demo"\nversion = "1.0"\n[tool.setuptools]\npy-modules = ["demo"]\n'
    )
    return write_sdist(dest, "demo", "1.0", {"pyproject.toml": pyproject, "demo.py": 'WHICH = "sdist"\n'})


def wheelhouse(dest: Path, *platforms: str, sdist: bool = False) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in platforms:
        demo_wheel(dest, p)
    if sdist:
        demo_sdist(dest)
    return dest


def broken_plugin_wheel(dest: Path) -> Path:
    """A third-party plugin whose platform-tags hook raises."""
    code = (
        "from alpinetags import hookimpl\n\n"
        "@hookimpl\n"
        "def alpinetags_platform_tags(platform):\n"
        "    raise RuntimeError('broken on purpose')\n"
    )
    ep = "[alpinetags]\nbroken = alpinetags_broken\n"
    return write_wheel(
        dest,
        "alpinetags_broken",
        "0.1",
        "py3-none-any",
        {"alpinetags_broken.py": code, "alpinetags_broken-0.1.dist-info/entry_points.txt": ep},
    )


# --- roots, pip wheels, venvs ---------------------------------------------------------------------


def alpine_root(dest: Path, version_id: str, loader: bool = False) -> Path:
    """``dest`` laid out as Alpine ``version_id``: the 3.19 os-release with VERSION_ID changed."""
    if not OS_RELEASE_SAMPLE.is_file():
        pytest.fail(f"{OS_RELEASE_SAMPLE} is missing: the tests need the shared/ folder beside the checkout")
    (dest / "etc").mkdir(parents=True, exist_ok=True)
    lines = [
        f"VERSION_ID={version_id}" if line.startswith("VERSION_ID=") else line
        for line in OS_RELEASE_SAMPLE.read_text().splitlines()
    ]
    (dest / "etc" / "os-release").write_text("\n".join(lines) + "\n")
    if loader:
        if not MUSL_LOADER.is_file():
            pytest.fail(f"{MUSL_LOADER} is missing: apt-get install musl (scripts/test does)")
        (dest / "lib").mkdir(exist_ok=True)
        shutil.copy(MUSL_LOADER, dest / "lib" / MUSL_LOADER.name)
    return dest


def pip(python: Path, *argv: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(python), "-m", "pip", *argv], capture_output=True, text=True, env=clean_env(**env)
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"pip {argv} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class Installed(NamedTuple):
    """Which wheel pip installed (read back from the module), with pip's output for failure messages."""

    which: str
    stderr: str
    stdout: str


def install_demo(python: Path, *houses: Path, **env: str) -> Installed:
    """Install demo from the wheelhouses and import it."""
    links = [a for h in houses for a in ("--find-links", str(h))]
    proc = pip(python, "install", "-v", "--force-reinstall", "--no-deps", "--no-index", *links, "demo", **env)
    return Installed(installed_which(python), proc.stderr, proc.stdout)


def installed_which(python: Path) -> str:
    """``demo.WHICH`` as the venv imports it: the platform of the wheel installed (or ``sdist``)."""
    return run([str(python), "-c", "import demo; print(demo.WHICH)"], cwd="/", env=clean_env()).stdout.strip()


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(WARNING)]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pip-hook")
    return {
        "house": wheelhouse(base / "house", "alpine_3_17_x86_64", "musllinux_1_2_x86_64", "any", sdist=True),
        "house318": wheelhouse(base / "house318", "alpine_3_18_x86_64"),
        "house315": wheelhouse(base / "house315", "alpine_3_15_x86_64", "any"),
        "house_musl11": wheelhouse(base / "house_musl11", "musllinux_1_1_x86_64", "any"),
        "r316": alpine_root(base / "r316", "3.16.9"),
        "r317": alpine_root(base / "r317", "3.17.5"),
        "r318": alpine_root(base / "r318", "3.18.4"),
        "r316_musl": alpine_root(base / "r316_musl", "3.16.9", loader=True),
        "r317_musl": alpine_root(base / "r317_musl", "3.17.5", loader=True),
        "plugin": broken_plugin_wheel(base),
    }


@pytest.fixture(scope="module", params=[NEWEST_PIP, OLD_PIP])
def hooked(request: pytest.FixtureRequest) -> Path:
    """A venv with the .pth enabled, once with each tested pip (shared with tests/test_pip_check.py)."""
    python = hooked_venv(request.param)
    version = pip(python, "--version").stdout
    assert version.startswith(f"pip {request.param} "), version
    return python


# --- pure functions ---------------------------------------------------------------------------------


def test_explicit_platforms_expand() -> None:
    from alpinetags._pip.hook import expand_platforms

    assert expand_platforms(["alpine_3_3_x86_64"]) == [
        "alpine_3_3_x86_64", "alpine_3_2_x86_64", "alpine_3_1_x86_64", "alpine_3_0_x86_64",
    ]  # fmt: skip
    assert expand_platforms(["musllinux_1_2_aarch64", "linux_aarch64"]) == [
        "musllinux_1_2_aarch64", "musllinux_1_1_aarch64", "musllinux_1_0_aarch64", "linux_aarch64",
    ]  # fmt: skip
    # 32-bit x86 on 3.13+ stops at 3.13 (time64), as the Alpine plugin says
    assert expand_platforms(["alpine_3_14_i686"]) == ["alpine_3_14_i686", "alpine_3_13_i686"]
    assert expand_platforms(["manylinux2014_x86_64"]) == ["manylinux2014_x86_64"]


def test_off_switch_values() -> None:
    from alpinetags._pip.hook import hook_enabled

    assert hook_enabled({})
    assert hook_enabled({"ALPINETAGS_PIP": "1"})
    for off in ("0", "off", "false", "NO", " 0 "):
        assert not hook_enabled({"ALPINETAGS_PIP": off})


def test_wrapper_changes_only_platforms_with_this_pythons_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrapper around the real pip of the interpreter running the tests, positional and keyword."""
    from pip._internal.utils import compatibility_tags

    from alpinetags._pip.hook import wrap_get_supported
    from alpinetags._pip.patching import PATCHED_MARK

    original = getattr(compatibility_tags.get_supported, PATCHED_MARK, compatibility_tags.get_supported)
    wrapped = wrap_get_supported(original)
    expanded = {str(t) for t in wrapped(None, ["alpine_3_1_x86_64"])}
    assert "py3-none-alpine_3_0_x86_64" in expanded
    assert {str(t) for t in wrapped(platforms=["alpine_3_1_x86_64"])} == expanded
    monkeypatch.setenv("ALPINETAGS_PIP", "0")
    assert [str(t) for t in wrapped(None, ["alpine_3_1_x86_64"])] == [
        str(t) for t in original(None, ["alpine_3_1_x86_64"])
    ]


def test_a_pip_whose_function_moved_is_refused() -> None:
    import types

    from alpinetags._pip.hook import patch_tags_module

    moved = types.ModuleType("pip._internal.utils.compatibility_tags")
    with pytest.raises(RuntimeError, match="not found in this pip"):
        patch_tags_module(moved)
    moved.get_supported = lambda platforms=None, version=None: []  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="not found in this pip"):
        patch_tags_module(moved)


# --- the .pth at interpreter start --------------------------------------------------------------------


def test_pth_imports_nothing_at_start(hooked: Path) -> None:
    code = (
        "import sys\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'alpinetags', 'pluggy', 'distro', 'packaging', 'pip'})\n"
        "hook = [f for f in sys.meta_path if getattr(f, 'alpinetags_pip_hook', False)]\n"
        "print(heavy, len(hook))\n"
    )
    proc = subprocess.run([str(hooked), "-c", code], capture_output=True, text=True, env=clean_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[] 1"
    assert proc.stderr == ""


# --- the cases of the issue ---------------------------------------------------------------------------


def test_alpine_317_installs_the_alpine_wheel(hooked: Path, places: dict[str, Path]) -> None:
    got = install_demo(hooked, places["house"], ALPINETAGS_ROOT=str(places["r317"]))
    assert got.which == "alpine_3_17_x86_64", got
    assert not warnings_of(got.stderr)
    # pip check asks get_supported too: the installed alpine wheel is supported on 3.17 only
    assert pip(hooked, "check", ALPINETAGS_ROOT=str(places["r317"])).returncode == 0
    other = pip(hooked, "check", check=False, ALPINETAGS_ROOT=str(places["r316"]))
    assert other.returncode == 1 and "demo 1.0 is not supported on this platform" in other.stdout


def test_alpine_316_does_not(hooked: Path, places: dict[str, Path]) -> None:
    got = install_demo(hooked, places["house"], ALPINETAGS_ROOT=str(places["r316"]))
    assert got.which == "any", got


def test_switched_off_for_one_command(hooked: Path, places: dict[str, Path]) -> None:
    got = install_demo(hooked, places["house"], ALPINETAGS_ROOT=str(places["r317"]), ALPINETAGS_PIP="0")
    assert got.which == "any", got


def test_alpine_318_takes_the_318_wheel(hooked: Path, places: dict[str, Path]) -> None:
    got = install_demo(hooked, places["house"], places["house318"], ALPINETAGS_ROOT=str(places["r318"]))
    assert got.which == "alpine_3_18_x86_64", got


def test_root_with_musl_loader_adds_its_musllinux_tags(hooked: Path, places: dict[str, Path]) -> None:
    """The design call: a root with a readable musl loader also gets that musl's musllinux tags."""
    got = install_demo(hooked, places["house"], ALPINETAGS_ROOT=str(places["r316_musl"]))
    assert got.which == "musllinux_1_2_x86_64", got
    got = install_demo(hooked, places["house"], ALPINETAGS_ROOT=str(places["r317_musl"]))
    assert got.which == "alpine_3_17_x86_64", got  # the release's tag beats musllinux


def test_without_a_root_this_glibc_host_is_unchanged(hooked: Path, places: dict[str, Path]) -> None:
    got = install_demo(hooked, places["house"])
    assert got.which == "any", got
    on = pip(hooked, "debug", "--verbose").stdout
    off = pip(hooked, "debug", "--verbose", ALPINETAGS_PIP="0").stdout
    assert on == off


def test_pip_debug_lists_the_alpine_tags_first(hooked: Path, places: dict[str, Path]) -> None:
    out = pip(hooked, "debug", "--verbose", ALPINETAGS_ROOT=str(places["r317"])).stdout
    tags = [line.strip() for line in out.splitlines() if line.startswith("  ") and line.count("-") == 2]
    cp = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert tags[0] == f"{cp}-{cp}-alpine_3_17_x86_64"
    assert f"{cp}-{cp}-alpine_3_0_x86_64" in tags
    assert "py3-none-alpine_3_17_x86_64" in tags
    # pip's own platforms follow the alpine ones for each interpreter/abi
    assert tags.index(f"{cp}-{cp}-alpine_3_0_x86_64") < tags.index(f"{cp}-{cp}-linux_x86_64")
    assert not any("musllinux" in t for t in tags)  # no loader in this root, glibc host


def test_pip_wheel_takes_the_alpine_wheel(hooked: Path, places: dict[str, Path], tmp_path: Path) -> None:
    pip(hooked, "wheel", "--no-deps", "--no-index", "--find-links", str(places["house"]), "-w", str(tmp_path),
        "demo", ALPINETAGS_ROOT=str(places["r317"]))  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["demo-1.0-py3-none-alpine_3_17_x86_64.whl"]


def test_platform_alpine_318_expands_to_315(hooked: Path, places: dict[str, Path], tmp_path: Path) -> None:
    args = ["download", "--no-index", "--find-links", str(places["house315"]), "--only-binary=:all:",
            "--platform", "alpine_3_18_x86_64", "-d", str(tmp_path / "on"), "demo"]  # fmt: skip
    pip(hooked, *args)
    assert [p.name for p in (tmp_path / "on").iterdir()] == ["demo-1.0-py3-none-alpine_3_15_x86_64.whl"]
    args[args.index(str(tmp_path / "on"))] = str(tmp_path / "off")
    pip(hooked, *args, ALPINETAGS_PIP="0")  # pip alone does not expand
    assert [p.name for p in (tmp_path / "off").iterdir()] == ["demo-1.0-py3-none-any.whl"]


def test_platform_musllinux_expands(hooked: Path, places: dict[str, Path], tmp_path: Path) -> None:
    pip(hooked, "download", "--no-index", "--find-links", str(places["house_musl11"]), "--only-binary=:all:",
        "--platform", "musllinux_1_2_x86_64", "-d", str(tmp_path), "demo",
        ALPINETAGS_ROOT=str(places["r317"]))  # fmt: skip
    # the explicit platform wins over the host (3.17 root): no alpine tag was added, musllinux expanded
    assert [p.name for p in tmp_path.iterdir()] == ["demo-1.0-py3-none-musllinux_1_1_x86_64.whl"]


# --- the command line ----------------------------------------------------------------------------------


def test_status_says_on_and_lists_the_platforms(hooked: Path, places: dict[str, Path]) -> None:
    import json

    tool = hooked.parent / "alpinetags"
    proc = subprocess.run(
        [str(tool), "pip", "status", "--json"],
        capture_output=True,
        text=True,
        env=clean_env(ALPINETAGS_ROOT=str(places["r317"])),
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["on"] is True
    assert data["pth_loaded_at_start"] is True
    assert data["pip"]["patch_point"] is True
    # the root's own platforms, instead of the host's: no loader in this root, so no musllinux tags
    assert data["replaces_pip_platforms"] is True
    assert data["platforms_added"][0] == "alpine_3_17_x86_64"
    assert data["platforms_added"][-2:] == ["alpine_3_0_x86_64", "linux_x86_64"]
    off = subprocess.run(
        [str(tool), "pip", "status", "--json"],
        capture_output=True,
        text=True,
        env=clean_env(ALPINETAGS_PIP="0"),
    )
    assert json.loads(off.stdout)["on"] is False


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the newest pip and alpinetags, hook not enabled."""
    return venv_with_pip(tmp_path_factory.mktemp("venv-plain"), NEWEST_PIP, enable=False)


def test_in_process_pip_runs_with_the_hook(plain: Path, places: dict[str, Path]) -> None:
    root = str(places["r317"])
    got = install_demo(plain, places["house"], ALPINETAGS_ROOT=root)
    assert got.which == "any", got  # not enabled: plain pip is unchanged
    tool = plain.parent / "alpinetags"
    links = ["--find-links", str(places["house"])]
    for argv in ([str(tool)], [str(plain), "-m", "alpinetags"]):
        run([*argv, "pip", "install", "--force-reinstall", "--no-deps", "--no-index", *links, "demo"],
            env=clean_env(ALPINETAGS_ROOT=root))  # fmt: skip
        assert installed_which(plain) == "alpine_3_17_x86_64"
    install_demo(plain, places["house"])  # back to the any wheel
    # --root is the same as ALPINETAGS_ROOT; pip's exit code comes back
    run([str(tool), "pip", "--root", root, "install", "--force-reinstall", "--no-deps", "--no-index", *links,
         "demo"], env=clean_env())  # fmt: skip
    assert installed_which(plain) == "alpine_3_17_x86_64"
    bad = subprocess.run(
        [str(tool), "pip", "install", "--no-index", "no-such-project-xyz"], capture_output=True
    )
    assert bad.returncode == 1


def test_enable_user_inside_a_venv_is_refused(plain: Path, tmp_path: Path) -> None:
    """A venv's python does not read the user site, every other python of that version does: refused with
    exit 2 and nothing written, as pip refuses --user there. disable --user still cleans up."""
    tool = str(plain.parent / "alpinetags")
    env = clean_env(PYTHONUSERBASE=str(tmp_path))
    proc = subprocess.run([tool, "pip", "enable", "--user"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2, proc
    assert proc.stderr.startswith("alpinetags pip: enable --user inside a virtual environment")
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("alpinetags-pip-hook.pth"))
    assert "was not on" in run([tool, "pip", "disable", "--user"], env=env).stdout


# --- faults ---------------------------------------------------------------------------------------------


def test_broken_plugin_warns_once_and_the_others_still_work(hooked: Path, places: dict[str, Path]) -> None:
    pip(hooked, "install", "--no-index", str(places["plugin"]))
    try:
        got = install_demo(hooked, places["house"], ALPINETAGS_ROOT=str(places["r317"]))
    finally:
        pip(hooked, "uninstall", "-y", "alpinetags_broken")
    assert got.which == "alpine_3_17_x86_64", got
    (line,) = warnings_of(got.stderr)
    assert "'broken'" in line and "broken on purpose" in line
    assert "Traceback" not in got.stderr


def test_failing_core_fails_open_with_one_warning(hooked: Path, places: dict[str, Path]) -> None:
    got = install_demo(
        hooked, places["house"], ALPINETAGS_ROOT=str(places["r317"]), ALPINETAGS_MUSL_VERSION="one.two"
    )
    assert got.which == "any", got  # pip's standard tags
    (line,) = warnings_of(got.stderr)
    assert "pip hook off" in line and "ALPINETAGS_MUSL_VERSION" in line
    assert "Traceback" not in got.stderr


def test_pth_left_after_uninstall(tmp_path: Path, places: dict[str, Path]) -> None:
    """The leftover hook (the .pth and the module it imports: neither is in alpinetags' RECORD) is harmless
    and silent: Python starts, pip works with its standard tags."""
    python = venv_with_pip(tmp_path / "venv", NEWEST_PIP, enable=True)
    pip(python, "uninstall", "-y", "alpinetags")
    (pth,) = (tmp_path / "venv").rglob("alpinetags-pip-hook.pth")
    assert (pth.parent / "alpinetags_pip_hook.py").is_file()
    assert not (pth.parent / "alpinetags").exists()
    proc = subprocess.run([str(python), "-c", "pass"], capture_output=True, text=True, env=clean_env())
    assert proc.returncode == 0 and proc.stderr == ""
    got = install_demo(python, places["house"], ALPINETAGS_ROOT=str(places["r317"]))
    assert got.which == "any", got
    assert not warnings_of(got.stderr) and "Traceback" not in got.stderr
    assert pth.exists()


def test_cli_usage_errors() -> None:
    def alpinetags(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "alpinetags", *argv], capture_output=True, text=True)

    empty = alpinetags("pip")
    assert empty.returncode == 2 and "enable, disable, status" in empty.stderr
    stated = alpinetags("pip", "--target", "alpine:3.19,x86_64", "install", "demo")
    assert stated.returncode == 2 and "--platform" in stated.stderr
    version = alpinetags("pip", "--", "--version")  # pip's own options go after --
    assert version.returncode == 0 and version.stdout.startswith("pip "), version.stderr


def _alpinetags(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m alpinetags`` of this interpreter, which has not run the .pth (the hook is off here)."""
    return subprocess.run([sys.executable, "-m", "alpinetags", *argv], capture_output=True, text=True,
                          env=clean_env(**env))  # fmt: skip


def test_pip_help_lists_only_what_pip_accepts_and_ends_with_its_examples() -> None:
    out = _alpinetags("pip", "--help").stdout
    options = out.split("\nenvironment:")[0]  # the examples use pip's own --target
    for refused in ("--target", "--arch", "--executable"):
        assert refused not in options
        assert _alpinetags("pip", refused, "x", "status").returncode == 2
    assert "--root DIR" in options and "--disable-plugin" in options
    tail = out.rstrip().splitlines()[-3:]
    assert all(line.startswith("  ") for line in tail) and "alpinetags pip disable" in tail[-1]
    for command in ("status", "enable"):
        sub = _alpinetags("pip", command, "--help").stdout.rstrip().splitlines()
        assert any(line.startswith(f"  alpinetags pip {command}") for line in sub[-4:]), sub
    assert "alpinetags pip status" not in _alpinetags("tags", "--help").stdout


def test_pip_status_takes_root_after_status(places: dict[str, Path]) -> None:
    import json

    root = str(places["r317"])
    for argv in (["pip", "status", "--root", root, "--json"], ["pip", "--root", root, "status", "--json"],
                 ["pip", "--json", "status", "--root", root, "--disable-plugin", "musl"]):  # fmt: skip
        proc = _alpinetags(*argv)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert json.loads(proc.stdout)["platforms_if_on"][0] == "alpine_3_17_x86_64"
    gone = _alpinetags("pip", "status", "--root", root, "--disable-plugin", "alpine", "--json")
    assert json.loads(gone.stdout)["platforms_if_on"] == ["linux_x86_64"]  # the root's, not the host's
    bad = _alpinetags("pip", "status", "--root", str(places["r317"] / "nowhere"))
    assert bad.returncode == 2 and "nowhere" in bad.stderr
    assert _alpinetags("pip", "--root", root, "enable").returncode == 2  # the .pth holds no root


def test_pip_status_while_off_does_not_claim_the_platforms(places: dict[str, Path]) -> None:
    import json

    root = str(places["r317"])
    data = json.loads(_alpinetags("pip", "status", "--root", root, "--json").stdout)
    assert data["on"] is False and data["pth_loaded_at_start"] is False
    assert data["platforms_added"] == [] and data["platforms_if_on"][0] == "alpine_3_17_x86_64"
    text = _alpinetags("pip", "status", "--root", root).stdout
    assert text.startswith("pip hook: off")
    assert "platforms pip gets before its own" not in text
    assert "with the hook on it would get these" in text

"""The native-library check at pip's install step: real pip 23.0, 24.3.1 and 26.3, real Alpine roots.

The wheel is ``sslmod-1.0-cp311-cp311-alpine_3_16_x86_64.whl``: a real C extension compiled with
musl-gcc against the real ``libssl.so.1.1`` / ``libcrypto.so.1.1`` of the Alpine 3.16 minirootfs
(``tests/parts_wheel.build_ssl_extension``). With ``ALPINETAGS_ROOT`` at the real Alpine 3.17 root, the
hook's tags accept it (3.17 accepts 3.16's tag) and the check must refuse it, because 3.17 ships
``libssl.so.3`` only; with the real 3.16 root it installs.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import parts_experiments, parts_pip, realparts
from tests.parts_wheel import build_ssl_extension
from tests.test_pip import demo_wheel, pip, warnings_of, write_wheel
from tests.venvs import NEWEST_PIP, OLD_PIP, OLDEST_PIP, clean_env, hooked_venv, run, venv_with_pip

pytestmark = pytest.mark.realparts

PIPS = [NEWEST_PIP, OLD_PIP, OLDEST_PIP]
SSL_TAG = "cp311-cp311-alpine_3_16_x86_64"
SSL_WHEEL = f"sslmod-1.0-{SSL_TAG}.whl"
MODULE = "sslmod.cpython-311-x86_64-linux-musl.so"


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the test wheel is cp311 (the Alpine-built CPython's version)")
    base = tmp_path_factory.mktemp("pip-check")
    r316 = realparts.alpine_minirootfs("3.16")
    module = build_ssl_extension(base / "build", r316, "libssl.so.1.1", "libcrypto.so.1.1")
    house = base / "house"
    house.mkdir()
    write_wheel(house, "sslmod", "1.0", SSL_TAG, {MODULE: module.read_bytes()})
    declared = base / "declared"
    declared.mkdir()
    # No ELF at all, only the METADATA line `alpinetags wheel tag` writes: refused from METADATA alone.
    write_wheel(
        declared, "sslreq", "1.0", SSL_TAG, {"sslreq.py": "X = 1\n"}, "Requires-External: libssl.so.1.1\n"
    )
    plain = base / "plain"
    plain.mkdir()
    demo_wheel(plain, "alpine_3_16_x86_64")  # platform-tagged, no ELF, no Requires-External
    return {
        "house": house,
        "declared": declared,
        "plain": plain,
        "r316": r316,
        "module": module,
        "r317": realparts.alpine_minirootfs("3.17"),
    }


@pytest.fixture(scope="module", params=PIPS)
def hooked(request: pytest.FixtureRequest) -> Path:
    return hooked_venv(request.param)


def install(python: Path, house: Path, project: str, **env: str) -> subprocess.CompletedProcess[str]:
    return pip(
        python, "install", "--no-deps", "--no-index", "--find-links", str(house), project, check=False, **env
    )


def installed(python: Path, project: str) -> bool:
    return pip(python, "show", "-q", project, check=False).returncode == 0


def uninstall(python: Path, project: str) -> None:
    pip(python, "uninstall", "-y", project, check=False)


# --- the .pth line (issues 11, 21) --------------------------------------------------------------------


def test_pth_line_imports_a_readable_module_that_adds_one_finder(tmp_path: Path) -> None:
    """``enable`` writes ``alpinetags_pip_hook.py`` and a ``.pth`` whose one line imports it; the module
    imports nothing but ``sys`` at start, is read twice as one finder (``site`` reads the ``.pth`` twice
    in a venv whose ``lib64`` links to ``lib``), and answers ``None`` for anything but pip's three modules,
    and for those too when alpinetags cannot be imported."""
    from alpinetags._pip.hookfiles import enable_in
    from alpinetags._pip.patching import FACTORY_MODULE, TAGS_MODULE, WHEEL_MODULE
    from alpinetags._pip.pth import pth_line

    site_dir = tmp_path / "site-packages"
    files = enable_in(str(site_dir))
    pth, module = Path(files.pth), Path(files.module)
    assert pth_line() == "import alpinetags_pip_hook\n"
    lines = pth.read_text().splitlines()
    assert lines[-1] == "import alpinetags_pip_hook" and all(t.startswith("#") for t in lines[:-1])
    assert "marshal" not in module.read_text() and "exec(" not in module.read_text()
    tree = ast.parse(module.read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in imports] == [
        "import sys", "from alpinetags._pip.pth import find_pip_module_spec",  # the second inside find_spec
    ]  # fmt: skip
    assert all(name in module.read_text() for name in (TAGS_MODULE, WHEEL_MODULE, FACTORY_MODULE))
    (tmp_path / "lib64").symlink_to(tmp_path)  # the venv layout: the same directory by a second path
    again = tmp_path / "lib64" / "site-packages"
    code = (
        "import sys; before = set(sys.modules)\n"
        "import site; before |= set(sys.modules)\n"
        f"site.addsitedir({str(site_dir)!r}); site.addsitedir({str(again)!r})\n"
        "hooks = [f for f in sys.meta_path if getattr(f, 'alpinetags_pip_hook', False)]\n"
        "print(len(hooks), sorted(m for m in set(sys.modules) - before if not m.startswith('encodings')))\n"
        f"print([hooks[0].find_spec(n) for n in ('json', 'pip', {TAGS_MODULE!r}, {FACTORY_MODULE!r})])\n"
    )
    # -S: no site-packages, so alpinetags cannot be imported (as when it is uninstalled)
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, cwd="/")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "1 ['alpinetags_pip_hook']\n[None, None, None, None]\n"


def test_in_process_finder_is_the_same_module_added_once() -> None:
    """``alpinetags pip ARGS`` installs the finder from the same text ``enable`` writes, once."""
    code = (
        "import sys\nfrom alpinetags._pip.pth import install_finder\n"
        "install_finder(); install_finder(); import alpinetags_pip_hook\n"
        "hooks = [f for f in sys.meta_path if getattr(f, 'alpinetags_pip_hook', False)]\n"
        "print(len(hooks), hooks[0] is sys.modules['alpinetags_pip_hook'], hooks[0].find_spec('json'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1 True None\n", "")


# --- issue 12 under pip: refused on 3.17, installed on 3.16 -------------------------------------------


def test_refused_on_alpine_317(hooked: Path, places: dict[str, Path]) -> None:
    uninstall(hooked, "sslmod")
    proc = install(hooked, places["house"], "sslmod", ALPINETAGS_ROOT=str(places["r317"]))
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, proc.stderr
    message = proc.stderr[proc.stderr.index("ERROR:") :]
    assert SSL_WHEEL in errors[0] and str(places["r317"]) in errors[0]
    (needs,) = [line for line in message.splitlines() if line.startswith(f"  {MODULE} needs ")]
    assert "libssl.so.1.1" in needs and "libcrypto.so.1.1" in needs
    assert "apk add so:libssl.so.1.1" in message  # the Alpine plugin's hint: 3.17 has a compat package
    assert "pip install --no-binary sslmod" in message
    assert "ALPINETAGS_CHECK=0 pip install" in message
    assert not warnings_of(proc.stderr)
    assert not installed(hooked, "sslmod")


def test_installs_on_alpine_316(hooked: Path, places: dict[str, Path]) -> None:
    proc = install(hooked, places["house"], "sslmod", ALPINETAGS_ROOT=str(places["r316"]))
    try:
        assert proc.returncode == 0, proc
        assert not warnings_of(proc.stderr)
        assert installed(hooked, "sslmod")
        # pip wrote the bytes the check had decompressed (handed over, not decompressed twice): the same
        (written,) = hooked.parent.parent.glob(f"lib/python*/site-packages/{MODULE}")
        assert written.read_bytes() == places["module"].read_bytes()
    finally:
        uninstall(hooked, "sslmod")


def test_check_switched_off_installs_on_317(hooked: Path, places: dict[str, Path]) -> None:
    for switch in ({"ALPINETAGS_CHECK": "0"}, {"ALPINETAGS_CHECK": "off"}):
        proc = install(hooked, places["house"], "sslmod", ALPINETAGS_ROOT=str(places["r317"]), **switch)
        try:
            assert proc.returncode == 0, proc
            assert not warnings_of(proc.stderr)
            assert installed(hooked, "sslmod")
        finally:
            uninstall(hooked, "sslmod")


def test_requires_external_refuses_without_elf(places: dict[str, Path]) -> None:
    python = hooked_venv(NEWEST_PIP)
    proc = install(python, places["declared"], "sslreq", ALPINETAGS_ROOT=str(places["r317"]))
    assert proc.returncode == 1, proc
    # passed over as a candidate, from the metadata pip read (tests/test_pip_candidates.py), so the
    # install step's own METADATA look is not reached
    assert "ERROR: alpinetags: no wheel of sslreq that pip could use would load" in proc.stderr
    assert f"  sslreq-1.0-{SSL_TAG}.whl: needs libssl.so.1.1 (Requires-External)" in proc.stderr
    assert not installed(python, "sslreq")
    proc = install(python, places["declared"], "sslreq", ALPINETAGS_ROOT=str(places["r316"]))
    try:
        assert proc.returncode == 0, proc
    finally:
        uninstall(python, "sslreq")


def test_platform_wheel_without_elf_installs(places: dict[str, Path]) -> None:
    python = hooked_venv(NEWEST_PIP)
    proc = install(python, places["plain"], "demo", ALPINETAGS_ROOT=str(places["r317"]))
    assert proc.returncode == 0 and not warnings_of(proc.stderr), proc


def test_status_finds_both_patch_points(hooked: Path) -> None:
    out = run([str(hooked.parent / "alpinetags"), "pip", "status", "--json"], env=clean_env()).stdout
    data = json.loads(out)
    assert data["pip"]["patch_point"] is True
    assert data["pip"]["install_patch_point"] is True
    assert data["native_check"] == {"on": True, "switched_off_by": None, "root": "/"}
    off = json.loads(
        run(
            [str(hooked.parent / "alpinetags"), "pip", "status", "--json"],
            env=clean_env(ALPINETAGS_CHECK="0"),
        ).stdout
    )
    assert off["on"] is True and off["native_check"]["on"] is False
    assert off["native_check"]["switched_off_by"] == "ALPINETAGS_CHECK=0"


def test_real_musllinux_wheels_install_on_alpine_320(tmp_path: Path) -> None:
    """No false refusal: numpy (bundled libstdc++ needing its bundled libgcc_s) and ujson (a top-level
    module with RPATH $ORIGIN/ujson.libs) install on the real Alpine 3.20 root with the check on."""
    python = hooked_venv(NEWEST_PIP)
    wheels = [str(w) for w in parts_pip.musllinux_wheels()]
    root = str(realparts.alpine_minirootfs("3.20"))
    proc = pip(python, "install", "--no-deps", "--no-index", "--no-compile", "--target", str(tmp_path / "t"),
               *wheels, check=False, ALPINETAGS_ROOT=root)  # fmt: skip
    assert proc.returncode == 0, proc
    assert not warnings_of(proc.stderr)
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "t").glob("*.dist-info")) == ["numpy", "ujson"]


@pytest.mark.parametrize(("minor", "refused"), [("3.8", True), ("3.9", False)])
def test_jiter_needs_musl_1_1_20(minor: str, refused: bool, tmp_path: Path) -> None:
    """jiter 0.19.0 says musllinux_1_1 but calls getrandom (musl 1.1.20): Alpine 3.8 has musl 1.1.19."""
    python = hooked_venv(NEWEST_PIP)
    jiter = parts_experiments.jiter_wheel()
    root = str(realparts.alpine_minirootfs(minor))
    proc = pip(python, "install", "--no-deps", "--no-index", "--target", str(tmp_path / "t"), str(jiter),
               check=False, ALPINETAGS_ROOT=root)  # fmt: skip
    if refused:
        assert proc.returncode == 1, proc
        assert f"{jiter.name} would not load on the system in {root}" in proc.stderr
        assert "getrandom" in proc.stderr and "pip install --no-binary jiter" in proc.stderr
        assert not (tmp_path / "t").exists() or not list((tmp_path / "t").iterdir())
    else:
        assert proc.returncode == 0 and not warnings_of(proc.stderr), proc
        assert list((tmp_path / "t").glob("jiter-0.19.0.dist-info"))


def test_patched_lazily_and_preloaded_only_where_pip_blocks_imports(hooked: Path) -> None:
    """Importing pip's install module patches it; only pip 26.3, which blocks imports while it installs,
    gets the check's modules imported then (older pips import that module at start for most commands)."""
    code = (
        "import sys; import pip._internal.operations.install.wheel as w\n"
        "print(hasattr(w.install_wheel, '_alpinetags_original'), 'alpinetags._load.native' in sys.modules)\n"
    )
    out = run([str(hooked), "-c", code], env=clean_env(), cwd="/").stdout.split()
    version = pip(hooked, "--version").stdout.split()[1]
    assert out == ["True", "True" if version == NEWEST_PIP else "False"], (version, out)


# --- fail open ----------------------------------------------------------------------------------------


def test_a_failing_check_fails_open_with_one_warning(places: dict[str, Path]) -> None:
    """A broken install of alpinetags (its native module gone): one warning, and pip installs."""
    python = hooked_venv(NEWEST_PIP)
    (native,) = python.parent.parent.glob("lib/python*/site-packages/alpinetags/_load/native.py")
    hidden = native.with_name("native.py.hidden")
    native.rename(hidden)
    try:
        proc = install(python, places["house"], "sslmod", ALPINETAGS_ROOT=str(places["r317"]))
    finally:
        hidden.rename(native)
    try:
        assert proc.returncode == 0, proc
        (line,) = warnings_of(proc.stderr)
        assert f"native check failed for {SSL_WHEEL}, pip installs it unchecked:" in line
        assert "importing alpinetags._load.native: ModuleNotFoundError" in line
        assert "Traceback" not in proc.stderr
        assert installed(python, "sslmod")
    finally:
        uninstall(python, "sslmod")


def test_an_unreadable_elf_member_fails_open(tmp_path: Path) -> None:
    """A member that starts like ELF but whose headers point outside it: one warning, pip installs."""
    python = hooked_venv(NEWEST_PIP)
    broken = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00\x3e\x00" + b"\xff" * 200
    wheel = write_wheel(
        tmp_path, "broken", "1.0", "py3-none-linux_x86_64", {"broken/x.so": broken, "broken/__init__.py": ""}
    )
    proc = pip(
        python, "install", "--no-deps", "--no-index", "--target", str(tmp_path / "t"), str(wheel), check=False
    )
    assert proc.returncode == 0, proc
    (line,) = warnings_of(proc.stderr)
    assert f"native check failed for {wheel.name}, pip installs it unchecked: OSError:" in line
    assert "program header table lies outside the file" in line
    assert (tmp_path / "t" / "broken" / "x.so").read_bytes() == broken


def test_a_pip_whose_install_wheel_moved_is_refused() -> None:
    import types

    from alpinetags._pip.check import patch_wheel_module

    moved = types.ModuleType("pip._internal.operations.install.wheel")
    with pytest.raises(RuntimeError, match="not found in this pip"):
        patch_wheel_module(moved)
    moved.install_wheel = lambda wheel_path, name: None  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="not found in this pip"):
        patch_wheel_module(moved)


# --- pure functions -----------------------------------------------------------------------------------


def test_pure_wheels_are_not_opened(tmp_path: Path) -> None:
    from alpinetags._pip.check import check_for_pip, is_pure

    def never(container: object, root: str) -> tuple[tuple[object, ...], tuple[str, ...]]:
        raise AssertionError("the ELF check ran")

    missing = str(tmp_path / "nothing-1.0-py3-none-any.whl")  # does not exist: never opened
    assert check_for_pip("nothing", missing, {}, native=never) is None  # type: ignore[arg-type]
    assert is_pure("a-1-py2.py3-none-any.whl")
    assert not is_pure("a-1-cp311-cp311-alpine_3_16_x86_64.whl")
    assert not is_pure("a-1-py3-none-any.linux_x86_64.whl")


def test_requires_external_is_read_before_the_scan(places: dict[str, Path]) -> None:
    from alpinetags._pip.check import check_for_pip

    def never(container: object, root: str) -> tuple[tuple[object, ...], tuple[str, ...]]:
        raise AssertionError("the ELF check ran")

    (wheel,) = places["declared"].glob("*.whl")
    refusal = check_for_pip("sslreq", str(wheel), {"ALPINETAGS_ROOT": str(places["r317"])}, native=never)  # type: ignore[arg-type]
    assert refusal is not None
    assert refusal.problems[0].missing_sonames == ("libssl.so.1.1",)


def test_requires_external_looks_where_the_loader_looks(places: dict[str, Path], tmp_path: Path) -> None:
    """A soname in a directory named by the root's musl path file is there, for the first look too."""
    from alpinetags._pip.check import check_for_pip

    root = realparts.copy_minirootfs("3.17", tmp_path / "r317")
    (root / "opt" / "ssl11").mkdir(parents=True)
    shutil.copy2(places["r316"] / "lib" / "libssl.so.1.1", root / "opt" / "ssl11" / "libssl.so.1.1")
    (wheel,) = places["declared"].glob("*.whl")
    env = {"ALPINETAGS_ROOT": str(root)}
    assert check_for_pip("sslreq", str(wheel), env) is not None
    (root / "etc" / "ld-musl-x86_64.path").write_text("/lib\n/usr/local/lib\n/usr/lib\n/opt/ssl11\n")
    from alpinetags._pip import check as pip_check

    pip_check._systems.clear()  # the system is read once per pip process; this test changes it
    assert check_for_pip("sslreq", str(wheel), env) is None


def test_explicit_platform_without_a_root_is_not_checked(places: dict[str, Path]) -> None:
    from alpinetags._pip.check import check_for_pip, target_root

    assert target_root({}) == "/"
    assert target_root({}, ["alpine_3_16_x86_64"]) is None
    assert target_root({"ALPINETAGS_ROOT": "/srv/r"}, ["alpine_3_16_x86_64"]) == "/srv/r"
    (wheel,) = places["declared"].glob("*.whl")
    assert check_for_pip("sslreq", str(wheel), {}, ["alpine_3_16_x86_64"]) is None


# --- in-process: alpinetags pip ARGS ------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the newest pip and alpinetags, hook not enabled."""
    return venv_with_pip(tmp_path_factory.mktemp("venv-plain-check"), NEWEST_PIP, enable=False)


def test_in_process_pip_checks_too(plain: Path, places: dict[str, Path]) -> None:
    tool = str(plain.parent / "alpinetags")
    argv = [tool, "pip", "--root", str(places["r317"]), "install", "--no-deps", "--no-index",
            "--find-links", str(places["house"]), "sslmod"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, env=clean_env())
    assert proc.returncode == 1 and f"{MODULE} needs libcrypto.so.1.1, libssl.so.1.1" in proc.stderr, proc
    assert not installed(plain, "sslmod")

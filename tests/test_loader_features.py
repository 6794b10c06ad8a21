"""Loader features are floors: measured on the real roots, then predicted by ``check`` and ``wheel show``.

The ground truth is a real load with code run (``tests/parts_dlprobe.py``: ``dlopen`` with constructors in a
forked child, or the program started), in the real minirootfs of every arch there is. ``ld-musl --list``
runs nothing, so it cannot see a loader that ignores ``DT_RELR``: it says "loads" where the process dies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alpinetags_alpine import loaderbuilds

from alpinetags._elf import elfdynamic
from alpinetags._load import facts, loaderfeatures, native
from alpinetags._wheel import wheelinfo
from tests import parts_dlprobe, realparts

pytestmark = pytest.mark.realparts

FEATURE_ARCHES = ("x86_64", "x86")


def _roots(arch: str) -> list[realparts.Minirootfs]:
    return [m for m in realparts.minirootfs_manifest() if m.arch == arch]


def _load_objects(m: realparts.Minirootfs, objects: dict[str, Path], tmp: Path) -> dict[str, str]:
    """Each object dlopened in a private copy of the real root: ``{name: "loads"/"fails"}``."""
    root = realparts.copy_minirootfs(m.minor, tmp / m.name, m.arch)
    base = root / parts_dlprobe.IN_ROOT.lstrip("/")
    base.mkdir(parents=True, exist_ok=True)
    for name, path in objects.items():
        shutil.copy2(path, base / f"{name}.so")
    got = parts_dlprobe.run_probe(root, m.arch, [("d", f"{parts_dlprobe.IN_ROOT}/{n}.so") for n in objects])
    shutil.rmtree(root)
    return {n: got[f"{parts_dlprobe.IN_ROOT}/{n}.so"].actual for n in objects}


def _table(feature: str, arch: str, build: str) -> bool:
    found = loaderbuilds.works(feature, arch, build)
    assert found is not None, f"the table has no row for {feature} {arch} {build}: measure it"
    return found


@pytest.mark.parametrize("arch", FEATURE_ARCHES)
def test_the_feature_table_is_what_the_real_loaders_do(tmp_path: Path, arch: str) -> None:
    """Every root of the arch: the build its apk database names is the table's row, and a DT_RELR object
    and an initial-exec TLS object load there exactly as the row says (their plain twins always load)."""
    names = ("relr", "no-relr", "static-tls", "dynamic-tls")
    objects = {n: parts_dlprobe.feature_object(n, arch) for n in names}
    seen = set()
    for m in _roots(arch):
        root = realparts.alpine_minirootfs(m.minor, arch)
        loader = "/lib/ld-musl-" + {"x86_64": "x86_64", "x86": "i386"}[arch] + ".so.1"
        build = loaderbuilds.musl_build(str(root), loader)
        assert build == m.musl_apk, (m.name, build)
        got = _load_objects(m, objects, tmp_path)
        assert got["no-relr"] == got["dynamic-tls"] == "loads", (m.name, got)
        assert (got["relr"] == "loads") == _table("relr", arch, build), (m.name, build, got)
        assert (got["static-tls"] == "loads") == _table("static-tls", arch, build), (m.name, build, got)
        seen.add((got["relr"], build))
    if arch == "x86_64":  # both answers occur, and the change is inside musl 1.2.2's revisions
        assert ("fails", "1.2.2-r4") in seen and ("loads", "1.2.2-r9") in seen


def test_aarch64_relr_measured_with_a_real_wheel(tmp_path: Path) -> None:
    """No aarch64 compiler here: shapely's bundled libgcc_s/libstdc++ (DT_RELR) are the test objects,
    dlopened by the Alpine CPython under qemu. The table's aarch64 rows are what happens."""
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_aarch64")
    for m in _roots("aarch64"):
        build = loaderbuilds.musl_build(
            str(realparts.alpine_minirootfs(m.minor, "aarch64")), "/lib/ld-musl-aarch64.so.1"
        )
        assert build == m.musl_apk
        got = parts_dlprobe.load_wheel(whl, m.minor, "aarch64", tmp_path)
        libgcc = next(v for k, v in got.items() if "/libgcc_s-" in k)
        assert (libgcc.actual == "loads") == _table("relr", "aarch64", build), (m.name, libgcc)
        if libgcc.actual == "fails":
            assert "SIGSEGV" in libgcc.reason


def test_list_says_loads_where_the_process_dies(tmp_path: Path) -> None:
    """The blind spot of the old ground truth: 3.14's loader lists the DT_RELR object without a word."""
    root = realparts.copy_minirootfs("3.14", tmp_path / "r")
    shutil.copy2(parts_dlprobe.feature_object("relr", "x86_64"), root / "tmp" / "relr.so")
    listed = realparts.run_in_root(root, ["/lib/ld-musl-x86_64.so.1", "--list", "/tmp/relr.so"])
    assert listed.returncode == 0 and "Error" not in listed.stderr
    got = parts_dlprobe.run_probe(root, "x86_64", [("d", "/tmp/relr.so")])
    assert got["/tmp/relr.so"] == parts_dlprobe.Outcome("fails", "killed by signal 11 (SIGSEGV)")


# --------------------------------------------------------------------------------------------------
# check: "does not load" where the real load dies, "loads" where it loads


def _check(whl: Path, minor: str, arch: str) -> dict[str, native.ObjectVerdict]:
    root = str(realparts.alpine_minirootfs(minor, arch))
    report = native.check_paths([str(whl)], root=root, interpreter="")
    return {v.path.split("!", 1)[1]: v for v in report.objects}


@pytest.mark.parametrize(
    ("wheel", "arch", "roots"),
    [
        ("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64", "x86_64", ("3.11", "3.14", "3.15", "3.17")),
        ("psycopg_binary-3.3.9-cp311-cp311-musllinux_1_2_x86_64", "x86_64", ("3.14", "3.15")),
        ("shapely-2.2.0-cp311-cp311-musllinux_1_2_aarch64", "aarch64", ("3.12", "3.16")),
    ],
)
def test_check_agrees_with_the_real_dlopen(
    tmp_path: Path, wheel: str, arch: str, roots: tuple[str, ...]
) -> None:
    """Every extension module of the wheel: the check's verdict is the real dlopen's, on roots where it
    dies (musl without DT_RELR) and where it loads (3.15.11's and 3.16.9's builds carry it back)."""
    whl = parts_dlprobe.wheel(wheel)
    outcomes = set()
    for minor in roots:
        real = parts_dlprobe.load_wheel(whl, minor, arch, tmp_path)
        for member, verdict in _check(whl, minor, arch).items():
            actual = real[member]
            assert ("loads" if verdict.loads else "fails") == actual.actual, (
                minor,
                member,
                actual,
                verdict.reasons,
            )
            if actual.reason.startswith("killed by signal"):
                assert "relr" in verdict.missing_features and "DT_RELR" in " ".join(verdict.reasons)
            outcomes.add((minor, actual.actual))
    assert {a for _, a in outcomes} == {"loads", "fails"}


def test_check_text_and_exit_code_on_a_root_without_relr() -> None:
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64")
    root = realparts.alpine_minirootfs("3.14")
    proc = subprocess.run([sys.executable, "-m", "alpinetags", "check", "--root", str(root), str(whl)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "do not load" in proc.stdout
    assert "packed relative relocations (DT_RELR)" in proc.stdout and "SIGSEGV" in proc.stdout


def test_an_unmeasured_build_is_taken_as_missing(tmp_path: Path) -> None:
    """3.15.11's root without its apk database: nothing says which musl build it is, so DT_RELR is taken
    as missing (upstream 1.2.2 lacks it), although this very loader applies it: over-cautious, never wrong."""
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64")
    root = realparts.copy_minirootfs("3.15", tmp_path / "r")
    db = root / "lib" / "apk" / "db" / "installed"
    db.unlink()
    assert loaderbuilds.musl_build(str(root), "/lib/ld-musl-x86_64.so.1") is None
    report = native.check_paths([str(whl)], root=str(root), interpreter="")
    assert not report.ok and all("relr" in v.missing_features for v in report.failures)
    # a database that names the build, but a loader that is not its file: not trusted either
    realparts.copy_minirootfs("3.15", tmp_path / "r2")
    loader = tmp_path / "r2" / "lib" / "ld-musl-x86_64.so.1"
    data = loader.read_bytes()
    loader.unlink()
    loader.write_bytes(data + b"\0")
    assert loaderbuilds.musl_build(str(tmp_path / "r2"), "/lib/ld-musl-x86_64.so.1") is None


def test_programs_built_on_318_die_on_314_and_check_says_so(tmp_path: Path) -> None:
    """3.18's busybox (DT_RELR) started in the real 3.14 root: SIGSEGV; in 3.15: it runs. The check of the
    same file against each root says the same."""
    busybox = realparts.alpine_minirootfs("3.18") / "bin" / "busybox"
    for minor, expected in (("3.14", "fails"), ("3.15", "loads")):
        root = realparts.copy_minirootfs(minor, tmp_path / minor)
        shutil.copy2(busybox, root / "tmp" / "busybox318")
        got = parts_dlprobe.run_probe(root, "x86_64", [("x", "/tmp/busybox318")])["/tmp/busybox318"]
        assert got.actual == expected, (minor, got)
        report = native.check_paths([str(busybox)], root=str(realparts.alpine_minirootfs(minor)))
        assert report.ok == (expected == "loads"), report.objects[0].reasons
        shutil.rmtree(root)


# --------------------------------------------------------------------------------------------------
# wheel show: the floors rise, and the musllinux tag that would overclaim is named


def show(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alpinetags", "wheel", "show", *args],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_wheel_show_raises_the_floors_for_relr() -> None:
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64")
    proc = show("--json", str(whl))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (data,) = json.loads(proc.stdout)  # one object per wheel, in a list
    assert data["musl_floor"] == "1.2.4" and "DT_RELR" in data["musl_floor_symbols"]
    assert (
        data["honest_musllinux"] is None
    )  # musllinux_1_2 admits 1.2.0-1.2.3: no musllinux tag says >= 1.2.4
    assert data["alpine_floor"] == "3.18" and data["honest_alpine"] == "alpine_3_18_x86_64"
    assert "3.15.11 (musl 1.2.2-r9)" in data["alpine_floor_note"]
    (over,) = data["overclaims"]
    assert over["tag"] == "musllinux_1_2_x86_64" and over["lacking"] == ["DT_RELR"]
    text = show(str(whl)).stdout
    assert "OVERCLAIMS" in text and "lack DT_RELR" in text


def test_the_relr_floor_is_where_real_loads_start(tmp_path: Path) -> None:
    """Below the Alpine floor's musl the real load dies on every measured root without the backport; at
    the floor (3.18) it loads: the floor is safe, and the backport roots load it as the note says."""
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64")
    report = wheelinfo.show(str(whl))
    for minor, loads in (("3.14", False), ("3.15", True), ("3.18", True)):
        real = parts_dlprobe.load_wheel(whl, minor, "x86_64", tmp_path)
        assert all(o.actual == "loads" for o in real.values()) == loads, (minor, real)
    assert report.alpine_floor == "3.18"


def test_an_unknown_external_soname_breaks_the_musllinux_policy() -> None:
    """pyodbc 5.5.0 needs libodbc.so.2, which it does not bundle and no base system has: a musllinux tag
    allows only libc and libz.so.1 from the system, and no package of the soname table ships it."""
    whl = parts_dlprobe.wheel("pyodbc-5.5.0-cp311-cp311-musllinux_1_2_x86_64")
    proc = show("--json", str(whl))
    assert proc.returncode == 1
    (data,) = json.loads(proc.stdout)
    assert data["system_sonames"] == ["libodbc.so.2"] and data["unknown_sonames"] == ["libodbc.so.2"]
    assert data["honest_alpine"] is None
    assert data["alpine_floor"] is None  # no release is known to ship libodbc.so.2: no floor to state
    assert "allow 3.18 and later" in data["alpine_floor_note"]
    policy = [o for o in data["overclaims"] if o["lacking"] == ["libodbc.so.2"]]
    assert policy and "policy allows only libc, libz.so.1" in policy[0]["systems"]
    text = show(str(whl)).stdout
    assert "libodbc.so.2: no package of the soname table ships it" in text


@pytest.mark.parametrize(("minor", "refused"), [("3.14", True), ("3.15", False)])
def test_pip_with_the_hook_refuses_a_relr_wheel_where_it_would_crash(
    minor: str, refused: bool, tmp_path: Path
) -> None:
    """pip 26.3 blocks imports while it installs: the check of a DT_RELR wheel must run then too (the
    loader-feature table and the root's apk database are read without a new import)."""
    from tests.test_pip import pip, warnings_of
    from tests.venvs import NEWEST_PIP, hooked_venv

    python = hooked_venv(NEWEST_PIP)
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64")
    root = str(realparts.alpine_minirootfs(minor))
    proc = pip(python, "install", "--no-deps", "--no-index", "--target", str(tmp_path / "t"), str(whl),
               check=False, ALPINETAGS_ROOT=root)  # fmt: skip
    if refused:
        assert proc.returncode == 1, proc
        assert f"{whl.name} would not load on the system in {root}" in proc.stderr
        assert "DT_RELR" in proc.stderr
    else:
        assert proc.returncode == 0 and not warnings_of(proc.stderr), proc


def test_initial_exec_tls_in_an_extension_module_never_loads(tmp_path: Path) -> None:
    """An extension module is loaded by dlopen; with initial-exec TLS of its own (DF_STATIC_TLS) musl
    refuses it on every root measured. The check says so; the same module with general-dynamic TLS loads."""
    name = "tlsmod.cpython-311-x86_64-linux-musl.so"
    for minor in ("3.9", "3.20"):
        root = realparts.copy_minirootfs(minor, tmp_path / minor)
        got = {}
        for variant in ("static-tls-module", "dynamic-tls-module"):
            dest = root / "tmp" / variant / name
            dest.parent.mkdir(parents=True)
            shutil.copy2(parts_dlprobe.feature_object(variant, "x86_64"), dest)
            real = parts_dlprobe.run_probe(root, "x86_64", [("d", f"/tmp/{variant}/{name}")])
            (verdict,) = native.check_paths([str(dest)], root=str(root), interpreter="").objects
            got[variant] = (real[f"/tmp/{variant}/{name}"], verdict)
        real, verdict = got["static-tls-module"]
        assert real.actual == "fails" and "initial-exec TLS" in real.reason, real
        assert not verdict.loads and verdict.missing_features == ("static-tls",), verdict.reasons
        real, verdict = got["dynamic-tls-module"]
        assert real.actual == "loads" and verdict.loads, (real, verdict.reasons)


def test_wheel_tag_refuses_a_release_whose_musl_lacks_relr(tmp_path: Path) -> None:
    """A stated 3.15 may be an early point release, whose musl build was never measured: refused; 3.18's
    upstream musl 1.2.4 applies DT_RELR: written."""
    whl = parts_dlprobe.wheel("shapely-2.2.0-cp311-cp311-musllinux_1_2_x86_64")

    def tag(release: str) -> subprocess.CompletedProcess[str]:
        out = tmp_path / release
        out.mkdir()
        argv = [
            sys.executable,
            "-m",
            "alpinetags",
            "wheel",
            "tag",
            "--json",
            "--alpine",
            release,
            "-w",
            str(out),
        ]
        return subprocess.run([*argv, str(whl)], capture_output=True, text=True, timeout=120, check=False)

    refused = tag("3.15")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    (result,) = json.loads(refused.stdout)
    assert any("does not support DT_RELR" in r for r in result["refused"]), result
    assert not list((tmp_path / "3.15").iterdir())
    written = tag("3.18")
    assert written.returncode == 0, written.stdout + written.stderr
    assert [p.name for p in (tmp_path / "3.18").iterdir()] == [
        whl.name.replace("musllinux_1_2", "alpine_3_18")
    ]


@pytest.mark.parametrize(
    "name", ["debian-1.2.3-1_amd64", "debian-1.2.5-3.1~deb13u1_amd64", "debian-1.2.6-2_amd64"]
)
def test_the_upstream_row_holds_for_builds_that_are_not_alpine_s(name: str) -> None:
    """The core's table says upstream musl applies DT_RELR from 1.2.4: Debian's builds agree (1.2.3
    crashes, 1.2.5 and 1.2.6 load). The probe runs with the loader as its libc (``ld-musl PROBE ARGS``)."""
    from alpinetags._load import loaderfeatures
    from tests import parts_loaders

    loader = parts_loaders.real_loader(name)
    relr = parts_dlprobe.feature_object("relr", "x86_64")
    argv = [*loader.run_argv(), str(parts_dlprobe.probe("x86_64")), f"d:{relr}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    got = parts_dlprobe.parse(proc.stdout)[str(relr)]
    upstream = loaderfeatures.loader_features()["relr"].upstream_has(loader.version)
    assert (got.actual == "loads") == upstream, (name, got)


# --------------------------------------------------------------------------------------------------
# initial-exec TLS: read from the relocations (every arch), as the loader meets it


def _module_symbols(whl: Path, member: str, tmp: Path) -> elfdynamic.DynamicSymbols:
    return elfdynamic.read_dynamic_symbols(str(parts_dlprobe.unpack(whl, tmp / "unpacked") / member))


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_initial_exec_tls_of_pendulum_is_what_the_real_loaders_refuse(tmp_path: Path, arch: str) -> None:
    """pendulum 3.0.0's module reaches its own TLS through TP-offset relocations (R_X86_64_TPOFF64,
    R_AARCH64_TLS_TPREL64); on aarch64 without the DF_STATIC_TLS flag, which the check used to read alone
    (it then said "loads" on every aarch64 root). Every root of the arch, dlopened for real: musl from
    1.1.20 refuses it (edge's 1.2.5-r3 dies with SIGSEGV while reporting it); 1.1.16 ... 1.1.19 import it
    (its load touches no TLS) with its TLS outside the static block. The check says "does not load" on
    every root, with the loader's words from 1.1.20 and the out-of-block TLS before."""
    whl = parts_dlprobe.wheel(f"pendulum-3.0.0-cp311-cp311-musllinux_1_1_{arch}")
    module = f"pendulum/_pendulum.cpython-311-{arch}-linux-musl.so"
    symbols = _module_symbols(whl, module, tmp_path)
    assert symbols.static_tls == ("",)  # its own TLS
    flag = dict(symbols.loader_tags).get(loaderfeatures.DT_FLAGS, 0) & loaderfeatures.DF_STATIC_TLS
    assert bool(flag) == (arch == "x86_64")
    seen = set()
    loader = "/lib/ld-musl-" + arch + ".so.1"
    for m in _roots(arch):
        build = loaderbuilds.musl_build(str(realparts.alpine_minirootfs(m.minor, arch)), loader)
        assert build == m.musl_apk and not _table("static-tls", arch, build), (m.name, build)
        real = parts_dlprobe.load_wheel(whl, m.minor, arch, tmp_path)[module]
        verdict = _check(whl, m.minor, arch)[module]
        assert not verdict.loads and verdict.missing_features == ("static-tls",), (m.name, verdict.reasons)
        words = " ".join(verdict.reasons)
        refused = facts.version_tuple(m.musl_version)[:3] >= (1, 1, 20)
        if refused:
            assert real.actual == "fails", (m.name, real)
            assert "initial-exec TLS resolves to dynamic definition" in real.reason or m.branch == "edge"
            assert "refuses it" in words and "initial-exec TLS resolves to dynamic definition" in words
        else:
            assert real.actual == "loads", (m.name, real)
            assert "before 1.1.20" in words and "outside it" in words
        seen.add(refused)
    assert True in seen


def test_initial_exec_tls_of_a_startup_object_loads(tmp_path: Path) -> None:
    """musl refuses initial-exec TLS only when the name resolves to an object loaded after startup. The
    same module (it reads another library's TLS variable through a TP-offset relocation, and checks the
    value in its constructor) loads when that library came with the program (``tlshost``), and is refused
    (1.1.20 on) or reads the wrong place (1.1.16 ... 1.1.19: its constructor traps) when it comes with the
    module. The check says so given the program as the interpreter, and given none."""
    parts = parts_dlprobe.tls_startup_parts()
    for minor in ("3.8", "3.9", "3.20"):
        root = realparts.copy_minirootfs(minor, tmp_path / minor)
        base = root / parts_dlprobe.IN_ROOT.lstrip("/")
        base.mkdir(parents=True, exist_ok=True)
        for name, dest in (("libtlsdef", "libtlsdef.so"), ("module", "tlsuse.so"), ("host", "tlshost")):
            shutil.copy2(parts[name], base / dest)
        module = f"{parts_dlprobe.IN_ROOT}/tlsuse.so"
        started = realparts.run_in_root(root, [f"{parts_dlprobe.IN_ROOT}/tlshost", module])
        assert started.returncode == 0 and started.stdout.split() == [module, "ok"], (minor, started)
        alone = parts_dlprobe.run_probe(root, "x86_64", [("d", module)])[module]
        assert alone.actual == "fails", (minor, alone)
        path = str(base / "tlsuse.so")
        (with_host,) = native.check_paths(
            [path], root=str(root), interpreter=f"{parts_dlprobe.IN_ROOT}/tlshost"
        ).objects
        assert with_host.loads, (minor, with_host.reasons)
        (without,) = native.check_paths([path], root=str(root), interpreter="").objects
        assert not without.loads and without.missing_features == ("static-tls",), (minor, without.reasons)
        shutil.rmtree(root)


def test_wheel_show_gives_pendulum_aarch64_no_floor_and_no_honest_tag() -> None:
    """A ceiling, not a floor: no musl from 1.1.20 on loads it, so no tag is honest for current systems
    and the carried musllinux_1_1 overclaims (exit 1). Before, the aarch64 wheel got floor 3.6 and an
    honest musllinux_1_1."""
    whl = parts_dlprobe.wheel("pendulum-3.0.0-cp311-cp311-musllinux_1_1_aarch64")
    proc = show("--json", str(whl))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (data,) = json.loads(proc.stdout)
    assert data["musl_floor"] is None and data["honest_musllinux"] is None
    assert data["alpine_floor"] is None and data["honest_alpine"] is None
    (over,) = data["overclaims"]
    assert over["tag"] == "musllinux_1_1_aarch64" and over["lacking"] == ["initial-exec TLS in dlopen"]
    text = show(str(whl)).stdout
    assert "no tag is honest for current systems" in text
    assert "initial-exec TLS resolves to dynamic definition" in text

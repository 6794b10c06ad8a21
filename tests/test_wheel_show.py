"""``alpinetags wheel show`` on real musllinux wheels; its floors confirmed by real loads in real roots.

The jiter figures are the issue's (found by hand on the real 3.8 and 3.9 roots). For every wheel the
prediction is checked against musl's own loader: inside the real root just below the Alpine floor, the
names ``--list`` reports missing are exactly the libc names ``show`` says that root's musl lacks; inside the
root at the floor, none is missing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from alpinetags._wheel import wheelinfo
from tests import parts_wheel, realparts

pytestmark = pytest.mark.realparts

_RELOC_RE = re.compile(r"Error relocating [^:]+: ([^:\s]+): symbol not found")


def show(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alpinetags", "wheel", "show", *args],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_jiter_overclaims_its_musllinux_tag() -> None:
    proc = show("--json", str(parts_wheel.real_wheel("jiter")))
    assert proc.returncode == 1, proc.stderr
    (data,) = json.loads(proc.stdout)  # one shape: a list
    assert data["arch"] == "x86_64"
    assert data["musl_floor"] == "1.1.20"
    assert data["musl_floor_symbols"] == ["getrandom"]
    assert data["honest_musllinux"] == "musllinux_1_2_x86_64"
    assert data["alpine_floor"] == "3.9"
    assert data["system_sonames"] == []  # its libgcc_s is bundled in jiter.libs/
    assert [(o["tag"], o["lacking"]) for o in data["overclaims"]] == [("musllinux_1_1_x86_64", ["getrandom"])]


def test_text_output_names_the_floor_symbols() -> None:
    proc = show(str(parts_wheel.real_wheel("jiter")))
    assert proc.returncode == 1
    assert "1.1.20, set by getrandom" in proc.stdout
    assert "OVERCLAIMS:" in proc.stdout and "musl 1.1.16 to 1.1.19" in proc.stdout


def test_pillow_needs_the_system_zlib_and_musl_1_2_3() -> None:
    proc = show("--json", str(parts_wheel.real_wheel("pillow")))
    (data,) = json.loads(proc.stdout)  # one shape: a list
    assert data["system_sonames"] == ["libz.so.1"]  # 26 other libraries are bundled in pillow.libs/
    assert data["alpine_last"] == "3.24" and data["alpine_breaks_at"] is None
    assert data["honest_musllinux"] is None  # 1.2.3 is a patch release: musllinux_1_2 admits 1.2.0
    assert proc.returncode == 1


def test_consistent_and_pure_wheels_exit_0(tmp_path: Path) -> None:
    proc = show("--json", str(parts_wheel.real_wheel("markupsafe")), str(parts_wheel.pinned_wheels()[0]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    markupsafe, pip = json.loads(proc.stdout)
    assert markupsafe["overclaims"] == [] and markupsafe["elf_files"] == 1
    assert pip["elf_files"] == 0 and pip["system_sonames"] == []


@pytest.mark.parametrize(
    "argv",
    [["/nonexistent/x-1.0-py3-none-any.whl"], ["/etc/passwd"], ["NOT-A-ZIP"], []],
    ids=["missing", "not-a-wheel-name", "not-a-zip", "no-argument"],
)
def test_bad_input_exits_2(tmp_path: Path, argv: list[str]) -> None:
    if argv == ["NOT-A-ZIP"]:
        fake = tmp_path / "demo-1.0-py3-none-any.whl"
        fake.write_bytes(b"not a zip")
        argv = [str(fake)]
    proc = show(*argv)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------------------------------
# predictions against real loads


def _modules(wheel: Path, dest: Path) -> list[str]:
    """Unpack ``wheel`` into ``dest``; the extension modules in it (paths relative to ``dest``)."""
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(dest)
        return [n for n in zf.namelist() if n.endswith(".so") and ".libs/" not in n]


def _loader_missing(root: Path, modules: list[str]) -> set[str]:
    """The names musl's loader of ``root`` reports missing for each module (CPython's own left out)."""
    found: set[str] = set()
    for module in modules:
        proc = realparts.run_in_root(
            root, ["/lib/ld-musl-x86_64.so.1", "--list", f"/tmp/w/{module}"], timeout=60
        )
        assert "Error loading shared library" not in proc.stderr, proc.stderr
        found |= {n for n in _RELOC_RE.findall(proc.stderr) if not n.startswith(("Py", "_Py"))}
    return found


#: (wheel, Alpine root below the symbol floor, the symbol floor, the Alpine floor). Below: a root whose musl
#: package exports exactly the upstream list of its version (3.15's 1.2.2-r9 does not: Alpine backported
#: ``qsort_r``, see below). pillow 13's bundled libxcb chain (libXau, libbsd, ...) uses DT_RELR, which
#: upstream musl applies from 1.2.4 (Alpine 3.18); 3.16.9's musl build was measured to carry it back,
#: earlier 3.16 point releases were not, so the honest Alpine floor is 3.18 (tests/test_loader_features.py).
FLOORS = [("jiter", "3.8", "3.9", "3.9"), ("pillow", "3.14", "3.16", "3.18")]


@pytest.mark.parametrize(("name", "below", "floor", "alpine_floor"), FLOORS)
def test_floor_is_where_the_real_loader_stops_failing(
    tmp_path: Path, name: str, below: str, floor: str, alpine_floor: str
) -> None:
    wheel = parts_wheel.real_wheel(name)
    report = wheelinfo.show(str(wheel))
    assert report.alpine_floor == alpine_floor
    missing_by = dict(report.musl_missing)
    features = {"DT_RELR", "initial-exec TLS in dlopen"}  # floors no symbol list shows: not what --list names
    for minor in (below, floor):
        root = realparts.copy_minirootfs(minor, tmp_path / minor)
        modules = _modules(wheel, root / "tmp" / "w")
        musl = realparts.find_minirootfs(minor).musl_version
        predicted = set(missing_by.get(musl, ())) - features
        assert bool(predicted) == (minor == below), (minor, musl, predicted)
        assert _loader_missing(root, modules) == predicted, f"Alpine {minor} (musl {musl})"
    assert set(report.musl_floor_symbols) - features <= set(
        missing_by[realparts.find_minirootfs(below).musl_version]
    )


def test_alpine_backports_make_the_floor_conservative_never_optimistic(tmp_path: Path) -> None:
    """Alpine 3.15's last musl package (1.2.2-r9) exports ``qsort_r``, which upstream 1.2.2 lacks: pillow
    loads there although its floor says 3.16. The floor comes from upstream releases, so the loader may
    find less missing than predicted, never more."""
    wheel = parts_wheel.real_wheel("pillow")
    report = wheelinfo.show(str(wheel))
    root = realparts.copy_minirootfs("3.15", tmp_path / "3.15")
    assert dict(report.musl_missing)["1.2.2"] == ("DT_RELR", "qsort_r")
    assert _loader_missing(root, _modules(wheel, root / "tmp" / "w")) == set()


# --------------------------------------------------------------------------------------------------
# wheel tag judges the build root's own musl (read from its libc.so, not run)


def tag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alpinetags", "wheel", "tag", *args],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "minor", "refused", "warned"),
    [
        ("jiter", "3.8", "lacks getrandom", ""),
        ("jiter", "3.9", "", ""),
        ("pillow", "3.14", "lacks qsort_r", ""),
        # Alpine's backports: this root's musl has qsort_r and loads DT_RELR, 3.15's upstream 1.2.2 does
        # neither, and a tag admits every point release: wheel show calls alpine_3_15 (and, for DT_RELR,
        # alpine_3_16) an overclaim, so tag refuses them
        ("pillow", "3.15", "wheel show would call alpine_3_15_x86_64 an overclaim", ""),
        ("pillow", "3.16", "wheel show would call alpine_3_16_x86_64 an overclaim", ""),
    ],
)
def test_tag_root_judges_the_root_s_own_musl(
    tmp_path: Path, name: str, minor: str, refused: str, warned: str
) -> None:
    wheel = parts_wheel.real_wheel(name)
    proc = tag("--json", "--root", str(realparts.alpine_minirootfs(minor)), "-w", str(tmp_path), str(wheel))
    (result,) = json.loads(proc.stdout)
    if refused:
        assert proc.returncode == 1
        assert any(refused in r for r in result["refused"]), result
        assert list(tmp_path.iterdir()) == []
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert Path(result["written"]).name.endswith(f"-alpine_{minor.replace('.', '_')}_x86_64.whl")
    assert result["requires_external"] == (["libz.so.1"] if name == "pillow" else [])
    assert (warned in proc.stderr) if warned else "warning" not in proc.stderr, proc.stderr


def test_jiter_tagged_at_its_floor_no_longer_overclaims(tmp_path: Path) -> None:
    wheel = str(parts_wheel.real_wheel("jiter"))
    below = tag("--alpine", "3.8", "-w", str(tmp_path), wheel)
    assert below.returncode == 1 and "Alpine 3.8's musl 1.1.19 lacks getrandom" in below.stderr
    done = tag("--alpine", "3.9", "-w", str(tmp_path), wheel)
    assert done.returncode == 0, done.stderr
    (tagged,) = tmp_path.iterdir()
    assert tagged.name == "jiter-0.19.0-cp311-cp311-alpine_3_9_x86_64.whl"
    again = show("--json", str(tagged))
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)[0]["overclaims"] == []


# --------------------------------------------------------------------------------------------------
# aarch64: the real jiter wheel for it, the real aarch64 roots, musl's loader under qemu


def test_aarch64_wheel_show_and_tag(tmp_path: Path) -> None:
    wheel = parts_wheel.real_wheel("jiter", "aarch64")
    proc = show("--json", str(wheel))
    assert proc.returncode == 1
    (data,) = json.loads(proc.stdout)  # one shape: a list
    assert (data["arch"], data["musl_floor"], data["musl_floor_symbols"]) == (
        "aarch64",
        "1.1.20",
        ["getrandom"],
    )
    assert data["honest_musllinux"] == "musllinux_1_2_aarch64"
    assert "x86_64's" in data["note"]  # the symbol lists are x86_64's, and it says so
    done = tag("--root", str(realparts.alpine_minirootfs("3.16", "aarch64")), "-w", str(tmp_path), str(wheel))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["jiter-0.19.0-cp311-cp311-alpine_3_16_aarch64.whl"]
    (tmp_path / "x").mkdir()
    other = tag("--root", str(realparts.alpine_minirootfs("3.16")), "-w", str(tmp_path / "x"), str(wheel))
    assert other.returncode == 1 and "its ELF files are aarch64, the build system is x86_64" in other.stderr
    assert list((tmp_path / "x").iterdir()) == []


@pytest.mark.parametrize("minor", ["3.12", "3.16"])
def test_aarch64_prediction_against_the_real_loader(tmp_path: Path, minor: str) -> None:
    """The x86_64 lists predict nothing missing on these aarch64 musl releases; musl's aarch64 loader
    (run by qemu in the real aarch64 root) agrees."""
    wheel = parts_wheel.real_wheel("jiter", "aarch64")
    report = wheelinfo.show(str(wheel))
    musl = realparts.find_minirootfs(minor, "aarch64").musl_version
    assert dict(report.musl_missing).get(musl, ()) == ()
    root = realparts.copy_minirootfs(minor, tmp_path / minor, "aarch64")
    found: set[str] = set()
    for module in _modules(wheel, root / "tmp" / "w"):
        argv = ["/lib/ld-musl-aarch64.so.1", "--list", f"/tmp/w/{module}"]
        proc = realparts.run_in_root(root, argv, arch="aarch64", timeout=120)
        assert "Error loading shared library" not in proc.stderr, proc.stderr
        assert "Error relocating" in proc.stderr, proc.stderr  # the loader ran: CPython's names are missing
        found |= {n for n in _RELOC_RE.findall(proc.stderr) if not n.startswith(("Py", "_Py"))}
    assert found == set()


def test_an_unreadable_elf_file_is_said_and_not_tagged(tmp_path: Path) -> None:
    """A truncated extension module: show warns and judges nothing; tag refuses (what it needs is unknown)."""
    src = parts_wheel.real_wheel("markupsafe")
    bad = tmp_path / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data[:200] if info.filename.endswith(".so") else data)
    proc = show(str(bad))
    assert proc.returncode == 0
    assert "none readable" in proc.stdout and "alpinetags: warning:" in proc.stderr
    out = tmp_path / "out"
    out.mkdir()
    refused = tag("--alpine", "3.16", "-w", str(out), str(bad))
    assert refused.returncode == 1 and "cannot be read" in refused.stderr
    assert list(out.iterdir()) == []


def _x86_64_releases() -> list[str]:
    return [m.minor for m in realparts.minirootfs_manifest() if m.arch == "x86_64" and m.branch != "edge"]


def test_tag_root_names_each_real_root_s_release(tmp_path: Path) -> None:
    """markupsafe needs nothing new from musl: every real x86_64 root tags it with its own release."""
    wheel = parts_wheel.real_wheel("markupsafe")
    for minor in _x86_64_releases():
        out = tmp_path / minor
        out.mkdir()
        proc = tag("--root", str(realparts.alpine_minirootfs(minor)), "-w", str(out), str(wheel))
        assert proc.returncode == 0, (minor, proc.stderr)
        assert [p.name for p in out.iterdir()] == [
            f"markupsafe-3.0.4-cp311-cp311-alpine_{minor.replace('.', '_')}_x86_64.whl"
        ]


def test_tag_root_refuses_to_guess_a_pre_release(tmp_path: Path) -> None:
    """The edge root (3.21_alpha) accepts alpine_3_20 wheels, but a build there is no 3.20 build."""
    proc = tag("--root", str(realparts.alpine_minirootfs("edge")), "-w", str(tmp_path),
               str(parts_wheel.real_wheel("markupsafe")))  # fmt: skip
    assert proc.returncode == 2 and "pre-release" in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_glibc_wheel_gets_no_musl_floors_and_no_alpine_tag(tmp_path: Path) -> None:
    """markupsafe's manylinux wheel needs libc.so.6: a musl floor or a musllinux tag would be false."""
    wheel = parts_wheel.real_wheel("markupsafe", libc="manylinux")
    proc = show("--json", str(wheel))
    assert proc.returncode == 0, proc.stderr
    (data,) = json.loads(proc.stdout)  # one shape: a list
    assert data["libc"] == "glibc"
    assert (data["musl_floor"], data["honest_musllinux"], data["alpine_floor"]) == (None, None, None)
    refused = tag("--alpine", "3.16", "-w", str(tmp_path), str(wheel))
    assert refused.returncode == 1 and "built for glibc" in refused.stderr
    assert list(tmp_path.iterdir()) == []

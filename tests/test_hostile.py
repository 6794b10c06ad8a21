"""Issue 23: hostile wheels and roots get bounded work and a refusal, never a free pass.

Every case runs the real command in a subprocess under a 2 GB address-space limit
(``parts_hostile.run_limited``); the limit is the assertion: before the fix, these cases grew to 2.35 to
2.9 GB, or hung on a FIFO. The root is a private copy of the real Alpine 3.17 minirootfs; the hostile
ELF objects and zips are written at test time (``tests/parts_hostile.py``), and the real musl loader
confirms that the ELF writer's objects are ones it reads.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from alpinetags import _limits as limits
from alpinetags._elf.zipguard import Inflation
from alpinetags.errors import InputRefused
from tests import parts_wheel, realparts
from tests.parts_hostile import (
    Deflated,
    Shape,
    alpinetags,
    bomb_wheel,
    deflated_zeros,
    elf_object,
    plain_wheel,
    run_limited,
)

pytestmark = pytest.mark.realparts

LIBC = "libc.musl-x86_64.so.1"
TAG = "py3-none-musllinux_1_2_x86_64"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return realparts.copy_minirootfs("3.17", tmp_path_factory.mktemp("r317") / "root")


@pytest.fixture(scope="module")
def big_zeros() -> Deflated:
    """ELF magic and then 1000 MiB of zeros, deflated to about 1 MB: the member of the issue's bomb."""
    return deflated_zeros(b"\x7fELF", 1000 * 1024 * 1024)


def refused_once(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The one ``alpinetags: refused: …`` line of a run that ended in ``code``, holding ``words``."""
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.startswith("alpinetags: refused: ")]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- the ELF writer writes what the real loader reads ---------------------------------------------------


def test_the_real_loader_reads_the_generated_objects(root: Path, tmp_path: Path) -> None:
    loader = root / "lib" / "ld-musl-x86_64.so.1"
    bad = write(tmp_path / "bad.so", elf_object(Shape(needed=["libnothere.so.1", LIBC], dynamic_headers=400)))
    good = write(tmp_path / "good.so", elf_object(Shape(needed=[LIBC, LIBC], soname="libgood.so")))
    proc = subprocess.run([str(loader), "--list", str(bad)], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "Error loading shared library libnothere.so.1" in proc.stderr
    proc = subprocess.run([str(loader), "--list", str(good)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


# --- bounded work on ELF objects ------------------------------------------------------------------------


def test_one_dynamic_table_and_each_needed_name_once(root: Path, tmp_path: Path) -> None:
    """The issue's 1 MB object: 400 section headers describe one dynamic table of 60,000 DT_NEEDED
    entries. A loader reads PT_DYNAMIC once; so does the check, and each name is searched once."""
    shape = Shape(needed=["libnothere.so.1", LIBC] * 30_000, dynamic_headers=400)
    obj = write(tmp_path / "many.so", elf_object(shape))
    proc = alpinetags("check", "--json", "--root", str(root), str(obj))
    assert proc.returncode == 1, proc.stderr[-2000:]
    (verdict,) = json.loads(proc.stdout)["objects"]
    assert verdict["needed"] == ["libnothere.so.1", LIBC]
    assert verdict["missing_sonames"] == ["libnothere.so.1"] and len(verdict["reasons"]) == 1


def test_distinct_needed_names_past_the_cap_are_refused(root: Path, tmp_path: Path) -> None:
    obj = write(tmp_path / "wide.so", elf_object(Shape(needed=[f"libx{i}.so" for i in range(60_000)])))
    refused_once(
        alpinetags("check", "--root", str(root), str(obj)), 2, "DT_NEEDED", "exceeds the cap of 1,024"
    )


def test_rpath_times_needed_is_refused_past_the_caps(root: Path, tmp_path: Path) -> None:
    """The issue's 2,000 x 2,000: 46 s and 1.1 GB before."""
    rpath = ":".join(f"/nowhere/{i}" for i in range(2000))
    obj = write(
        tmp_path / "rp.so", elf_object(Shape(needed=[f"liby{i}.so" for i in range(2000)], rpath=rpath))
    )
    refused_once(alpinetags("check", "--root", str(root), str(obj)), 2, "rp.so", "exceeds the cap of")


def test_rpath_times_needed_at_the_caps_is_linear(root: Path, tmp_path: Path) -> None:
    """128 RPATH entries x 1,000 names, all missing: 128,000 places tried, each answered from one listing
    per directory, and nothing kept per failed name."""
    rpath = ":".join(["/usr/lib", "/lib", *(f"/nowhere/{i}" for i in range(126))])
    shape = Shape(needed=[*(f"liby{i}.so" for i in range(1000)), LIBC], rpath=rpath)
    obj = write(tmp_path / "rp.so", elf_object(shape))
    proc = alpinetags("check", "--json", "--root", str(root), str(obj))
    assert proc.returncode == 1, proc.stderr[-2000:]
    (verdict,) = json.loads(proc.stdout)["objects"]
    assert len(verdict["missing_sonames"]) == 1000


def test_long_paths_cost_what_a_loader_would_try(root: Path, tmp_path: Path) -> None:
    """RPATH entries of 2,000 components each and names past NAME_MAX: no path component is resolved
    twice, none past PATH_MAX at all (open would fail with ENAMETOOLONG), and the check ends."""
    deep = "/" + "a/" * 2000
    rpath = ":".join(f"{deep}{i}" for i in range(15))  # 60 KB: a name is at most 64 KiB
    names = [*(f"libz{i}.so" for i in range(500)), "l" * 300 + ".so", "/" + "b/" * 3000 + "x.so", LIBC]
    obj = write(tmp_path / "deep.so", elf_object(Shape(needed=names, rpath=rpath)))
    proc = alpinetags("check", "--json", "--root", str(root), str(obj))
    assert proc.returncode == 1, proc.stderr[-2000:]
    (verdict,) = json.loads(proc.stdout)["objects"]
    assert len(verdict["missing_sonames"]) == 502


def test_symbol_names_past_the_check_cap_are_refused(root: Path, tmp_path: Path) -> None:
    """A 340 KB wheel of six objects, each naming 800 distinct 60 KB symbols (288 MB of names): refused
    when the names decoded pass the per-check cap, within the address-space limit."""
    files = {
        f"n/x{k}.so": elf_object(
            Shape(needed=[LIBC], undefined=[f"s{k}_{i}_" + "a" * 60_000 for i in range(800)])
        )
        for k in range(6)
    }
    wheel = plain_wheel(tmp_path / f"names-1.0-{TAG}.whl", files, TAG)
    refused_once(
        alpinetags("check", "--root", str(root), str(wheel)), 2, "symbol name bytes", "exceeds the cap"
    )


def test_search_steps_are_capped_per_check() -> None:
    budget = limits.Budget()
    budget.charge("loader search steps", limits.MAX_SEARCH_STEPS, limits.MAX_SEARCH_STEPS, "steps")
    with pytest.raises(InputRefused, match="exceeds the cap of 1,000,000"):
        budget.charge("loader search steps", 1, limits.MAX_SEARCH_STEPS, "steps")


# --- the root's files -----------------------------------------------------------------------------------


@pytest.fixture
def own_root(tmp_path: Path) -> Path:
    return realparts.copy_minirootfs("3.17", tmp_path / "root")


def _jiter() -> str:
    return str(parts_wheel.real_wheel("jiter"))


@pytest.mark.parametrize("name", ["etc/ld-musl-x86_64.path", "etc/ld.so.conf"])
@pytest.mark.parametrize("kind", ["fifo", "loop", "dev-zero", "1GB"])
def test_a_root_file_that_cannot_be_read_safely_refuses_the_root(
    own_root: Path, name: str, kind: str
) -> None:
    path = own_root / name
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dev-zero":
        if not stat.S_ISCHR((own_root / "dev" / "zero").lstat().st_mode):
            pytest.skip("no device node could be made in the root (mknod needs privileges)")
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as f:
            f.truncate(1 << 30)
    refused_once(alpinetags("check", "--root", str(own_root), _jiter()), 3, name)


def test_wheel_tag_reads_the_root_through_the_same_guards(own_root: Path, tmp_path: Path) -> None:
    os.mkfifo(own_root / "etc" / "ld-musl-x86_64.path")
    out = tmp_path / "out"
    out.mkdir()
    refused_once(alpinetags("wheel", "tag", "--root", str(own_root), _jiter(), "-w", str(out)), 3, ".path")
    assert list(out.iterdir()) == []


def test_ld_so_conf_includes_are_read_once_each(own_root: Path) -> None:
    """Eight files that each include all eight: before, 8^8 reads; now eight, and the same answer."""
    before = alpinetags("check", "--json", "--root", str(own_root), _jiter())
    conf = own_root / "etc" / "ld.so.conf.d"
    conf.mkdir()
    for i in range(8):
        (conf / f"{i}.conf").write_text(f"include /etc/ld.so.conf.d/*.conf\n/opt/lib{i}\n")
    (own_root / "etc" / "ld.so.conf").write_text("include /etc/ld.so.conf.d/*.conf\n")
    after = alpinetags("check", "--json", "--root", str(own_root), _jiter())
    assert (after.returncode, before.returncode) == (0, 0), after.stderr
    assert json.loads(after.stdout)["objects"] == json.loads(before.stdout)["objects"]


def test_too_many_ld_so_conf_files_refuse_the_root(own_root: Path) -> None:
    conf = own_root / "etc" / "ld.so.conf.d"
    conf.mkdir()
    for i in range(limits.MAX_CONF_FILES + 1):
        (conf / f"{i}.conf").write_text(f"/opt/lib{i}\n")
    (own_root / "etc" / "ld.so.conf").write_text("include /etc/ld.so.conf.d/*.conf\n")
    refused_once(alpinetags("check", "--root", str(own_root), _jiter()), 3, "exceeds the cap of 256")


# --- zip bombs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("same_name", [True, False], ids=["duplicate", "overlap"])
def test_entries_sharing_one_member_are_refused_everywhere(
    root: Path, tmp_path: Path, big_zeros: Deflated, same_name: bool
) -> None:
    """The issue's 1 MB wheel: eight entries naming one 1000 MiB member ("8 ELF objects, all load")."""
    names = ["bomb/x.so"] * 8 if same_name else [f"bomb/x{i}.so" for i in range(8)]
    wheel = bomb_wheel(tmp_path / f"bomb-1.0-{TAG}.whl", big_zeros, names, TAG)
    word = "appears twice" if same_name else "overlap"
    refused_once(alpinetags("check", "--root", str(root), str(wheel)), 2, wheel.name, word)
    refused_once(alpinetags("wheel", "show", str(wheel)), 2, word)
    out = tmp_path / "out"
    out.mkdir()
    refused_once(alpinetags("wheel", "tag", "--alpine", "3.17", str(wheel), "-w", str(out)), 2, word)
    assert list(out.iterdir()) == []


def test_a_member_declared_over_the_cap_is_refused_unread(root: Path, tmp_path: Path) -> None:
    member = Deflated.of(b"\x7fELF" + bytes(200))
    wheel = bomb_wheel(tmp_path / f"big-1.0-{TAG}.whl", member, ["big/x.so"], TAG, declared=5 << 30)
    refused_once(alpinetags("check", "--root", str(root), str(wheel)), 2, "big/x.so", "exceeds the cap of")


def test_a_member_whose_data_is_not_its_declared_size_is_refused(root: Path, tmp_path: Path) -> None:
    data = elf_object(Shape(needed=[LIBC]))
    for declared in (len(data) - 100, len(data) + 100):
        wheel = bomb_wheel(tmp_path / f"lies-1.0-{TAG}.whl", data, ["lies/x.so"], TAG, declared=declared)
        refused_once(alpinetags("check", "--root", str(root), str(wheel)), 2, "lies/x.so")


def test_a_wheel_inflating_past_the_total_is_refused_before_the_member_that_crosses_it() -> None:
    inflation = Inflation("w.whl")
    for _ in range(limits.MAX_INFLATED // limits.MAX_MEMBER):
        inflation.charge("m", limits.MAX_MEMBER)
    with pytest.raises(InputRefused, match=r"w\.whl: .* bytes to inflate exceeds the cap"):
        inflation.charge("m", 1)


def test_a_large_honest_member_is_read_without_holding_it(root: Path, tmp_path: Path) -> None:
    """A 300 MiB ELF member (real code plus padding, as big libraries are) is parsed where it lies."""
    obj = elf_object(Shape(needed=["libnothere.so.1", LIBC]))
    wheel = tmp_path / f"large-1.0-{TAG}.whl"
    member = deflated_zeros(obj, 300 * 1024 * 1024)
    bomb_wheel(wheel, member, ["large/x.so"], TAG)
    proc = alpinetags("check", "--json", "--root", str(root), str(wheel))
    assert proc.returncode == 1, proc.stderr[-2000:]
    (verdict,) = json.loads(proc.stdout)["objects"]
    assert verdict["missing_sonames"] == ["libnothere.so.1"]


# --- wheel tag does not launder -------------------------------------------------------------------------


HOSTILE_MEMBERS = {
    "dotdot": ("jiter/../../evil.py", 0o100644, "outside the wheel"),
    "absolute": ("/etc/evil.py", 0o100644, "outside the wheel"),
    "backslash": ("jiter\\..\\evil.py", 0o100644, "outside the wheel"),
    "symlink": ("jiter/link", 0o120777, "not a regular file"),
    "setuid": ("jiter/suid", 0o104755, "setuid"),
    "device": ("jiter/dev", 0o020644, "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_MEMBERS))
def test_wheel_tag_refuses_hostile_members(tmp_path: Path, case: str) -> None:
    name, mode, word = HOSTILE_MEMBERS[case]
    src = parts_wheel.real_wheel("jiter")
    wheel = tmp_path / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
        info.external_attr, info.create_system = mode << 16, 3
        zout.writestr(info, b"x")
    out = tmp_path / "out"
    out.mkdir()
    refused_once(alpinetags("wheel", "tag", "--alpine", "3.17", str(wheel), "-w", str(out)), 2, word)
    assert list(out.iterdir()) == []


def test_wheel_tag_refuses_a_dist_info_of_another_name(tmp_path: Path) -> None:
    obj = elf_object(Shape(needed=[LIBC]))
    wheel = plain_wheel(
        tmp_path / "other-1.0-py3-none-linux_x86_64.whl", {"o/x.so": obj}, "py3-none-linux_x86_64"
    )
    renamed = wheel.with_name("jiter-1.0-py3-none-linux_x86_64.whl")
    shutil.move(wheel, renamed)
    out = tmp_path / "out"
    out.mkdir()
    refused_once(
        alpinetags("wheel", "tag", "--alpine", "3.17", str(renamed), "-w", str(out)), 2, "does not match"
    )
    assert list(out.iterdir()) == []


def test_wheel_tag_still_tags_the_real_wheel(tmp_path: Path) -> None:
    proc = alpinetags("wheel", "tag", "--alpine", "3.17", _jiter(), "-w", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["jiter-0.19.0-cp311-cp311-alpine_3_17_x86_64.whl"]


# --- under pip: the hostile wheels are not installed ----------------------------------------------------


@pytest.fixture(scope="module")
def hooked() -> Path:
    from tests.venvs import NEWEST_PIP, hooked_venv

    return hooked_venv(NEWEST_PIP)


def pip_install(python: Path, wheel: Path, root: Path) -> subprocess.CompletedProcess[str]:
    """A real ``pip install`` of ``wheel`` with the hook on and ``ALPINETAGS_ROOT`` at ``root``, under the
    address-space limit."""
    from tests.venvs import clean_env

    argv = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)]
    return run_limited(argv, env=clean_env(ALPINETAGS_ROOT=str(root)))


def pip_refused(python: Path, proc: subprocess.CompletedProcess[str], project: str, *words: str) -> None:
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert "refused: " in proc.stderr and "pip installs it unchecked" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr
    shown = subprocess.run(
        [str(python), "-m", "pip", "show", "-q", project], capture_output=True, check=False
    )
    assert shown.returncode != 0, f"{project} was installed"


def test_pip_installs_the_generated_wheel_when_it_loads(hooked: Path, root: Path, tmp_path: Path) -> None:
    """The control: a generated wheel that loads on the root is installed by the same command."""
    wheel = plain_wheel(
        tmp_path / f"fine-1.0-{TAG}.whl", {"fine/x.so": elf_object(Shape(needed=[LIBC]))}, TAG
    )
    proc = pip_install(hooked, wheel, root)
    try:
        assert proc.returncode == 0, proc.stderr[-2000:]
    finally:
        subprocess.run(
            [str(hooked), "-m", "pip", "uninstall", "-y", "fine"], capture_output=True, check=False
        )


def test_pip_does_not_install_a_zip_bomb(
    hooked: Path, root: Path, tmp_path: Path, big_zeros: Deflated
) -> None:
    """Before: MemoryError at 2.9 GB, the hook failed open, pip installed it."""
    wheel = bomb_wheel(tmp_path / f"bomb-1.0-{TAG}.whl", big_zeros, [f"bomb/x{i}.so" for i in range(8)], TAG)
    pip_refused(hooked, pip_install(hooked, wheel, root), "bomb", "overlap")


def test_pip_does_not_install_a_member_declared_over_the_cap(
    hooked: Path, root: Path, tmp_path: Path
) -> None:
    """Before: the error over 1 GiB made the hook fail open: big enough was unchecked."""
    member = Deflated.of(b"\x7fELF" + bytes(200))
    wheel = bomb_wheel(tmp_path / f"big-1.0-{TAG}.whl", member, ["big/x.so"], TAG, declared=5 << 30)
    pip_refused(hooked, pip_install(hooked, wheel, root), "big", "exceeds the cap of")


def test_pip_does_not_install_an_object_past_the_caps(hooked: Path, root: Path, tmp_path: Path) -> None:
    """Before: 2.6 KB of wheel grew pip to 2.9 GB (400 dynamic sections x 60k DT_NEEDED), then failed open."""
    shape = Shape(needed=[f"libx{i}.so" for i in range(60_000)], dynamic_headers=400)
    wheel = plain_wheel(tmp_path / f"wide-1.0-{TAG}.whl", {"wide/x.so": elf_object(shape)}, TAG)
    pip_refused(hooked, pip_install(hooked, wheel, root), "wide", "DT_NEEDED")


def test_pip_does_not_install_against_a_root_it_cannot_read(hooked: Path, tmp_path: Path) -> None:
    """A FIFO at the root's musl path file: before, pip hung forever."""
    own = realparts.copy_minirootfs("3.17", tmp_path / "root")
    os.mkfifo(own / "etc" / "ld-musl-x86_64.path")
    wheel = plain_wheel(
        tmp_path / f"fine-1.0-{TAG}.whl", {"fine/x.so": elf_object(Shape(needed=[LIBC]))}, TAG
    )
    pip_refused(hooked, pip_install(hooked, wheel, own), "fine", "ld-musl-x86_64.path")


def test_pip_does_not_install_a_metadata_bomb(hooked: Path, root: Path, tmp_path: Path) -> None:
    """METADATA is read before any ELF (Requires-External): an entry declaring 5 GiB is refused unread."""
    from tests.parts_hostile import Entry, raw_zip, wheel_metadata

    meta = wheel_metadata("metabomb", "1.0", TAG)
    blobs = [elf_object(Shape(needed=[LIBC])), *meta.values()]
    entries = [Entry("metabomb/x.so", 0)]
    entries += [Entry(n, i + 1, 5 << 30 if n.endswith("/METADATA") else None) for i, n in enumerate(meta)]
    wheel = raw_zip(tmp_path / f"metabomb-1.0-{TAG}.whl", blobs, entries)
    pip_refused(hooked, pip_install(hooked, wheel, root), "metabomb", "METADATA", "exceeds the cap of")


def test_pip_does_not_look_up_a_flood_of_requires_external(hooked: Path, root: Path, tmp_path: Path) -> None:
    """100,000 Requires-External sonames (2 MB of METADATA): refused, not each looked up in the root."""
    lines = "".join(f"Requires-External: libflood{i}.so.1\n" for i in range(100_000))
    wheel = plain_wheel(
        tmp_path / f"flood-1.0-{TAG}.whl", {"flood/x.so": elf_object(Shape(needed=[LIBC]))}, TAG
    )
    with zipfile.ZipFile(wheel) as zin:
        members = {i.filename: zin.read(i) for i in zin.infolist()}
    meta = "flood-1.0.dist-info/METADATA"
    members[meta] = members[meta] + lines.encode()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    pip_refused(
        hooked, pip_install(hooked, wheel, root), "flood", "Requires-External", "exceeds the cap of 1,024"
    )


def test_a_zip_declaring_too_many_members_is_refused_before_it_is_parsed(root: Path, tmp_path: Path) -> None:
    """300,000 central-directory entries (17 MB): refused from the end record, before zipfile builds an
    object per entry."""
    from tests.parts_hostile import Entry, raw_zip

    wheel = raw_zip(tmp_path / f"many-1.0-{TAG}.whl", [b"x"], [Entry(f"m/{i}.py") for i in range(300_000)])
    refused_once(
        alpinetags("check", "--root", str(root), str(wheel)), 2, "members declared", "exceeds the cap"
    )


def test_a_wheel_that_is_a_fifo_is_refused_not_waited_for(root: Path, tmp_path: Path) -> None:
    fifo = tmp_path / f"fifo-1.0-{TAG}.whl"
    os.mkfifo(fifo)
    refused_once(alpinetags("check", "--root", str(root), str(fifo)), 2, "not a regular file")

"""The symbol experiment on real parts: objects built with musl-gcc, a real PyPI wheel, the known
krunner case, and this machine's musl loader (Debian's musl 1.2.3) as the judge.

Expected values come from outside the code under test: the symbol lists' README (what each musl release
added), the C sources below (what each object references), and the loader's own output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alpinetags_alpine import facts as data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpinetags._elf import elfscan as scan
from alpinetags._elf.elfdynamic import parse_dynamic_symbols, read_dynamic_symbols
from alpinetags.errors import ElfError, InputRefused
from alpinetags.experiments import libc, loader
from tests import parts_experiments

REPO = Path(__file__).resolve().parent.parent
LOADER = "/lib/ld-musl-x86_64.so.1"
# preadv2 is musl 1.2.5's (the loader here is 1.2.3); qsort_r is 1.2.3's; statx is referenced weakly;
# open64 is an LFS64 name 1.2.4 dropped from libc.so; __stdio_write was hidden in 1.1.21.
NEW_SOURCE = r"""
#include <sys/uio.h>
#include <stdlib.h>
extern ssize_t preadv2(int, const struct iovec *, int, off_t, int);
extern int statx(int, const char *, int, unsigned, void *) __attribute__((weak));
extern int open64(const char *, int, ...);
int uses_new(int fd) {
    struct iovec v = {0, 0};
    return (int)preadv2(fd, &v, 1, 0, 0) + (statx ? 1 : 0) + open64("x", 0);
}
static int cmp(const void *a, const void *b, void *c) { return 0; }
void uses_old(void *p) { qsort_r(p, 0, 1, cmp, 0); }
"""
HIDDEN_SOURCE = r"""
#include <stddef.h>
extern size_t __stdio_write(void *, const unsigned char *, size_t);
size_t uses_hidden(void *f) { return __stdio_write(f, 0, 0); }
"""
CLEAN_SOURCE = r"""
#include <string.h>
size_t uses_strlen(const char *s) { return strlen(s); }
"""


def _need_loader() -> None:
    if not os.path.isfile(LOADER):
        pytest.fail(f"{LOADER} missing: apt-get install musl (bash scripts/test does)", pytrace=False)


def _musl_gcc_so(tmp: Path, name: str, source: str) -> Path:
    if shutil.which("musl-gcc") is None:
        pytest.fail("musl-gcc missing: apt-get install musl-tools (bash scripts/test does)", pytrace=False)
    c = tmp / f"{name}.c"
    c.write_text(source)
    out = tmp / f"lib{name}.so"
    subprocess.run(["musl-gcc", "-shared", "-fPIC", "-O1", "-o", str(out), str(c)], check=True)
    return out


def _wheel(tmp: Path, filename: str, members: dict[str, Path]) -> Path:
    path = tmp / filename
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, src in members.items():
            zf.write(src, arcname)
        zf.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return path


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("musl-objects")
    new = _musl_gcc_so(tmp, "new", NEW_SOURCE)
    hidden = _musl_gcc_so(tmp, "hidden", HIDDEN_SOURCE)
    clean = _musl_gcc_so(tmp, "clean", CLEAN_SOURCE)
    wheel = _wheel(
        tmp,
        "demo-1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
        {"demo/_new.so": new, "demo/_clean.so": clean},
    )
    return {"new": new, "hidden": hidden, "clean": clean, "wheel": wheel}


@pytest.fixture(scope="module")
def debian_libc() -> libc.Libc:
    _need_loader()
    return libc.read_libc(LOADER)


def test_reader_sees_what_the_source_references(parts: dict[str, Path]) -> None:
    syms = read_dynamic_symbols(str(parts["new"]))
    assert {"preadv2", "open64", "qsort_r"} <= syms.required
    assert "statx" in syms.weak and "statx" not in syms.required
    assert {"uses_new", "uses_old"} <= syms.exported
    assert "cmp" not in syms.exported  # static
    assert syms.arch == "x86_64" and syms.interpreter == ""
    assert any(n.startswith("libc") for n in syms.needed)


def test_reader_agrees_with_readelf(parts: dict[str, Path]) -> None:
    if shutil.which("readelf") is None:
        pytest.fail("readelf missing: apt-get install binutils", pytrace=False)
    out = subprocess.run(["readelf", "-W", "--dyn-syms", LOADER], capture_output=True, text=True, check=True)
    defined = set()
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(":") and f[6] != "UND" and f[4] in ("GLOBAL", "WEAK"):
            defined.add(f[7].split("@")[0])
    assert read_dynamic_symbols(LOADER).exported == defined


def test_debian_libc_is_the_1_2_3_list_with_debians_patches(debian_libc: libc.Libc) -> None:
    assert debian_libc.version == "1.2.3"
    listed = data.abi_for("1.2.3")
    assert listed is not None
    # The musl-abi README names exactly these differences (Debian bundles fts, dropped crypt).
    assert debian_libc.abi.exports - listed.exports == {
        "fts_children",
        "fts_close",
        "fts_open",
        "fts_read",
        "fts_set",
    }
    assert listed.exports - debian_libc.abi.exports == {"crypt", "crypt_r", "encrypt", "setkey"}


def test_newer_symbol_is_predicted_and_the_loader_confirms(
    parts: dict[str, Path], debian_libc: libc.Libc
) -> None:
    container = scan.scan_wheel(str(parts["wheel"]))
    assert sorted(o.member for o in container.objects) == ["demo/_clean.so", "demo/_new.so"]
    findings = libc.findings_against(libc.wheel_needs(container, debian_libc.abi.exports), debian_libc)
    assert [(f.member, f.missing) for f in findings] == [("demo/_new.so", ("preadv2",))]
    verdicts = loader.confirm(str(parts["wheel"]), ["demo/_new.so", "demo/_clean.so"], LOADER)
    assert verdicts["demo/_new.so"].missing == {"preadv2"}
    assert verdicts["demo/_new.so"].exit_code != 0
    assert any("preadv2: symbol not found" in e for e in verdicts["demo/_new.so"].errors)
    assert verdicts["demo/_clean.so"].errors == () and verdicts["demo/_clean.so"].exit_code == 0


def test_sweep_finds_the_floor_in_the_symbol_lists(parts: dict[str, Path]) -> None:
    needs = libc.wheel_needs(scan.scan_wheel(str(parts["wheel"])))
    assert needs.libc_names == {"preadv2", "open64", "qsort_r", "strlen"}
    sweep = libc.sweep(needs)
    # open64 is gone from libc.so in 1.2.4 but the loader resolves it, so 1.2.4 fails only on preadv2.
    assert dict(sweep.missing_by_version)["1.2.4"] == ("preadv2",)
    assert sweep.oldest_ok == "1.2.5" and sweep.ok_versions == ("1.2.5", "1.2.6")
    assert sweep.oldest_alpine == "3.20" and sweep.honest_alpine == "alpine_3_20"
    assert sweep.honest_musllinux is None
    assert sweep.carried == (1, 2) and sweep.verdict.startswith("overclaims")


def test_hidden_internal_name_breaks_after_1_1_20(parts: dict[str, Path], debian_libc: libc.Libc) -> None:
    container = scan.scan_paths([str(parts["hidden"])])[0]
    sweep = libc.sweep(libc.wheel_needs(container))
    assert sweep.ok_versions == ("1.1.16", "1.1.18", "1.1.19", "1.1.20")
    assert sweep.gaps[0] == "1.1.22"
    findings = libc.findings_against(libc.wheel_needs(container), debian_libc)
    assert findings[0].missing == ("__stdio_write",)
    code, stderr = loader.run_list(LOADER, str(parts["hidden"]))
    assert code != 0 and "__stdio_write: symbol not found" in stderr


def test_real_wheel_overclaims_musllinux_1_1(debian_libc: libc.Libc) -> None:
    wheel = parts_experiments.jiter_wheel()
    container = scan.scan_wheel(str(wheel))
    assert container.objects, "the jiter wheel has its compiled extension"
    needs = libc.wheel_needs(container, debian_libc.abi.exports)
    assert libc.findings_against(needs, debian_libc) == ()
    sweep = libc.sweep(needs)
    assert "getrandom" in needs.libc_names  # musl 1.1.20 added it (README of the lists)
    assert sweep.carried == (1, 1) and sweep.oldest_ok == "1.1.20" and "getrandom" in sweep.floor_names
    assert sweep.verdict.startswith("overclaims")
    # The loader agrees nothing libc-ish is missing: what it cannot find is the interpreter's (Py*).
    so = next(o for o in container.objects if o.member.endswith(".so"))
    verdict = loader.confirm(str(wheel), [so.member], LOADER)[so.member]
    assert verdict.missing and all(libc.is_python_name(n) for n in verdict.missing)


def test_krunner_python_fails_on_debian_musl_as_predicted(debian_libc: libc.Libc) -> None:
    wheel = parts_experiments.krunner_313_wheel()
    container = scan.scan_wheel(str(wheel))
    findings = libc.findings_against(libc.wheel_needs(container, debian_libc.abi.exports), debian_libc)
    by_member = {f.member: f.missing for f in findings}
    libpython = next(m for m in by_member if m.endswith("lib/libpython3.13.so.1.0"))
    assert "preadv2" in by_member[libpython]
    verdict = loader.confirm(str(wheel), [libpython], LOADER)[libpython]
    assert "preadv2" in verdict.missing
    assert set(by_member[libpython]) <= verdict.missing
    assert any(e.endswith("preadv2: symbol not found") for e in verdict.errors)


def test_cli_symbols_json(parts: dict[str, Path]) -> None:
    _need_loader()
    proc = subprocess.run(
        [sys.executable, "-m", "alpinetags", "experiment", "symbols", "--json", str(parts["wheel"])],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr  # a finding is a negative answer
    out = json.loads(proc.stdout)
    assert out["libc"]["version"] == "1.2.3"
    [wheel] = out["wheels"]
    [finding] = wheel["findings"]
    assert finding["missing"] == ["preadv2"] and finding["loader_confirms"] is True
    assert wheel["honest_alpine"] == "alpine_3_20"


def test_truncated_and_garbled_objects_raise_elf_error(parts: dict[str, Path]) -> None:
    import io

    good = parts["clean"].read_bytes()
    for cut in (16, 64, len(good) // 2, len(good) - 1):
        with pytest.raises(ElfError):
            parse_dynamic_symbols(io.BytesIO(good[:cut]), cut)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), min_size=1, max_size=12))
def test_corrupted_objects_give_symbols_or_elf_error(
    parts: dict[str, Path], flips: list[tuple[int, int]]
) -> None:
    import io

    blob = bytearray(parts["clean"].read_bytes())
    for at, value in flips:
        blob[at % len(blob)] = value
    try:
        parse_dynamic_symbols(io.BytesIO(bytes(blob)), len(blob))
    except ElfError:
        pass
    except InputRefused as exc:  # a flip that makes a count huge: refused at its cap, as documented
        assert "exceeds the cap" in str(exc)


def test_object_without_section_headers_is_reported_not_read_as_empty(parts: dict[str, Path]) -> None:
    import io
    import struct

    blob = bytearray(parts["clean"].read_bytes())
    struct.pack_into("<Q", blob, 0x28, 0)  # ELF64 little endian: e_shoff
    struct.pack_into("<HH", blob, 0x3C, 0, 0)  # e_shnum, e_shstrndx
    with pytest.raises(ElfError, match="no section header table"):
        parse_dynamic_symbols(io.BytesIO(bytes(blob)), len(blob))


def test_libraries_a_wheel_does_not_bundle_are_listed(tmp_path: Path) -> None:
    dep_c = tmp_path / "dep.c"
    dep_c.write_text("int dep_value(void) { return 42; }\n")
    user_c = tmp_path / "user.c"
    user_c.write_text("int dep_value(void);\nint user(void) { return dep_value(); }\n")
    dep = tmp_path / "libdep.so.1"
    user = tmp_path / "libuser.so"
    if shutil.which("musl-gcc") is None:
        pytest.fail("musl-gcc missing: apt-get install musl-tools (bash scripts/test does)", pytrace=False)
    subprocess.run(
        ["musl-gcc", "-shared", "-fPIC", "-Wl,-soname,libdep.so.1", "-o", str(dep), str(dep_c)], check=True
    )
    cmd = ["musl-gcc", "-shared", "-fPIC", "-o", str(user), str(user_c), str(dep)]
    subprocess.run(cmd, check=True)
    alone = _wheel(tmp_path, "a-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", {"a/libuser.so": user})
    both = _wheel(
        tmp_path,
        "b-1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
        {"b/libuser.so": user, "b.libs/libdep.so.1": dep},
    )
    assert libc.sweep(libc.wheel_needs(scan.scan_wheel(str(alone)))).system_libraries == ("libdep.so.1",)
    needs = libc.wheel_needs(scan.scan_wheel(str(both)))
    assert needs.system_libraries == frozenset() and "dep_value" not in needs.elsewhere


def test_another_arch_libc_predicts_but_does_not_run(parts: dict[str, Path]) -> None:
    from tests import realparts

    arm64 = realparts.musl_loader("arm64")  # Debian's musl 1.2.3 for aarch64, fetched by realparts
    argv = [sys.executable, "-m", "alpinetags", "experiment", "symbols", "--json", "--libc", str(arm64)]
    proc = subprocess.run([*argv, str(parts["wheel"])], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["libc"]["version"] == "1.2.3"
    [finding] = out["wheels"][0]["findings"]
    assert (
        finding["missing"] == ["preadv2"] and finding["loader_confirms"] is None
    )  # x86_64 object, arm64 loader


@pytest.mark.parametrize(("musl", "verdict"), [("1.2.3", "fails on musl 1.2.3: preadv2"), ("1.2.5", "loads")])
def test_compare_checks_the_picked_wheel_against_the_target_musl(
    parts: dict[str, Path], musl: str, verdict: str
) -> None:
    argv = [sys.executable, "-m", "alpinetags", "compare", "--json", "--check-symbols", str(parts["wheel"])]
    proc = subprocess.run([*argv, "--target", f"musl:{musl},x86_64"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    [choice] = json.loads(proc.stdout)["schemes"]["musllinux"]["choices"]
    assert choice["wheel"] == parts["wheel"].name and choice["symbols"] == verdict

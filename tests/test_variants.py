"""Alpine as a wheel-variant provider, judged by the real variantlib 0.2.2 on real Alpine roots.

Two builds of one project (``sslmod`` 1.0.0, a C extension for the Alpine CPython 3.11 compiled with
musl-gcc against the real OpenSSL of the real 3.16 root, ``libssl.so.1.1``, and of 3.17, ``libssl.so.3``),
packed as ``musllinux_1_2_x86_64`` by ``wheel pack`` and made variants by ``alpinetags wheel variant
--root`` with the root each was built on. Then:

* variantlib's own commands accept them (``analyze-wheel``, ``generate-index-json``), its labels are ours,
  ``wheel unpack`` checks every RECORD hash;
* variantlib's resolver (``get_variants_by_priority``) ranks them, the provider reading each real root
  (``ALPINETAGS_ROOT``): 3.16 the 1.1 build, 3.17/3.18/3.20/edge the 3 build, 3.15 neither, 3.17 with
  OpenSSL 1.1 laid in (what ``openssl1.1-compat`` adds) both, the 3 build first; this Debian machine, a
  Void musl root and an Alpine root whose python is glibc's: no Alpine variant;
* inside the real 3.16, 3.17 and 3.20 roots, the Alpine CPython runs variantlib itself, the first variant
  is unpacked into its site-packages and imported for real, calling that root's OpenSSL;
* pip (the Alpine CPython's 23.0, hook enabled) does not take a variant wheel at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alpinetags_alpine import facts
from alpinetags_alpine.variants import FeatureConfig, get_all_configs, soname_configs, soname_feature
from hypothesis import given
from hypothesis import strategies as st

from alpinetags import hookimpl
from alpinetags._engine.plugins import load_plugins
from alpinetags._wheel import wheelinfo
from alpinetags.cli.variant import plugin_spec
from alpinetags.model import Platform
from alpinetags.wheelvariant import valid_spec, variant_json
from tests import parts_variants, parts_wheel, realparts
from tests.test_wheel_roundtrip import HOUSE, PY, fresh_root, in_root

pytestmark = pytest.mark.realparts

VARIANTLIB = str(Path(sys.executable).with_name("variantlib"))
#: build -> (Alpine release it is built on, libssl, libcrypto, OPENSSL_VERSION_NUMBER's start)
BUILDS = {
    "ssl11": ("3.16", "libssl.so.1.1", "libcrypto.so.1.1", "0x101"),
    "ssl3": ("3.17", "libssl.so.3", "libcrypto.so.3", "0x30"),
}
RANK = """
import json, sys
from variantlib.api import get_variants_by_priority
print(json.dumps([v.label for v in get_variants_by_priority(variants_json=json.load(open(sys.argv[1])))]))
"""


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **env})  # fmt: skip


def alpinetags(*args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "alpinetags", *args])


def supported(root: str) -> dict[str, list[str]]:
    """What ``variantlib plugins get-configs --supported`` says the provider supports for ``root``."""
    proc = run([VARIANTLIB, "plugins", "get-configs", "-s", "-n", "alpine"], ALPINETAGS_ROOT=root)
    assert proc.returncode == 0, proc.stderr
    return {c["name"]: c["values"] for c in json.loads(proc.stdout).get("alpine", [])}


def lib_files(root: Path, stem: str) -> set[str]:
    """The versions of ``<stem>.so.*`` files in the root's /lib and /usr/lib, listed here directly."""
    return {
        name[len(stem) + 4 :]
        for d in ("lib", "usr/lib")
        if (root / d).is_dir()
        for name in os.listdir(root / d)
        if name.startswith(f"{stem}.so.") and (root / d / name).exists()
    }


# --------------------------------------------------------------------------------------------------
# the provider's spelling, against variantlib's own models


def test_every_known_soname_is_spelled_validly_and_one_to_one() -> None:
    from variantlib.models.variant import VariantProperty

    names = {s for row in facts.alpine_sonames() for s in row.sonames}
    for m in realparts.minirootfs_manifest():  # every real root's library file names, every arch
        root = realparts.alpine_minirootfs(m.minor, m.arch)
        for d in ("lib", "usr/lib"):
            if (root / d).is_dir():
                names.update(n for n in os.listdir(root / d) if ".so" in n)
    spelled = {n: soname_feature(n) for n in names}
    pairs = [p for p in spelled.values() if p is not None]
    assert len(pairs) > 100 and len(set(pairs)) == len(pairs)  # one-to-one
    for feature, value in pairs:
        VariantProperty(namespace="alpine", feature=feature, value=value)  # raises if variantlib refuses it
    assert spelled["libssl.so.1.1"] == ("libssl", "1.1")
    assert spelled["libstdc++.so.6"] == ("libstdc_2b_2b", "6")
    assert spelled["ld-musl-x86_64.so.1"] == ("so_ld_2dmusl_2dx86_5f64", "1")


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_spelling_is_one_to_one_for_any_names(a: str, b: str) -> None:
    from variantlib.models.variant import VariantProperty

    pa, pb = soname_feature(a), soname_feature(b)
    if pa is not None:
        VariantProperty(namespace="alpine", feature=pa[0], value=pa[1])
    if a != b and pa is not None:
        assert pa != pb


def test_configs_have_variantlibs_shape() -> None:
    from variantlib.protocols import VariantFeatureConfigType
    from variantlib.validators.base import validate_type

    configs = get_all_configs()
    validate_type(configs, list[VariantFeatureConfigType])  # what its plugin subprocess checks
    assert configs[0].name == "release" and configs[0].values[:2] == ["3.24", "3.23"]
    assert not any(c.multi_value for c in configs)
    by_name = {c.name: c.values for c in configs}
    assert by_name["libssl"][:2] == ["3", "1.1"]  # the newest version first
    assert soname_configs(["libc.musl-x86_64.so.1", "libz.so.1.3.1", "libz.so.1"]) == [
        FeatureConfig("libz", ["1.3.1", "1"])
    ]


# --------------------------------------------------------------------------------------------------
# what the provider supports on real roots (asked through variantlib's own CLI)


@pytest.mark.parametrize("minor", ["3.16", "3.17", "3.20"])
def test_provider_on_real_alpine_roots(minor: str) -> None:
    root = realparts.alpine_minirootfs(minor)
    got = supported(str(root))
    assert got["release"][0] == minor and got["release"][-1] == "3.0"
    assert f"3.{int(minor.split('.')[1]) + 1}" not in got["release"]
    for stem in ("libssl", "libcrypto", "libz"):
        assert set(got[stem]) == lib_files(root, stem), stem
    assert set(got["libssl"]) == ({"1.1"} if minor == "3.16" else {"3"})
    assert not any(name.startswith(("libc_", "so_ld")) for name in got)  # musl's own names are the tag's


def test_provider_keeps_the_time64_floor_on_x86() -> None:
    """On the 32-bit arches 3.13 accepts no older build (spec.md section 4): the release values say so."""
    assert supported(str(realparts.alpine_minirootfs("3.13", "x86")))["release"] == ["3.13"]
    old = supported(str(realparts.alpine_minirootfs("3.12", "x86")))["release"]
    assert old[0] == "3.12" and old[-1] == "3.0"


def test_provider_supports_nothing_off_alpine(tmp_path: Path) -> None:
    assert supported("/") == {}  # this machine: Debian 12, a glibc python
    void = realparts.make_root(tmp_path / "void", "void", python="x86_64")  # musl, not Alpine
    assert supported(str(void)) == {}
    glibc_py = realparts.copy_minirootfs("3.17", tmp_path / "glibc-py")
    (glibc_py / "usr/bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(os.path.realpath(sys.executable), glibc_py / "usr/bin/python3")
    assert supported(str(glibc_py)) == {}  # Alpine, but the interpreter is glibc's: it could not load them
    assert supported(str(realparts.alpine_minirootfs("3.17")))["release"][0] == "3.17"  # the same root, musl


# --------------------------------------------------------------------------------------------------
# the publisher's side: wheel variant


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``sslmod-1.0.0-cp311-cp311-musllinux_1_2_x86_64.whl`` for each build (one project, two builds)."""
    out = {}
    for build, (minor, libssl, libcrypto, _v) in BUILDS.items():
        work = tmp_path_factory.mktemp(build)
        ext = parts_wheel.build_ssl_extension(work, realparts.alpine_minirootfs(minor), libssl, libcrypto)
        out[build] = parts_wheel.pack_wheel(
            work, {ext.name: ext}, "sslmod", "1.0.0", "cp311-cp311-musllinux_1_2_x86_64"
        )
    return out


@pytest.fixture(scope="module")
def house(builds: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each build made a variant by ``wheel variant --root`` with the root it was built on, and the
    ``sslmod-1.0.0-variants.json`` variantlib's ``generate-index-json`` makes of them."""
    out_dir = tmp_path_factory.mktemp("house")
    out = {}
    for build, wheel in builds.items():
        root = realparts.alpine_minirootfs(BUILDS[build][0])
        proc = alpinetags("wheel", "variant", "--json", "--root", str(root), "-w", str(out_dir), str(wheel))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (result,) = json.loads(proc.stdout)
        out[build] = Path(result["written"])
    proc = run([VARIANTLIB, "generate-index-json", "-d", str(out_dir)])
    assert proc.returncode == 0, proc.stderr
    out["json"] = out_dir / "sslmod-1.0.0-variants.json"
    return out


def label(wheel: Path) -> str:
    return wheel.name[: -len(".whl")].rsplit("-", 1)[1]


def test_variants_keep_the_tag_and_record_the_needs(house: dict[str, Path]) -> None:
    for build, (minor, libssl, libcrypto, _v) in BUILDS.items():
        wheel = house[build]
        assert wheel.name.startswith("sslmod-1.0.0-cp311-cp311-musllinux_1_2_x86_64-")
        with zipfile.ZipFile(wheel) as zf:
            tags = [
                x for x in zf.read("sslmod-1.0.0.dist-info/WHEEL").decode().splitlines() if x[:4] == "Tag:"
            ]
            meta = zf.read("sslmod-1.0.0.dist-info/METADATA").decode().splitlines()
            info = json.loads(zf.read("sslmod-1.0.0.dist-info/variant.json"))
        assert tags == ["Tag: cp311-cp311-musllinux_1_2_x86_64"]
        assert {f"Requires-External: {libssl}", f"Requires-External: {libcrypto}"} <= set(meta)
        assert info["variants"] == {
            label(wheel): {
                "alpine": {"release": [minor], "libssl": [libssl[10:]], "libcrypto": [libcrypto[13:]]}
            }
        }
        assert info["providers"]["alpine"]["plugin-api"] == "alpinetags_alpine.variants"


def test_variantlib_accepts_them(house: dict[str, Path], tmp_path: Path) -> None:
    from variantlib.models.variant import VariantDescription, VariantProperty

    for build in BUILDS:
        proc = run([VARIANTLIB, "analyze-wheel", "-i", str(house[build])])
        assert proc.returncode == 0, proc.stderr
        assert f"Variant: `{label(house[build])}`" in proc.stdout
        props = [VariantProperty.from_str(x) for x in proc.stdout.splitlines() if "::" in x]
        assert VariantDescription(props).label == label(house[build])  # the label variantlib would give
        unpack = run([str(parts_wheel.tools_venv()), "-m", "wheel", "unpack", "-d", str(tmp_path / build),
                      str(house[build])])  # fmt: skip
        assert unpack.returncode == 0, unpack.stderr  # every RECORD hash and size checked
    index = json.loads(house["json"].read_text())
    assert set(index["variants"]) == {label(house["ssl11"]), label(house["ssl3"])}


def test_variant_refuses_what_the_build_system_cannot_load(builds: dict[str, Path], tmp_path: Path) -> None:
    r317 = str(realparts.alpine_minirootfs("3.17"))
    proc = alpinetags("wheel", "variant", "--root", r317, "-w", str(tmp_path), str(builds["ssl11"]))
    assert proc.returncode == 1 and "libssl.so.1.1" in proc.stderr, proc.stderr
    proc = alpinetags("wheel", "variant", "--alpine", "3.17", "-w", str(tmp_path), str(builds["ssl11"]))
    assert proc.returncode == 1 and "libssl.so.1.1" in proc.stderr, proc.stderr
    proc = alpinetags("wheel", "variant", "--alpine", "3.16", "-w", str(tmp_path), str(builds["ssl11"]))
    assert proc.returncode == 0, proc.stderr
    (written,) = tmp_path.iterdir()  # the refusals wrote nothing
    edge = str(realparts.alpine_minirootfs("edge"))
    proc = alpinetags("wheel", "variant", "--root", edge, "-w", str(tmp_path), str(builds["ssl11"]))
    assert proc.returncode == 2 and "--alpine" in proc.stderr, proc.stderr  # a pre-release is no release
    proc = alpinetags("wheel", "variant", str(builds["ssl11"]))
    assert proc.returncode == 2 and "--root DIR or --alpine X.Y" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == [written.name]


# --------------------------------------------------------------------------------------------------
# selection: variantlib's resolver, the provider reading each real root


def ranked(house: dict[str, Path], root: str) -> list[str]:
    proc = run([sys.executable, "-c", RANK, str(house["json"])], ALPINETAGS_ROOT=root)
    assert proc.returncode == 0, proc.stderr
    names = {label(house[b]): b for b in BUILDS}
    return [names.get(x, x) for x in json.loads(proc.stdout)]


@pytest.mark.parametrize(
    ("minor", "expected"),
    [("3.15", ["null"]), ("3.16", ["ssl11", "null"]), ("3.17", ["ssl3", "null"]),
     ("3.18", ["ssl3", "null"]), ("3.20", ["ssl3", "null"])],
)  # fmt: skip
def test_resolver_ranks_the_build_each_release_loads(
    house: dict[str, Path], minor: str, expected: list[str]
) -> None:
    assert ranked(house, str(realparts.alpine_minirootfs(minor))) == expected


def test_resolver_on_edge_glibc_and_other_musl(house: dict[str, Path], tmp_path: Path) -> None:
    assert ranked(house, str(realparts.alpine_minirootfs("edge"))) == ["ssl3", "null"]
    assert ranked(house, "/") == ["null"]  # Debian 12, glibc
    void = realparts.make_root(tmp_path / "void", "void", python="x86_64")
    assert ranked(house, str(void)) == ["null"]


def test_resolver_with_openssl_1_1_laid_in_prefers_the_newer_build(
    house: dict[str, Path], tmp_path: Path
) -> None:
    """3.17 plus 3.16's libssl.so.1.1/libcrypto.so.1.1 in /usr/lib (what community's openssl1.1-compat
    installs): both builds load, the one built on the newer release ranks first."""
    root = realparts.copy_minirootfs("3.17", tmp_path / "compat")
    src = realparts.alpine_minirootfs("3.16") / "lib"
    for name in ("libssl.so.1.1", "libcrypto.so.1.1"):
        shutil.copy2(src / name, root / "usr/lib" / name)
    assert ranked(house, str(root)) == ["ssl3", "ssl11", "null"]


# --------------------------------------------------------------------------------------------------
# inside the real roots: the Alpine CPython runs variantlib, and the chosen variant is imported for real

SELECT = """
import json, sys
from variantlib.api import get_variants_by_priority
data = json.load(open(sys.argv[1]))
print(json.dumps([v.label for v in get_variants_by_priority(variants_json=data)]))
"""
#: What an installer does with a platlib wheel, no more: pip cannot install a variant (below).
UNPACK = (
    "import sys, sysconfig, zipfile\n"
    "zipfile.ZipFile(sys.argv[1]).extractall(sysconfig.get_paths()['platlib'])"
)


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Alpine 3.17 root with the Alpine CPython, alpinetags (hook enabled) and variantlib 0.2.2,
    each installed by that CPython's own pip with ``--no-index``: what ``fresh_root`` lays over each
    release's root."""
    return parts_variants.variant_root(tmp_path_factory.mktemp("variant-staging") / "root")


@pytest.fixture(scope="module")
def chroots(
    staging: Path, house: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("variant-roots")
    wheels = [house["ssl11"], house["ssl3"], house["json"]]
    return {minor: fresh_root(staging, minor, base / minor, wheels) for minor in ("3.16", "3.17", "3.20")}


@pytest.mark.parametrize(("minor", "build"), [("3.16", "ssl11"), ("3.17", "ssl3"), ("3.20", "ssl3")])
def test_in_the_root_variantlib_chooses_and_the_choice_loads(
    chroots: dict[str, Path], house: dict[str, Path], minor: str, build: str
) -> None:
    root = chroots[minor]
    chosen = in_root(root, PY, "-c", SELECT, f"{HOUSE}/sslmod-1.0.0-variants.json")
    assert chosen.returncode == 0, chosen.stderr
    labels = json.loads(chosen.stdout)
    assert labels == [label(house[build]), "null"], labels
    unpacked = in_root(root, PY, "-c", UNPACK, f"{HOUSE}/{house[build].name}")
    assert unpacked.returncode == 0, unpacked.stderr
    called = in_root(root, PY, "-c", "import sslmod; print(hex(sslmod.version()))")
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip().startswith(BUILDS[build][3]), called.stdout  # that root's own OpenSSL


def test_pip_does_not_take_a_variant_wheel(chroots: dict[str, Path], house: dict[str, Path]) -> None:
    """pip 23.0 with the hook enabled, only the two variants in --find-links: no candidate at all (the
    label makes the file name one pip's wheel-name parser refuses, before any tag is compared)."""
    # download, not install: another test may have unpacked a variant into this root already
    proc = in_root(chroots["3.17"], PY, "-m", "pip", "download", "-vv", "--no-index", "--find-links", HOUSE,
                   "--no-cache-dir", "--no-deps", "-d", "/tmp/pip-download", "sslmod")  # fmt: skip
    assert proc.returncode != 0
    assert "No matching distribution found for sslmod" in proc.stderr, proc.stderr
    for build in BUILDS:
        assert "invalid wheel filename" in proc.stdout and house[build].name in proc.stdout, proc.stdout


# --------------------------------------------------------------------------------------------------
# the hook: the plugins' answers are checked like every hook's


class _Answers:
    """A third-party plugin answering ``alpinetags_wheel_variant`` with ``answer``."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    @hookimpl(tryfirst=True)
    def alpinetags_wheel_variant(self) -> object:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_variant_answers_are_checked() -> None:
    jiter = str(parts_wheel.real_wheel("jiter"))
    stated = Platform(arch="x86_64", distro_id="alpine", distro_version="3.9", detected_by="--target")
    report = wheelinfo.show(jiter, load_plugins())
    spec = plugin_spec(load_plugins(), stated, report)
    assert spec is not None and spec.property_strings == ("alpine :: release :: 3.9",)  # only musl: no soname
    assert valid_spec(spec) and variant_json(spec).count(spec.label) == 1
    bad = [
        RuntimeError("boom"),
        "no",
        dataclasses.replace(spec, namespace="Alpine"),  # not variantlib's spelling
        dataclasses.replace(spec, properties=(("release", "3.9"), ("release", "3.10"))),  # two values
        dataclasses.replace(spec, properties=(("libssl", "1.1+x"),)),
        dataclasses.replace(spec, properties=()),  # the null variant needs no tool
        dataclasses.replace(spec, requires=()),  # an installer could not get the provider
        dataclasses.replace(spec, plugin_api="a b"),
    ]
    for answer in bad:
        registry = load_plugins(extra=[("wrong", _Answers(answer))])
        assert plugin_spec(registry, stated, wheelinfo.show(jiter, registry)) == spec  # Alpine's still counts
        assert len(registry.faults) == 1 and "'wrong'" in registry.faults[0], (answer, registry.faults)
    assert plugin_spec(load_plugins(disabled={"alpine"}), stated, report) is None
    other = dataclasses.replace(stated, distro_id="fooos")
    assert plugin_spec(load_plugins(), other, report) is None

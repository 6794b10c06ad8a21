"""The core and the shipped plugins on the real os-release samples, overrides and stated targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import packaging.tags
import pytest

import alpinetags
from alpinetags import ConfigError, Target
from alpinetags._engine.detect import detect
from alpinetags._engine.plugins import load_plugins
from alpinetags.cli.main import main
from alpinetags.model import parse_target_spec
from alpinetags.tags import all_platforms, sys_tags
from tests.roots import os_release_root, sample_names


def alpine_tags(newest: int, oldest: int, arch: str = "x86_64") -> list[str]:
    return [f"alpine_3_{m}_{arch}" for m in range(newest, oldest - 1, -1)]


# Written from the samples' text and the tag policy in the issue, not from the code's output.
EXPECTED_ALPINE = {
    "alpine-3.12": alpine_tags(12, 0),
    "alpine-3.19": alpine_tags(19, 0),
    "alpine-edge": alpine_tags(20, 0),  # 3.21.0_alpha: a pre-release of 3.21
    "postmarketos-24.06": alpine_tags(20, 0),  # ID_LIKE=alpine, /etc/alpine-release 3.20.3
    "chimera": [],
    "debian-12": [],
    "void": [],
    "wolfi": [],  # apk-based but glibc
}


def test_every_sample_is_covered() -> None:
    assert sorted(EXPECTED_ALPINE) == sample_names()


@pytest.mark.parametrize("sample", sorted(EXPECTED_ALPINE))
def test_sample_root_gives_its_alpine_tags(tmp_path: Path, sample: str) -> None:
    root = os_release_root(tmp_path, sample)
    platforms = all_platforms(Target(root=str(root), arch="x86_64"))
    alpine = [p for p in platforms if p.startswith("alpine_")]
    assert alpine == EXPECTED_ALPINE[sample]
    if alpine:
        assert platforms[: len(alpine)] == alpine, "alpine tags come first"
    assert platforms[-1] == "linux_x86_64"


def test_alpine_platform_facts(tmp_path: Path) -> None:
    p = detect(Target(root=str(os_release_root(tmp_path, "alpine-3.19"))))
    assert (p.distro_id, p.distro_version, p.libc, p.detected_by) == ("alpine", "3.19.1", "musl", "alpine")
    assert p.source("distro").endswith("etc/os-release")


def test_postmarketos_version_comes_from_alpine_release(tmp_path: Path) -> None:
    p = detect(Target(root=str(os_release_root(tmp_path, "postmarketos-24.06"))))
    assert p.distro_version == "3.20.3"
    assert p.source("distro").endswith("etc/alpine-release")
    assert "postmarketos" in p.distro_like


def test_usr_lib_os_release_is_the_fallback(tmp_path: Path) -> None:
    (tmp_path / "usr/lib").mkdir(parents=True)
    src = Path(__file__).resolve().parents[2] / "shared/data/os-release/alpine-3.12/os-release"
    (tmp_path / "usr/lib/os-release").write_bytes(src.read_bytes())
    assert all_platforms(Target(root=str(tmp_path), arch="x86_64"))[0] == "alpine_3_12_x86_64"


def test_glibc_host_equals_packaging_exactly() -> None:
    platform = detect()
    if platform.libc != "glibc":
        pytest.fail(f"this test needs a glibc host (the project's CI is Debian); found {platform}")
    assert [str(t) for t in sys_tags()] == [str(t) for t in packaging.tags.sys_tags()]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("alpine:3.19,x86_64", alpine_tags(19, 0)),
        ("alpine:3.13,x86_64", alpine_tags(13, 0)),
        ("alpine:3.19,i686", alpine_tags(19, 13, "i686")),  # time64 floor on 32-bit arches
        ("alpine:3.13,armv7l", alpine_tags(13, 13, "armv7l")),
        ("alpine:3.12,armv6l", alpine_tags(12, 0, "armv6l")),  # before the switch: no floor
        ("alpine:3.21_alpha20240606,aarch64", alpine_tags(20, 0, "aarch64")),
        ("alpine:3.21.0_alpha20240606,aarch64", alpine_tags(20, 0, "aarch64")),
    ],
)
def test_stated_targets(spec: str, expected: list[str]) -> None:
    target = Target(given=parse_target_spec(spec))
    arch = spec.rsplit(",", 1)[1]
    assert all_platforms(target) == [*expected, f"linux_{arch}"]


def test_stated_musl_target_gives_musllinux_after_alpine() -> None:
    target = Target(given=parse_target_spec("alpine:3.19,musl:1.2.4,aarch64"))
    musl = [f"musllinux_1_{m}_aarch64" for m in (2, 1, 0)]
    # the one order (docs/realparts.md): distro tags, linux_<arch>, then the standard musllinux ones
    assert all_platforms(target) == [*alpine_tags(19, 0, "aarch64"), "linux_aarch64", *musl]


def test_musl_2_does_not_crash() -> None:
    target = Target(given=parse_target_spec("musl:2.0.1,x86_64"))
    assert all_platforms(target) == ["linux_x86_64", "musllinux_2_0_x86_64"]  # the one order


@pytest.mark.parametrize(
    "spec", ["", "alpine:", "alpine:3.19,debian:12", "x86_64,aarch64", "musl:1,glibc:2", "a b:1"]
)
def test_bad_target_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match="--target"):
        parse_target_spec(spec)


def test_alpine_version_override(tmp_path: Path) -> None:
    debian = str(os_release_root(tmp_path / "d", "debian-12"))
    alpine = str(os_release_root(tmp_path / "a", "alpine-3.19"))
    forced = all_platforms(Target(root=debian, arch="x86_64", environ={"ALPINETAGS_ALPINE_VERSION": "3.18"}))
    assert forced[:19] == alpine_tags(18, 0)
    off = all_platforms(Target(root=alpine, arch="x86_64", environ={"ALPINETAGS_ALPINE_VERSION": ""}))
    assert not [p for p in off if p.startswith("alpine_")]
    with pytest.raises(ConfigError, match="ALPINETAGS_ALPINE_VERSION"):
        detect(Target(root=alpine, environ={"ALPINETAGS_ALPINE_VERSION": "three"}))


def test_musl_version_override(tmp_path: Path) -> None:
    root = str(os_release_root(tmp_path, "void"))
    env = {"ALPINETAGS_MUSL_VERSION": "1.2.4"}
    p = detect(Target(root=root, arch="x86_64", environ=env))
    assert (p.libc, p.libc_version, p.source("libc_version")) == ("musl", "1.2.4", "ALPINETAGS_MUSL_VERSION")
    assert all_platforms(Target(root=root, arch="x86_64", environ=env))[:4] == [
        "linux_x86_64",
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
    ]
    with pytest.raises(ConfigError, match="ALPINETAGS_MUSL_VERSION"):
        detect(Target(root=root, environ={"ALPINETAGS_MUSL_VERSION": "1.x"}))


def test_root_env_and_bad_root(tmp_path: Path) -> None:
    root = os_release_root(tmp_path, "alpine-3.12")
    from alpinetags._engine.detect import default_target

    assert default_target({"ALPINETAGS_ROOT": str(root)}).root == str(root)
    with pytest.raises(ConfigError, match="ALPINETAGS_ROOT"):
        default_target({"ALPINETAGS_ROOT": str(tmp_path / "nope")})


def test_plugins_can_be_blocked_by_name(tmp_path: Path) -> None:
    root = str(os_release_root(tmp_path, "alpine-3.19"))
    registry = load_plugins(disabled={"alpine"})
    assert {p.name: p.status for p in registry.plugins}["alpine"] == "blocked"
    platforms = all_platforms(Target(root=root, arch="x86_64"), registry)
    assert not [p for p in platforms if p.startswith("alpine_")]


def test_shipped_plugins_come_through_the_entry_point_group() -> None:
    plugins = {p.name: p for p in load_plugins().plugins}
    assert plugins["alpine"].module == "alpinetags_alpine"
    assert plugins["musl"].module == "alpinetags_musl"
    assert plugins["alpine"].distribution == "alpinetags" and plugins["alpine"].status == "loaded"


# --- the command line -------------------------------------------------------------------------------


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_tags_for_a_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(os_release_root(tmp_path, "alpine-3.19"))
    data = cli_json(capsys, "tags", "--root", root, "--arch", "x86_64")
    assert isinstance(data, dict)
    interp = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert data["tags"][0] == f"{interp}-{interp}-alpine_3_19_x86_64"
    assert data["platform"]["distro_id"] == "alpine"


def test_cli_detect_and_plugins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(os_release_root(tmp_path, "void"))
    data = cli_json(capsys, "detect", "--root", root)
    assert isinstance(data, dict) and data["distro_id"] == "void"
    rows = cli_json(capsys, "plugins")
    assert isinstance(rows, list)
    assert {r["name"] for r in rows} >= {"alpine", "musl"}
    assert "alpine_version" in next(r for r in rows if r["name"] == "alpine")["marker_variables"]


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", "--root", str(tmp_path / "missing")]) == 2
    assert "--root" in capsys.readouterr().err
    assert main(["tags", "--target", "alpine:"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    root = str(os_release_root(tmp_path, "alpine-3.12"))
    argv = ["tags", "--json", "--root", root, "--arch", "x86_64"]
    via_m = subprocess.run([sys.executable, "-m", "alpinetags", *argv], capture_output=True, text=True)
    exe = Path(sys.executable).with_name("alpinetags")
    via_script = subprocess.run([str(exe), *argv], capture_output=True, text=True)
    assert via_m.returncode == via_script.returncode == 0, via_m.stderr + via_script.stderr
    assert json.loads(via_m.stdout) == json.loads(via_script.stdout)


def test_plain_command_shows_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "first tags" in out and "arch:" in out


def test_public_api_is_lazy_and_typed() -> None:
    code = (
        "import sys, alpinetags; "
        "assert not {'pluggy','distro','packaging'} & set(sys.modules), sorted(sys.modules); "
        "alpinetags.detect; assert 'alpinetags._engine.detect' in sys.modules; "
        "assert 'pluggy' not in sys.modules; alpinetags.detect(); assert 'pluggy' in sys.modules"  # on use
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (Path(alpinetags.__file__).parent / "py.typed").exists()


def test_links_in_a_root_stay_in_the_root(tmp_path: Path) -> None:
    root = os_release_root(tmp_path, "postmarketos-24.06")
    # an absolute link, as images have them: it must name the image's file, not this machine's
    (root / "usr/share").mkdir(parents=True)
    (root / "etc/alpine-release").rename(root / "usr/share/alpine-release")
    (root / "etc/alpine-release").symlink_to("/usr/share/alpine-release")
    assert detect(Target(root=str(root))).distro_version == "3.20.3"
    (root / "lib").mkdir()
    (root / "lib/loop").symlink_to("/lib/loop")
    with pytest.raises(OSError, match="symbolic links"):
        Target(root=str(root)).resolve("/lib/loop")
    assert Target(root=str(root)).resolve("/../../etc/os-release") == str(root / "etc/os-release")


def test_explicit_platforms_are_expanded_by_the_plugin_owning_them() -> None:
    from alpinetags.tags import expand_platforms

    given = ["alpine_3_2_x86_64", "musllinux_1_1_x86_64", "manylinux2014_x86_64", "alpine_3_14_armv7l"]
    assert expand_platforms(given, load_plugins()) == [
        "alpine_3_2_x86_64",
        "alpine_3_1_x86_64",
        "alpine_3_0_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
        "manylinux2014_x86_64",
        "alpine_3_14_armv7l",
        "alpine_3_13_armv7l",  # the time64 floor
    ]
    blocked = expand_platforms(given, load_plugins(disabled={"alpine"}))
    assert blocked[:3] == ["alpine_3_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64"]

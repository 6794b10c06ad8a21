"""Markers with alpinetags' variables: grammar, errors, comparisons, and environments of real roots."""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

import packaging.markers
import pytest

from alpinetags import Platform, Target, hookimpl
from alpinetags._engine.plugins import load_plugins
from alpinetags.markers import (
    ALPINETAGS_VARIABLES,
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    UnknownVariable,
    default_environment,
    is_version_variable,
)
from alpinetags.model import parse_target_spec
from tests.realparts import musl_loader
from tests.roots import os_release_root, sample_names

EDGE = {"libc": "musl", "distro_id": "alpine", "distro_version": "3.21.0_alpha20240606"}


def holds(marker: str, **env: str) -> bool:
    return Marker(marker).evaluate(env)


# ------------------------------------------------------------------------------------------------
# Comparisons of the new variables
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('distro_version >= "3.18"', True),
        ('distro_version >= "3.20"', True),
        ('distro_version >= "3.21"', False),  # edge is a pre-release of 3.21
        ('distro_version < "3.21"', False),  # PEP 440: <V never admits a pre-release of V itself
        ('distro_version < "3.21.0a0"', False),
        ('distro_version > "3.21.0a0"', True),
        ('distro_version == "3.21.0_alpha20240606"', True),
        ('distro_version == "3.21.0a20240606"', True),  # the same version, PEP 440 spelling
        ('distro_version == "3.21.*"', True),
        ('"_alpha" in distro_version', True),  # in is a substring test on the value as written
    ],
)
def test_edge_distro_version_compares_as_a_pre_release(marker: str, expected: bool) -> None:
    assert holds(marker, **EDGE) is expected


def test_libc_version_compares_as_a_version_not_as_text() -> None:
    # As text "1.2.10" < "1.2.4"; as versions it is newer.
    assert holds('libc_version >= "1.2.4"', libc_version="1.2.10")
    assert not holds('libc_version < "1.2.4"', libc_version="1.2.10")
    assert holds('libc == "glibc" and libc_version >= "2.28"', libc="glibc", libc_version="2.36")


def test_empty_version_never_compares_true() -> None:
    assert not holds('libc_version >= "0"', libc_version="")
    assert not holds('libc_version < "99"', libc_version="")
    assert holds('libc_version == ""', libc_version="")


def test_distro_like_is_space_separated() -> None:
    env = {"distro_id": "alpine", "distro_like": "postmarketos alpine"}
    assert Marker('"postmarketos" in distro_like').evaluate(env)
    assert not Marker('"debian" in distro_like').evaluate(env)


def test_string_variables_have_no_order() -> None:
    # packaging's rule for non-version values: < and > are false, <= and >= mean ==.
    assert not holds('distro_id < "zzz"', distro_id="alpine")
    assert holds('distro_id <= "alpine"', distro_id="alpine")
    with pytest.raises(UndefinedComparison):
        holds('libc ~= "1.0"', libc="musl")


def test_version_variables() -> None:
    assert is_version_variable("python_version")
    assert is_version_variable("distro_version")
    assert is_version_variable("libc_version")
    assert is_version_variable("alpine_version")  # a plugin's, by its name
    assert not is_version_variable("platform_version")  # a kernel build string, as in packaging
    assert not is_version_variable("libc")


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


def test_unknown_variable_is_named_and_known_ones_listed() -> None:
    with pytest.raises(UnknownVariable) as info:
        Marker('os_name == "posix" and libcc == "musl"').evaluate({"libc": "musl"})
    text = str(info.value)
    assert "'libcc'" in text
    for name in (*ALPINETAGS_VARIABLES, "python_version", "extra"):
        assert name in text
    lines = text.splitlines()
    assert lines[1] == '    os_name == "posix" and libcc == "musl"'
    assert lines[2] == "    " + " " * 23 + "~~~~^"


@pytest.mark.parametrize(
    ("marker", "column"),
    [
        ('libc = "musl"', 5),
        ("libc == musl", 8),
        ('libc == "musl" and', 18),
        ('(libc == "musl"', 0),
        ('libc not "musl"', 9),
        ('libc == "musl" or or', 18),
    ],
)
def test_syntax_error_shows_the_position(marker: str, column: int) -> None:
    with pytest.raises(InvalidMarker) as info:
        Marker(marker)
    assert info.value.span[0] == column
    caret_line = str(info.value).splitlines()[2]
    assert caret_line.index("^") - 4 >= column
    assert caret_line[4 + column] in "~^"


def test_context_without_extra() -> None:
    with pytest.raises(UndefinedEnvironmentName, match="'extra'"):
        Marker('extra == "test"').evaluate({}, context="requirement")


def test_errors_are_config_errors_for_exit_code_2() -> None:
    from alpinetags.errors import ConfigError

    assert issubclass(InvalidMarker, ConfigError)


# ------------------------------------------------------------------------------------------------
# Grammar details shared with packaging
# ------------------------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    assert holds('libc == "musl" or libc == "x" and distro_id == "y"', libc="musl", distro_id="z")
    assert not holds('(libc == "musl" or libc == "x") and distro_id == "y"', libc="musl", distro_id="z")


def test_str_normalises_like_packaging() -> None:
    text = "os.name=='posix' and (python_implementation == \"CPython\" or extra == 'Foo_Bar')"
    # As packaging (26.3) prints it: aliases resolved, double quotes, extra normalised (PEP 685).
    expected = 'os_name == "posix" and (platform_python_implementation == "CPython" or extra == "foo-bar")'
    assert str(Marker(text)) == expected
    assert Marker(text) == Marker(str(Marker(text)))
    assert Marker('libc=="musl"').variables == {"libc"}


def test_escapes_read_back() -> None:
    m = Marker('distro_id == "a\\x22b"')
    assert m.evaluate({"distro_id": 'a"b'})
    assert Marker(str(m)) == m


def test_lock_file_sets() -> None:
    env = {"extras": frozenset({"Foo_Bar"})}
    assert Marker('"foo-bar" in extras').evaluate(env, context="lock_file")
    assert not Marker('"doc" in extras').evaluate(env, context="lock_file")


# ------------------------------------------------------------------------------------------------
# Environments of real roots, this system, stated targets, plugins
# ------------------------------------------------------------------------------------------------

# Read by hand from ../shared/data/os-release (no loader or python in these roots: libc_version is "").
EXPECTED_ROOTS = {
    "alpine-3.12": ("alpine", "3.12.12", "", "musl", "3.12"),
    "alpine-3.19": ("alpine", "3.19.1", "", "musl", "3.19"),
    "alpine-edge": ("alpine", "3.21.0_alpha20240606", "", "musl", "3.21"),
    "postmarketos-24.06": ("alpine", "3.20.3", "postmarketos alpine", "musl", "3.20"),
    "chimera": ("chimera", "", "", "", ""),
    "debian-12": ("debian", "12", "", "", ""),
    "void": ("void", "", "", "", ""),
    "wolfi": ("wolfi", "20230201", "", "", ""),
}


def test_every_sample_is_covered() -> None:
    assert sorted(EXPECTED_ROOTS) == sample_names()


@pytest.mark.parametrize("sample", sorted(EXPECTED_ROOTS))
def test_root_environment(tmp_path: Path, sample: str) -> None:
    root = os_release_root(tmp_path, sample)
    env = default_environment(target=Target(root=str(root), arch="aarch64"))
    distro_id, version, like, libc, alpine = EXPECTED_ROOTS[sample]
    assert (env["distro_id"], env["distro_version"], env["distro_like"]) == (distro_id, version, like)
    assert (env["libc"], env["libc_version"], env["alpine_version"]) == (libc, "", alpine)
    assert env["platform_machine"] == "aarch64"
    assert (env["sys_platform"], env["platform_system"], env["os_name"]) == ("linux", "Linux", "posix")
    assert env["python_version"] == "{}.{}".format(*platform.python_version_tuple()[:2])


def test_root_with_a_real_musl_loader_has_libc_version(tmp_path: Path) -> None:
    loader = musl_loader("amd64")  # Debian's musl for x86_64; its version is what `dpkg` says
    root = os_release_root(tmp_path, "alpine-3.19")
    (root / "lib").mkdir()
    shutil.copy(loader, root / "lib" / "ld-musl-x86_64.so.1")
    env = default_environment(target=Target(root=str(root), arch="x86_64"))
    assert env["libc_version"] == _debian_musl_version()
    assert env["musl_version"] == env["libc_version"]
    assert Marker('libc == "musl" and libc_version >= "1.2"').evaluate(env)


def _debian_musl_version() -> str:
    import subprocess

    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "musl"], capture_output=True, text=True, check=False
    ).stdout
    if not out:
        pytest.fail("Debian's musl package is not installed: apt-get install musl (or run scripts/test)")
    return out.split("-")[0]


def test_running_system_standard_part_is_packagings() -> None:
    env = default_environment()
    standard = packaging.markers.default_environment()
    assert {k: env[k] for k in standard} == dict(standard)
    libc, version = platform.libc_ver()
    if libc == "glibc":
        assert (env["libc"], env["libc_version"]) == ("glibc", version)
    assert Marker('libc == "glibc"').evaluate() is (env["libc"] == "glibc")


def test_given_environment_is_not_probed() -> None:
    m = Marker('python_version == "2.7" and libc == "musl"')
    with pytest.raises(UndefinedEnvironmentName, match="'libc'"):
        m.evaluate({"python_version": "2.7"})
    env = {**default_environment(), "python_version": "2.7", "libc": "musl"}
    assert m.evaluate(env)


def test_stated_target() -> None:
    spec = parse_target_spec("alpine:3.19,musl:1.2.4,aarch64")
    env = default_environment(target=Target(given=spec))
    assert env["platform_machine"] == "aarch64"
    assert (env["libc"], env["libc_version"], env["distro_version"]) == ("musl", "1.2.4", "3.19")
    assert env["alpine_version"] == "3.19"
    assert env["musl_version"] == "1.2.4"


class _FlavourPlugin:
    """A plugin registered through the same path an entry-point plugin takes."""

    @hookimpl
    def alpinetags_marker_variables(self, platform: Platform) -> dict[str, str]:
        return {"flavour_version": "2.1", "libc": "not-musl"}


def test_plugin_variables_and_collisions() -> None:
    registry = load_plugins(extra=[("flavour", _FlavourPlugin())])
    spec = parse_target_spec("alpine:3.19,musl:1.2.4,x86_64")
    env = default_environment(target=Target(given=spec), registry=registry)
    assert env["flavour_version"] == "2.1"
    assert env["libc"] == "musl", "a plugin may not redefine a core variable"
    assert any("flavour" in f and "'libc'" in f for f in registry.faults)
    assert Marker('flavour_version > "2.0"').evaluate(env)  # compared as a version by its name


def test_blocked_plugin_variables_are_unknown() -> None:
    registry = load_plugins(disabled=["alpine"])
    spec = parse_target_spec("alpine:3.19,musl:1.2.4,x86_64")
    env = default_environment(target=Target(given=spec), registry=registry)
    with pytest.raises(UnknownVariable, match="'alpine_version'"):
        Marker('alpine_version >= "3.18"').evaluate(env)

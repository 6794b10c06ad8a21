"""Fault isolation: a bad plugin costs its own answer and one warning, never the other tags.

Every test runs a faulty plugin next to a good one (``goodos``) and the shipped plugins, then checks
that the good plugin's tags still come first and that what follows is exactly
``packaging.tags.sys_tags()`` (this machine is glibc: the shipped plugins add nothing here), with one
warning per fault in the captured log. Faulty plugins come in through ``load_plugins(extra=...)`` and,
where the way in matters (an entry point that fails to import), through a real ``*.dist-info`` with an
``entry_points.txt`` on ``sys.path``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import packaging.tags
import pytest

from alpinetags import hookimpl
from alpinetags._engine.detect import detect
from alpinetags._engine.plugins import SLOW_SECONDS, Registry, load_plugins
from alpinetags.errors import ConfigError
from alpinetags.model import Platform, Target
from alpinetags.tags import all_platforms, sys_tags

GOOD_TAG = "goodos_1_x86_64"


class Good:
    """A well-behaved plugin: one platform tag and one marker variable, always."""

    @hookimpl
    def alpinetags_platform_tags(self, platform: Platform) -> list[str]:
        return [GOOD_TAG]

    @hookimpl
    def alpinetags_marker_variables(self, platform: Platform) -> dict[str, str]:
        return {"goodos_version": "1"}


def check_tags_survive(registry: Registry) -> None:
    """The good plugin's platform first, then exactly packaging's own platforms and tags."""
    platforms = all_platforms(Target(), registry)
    assert platforms == [GOOD_TAG, *packaging.tags.platform_tags()]
    tags = sys_tags(Target(), registry)
    assert tags[0].platform == GOOD_TAG
    assert [t for t in tags if t.platform != GOOD_TAG] == list(packaging.tags.sys_tags())


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A plugin name unique to the test: warnings are once per process, so names must not repeat."""
    return "faulty-" + request.node.name.replace("[", "-").rstrip("]")


def warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and repr(name) in r.getMessage()
    ]


def run_twice(caplog: pytest.LogCaptureFixture, faulty: object, name: str) -> tuple[Registry, list[str]]:
    """Load the faulty plugin with the good one, compute the tags twice; (registry, warnings seen)."""
    registry = load_plugins(extra=[("good", Good()), (name, faulty)])
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        check_tags_survive(registry)
        check_tags_survive(registry)  # the same fault again: no second warning
    return registry, warnings_about(caplog, name)


# --- plugins that raise ---------------------------------------------------------------------------------


class RaisesInDetect:
    @hookimpl(tryfirst=True)
    def alpinetags_detect(self, target: Target, base: Platform) -> Platform:
        raise RuntimeError("detect exploded")


class RaisesInTags:
    @hookimpl(tryfirst=True)
    def alpinetags_platform_tags(self, platform: Platform) -> list[str]:
        raise KeyError("tags exploded")


class ExitsInTags:
    @hookimpl
    def alpinetags_platform_tags(self, platform: Platform) -> list[str]:
        raise SystemExit(3)  # sys.exit() inside pip must not end pip


@pytest.mark.parametrize(
    ("faulty", "expected"),
    [
        (RaisesInDetect(), "raised in alpinetags_detect: RuntimeError: detect exploded"),
        (RaisesInTags(), "raised in alpinetags_platform_tags: KeyError: 'tags exploded'"),
        (ExitsInTags(), "raised in alpinetags_platform_tags: SystemExit: 3"),
    ],
    ids=["detect", "tags", "sys.exit"],
)
def test_a_plugin_that_raises(
    caplog: pytest.LogCaptureFixture, name: str, faulty: object, expected: str
) -> None:
    _, warnings = run_twice(caplog, faulty, name)
    assert warnings == [f"plugin {name!r} {expected}"]


def test_a_plugin_raising_config_error_is_the_users_error() -> None:
    """The one exception that goes through: a bad user setting a plugin read must be heard, not warned."""

    class BadSetting:
        @hookimpl(tryfirst=True)
        def alpinetags_detect(self, target: Target, base: Platform) -> Platform:
            raise ConfigError("EXAMPLE_VERSION='x' is not a version")

    with pytest.raises(ConfigError, match="EXAMPLE_VERSION"):
        detect(Target(), load_plugins(extra=[("bad-setting", BadSetting())]))


# --- plugins that return garbage ------------------------------------------------------------------------


def _tags_plugin(value: Any) -> object:
    class ReturnsTags:
        @hookimpl
        def alpinetags_platform_tags(self, platform: Platform) -> Any:
            return value

    return ReturnsTags()


class ExplodingList(list):  # type: ignore[type-arg]
    """A list that raises when looked into: the result check itself must not crash the caller."""

    def __iter__(self) -> Any:
        raise RuntimeError("do not look inside")


@pytest.mark.parametrize(
    "value",
    [
        ("alpine_3_19_x86_64",),  # a tuple, not a list
        "alpine_3_19_x86_64",  # a string, not a list
        {"alpine_3_19_x86_64": 1},
        (t for t in ["alpine_3_19_x86_64"]),  # a generator
        ["Alpine 3.19"],  # invalid tag text
        ["alpine-3-19-x86_64"],
        [""],
        ["alpine_3_19_x86_64", 3],
        ["alpine_3_19_x86_64\n"],
        ExplodingList(["alpine_3_19_x86_64"]),
    ],
    ids=["tuple", "str", "dict", "generator", "space", "dashes", "empty", "int", "newline", "exploding-list"],
)
def test_a_plugin_returning_garbage_tags(caplog: pytest.LogCaptureFixture, name: str, value: Any) -> None:
    registry, warnings = run_twice(caplog, _tags_plugin(value), name)
    assert warnings == [f"plugin {name!r} returned an invalid result from alpinetags_platform_tags"]
    assert all(GOOD_TAG == t or not t.startswith("alpine") for t in _platforms(registry))


def _platforms(registry: Registry) -> list[str]:
    return all_platforms(Target(), registry)


def _detect_plugin(value: Any) -> object:
    class ReturnsPlatform:
        @hookimpl(tryfirst=True)
        def alpinetags_detect(self, target: Target, base: Platform) -> Any:
            return value(base) if callable(value) else value

    return ReturnsPlatform()


@pytest.mark.parametrize(
    "value",
    [
        {"arch": "x86_64", "distro_id": "alpine"},
        "alpine 3.19",
        42,
        lambda base: dataclasses.replace(base, arch=""),
        lambda base: dataclasses.replace(base, arch="X86 64"),
        lambda base: dataclasses.replace(base, arch=5),
        lambda base: dataclasses.replace(base, distro_version=3.19),
        lambda base: dataclasses.replace(base, distro_like="alpine"),
        lambda base: dataclasses.replace(base, sources=(("libc",),)),
    ],
    ids=["dict", "str", "int", "no-arch", "bad-arch", "int-arch", "float-version", "str-like", "bad-sources"],
)
def test_a_plugin_returning_a_non_platform_from_detect(
    caplog: pytest.LogCaptureFixture, name: str, value: Any
) -> None:
    registry, warnings = run_twice(caplog, _detect_plugin(value), name)
    assert warnings == [f"plugin {name!r} returned an invalid result from alpinetags_detect"]
    platform = detect(Target(), registry)
    linux = next(t for t in packaging.tags.platform_tags() if t.startswith("linux_"))
    assert (platform.detected_by, platform.arch) == ("", linux[len("linux_") :])  # the core's own answer


def test_a_plugin_returning_garbage_marker_variables(caplog: pytest.LogCaptureFixture, name: str) -> None:
    from alpinetags._engine.markers_vars import plugin_marker_variables

    class BadMarkers:
        @hookimpl
        def alpinetags_marker_variables(self, platform: Platform) -> Any:
            return {"ok_name": 3, "bad name": "x"}

    registry = load_plugins(extra=[("good", Good()), (name, BadMarkers())])
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        variables = dict(plugin_marker_variables(detect(Target(), registry), registry))
        check_tags_survive(registry)
    assert variables["good"] == {"goodos_version": "1"}
    assert name not in variables
    assert warnings_about(caplog, name) == [
        f"plugin {name!r} returned an invalid result from alpinetags_marker_variables"
    ]


# --- a slow plugin --------------------------------------------------------------------------------------


class Slow:
    """Slower than SLOW_SECONDS on every call, but correct."""

    @hookimpl
    def alpinetags_platform_tags(self, platform: Platform) -> list[str]:
        time.sleep(SLOW_SECONDS + 0.1)
        return ["slowos_1_x86_64"]


def test_a_slow_plugin_still_counts_and_is_reported_once(caplog: pytest.LogCaptureFixture, name: str) -> None:
    """The core's choice: a slow call is waited for (no thread is abandoned inside pip) and reported once."""
    registry = load_plugins(extra=[("good", Good()), (name, Slow())])
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        for _ in range(2):
            platforms = all_platforms(Target(), registry)
            assert platforms == [
                "slowos_1_x86_64",
                GOOD_TAG,
                *packaging.tags.platform_tags(),
            ]  # last registered first
    (warning,) = warnings_about(caplog, name)
    assert warning.startswith(f"plugin {name!r} is slow: alpinetags_platform_tags took")


# --- plugins that fail to load, through real entry points ----------------------------------------------


@pytest.fixture
def broken_dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[dict[str, str]]:
    """A sys.path entry holding distributions whose alpinetags entry points fail to load; {ep name: why}."""
    site = tmp_path / "site"
    site.mkdir()
    mod = name.replace("-", "_")
    (site / f"{mod}_raises.py").write_text("raise RuntimeError('boom at import')\n")
    (site / f"{mod}_exits.py").write_text("import sys\nsys.exit('exit at import')\n")
    (site / f"{mod}_syntax.py").write_text("def (:\n")
    (site / f"{mod}_notaplugin.py").write_text(  # a hook with an argument no spec offers
        "from alpinetags import hookimpl\n@hookimpl\ndef alpinetags_platform_tags(plat): return []\n"
    )
    entries = {
        f"{name}-missing": (f"{mod}_no_such_module", "ModuleNotFoundError"),
        f"{name}-raises": (f"{mod}_raises", "RuntimeError: boom at import"),
        f"{name}-exits": (f"{mod}_exits", "SystemExit: exit at import"),
        f"{name}-syntax": (f"{mod}_syntax", "SyntaxError"),
        f"{name}-attr": (f"{mod}_raises:missing.attr", "RuntimeError"),
        f"{name}-empty": ("", "ValueError"),
        f"{name}-hookless": (f"{mod}_notaplugin", "PluginValidationError"),
    }
    dist = site / f"{mod}_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {mod}-broken\nVersion: 1.0\n")
    lines = [f"{ep} = {value}" for ep, (value, _) in entries.items()]
    (dist / "entry_points.txt").write_text(
        "[alpinetags]\n" + "\n".join(lines) + "\nnot an entry point line\n"
    )
    # A distribution whose entry_points.txt is not even text.
    bad = site / f"{mod}_binary-1.0.dist-info"
    bad.mkdir()
    (bad / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {mod}-binary\nVersion: 1.0\n")
    (bad / "entry_points.txt").write_bytes(b"[alpinetags]\nx = \xff\xfe\x00\n")
    # And a good one beside them, found the same way.
    (site / f"{mod}_good.py").write_text(
        "from alpinetags import hookimpl\n"
        f"@hookimpl\ndef alpinetags_platform_tags(platform):\n    return [{GOOD_TAG!r}]\n"
    )
    good = site / f"{mod}_good-1.0.dist-info"
    good.mkdir()
    (good / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {mod}-good\nVersion: 1.0\n")
    (good / "entry_points.txt").write_text(f"[alpinetags]\ngood = {mod}_good\n")
    monkeypatch.syspath_prepend(str(site))
    yield {ep: why for ep, (_, why) in entries.items()}


def test_entry_points_that_fail_to_load(
    caplog: pytest.LogCaptureFixture, broken_dists: dict[str, str], name: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        registry = load_plugins()
        check_tags_survive(registry)
        load_plugins()  # loading again: the same faults are not warned twice
    status = {p.name: p.status for p in registry.plugins}
    assert status["alpine"] == status["musl"] == status["good"] == "loaded"
    for ep, why in broken_dists.items():
        assert status[ep].startswith("failed"), (ep, status[ep])
        (warning,) = warnings_about(caplog, ep)
        assert warning.startswith(f"plugin {ep!r} failed to load: ") and why in warning, warning


def test_a_broken_entry_point_can_be_blocked(
    broken_dists: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="alpinetags"):
        registry = load_plugins(disabled=set(broken_dists))
    assert {p.name: p.status for p in registry.plugins if p.name in broken_dists} == dict.fromkeys(
        broken_dists, "blocked"
    )
    assert registry.faults == []


def test_fault_messages_are_cut(caplog: pytest.LogCaptureFixture, name: str) -> None:
    """A plugin quoting a megabyte of hostile input in its exception does not print a megabyte."""

    class Quotes:
        @hookimpl
        def alpinetags_platform_tags(self, platform: Platform) -> list[str]:
            raise ValueError("bad version: " + "9" * (1 << 20))

    _, warnings = run_twice(caplog, Quotes(), name)
    assert len(warnings) == 1 and len(warnings[0]) <= 500 and warnings[0].endswith("...")

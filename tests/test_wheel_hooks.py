"""The distro rows of ``wheel show`` and the judgement of ``wheel tag`` come from plugins through hooks,
with the fault isolation every hook has: a plugin that raises or answers the wrong shape costs its own
answer and one warning, never the Alpine plugin's rows or the core's.

The wheel is the real jiter 0.19.0 musllinux_1_1 wheel (it calls ``getrandom``: musl 1.1.20, Alpine 3.9);
the third-party plugins come in through ``load_plugins(extra=...)``, the path an entry point takes.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from alpinetags import hookimpl
from alpinetags._engine.plugins import load_plugins
from alpinetags._wheel import wheelinfo
from alpinetags.cli.buildsystem import plugin_verdict
from alpinetags.cli.wheel import _show_text
from alpinetags.model import Platform
from alpinetags.wheelneeds import DistroReport, Overclaim, TagVerdict, WheelNeeds
from tests import parts_wheel


class Extra:
    """A well-behaved third-party distro plugin: one field, one row, one verdict."""

    seen: Optional[WheelNeeds] = None

    @hookimpl
    def alpinetags_wheel_report(self, needs: WheelNeeds) -> DistroReport:
        Extra.seen = needs
        return DistroReport(
            fields=(("fooos_floor", "7"),),
            floor_rows=(("fooos floor", "7"),),
            overclaims=(Overclaim("musllinux_1_1_x86_64", "FooOS 6", ("getrandom",)),),
        )

    @hookimpl
    def alpinetags_wheel_tag_check(self, platform: Platform, needs: WheelNeeds) -> Optional[TagVerdict]:
        return TagVerdict(warnings=("fooos says hello",)) if platform.distro_id == "alpine" else None


class Raises:
    @hookimpl
    def alpinetags_wheel_report(self, needs: WheelNeeds) -> DistroReport:
        raise RuntimeError("boom")

    @hookimpl
    def alpinetags_wheel_tag_check(self, platform: Platform) -> TagVerdict:
        raise RuntimeError("boom")


class Wrong:
    """Answers the core must refuse: a core key replaced, a value JSON cannot hold, the wrong types."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    @hookimpl
    def alpinetags_wheel_report(self, needs: WheelNeeds) -> Any:
        return self.answer

    @hookimpl
    def alpinetags_wheel_tag_check(self, platform: Platform) -> Any:
        return self.answer


@pytest.fixture(scope="module")
def jiter() -> str:
    return str(parts_wheel.real_wheel("jiter"))


@pytest.fixture(scope="module")
def alone(jiter: str) -> wheelinfo.WheelReport:
    return wheelinfo.show(jiter, load_plugins())


def test_the_alpine_rows_come_from_the_plugin(jiter: str, alone: wheelinfo.WheelReport) -> None:
    assert [name for name, _ in alone.distro] == ["alpine"]
    assert alone.alpine_floor == "3.9" and alone.as_dict()["honest_alpine"] == "alpine_3_9_x86_64"
    core = wheelinfo.show(jiter, load_plugins(disabled={"alpine"}))
    assert core.distro == () and "alpine_floor" not in core.as_dict()
    assert core.musl_floor == alone.musl_floor == "1.1.20"
    assert "alpine floor" not in _show_text(core) and "alpine floor:        3.9" in _show_text(alone)
    with pytest.raises(AttributeError):
        _ = core.alpine_floor


def test_a_third_party_plugin_adds_its_rows_after_alpine(jiter: str, alone: wheelinfo.WheelReport) -> None:
    report = wheelinfo.show(jiter, load_plugins(extra=[("fooos", Extra())]))
    assert Extra.seen is not None and Extra.seen.musl_ok[0] == "1.1.20"
    assert Extra.seen.musl_missing[0] == ("1.1.16", ("getrandom",))
    data = report.as_dict()
    assert data["fooos_floor"] == "7" and data["alpine_floor"] == "3.9"
    text = _show_text(report)
    assert text.index("alpine floor:") < text.index("fooos floor:") < text.index("system sonames:")
    assert [str(o) for o in report.overclaims] == [str(o) for o in alone.overclaims] + [
        "musllinux_1_1_x86_64 admits FooOS 6, which lack getrandom"
    ]


@pytest.mark.parametrize(
    "faulty",
    [
        Raises(),
        Wrong(["not", "a", "report"]),
        Wrong(DistroReport(fields=(("musl_floor", "0.0"),))),  # a key the core owns
        Wrong(DistroReport(fields=(("fooos", object()),))),  # not JSON
        Wrong(DistroReport(floor_rows=(("label", 3),))),  # type: ignore[arg-type]
        Wrong(DistroReport(overclaims=("musllinux_1_1_x86_64",))),  # type: ignore[arg-type]
    ],
    ids=["raises", "not-a-report", "core-key", "not-json", "bad-row", "bad-overclaim"],
)
def test_a_faulty_plugin_costs_only_its_own_answer(
    jiter: str, alone: wheelinfo.WheelReport, faulty: Any
) -> None:
    registry = load_plugins(extra=[("faulty", faulty)])
    report = wheelinfo.show(jiter, registry)
    assert report.as_dict() == alone.as_dict()
    assert _show_text(report) == _show_text(alone)
    assert len(registry.faults) == 1 and "'faulty'" in registry.faults[0], registry.faults


def test_tag_check_answers_are_checked_too(jiter: str, alone: wheelinfo.WheelReport) -> None:
    stated = Platform(arch="x86_64", distro_id="alpine", distro_version="3.8", detected_by="--target")
    refusals, warnings = plugin_verdict(load_plugins(), stated, alone, None)
    assert refusals == ["Alpine 3.8's musl 1.1.19 lacks getrandom"] and warnings == []
    registry = load_plugins(extra=[("fooos", Extra()), ("raises", Raises()), ("wrong", Wrong("no"))])
    report = wheelinfo.show(jiter, registry)
    before = len(registry.faults)
    assert plugin_verdict(registry, stated, report, None) == (refusals, ["fooos says hello"])
    assert len(registry.faults) == before + 2, registry.faults
    ok = dataclasses.replace(stated, distro_version="3.9")
    assert plugin_verdict(load_plugins(), ok, alone, None) == ([], [])


def _tag(*argv: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "alpinetags", "wheel", "tag", *argv]
    environ = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=environ)


def test_alpine_is_the_plugin_s_spelling_of_system(jiter: str, tmp_path: Path) -> None:
    for argv, out in ((["--alpine", "3.9"], "a"), (["--system", "alpine:3.9"], "s")):
        (tmp_path / out).mkdir()
        done = _tag(*argv, "-w", str(tmp_path / out), jiter)
        assert done.returncode == 0, done.stderr
        assert [p.name for p in (tmp_path / out).iterdir()] == [
            "jiter-0.19.0-cp311-cp311-alpine_3_9_x86_64.whl"
        ]
    unknown = _tag("--debian", "12", "-w", str(tmp_path), jiter)
    assert unknown.returncode == 2 and "--debian: no option" in unknown.stderr, unknown.stderr
    off = {"ALPINETAGS_DISABLE_PLUGINS": "alpine"}
    for argv in (["--alpine", "3.9"], ["--system", "alpine:3.9"]):
        refused = _tag(*argv, "-w", str(tmp_path), jiter, env=off)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "s"]

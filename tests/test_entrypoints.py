"""The lean entry-point reader finds what importlib.metadata finds, on this very environment."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from alpinetags._engine.entrypoints import entry_points, parse_entry_points


def test_same_console_scripts_as_importlib_metadata() -> None:
    ours = {(e.name, e.value, e.dist.name, e.dist.version) for e in entry_points("console_scripts") if e.dist}
    theirs = {
        (e.name, e.value, e.dist.name, e.dist.version)
        for e in metadata.entry_points().select(group="console_scripts")
        if e.dist
    }
    assert ours == theirs
    assert len(ours) > 3


def test_parse_sections_comments_and_extras() -> None:
    text = "# c\n[other]\nx = a:b\n[alpinetags]\n; c\nfoo = pkg.mod:obj.attr [extra]\nbar=pkg2\n"
    assert [(e.name, e.value) for e in parse_entry_points(text, "alpinetags")] == [
        ("foo", "pkg.mod:obj.attr"),
        ("bar", "pkg2"),
    ]


def test_first_distribution_on_the_path_wins(tmp_path: Path) -> None:
    for folder, version, module in (("a", "1.0", "first"), ("b", "2.0", "second")):
        info = tmp_path / folder / f"demo_plugin-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "entry_points.txt").write_text(f"[alpinetags]\ndemo = {module}\n")
    found = entry_points("alpinetags", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert [(e.value, e.dist and e.dist.version) for e in found] == [("first", "1.0")]


def test_a_fifo_for_entry_points_txt_does_not_block(tmp_path: Path) -> None:
    import os

    info = tmp_path / "fifo_plugin-1.0.dist-info"
    info.mkdir()
    os.mkfifo(info / "entry_points.txt")
    good = tmp_path / "good_plugin-1.0.dist-info"
    good.mkdir()
    (good / "entry_points.txt").write_text("[alpinetags]\ngood = good_plugin\n")
    assert [e.name for e in entry_points("alpinetags", [str(tmp_path)])] == ["good"]

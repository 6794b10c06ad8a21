"""A lean reader of the ``alpinetags`` entry-point group.

``importlib.metadata.entry_points()`` imports ``email``, ``pathlib`` and ``tempfile`` and parses every
distribution's METADATA to learn its name: about 25 ms in an environment of a hundred packages, paid in
every pip run. Entry points live in ``entry_points.txt`` beside the metadata, and the distribution's name
and version are in the ``.dist-info`` directory name (``name-version.dist-info``), so this module reads
only those, for the same result. The first distribution of a name on ``sys.path`` wins, as in
``importlib.metadata``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import NamedTuple, Optional

from alpinetags._safefile import read_regular
from alpinetags.errors import PluginError

#: METADATA carries the whole long description; only its head is read, but any size is accepted.
_MAX_METADATA = 1 << 30
_SECTION_RE = re.compile(r"\[\s*([^\]]+?)\s*\]")
_NORMALISE_RE = re.compile(r"[-_.]+")


# Records as NamedTuples, not frozen dataclasses: this module is imported at every start that looks plugins
# up, and a NamedTuple costs a seventh as much to define (issue 21).
class Distribution(NamedTuple):
    name: str
    version: str


class EntryPoint(NamedTuple):
    """One ``name = module[:attr]`` line of an ``entry_points.txt`` group."""

    name: str
    value: str
    group: str
    dist: Optional[Distribution] = None

    def load(self) -> object:
        module_name, _, attr = self.value.partition(":")
        obj: object = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def parse_entry_points(text: str, group: str, dist: Optional[Distribution] = None) -> list[EntryPoint]:
    """The entries of ``group`` in the text of an ``entry_points.txt`` (an INI file)."""
    out: list[EntryPoint] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION_RE.fullmatch(line)
        if m:
            current = m.group(1)
            continue
        if current == group and "=" in line:
            name, _, value = line.partition("=")
            value = value.split("[", 1)[0].strip()  # drop extras, as importlib.metadata does for loading
            out.append(EntryPoint(name.strip(), value, group, dist))
    return out


def _read_text(path: str, limit: int, errors: str = "strict") -> str:
    """Up to ``limit`` bytes of a regular file as text; a FIFO or device in a metadata folder never blocks."""
    data = read_regular(path, _MAX_METADATA, PluginError, "plugin metadata", limit=limit)
    return data.decode("utf-8", errors)


def _read_distribution(path: str, dirname: str) -> Distribution:
    """Name and version from the METADATA (or PKG-INFO) header, the directory name where it is silent.

    Called only for distributions that declare an ``alpinetags`` entry point, so its cost is a
    read of a few hundred bytes for each plugin distribution.
    """
    stem = dirname.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    fields: dict[str, str] = {}
    for meta in ("METADATA", "PKG-INFO"):
        try:
            head = _read_text(os.path.join(path, meta), 8192, "replace")  # a head may end mid-character
        except (PluginError, UnicodeDecodeError):
            continue
        for line in head.split("\n\n", 1)[0].splitlines():
            key, sep, value = line.partition(":")
            if sep and key in ("Name", "Version") and key not in fields:
                fields[key] = value.strip()
        break
    return Distribution(fields.get("Name", name), fields.get("Version", version.split("-")[0]))


def _metadata_dirs(paths: Iterable[str]) -> Iterator[tuple[str, str]]:
    for entry in paths:
        try:
            with os.scandir(entry or ".") as it:
                names = sorted(e.name for e in it)
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                yield os.path.join(entry or ".", name), name


def entry_points(group: str, paths: Optional[Iterable[str]] = None) -> list[EntryPoint]:
    """Every entry point of ``group`` found on ``paths`` (default ``sys.path``)."""
    seen: set[str] = set()
    out: list[EntryPoint] = []
    for path, dirname in _metadata_dirs(sys.path if paths is None else paths):
        key = _NORMALISE_RE.sub("_", dirname.rsplit(".", 1)[0].partition("-")[0]).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            text = _read_text(os.path.join(path, "entry_points.txt"), 1 << 20)
        except (PluginError, UnicodeDecodeError):
            continue
        if group in text:
            found = parse_entry_points(text, group)
            if found:
                dist = _read_distribution(path, dirname)
                out.extend(ep._replace(dist=dist) for ep in found)
    return out

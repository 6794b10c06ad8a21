"""The layout rule of docs/design.md, held: which layer of alpinetags may import which.

Every import of every module counts, also the lazy ones inside functions (they are imports all the same,
only later), and so do the command modules ``cli.main`` names in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "alpinetags"

#: docs/design.md's layers, bottom first. A module may import its own layer and the layers below.
LAYERS: list[tuple[str, ...]] = [
    ("alpinetags.errors", "alpinetags.wheelneeds", "alpinetags.wheelvariant", "alpinetags._safefile",
     "alpinetags._limits"),
    ("alpinetags.model", "alpinetags._elf"),
    ("alpinetags._system",),
    ("alpinetags.hookspecs", "alpinetags._engine"),
    ("alpinetags.tags", "alpinetags.markers", "alpinetags.requirements", "alpinetags._load"),
    ("alpinetags._wheel",),
    ("alpinetags._pip", "alpinetags._pth"),
    ("alpinetags", "alpinetags.__main__", "alpinetags.cli"),
    ("alpinetags.experiments",),
]  # fmt: skip


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> int:
    """The layer of a module: the longest prefix listed in ``LAYERS``."""
    best, found = -1, -1
    for index, members in enumerate(LAYERS):
        for prefix in members:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    if found < 0:
        raise AssertionError(f"{module} is in no layer of docs/design.md: give it one")
    return found


def imports_of(module: str) -> set[str]:
    """The alpinetags modules ``module`` imports anywhere in its body, plus those named as commands."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    text = path.read_text()
    block = re.search(r"COMMAND_MODULES[^=]*=\s*\[(.*?)\]", text, re.S)
    if block:
        found.update(re.findall(r"\"(alpinetags[\w.]*)\"", block[1]))
    return {m for m in found if m in MODULES and m != module}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    """A module imports only its own layer and the ones below: the tree reads bottom up."""
    own = layer_of(module)
    above = {m for m in imports_of(module) if layer_of(m) > own}
    if module == "alpinetags.cli.main":
        above.discard("alpinetags.experiments.cli")  # `alpinetags experiment`, loaded by name when run
    assert not above, f"{module} (layer {own}) imports higher layers: {sorted(above)}"


def test_no_module_pair_needs_the_other_both_ways() -> None:
    graph = {m: imports_of(m) for m in MODULES}
    pairs = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph[b]})
    assert pairs == []


def test_the_product_never_imports_the_experiments() -> None:
    users = {m for m in MODULES if not m.startswith("alpinetags.experiments")}
    importing = {m for m in users if any(i.startswith("alpinetags.experiments") for i in imports_of(m))}
    assert importing == {"alpinetags.cli.main"}  # only to run `alpinetags experiment`, by name


def test_the_core_knows_no_distro_plugin() -> None:
    """The core never imports a shipped plugin: it finds them through the entry-point group."""
    for module, path in MODULES.items():
        if module.startswith("alpinetags.experiments"):
            continue  # the experiments are a study of Alpine and may read the Alpine plugin's tables
        named = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level:
                named.add(node.module or "")
            elif isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
        assert not {n for n in named if n.startswith("alpinetags_")}, module


def test_internal_modules_are_marked() -> None:
    """Public modules carry plain names; everything else lives under an underscore (or is a command)."""
    public = {
        "alpinetags", "alpinetags.__main__", "alpinetags.errors", "alpinetags.model", "alpinetags.hookspecs",
        "alpinetags.wheelneeds", "alpinetags.wheelvariant", "alpinetags.tags", "alpinetags.markers",
        "alpinetags.requirements",
    }  # fmt: skip
    for module in MODULES:
        if module in public or module.startswith(("alpinetags.cli", "alpinetags.experiments")):
            continue
        assert any(part.startswith("_") for part in module.split(".")[1:]), module


def test_every_public_name_resolves_lazily() -> None:
    """``__all__`` is the public API (docs/design.md): each name resolves, and importing the package
    still loads none of them until asked."""
    import subprocess
    import sys

    code = (
        "import sys, alpinetags\n"
        "before = {m for m in sys.modules if m.startswith('alpinetags.')}\n"
        "assert not before, before\n"
        "for name in alpinetags.__all__:\n"
        "    assert getattr(alpinetags, name) is not None, name\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

"""``alpinetags check [--root DIR] [--json] [PATH ...]``: does every ELF object in PATH load on the root?

The tag says which systems a wheel is for; this says whether its libraries are there. See
``alpinetags.native`` for how the loader is simulated; nothing in the root is run.
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
from collections.abc import Callable
from typing import Any

from .cli import EXIT_NO, EXIT_OK, emit, make_registry, make_target, opt

EXAMPLES = """\
examples:
  alpinetags check                              every extension module of this environment, here
  alpinetags check dist/foo-1.0-cp311-cp311-alpine_3_16_x86_64.whl --root /srv/alpine-3.17
                                                would this wheel load on that image? (read, never run)
  alpinetags check --root /srv/alpine-3.8 /srv/alpine-3.8/usr/lib/python3.6/site-packages
  alpinetags check --json wheelhouse/ | jq '.objects[] | select(.loads | not)'

exit codes: 0 every object loads, 1 some object does not, 2 bad input, 3 the root could not be read
"""


def default_paths() -> list[str]:
    """This environment's site-packages (platlib, then purelib if it differs)."""
    paths = sysconfig.get_paths()
    return [p for p in dict.fromkeys([paths["platlib"], paths["purelib"]]) if os.path.isdir(p)]


def _text(report: Any, show_all: bool) -> str:
    system = report.system
    what = ", ".join(
        x
        for x in (
            f"{system.distro_id} {system.distro_version}".strip(),
            f"{system.libc} {system.libc_version}".strip(),
            system.arch,
        )
        if x
    )
    failures = report.failures
    lines = [
        f"root {system.root} ({what or 'unknown system'}): {len(report.objects)} ELF objects, "
        + (f"{len(failures)} do not load" if failures else "all load")
    ]
    for v in report.objects:
        if v.loads and not show_all:
            continue
        lines.append(f"{'ok  ' if v.loads else 'FAIL'}  {v.path}")
        lines.extend(f"      {r}" for r in v.reasons)
        lines.extend(f"      hint: {h}" for h in v.hints)
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .native import check_paths, plugin_hints, read_system

    if opt(args, "target"):
        raise ConfigError("--target: check reads the libraries of a root; give --root instead")
    target = make_target(args)
    paths = opt(args, "paths") or default_paths()
    if not paths:
        raise ConfigError("no PATH given and no site-packages found")
    system = read_system(target.root, opt(args, "arch")) if opt(args, "arch") else None
    report = check_paths(paths, target.root, system=system, hints=plugin_hints(make_registry(args, target)))
    for problem in report.problems:
        print(f"alpinetags: warning: not checked: {problem}", file=sys.stderr)
    emit(args, report.as_dict(), lambda: _text(report, bool(opt(args, "all"))))
    return EXIT_OK if report.ok else EXIT_NO


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "check",
        cmd_check,
        "does every ELF file in PATH (wheel, folder, file) load on the root? exit 0 yes, 1 no, 2 bad input",
    )
    p.epilog = EXAMPLES
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="an ELF file, a wheel, or a folder (default: this environment's site-packages)",
    )
    p.add_argument(
        "--all", action="store_true", default=argparse.SUPPRESS, help="list the objects that load too"
    )

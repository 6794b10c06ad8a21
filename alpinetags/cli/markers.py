"""``alpinetags markers EXPR`` and ``alpinetags filter FILE``: markers with libc and distro variables.

Both evaluate for the system the common options describe (``--root``, ``--executable``, ``--target``),
so an image can be checked from outside it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from alpinetags.cli.common import EXIT_NO, EXIT_OK, emit, make_registry, make_target


def _environment(args: argparse.Namespace) -> dict[str, str]:
    from alpinetags.markers import default_environment

    target = make_target(args)
    return default_environment(target=target, registry=make_registry(args, target))


def cmd_markers(args: argparse.Namespace) -> int:
    from alpinetags.markers import Marker

    marker = Marker(args.marker)  # a bad marker is an InvalidMarker, a ConfigError: exit 2
    environment = _environment(args)
    holds = marker.evaluate(environment)
    if getattr(args, "json", False):
        emit(args, {"marker": str(marker), "holds": holds, "environment": environment}, str)
    return EXIT_OK if holds else EXIT_NO


def cmd_filter(args: argparse.Namespace) -> int:
    from alpinetags.requirements import marker_holds, read_requirements

    if args.file == "-":
        lines = read_requirements("<stdin>", content=sys.stdin.read())
    else:
        lines = read_requirements(args.file)
    environment = _environment(args)
    rows = [(line, marker_holds(line, environment)) for line in lines]
    kept = [line.output() for line, holds in rows if holds]
    data = {
        "environment": environment,
        "lines": [
            {
                "file": line.path,
                "line": line.lineno,
                "kind": line.kind,
                "text": line.text,
                "marker": str(line.marker) if line.marker else None,
                "holds": holds,
                "output": line.output() if holds else None,
            }
            for line, holds in rows
        ],
    }
    emit(args, data, lambda: "\n".join(kept))
    return EXIT_OK


MARKERS_EXAMPLES = """\
examples:
  alpinetags markers 'libc == "musl"' && echo musl
                                     branch a shell script on the marker (exit 0 holds, 1 not)
  alpinetags markers 'alpine_version >= "3.17"' --root /srv/img
                                     evaluate for an image on disk
  alpinetags markers --json 'distro_id == "alpine"'
                                     the answer and the whole environment, for scripts
  alpinetags markers --target alpine:3.19,musl:1.2.4,x86_64 'musl_version >= "1.2.4"'
                                     for a system stated outright
"""

FILTER_EXAMPLES = """\
examples:
  alpinetags filter requirements.txt > requirements-here.txt
                                     keep the lines whose markers hold here, markers removed
  alpinetags filter --root /srv/img requirements.txt
                                     the lines an image needs
  cat requirements.txt | alpinetags filter - --json
                                     from stdin, with each line's verdict, for scripts
"""


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "markers",
        cmd_markers,
        "evaluate a PEP 508 marker with libc/distro variables here: exit 0 holds, 1 not, 2 bad marker",
        MARKERS_EXAMPLES,
    )
    p.add_argument("marker", metavar="EXPR", help='e.g. \'libc == "musl" and distro_version >= "3.18"\'')
    p = add(
        "filter",
        cmd_filter,
        "print the lines of a requirements file whose markers hold here (markers removed, -r read in place)",
        FILTER_EXAMPLES,
    )
    p.add_argument("file", metavar="FILE", help="requirements file, or - for standard input")

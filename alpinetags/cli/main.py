"""The ``alpinetags`` command line (also ``python -m alpinetags``).

Exit codes, the same for every command:
  0  done (for ``markers``: the marker holds)
  1  a negative answer (``markers``: it does not hold)
  2  bad input: a usage error, an invalid option, environment variable or marker
  3  the system could not be probed (a typed error while reading it)

Feature commands live in modules of their own and register themselves through ``COMMAND_MODULES``:
each has ``register(subparsers, common)`` adding its parser with ``func`` set, and imports anything
heavy only inside that ``func``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    import argparse

from alpinetags.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBE,
    EXIT_USAGE,
    add_common,
    emit,
    examples_epilog,
    make_registry,
    make_target,
    opt,
    positive_int,
)

# argparse and json are imported where they are used: ``alpinetags tags`` answered by the detection
# cache needs neither (``_plain_tags``, issue 21).

#: Modules adding subcommands, in --help order (one line each, so features can be added independently).
COMMAND_MODULES: list[str] = [
    "alpinetags.cli.markers",  # markers, filter
    "alpinetags.cli.pip",  # pip enable/disable/status, pip <args>
    "alpinetags.experiments.cli",  # compare, experiment matrix/symbols
    "alpinetags.cli.check",  # check (native libraries)
    "alpinetags.cli.wheel",  # wheel show/tag
]

#: speed (issue 21): the commands each of ``COMMAND_MODULES`` adds, so that a command line naming one
#: imports and builds that module's parsers only (``modules_for``). A module missing here is always
#: imported; tests/test_startup.py checks the lists against what the modules register.
MODULE_COMMANDS: dict[str, tuple[str, ...]] = {
    "alpinetags.cli.markers": ("markers", "filter"),
    "alpinetags.cli.pip": ("pip",),
    "alpinetags.experiments.cli": ("compare", "experiment"),
    "alpinetags.cli.check": ("check",),
    "alpinetags.cli.wheel": ("wheel",),
}
#: Options of ``add_common`` that take a value as the next word.
_VALUE_OPTIONS = frozenset({"--root", "--executable", "--arch", "--target", "--disable-plugin"})

MAIN_EXAMPLES = """\
examples:
  alpinetags                         what this system is, and its first tags
  alpinetags tags --json             every tag, best first, for scripts
  alpinetags detect --root /srv/img  probe an image unpacked on disk (nothing in it is executed)
  alpinetags check                   do this environment's compiled modules load here?
  alpinetags COMMAND --help          each command's own examples
"""

TAGS_EXAMPLES = """\
examples:
  alpinetags tags --limit 5          the five best tags here
  alpinetags tags --json | jq -r '.platforms[]'
                                     the platform tags alone, for scripts
  alpinetags tags --root /srv/alpine-3.19
                                     the tags of an unpacked image (read, never run)
  alpinetags tags --target alpine:3.19,musl:1.2.4,aarch64
                                     a system stated outright, as pip --platform does
  alpinetags tags --arch aarch64     this system's tags for another arch
  ALPINETAGS_DISABLE_PLUGINS=alpine alpinetags tags
                                     without the Alpine plugin
"""

DETECT_EXAMPLES = """\
examples:
  alpinetags detect                  this system: arch, distro, libc, and the file each came from
  alpinetags detect -v               also log every file read and every plugin's answer
  alpinetags detect --root /srv/img --json
                                     an image unpacked on disk, for scripts
  alpinetags detect --executable /srv/img/usr/bin/python3 --root /srv/img
                                     judge the libc by that interpreter's ELF header
"""

PLUGINS_EXAMPLES = """\
examples:
  alpinetags plugins                 name, status, distribution and marker variables of each plugin
  alpinetags plugins --json          the same, for scripts
  alpinetags plugins --disable-plugin alpine
                                     shows the Alpine plugin as blocked
"""


def _platform_text(platform: Any) -> str:
    lines = [f"arch:    {platform.arch}   ({platform.source('arch')})"]
    if platform.distro_id:
        like = f"  like {' '.join(platform.distro_like)}" if platform.distro_like else ""
        lines.append(
            f"distro:  {platform.distro_id} {platform.distro_version}{like}   ({platform.source('distro')})"
        )
    else:
        lines.append("distro:  (none found)")
    if platform.libc:
        how = platform.source("libc_version") or platform.source("libc")
        lines.append(f"libc:    {platform.libc} {platform.libc_version or '(version unknown)'}   ({how})")
    else:
        lines.append("libc:    (unknown)")
    lines.append(f"found by: {platform.detected_by or 'core only (no plugin recognised this system)'}")
    return "\n".join(lines)


def cmd_detect(args: argparse.Namespace) -> int:
    from alpinetags._engine.detect import detect

    target = make_target(args)
    platform = detect(target, make_registry(args, target))
    python = _other_python(target)
    data = platform.as_dict()
    text = _platform_text(platform)
    if python is not None:  # an interpreter other than this one: which CPython it is, read from its files
        data["python"] = {"version": python.version, "abiflags": python.abiflags, "soabi": python.soabi,
                          "source": python.source}  # fmt: skip
        shown = f"CPython {python.version}{python.abiflags}" + (f" ({python.soabi})" if python.soabi else "")
        text += f"\npython:  {shown}   ({python.source})"
    emit(args, data, lambda: text)
    return EXIT_OK


def _probe_tags(args: argparse.Namespace) -> tuple[Any, list[str], list[str]]:
    """The platform the options describe, its platform tags and its full tag list (as text)."""
    from alpinetags._engine.detect import detect
    from alpinetags.tags import all_platforms, tags_for_platforms

    target = make_target(args)
    registry = make_registry(args, target)
    platform = detect(target, registry)
    platforms = all_platforms(target, registry, platform)
    return platform, platforms, [str(t) for t in tags_for_platforms(platforms, _other_python(target))]


def _other_python(target: Any) -> Any:
    """The CPython the tags are for when it is not this one: ``--executable``, or the root's own
    ``python3``, read from its files (``interpreter.python_of``: its SOABI, its libpython), never run.
    ``None``: this interpreter (the running system, a stated ``--target``, a root without Python)."""
    from alpinetags._system.interpreter import python_of, target_executable

    if target.is_running_system or target.given is not None:
        return None
    exe = target_executable(target)
    if not exe:
        return None
    found = python_of(exe, target.root)
    return found if found.version else None


def cmd_tags(args: argparse.Namespace) -> int:
    platform, platforms, tags = _probe_tags(args)
    limit = opt(args, "limit")
    shown = tags[:limit] if limit else tags
    data = {"platform": platform.as_dict(), "platforms": platforms, "tags": shown}
    emit(args, data, lambda: "\n".join(shown))
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace) -> int:
    target = make_target(args)
    registry = make_registry(args, target)
    from alpinetags._engine.detect import detect
    from alpinetags._engine.markers_vars import plugin_marker_variables

    variables: dict[str, list[str]] = {}
    for name, values in plugin_marker_variables(detect(target, registry), registry):
        variables.setdefault(name, []).extend(sorted(values))
    rows = [
        {
            "name": p.name,
            "module": p.module,
            "distribution": p.distribution,
            "version": p.version,
            "status": p.status,
            "marker_variables": variables.get(p.name, []),
        }
        for p in registry.plugins
    ]

    def text() -> str:
        if not rows:
            return "no plugins found in the entry-point group 'alpinetags'"
        out = []
        for r in rows:
            dist = f"{r['distribution']} {r['version']}".strip() or "registered directly"
            extra = f"  markers: {', '.join(r['marker_variables'])}" if r["marker_variables"] else ""
            out.append(f"{r['name']:<12} {r['status']:<8} {r['module']}  (from {dist}){extra}")
        return "\n".join(out)

    emit(args, rows, text)
    return EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    platform, platforms, tags = _probe_tags(args)
    data = {
        "platform": platform.as_dict(),
        "platforms": platforms,
        "tags": tags[:10],
        "tag_count": len(tags),
    }

    def text() -> str:
        head = "\n".join(f"  {t}" for t in tags[:10])
        intro = f"first tags ({len(tags)} in all; `alpinetags tags` lists them):"
        return f"{_platform_text(platform)}\n\n{intro}\n{head}"

    emit(args, data, text)
    return EXIT_OK


def modules_for(words: Optional[Sequence[str]]) -> list[str]:
    """The ``COMMAND_MODULES`` a command line needs (speed, issue 21): all of them for ``--help`` or a
    word that names no known command (so the help and argparse's error list every command), else only
    the module of the command named, if any, and the modules ``MODULE_COMMANDS`` does not know."""
    if words is None or any(w in ("-h", "--help") for w in words):
        return list(COMMAND_MODULES)
    skip = False
    command = None
    for word in words:
        if skip:
            skip = False
        elif word in _VALUE_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            command = word
            break
    known = {c for commands in MODULE_COMMANDS.values() for c in commands} | {"tags", "detect", "plugins"}
    if command is not None and command not in known:
        return list(COMMAND_MODULES)
    return [m for m in COMMAND_MODULES if command in MODULE_COMMANDS.get(m, (command,))]


def build_parser(words: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The parser of every command, or (``words``: the command line to parse) of what it needs."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="alpinetags",
        description="Wheel tags for this system, with distro tags (alpine_3_19_x86_64) before the "
        "standard ones, and a musllinux fallback for other musl systems.",
        epilog=examples_epilog(MAIN_EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from alpinetags import __version__

    parser.add_argument("--version", action="version", version=f"alpinetags {__version__}")
    add_common(parser)
    parser.set_defaults(func=cmd_summary)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help: str, examples: str = ""
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=examples_epilog(examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_common(p)
        p.set_defaults(func=func)
        return p

    t = add(
        "tags", cmd_tags, "print every wheel tag this interpreter accepts here, best first", TAGS_EXAMPLES
    )
    t.add_argument(
        "--limit", type=positive_int, default=argparse.SUPPRESS, metavar="N", help="print only the first N"
    )
    add(
        "detect",
        cmd_detect,
        "say what system this is, which plugin found it, from which files",
        DETECT_EXAMPLES,
    )
    add(
        "plugins",
        cmd_plugins,
        "list the plugins found (name, status, where from, marker variables)",
        PLUGINS_EXAMPLES,
    )
    for module in modules_for(words):
        importlib.import_module(module).register(sub, add)
    return parser


class _LowerLevelFormatter(logging.Formatter):
    """``alpinetags: warning: ...``, the one spelling every warning of alpinetags uses (pip's hook too)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"alpinetags: {record.levelname.lower()}: {record.getMessage()}"


def configure_logging(verbose: bool) -> None:
    """Warnings always; with ``-v`` also the info lines: each file read, each plugin asked, its answer."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LowerLevelFormatter())
    logger = logging.getLogger("alpinetags")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def _plain_tags() -> int:
    """``alpinetags tags`` with no option: ``cmd_tags`` for the default target, through the detection
    cache (``tags.default_platforms``), without building the parser (speed, issue 21)."""
    from alpinetags.tags import default_platforms, tags_for_platforms

    print("\n".join(str(t) for t in tags_for_platforms(default_platforms())))
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    from alpinetags.errors import AlpinetagsError, ConfigError, InputRefused, RootRefused

    words = sys.argv[1:] if argv is None else list(argv)
    # speed (issue 21): `tags` alone needs no parser; a plugin name to disable may be unknown (make_registry
    # warns), so ALPINETAGS_DISABLE_PLUGINS takes the ordinary path.
    if words == ["tags"] and not os.environ.get("ALPINETAGS_DISABLE_PLUGINS"):
        run: Callable[[], int] = _plain_tags
        configure_logging(False)
    else:
        args = build_parser(words).parse_args(words)
        configure_logging(bool(opt(args, "verbose")))

        def run() -> int:
            return int(args.func(args))

    try:
        return run()
    except InputRefused as exc:  # "refused: <input>: ... exceeds ...": a hostile root 3, else bad input 2
        print(f"alpinetags: {exc}", file=sys.stderr)
        return EXIT_PROBE if isinstance(exc, RootRefused) else EXIT_USAGE
    except ConfigError as exc:
        print(f"alpinetags: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AlpinetagsError as exc:
        print(f"alpinetags: cannot probe: {exc}", file=sys.stderr)
        return EXIT_PROBE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C: one line and 128 + SIGINT, as shells count it; no traceback
        print("alpinetags: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

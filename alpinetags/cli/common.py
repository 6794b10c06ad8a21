"""What every command of the command line shares: exit codes, the common options, the help footer, output.

Each command module imports this and the library, never ``cli.main`` (which imports the commands to
dispatch them), so no two modules of the command line need each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_NO, EXIT_USAGE, EXIT_PROBE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # Ctrl-C

#: What every command's --help ends with, after its own examples.
FOOTER = """\
environment:
  ALPINETAGS_ROOT            the root to probe (same as --root)
  ALPINETAGS_ALPINE_VERSION  force the Alpine release (3.19), or empty to switch Alpine tags off
  ALPINETAGS_MUSL_VERSION    force the musl version (1.2.4), or empty for none
  ALPINETAGS_DISABLE_PLUGINS comma-separated plugin names not to load
  ALPINETAGS_NO_CACHE=1      no per-user cache (detection, check, pip's wheel reads: ~/.cache/alpinetags)

exit codes: 0 done, 1 negative answer, 2 bad input, 3 system could not be probed
"""


def examples_epilog(examples: str) -> str:
    """A command's ``--help`` epilog: its own examples, then what every command shares."""
    return f"{examples.rstrip()}\n\n{FOOTER}" if examples else FOOTER


def positive_int(text: str) -> int:
    """argparse type for counts such as ``--limit``: 1 or more (argparse exits 2 naming the value)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not 1 or more")
    return value


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every command takes. Defaults are SUPPRESSed so they may stand before or after it."""
    import argparse

    s = argparse.SUPPRESS
    g = parser.add_argument_group("what to probe")
    g.add_argument(
        "--root",
        metavar="DIR",
        default=s,
        help="root directory to probe (default: /, or $ALPINETAGS_ROOT)",
    )
    g.add_argument(
        "--executable",
        metavar="PATH",
        default=s,
        help="interpreter whose ELF header is read (default: this one)",
    )
    g.add_argument(
        "--arch",
        metavar="ARCH",
        default=s,
        help="force the wheel-tag arch (x86_64, aarch64, i686, ...)",
    )
    g.add_argument(
        "--target",
        metavar="SPEC",
        default=s,
        help="state the system instead of probing: alpine:3.19,musl:1.2.4,x86_64",
    )
    g.add_argument(
        "--disable-plugin",
        metavar="NAME",
        action="append",
        default=s,
        help="do not load this plugin (repeatable, or comma-separated)",
    )
    parser.add_argument("--json", action="store_true", default=s, help="print JSON for scripts")
    parser.add_argument("-v", "--verbose", action="store_true", default=s, help="log what is read")


def opt(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    return getattr(args, name, default)


def make_target(args: argparse.Namespace) -> Any:
    """The ``Target`` the options describe (``detect.target_from_options``: bad values are exit 2)."""
    from alpinetags._engine.targets import target_from_options

    return target_from_options(
        opt(args, "root"), opt(args, "executable"), opt(args, "arch"), opt(args, "target"), dict(os.environ)
    )


def make_registry(args: argparse.Namespace, target: Any) -> Any:
    from alpinetags._engine.plugins import disabled_from_env, load_plugins

    disabled = set(disabled_from_env(target.environ))
    for item in opt(args, "disable_plugin") or []:
        disabled.update(n for n in item.split(",") if n)
    registry = load_plugins(disabled)
    # speed (issue 21): the plugins are looked up only when there are names to check; none is imported
    known = set(registry.names()) if disabled else set()
    for name in sorted(disabled - known):
        from alpinetags._engine.plugins import warn_once

        warn_once(f"no plugin named {name!r} to disable (found: {', '.join(sorted(known)) or 'none'})")
    return registry


def rendered(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> str:
    """The output of a command: ``data`` as JSON with ``--json``, else ``text()``."""
    if opt(args, "json"):
        import json

        return json.dumps(data, indent=2)
    return text()


def emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> None:
    print(rendered(args, data, text))

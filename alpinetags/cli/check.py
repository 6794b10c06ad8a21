"""``alpinetags check [--root DIR] [--json] [PATH ...]``: does every ELF object in PATH load on the root?

The tag says which systems a wheel is for; this says whether its libraries are there. See
``alpinetags._load.native`` for how the loader is simulated; nothing in the root is run.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import sysconfig
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from alpinetags._engine.plugins import Registry
    from alpinetags.cli.checkcache import CheckOutput

from alpinetags.cli.common import EXIT_NO, EXIT_OK, EXIT_USAGE, make_registry, make_target, opt, rendered

EXAMPLES = """\
examples:
  alpinetags check                              every extension module of this environment, here
  alpinetags check dist/foo-1.0-cp311-cp311-alpine_3_16_x86_64.whl --root /srv/alpine-3.17
                                                would this wheel load on that image? (read, never run)
  alpinetags check --root /srv/alpine-3.8 /srv/alpine-3.8/usr/lib/python3.6/site-packages \\
      --executable /srv/alpine-3.8/usr/bin/python3.6
                                                that image's modules, as its own python imports them
                                                (--executable: the interpreter that imports them)
  alpinetags check --root /srv/img --library-path /opt/app/lib /srv/img/opt/app
                                                as run with LD_LIBRARY_PATH=/opt/app/lib (searched first)
  alpinetags check --json wheelhouse/ | jq '.objects[] | select(.loads | not)'

check's exit codes: 0 every object loads, 1 some object does not, 2 bad input (also: a file that cannot
be read, or no ELF file at all under PATH: nothing was checked), 3 the root cannot be read

The same question asked again (same options and settings) is answered from the per-user check cache
while every file and folder the check read, and alpinetags itself, are unchanged; -v or
ALPINETAGS_NO_CACHE=1 checks afresh (docs/speed.md, "The check cache").
"""


#: Loader messages shown per object in the text output: a missing library brings dozens of symbols along.
MAX_REASONS = 6


def default_paths() -> list[str]:
    """This environment's site-packages (platlib, then purelib if it differs)."""
    paths = sysconfig.get_paths()
    return [p for p in dict.fromkeys([paths["platlib"], paths["purelib"]]) if os.path.isdir(p)]


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


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
    n, deps = len(report.objects), len(report.dependencies)
    unread = len(report.problems)
    if failures:
        verdict = f"{len(failures)} {'does' if len(failures) == 1 else 'do'} not load"
    else:
        verdict = "all load" if not unread else ("it loads" if n == 1 else "those load")
    lines = [
        f"root {system.root} ({what or 'unknown system'}): {_count(n, 'ELF object')}"
        + (f" (and {_count(deps, 'library', 'libraries')} they load)" if deps else "")
        + ", "
        + verdict
        + (f"; {_count(unread, 'file')} could not be read, not checked" if unread else "")
    ]
    if getattr(system, "library_path", ()):
        lines.append(f"searched first (LD_LIBRARY_PATH): {':'.join(system.library_path)}")
    for v in report.objects:
        if v.loads and not show_all:
            continue
        lines.append(f"{'ok  ' if v.loads else 'FAIL'}  {v.path}")
        shown = v.reasons if show_all else v.reasons[:MAX_REASONS]
        lines.extend(f"      {r}" for r in shown)
        if len(shown) < len(v.reasons):
            lines.append(f"      ... and {len(v.reasons) - len(shown)} more (--all or --json for every one)")
        lines.extend(f"      hint: {h}" for h in v.hints)
    return "\n".join(lines)


def _interpreter_inside(root: str, executable: Optional[str]) -> Optional[str]:
    """``--executable`` (a path on this machine) as a path inside the root: the interpreter that will
    import the extension modules checked. ``None`` (not given): this one for ``/``, none elsewhere."""
    from alpinetags.errors import ConfigError

    if not executable:
        return None
    path, top = os.path.abspath(executable), os.path.abspath(root)
    if top == "/":
        return path
    if not path.startswith(top.rstrip("/") + "/"):
        raise ConfigError(f"--executable {executable!r} is not inside --root {root!r}")
    return "/" + os.path.relpath(path, top)


def _library_path(value: Optional[str]) -> Optional[list[str]]:
    """``--library-path DIRS`` (colon-separated, inside the root) as a list; not given: ``None`` (this
    process's ``LD_LIBRARY_PATH`` for ``/``, none for another root). ``""`` states an empty one."""
    if value is None:
        return None
    from alpinetags._system.loadpath import split_library_path

    return list(split_library_path(value))


def cmd_check(args: argparse.Namespace) -> int:
    """The check, answered from the user's cache (``cli.checkcache``) when nothing it read has changed."""
    from alpinetags.cli import checkcache

    if opt(args, "target"):
        from alpinetags.errors import ConfigError

        raise ConfigError("--target: check reads the libraries of a root; give --root instead")
    options = {k: v for k, v in vars(args).items() if k != "func"}
    memo = checkcache.memo_for(options, os.environ, bool(opt(args, "verbose")))
    kept = memo.load() if memo is not None else None
    if kept is not None:
        return kept.show()
    if memo is None:
        return _check(args)[0].show()
    from alpinetags._engine import readlog

    warnings = _WarningCount()
    logger = logging.getLogger("alpinetags")
    logger.addHandler(warnings)
    try:
        with readlog.recording() as log:
            output, registry = _check(args)
    finally:
        logger.removeHandler(warnings)
    code = output.show()
    if not warnings.count and (not registry.loaded or (not registry.faults and registry.shipped_only())):
        plugins = registry.manager.get_plugins() if registry.loaded else None
        memo.store(output, log, plugins)
    return code


class _WarningCount(logging.Handler):
    """Counts the warnings logged while a check runs: an answer that warned is not kept."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _check(args: argparse.Namespace) -> tuple[CheckOutput, Registry]:
    """The check itself: what it prints and its exit code (``CheckOutput``), and the plugin registry."""
    from alpinetags._load.native import check_paths, plugin_hints, read_system
    from alpinetags.cli.checkcache import CheckOutput
    from alpinetags.errors import ConfigError

    target = make_target(args)
    paths = opt(args, "paths") or default_paths()
    if not paths:
        raise ConfigError("no PATH given and no site-packages found")
    library_path = _library_path(opt(args, "library_path"))
    arch = opt(args, "arch")
    system = read_system(target.root, arch, library_path=library_path) if arch else None
    from alpinetags.cli.progress import progress

    registry = make_registry(args, target)
    with progress(f"checking {', '.join(paths)}", quiet=bool(opt(args, "quiet"))):
        report = check_paths(
            paths,
            target.root,
            system=system,
            library_path=library_path,
            hints=plugin_hints(registry),
            interpreter=_interpreter_inside(target.root, opt(args, "executable")),
        )
    err = [f"alpinetags: warning: not checked: {problem}" for problem in report.problems]
    if not report.objects or not report.system.libc:  # an error follows: the warnings come first
        for line in err:
            print(line, file=sys.stderr)
    if report.problems and not report.objects:
        raise ConfigError(f"no ELF object in PATH could be read: {report.problems[0]}")
    if not report.objects:
        raise ConfigError(
            f"no ELF file found in {', '.join(paths)}: nothing was checked "
            "(a pure-Python wheel or folder needs no libraries)"
        )
    if report.objects and not report.system.libc:
        from alpinetags.errors import LoaderError

        raise LoaderError(
            f"{target.root}: no C library for {report.system.arch} (no musl loader, no libc.so.6)"
        )
    out = rendered(args, report.as_dict(), lambda: _text(report, bool(opt(args, "all"))))
    if not report.ok:
        return CheckOutput(EXIT_NO, out, tuple(err)), registry
    if report.problems:
        last = (
            f"alpinetags: error: {_count(len(report.problems), 'file')} could not be read, so not every "
            f"object was checked: {report.problems[0]}"
        )
        return CheckOutput(EXIT_USAGE, out, tuple(err), (last,)), registry
    return CheckOutput(EXIT_OK, out, tuple(err)), registry


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "check",
        cmd_check,
        "does every ELF file in PATH (wheel, folder, file) load on the root? exit 0 yes, 1 no, 2 bad input",
        EXAMPLES,
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="an ELF file, a wheel, or a folder (default: this environment's site-packages)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress line on a terminal (none is shown when stderr is not a terminal)",
    )
    p.add_argument(
        "--library-path",
        metavar="DIRS",
        default=argparse.SUPPRESS,
        help="the LD_LIBRARY_PATH the programs will run with (colon-separated, inside the root; searched "
        "first, as musl does). Default: this process's own for --root /, none for another root",
    )
    p.add_argument(
        "--all",
        action="store_true",
        default=argparse.SUPPRESS,
        help="list the objects that load too, and every message",
    )

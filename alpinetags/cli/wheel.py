"""``alpinetags wheel show`` and ``alpinetags wheel tag``: the publisher's side of the distro tags.

``pip wheel`` on Alpine gives ``linux_x86_64``, and auditwheel knows only manylinux and musllinux (and takes
the running musl as the floor, not what the wheel uses). ``show`` says what a wheel's ELF files need and
which tags would be honest; ``tag`` writes a copy tagged for the distro release it was built on (Alpine,
through the Alpine plugin: ``alpine_3_19_x86_64``), with the system sonames it needs recorded in METADATA.
Repairing (copying libraries into the wheel) stays auditwheel's job: repair first, then tag.

The core knows no distro by name: the distro rows of ``show`` come from the plugins (hook
``alpinetags_wheel_report``), the tag for a build system from their ``alpinetags_platform_tags``, the
judgement of a release from ``alpinetags_wheel_tag_check``, and the ``--ID X.Y`` spelling of ``--system
ID:X.Y`` (``--alpine 3.19``) from ``alpinetags_stated_systems``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from alpinetags.cli.buildsystem import (
    OPTION_NAME_RE,
    add_wheel_arguments,
    distro_tag,
    print_written,
    root_platform,
    stated_aliases,
    stated_platform,
    stated_systems,
    system_options,
    tag_refusals,
)
from alpinetags.cli.common import EXIT_NO, EXIT_OK, EXIT_USAGE, emit, opt

if TYPE_CHECKING:
    from alpinetags._wheel.wheelinfo import WheelReport

EXAMPLES = """\
examples:
  alpinetags wheel show dist/jiter-0.19.0-cp311-cp311-musllinux_1_1_x86_64.whl
                                 floors, honest tags, system sonames; exit 1: its tag overclaims
  alpinetags wheel show --json dist/*.whl
  alpinetags wheel tag --root / dist/demo-1.0-cp311-cp311-linux_x86_64.whl -w wheelhouse
                                 tag a wheel built here with this Alpine release (alpine_3_19_x86_64)
  alpinetags wheel tag --alpine 3.16 demo-1.0-cp311-cp311-linux_x86_64.whl
                                 state the release instead of reading a root
  auditwheel repair --plat musllinux_1_2_x86_64 -w repaired dist/*.whl &&
  alpinetags wheel tag --root / repaired/*.whl -w wheelhouse
                                 bundle what Alpine does not ship, then tag for Alpine

exit codes: 0 done, 1 show: a carried tag admits a system the wheel cannot load on;
            tag: refused (no readable ELF file, another arch than the root, something the
                 build system lacks, a release the tables do not know, a tag wheel show
                 would call an overclaim; -w DIR is created),
            2 bad input (not a wheel, bad option), 3 the root could not be read
"""


#: A stated release: major.minor, what a distro tag names (the plugin that owns the distribution judges it).
class _TagParser(argparse.ArgumentParser):
    """The ``wheel tag`` parser: an option ``--ID X.Y`` that is no option of its own is taken as a plugin's
    spelling of ``--system ID:X.Y`` (``--alpine 3.19``), and ``cmd_tag`` asks the plugins whether it is
    one. The plugins are not loaded to build the parser: every command builds it, and a plugin's faults
    are reported once, by the command that uses it."""

    stated_group: Any = None

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        known = set(self._option_string_actions)
        for arg in args or ():
            m = OPTION_NAME_RE.match(str(arg).split("=", 1)[0])
            if self.stated_group is None or not m or any(k.startswith(m.group(0)) for k in known):
                continue  # not an option, or one of ours (or an abbreviation argparse resolves)
            name = m.group(1)
            self.stated_group.add_argument(
                m.group(0), metavar="X.Y", dest=f"system_alias_{name}", help=f"--system {name}:X.Y"
            )
            known.add(m.group(0))
        return super().parse_known_args(args, namespace)


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("wheel", _wheel_help, "for publishers: what a wheel needs (show), tag it for a distro (tag)")
    p.epilog = EXAMPLES
    sub = p.add_subparsers(title="wheel commands", metavar="show|tag|variant", parser_class=_TagParser)
    fmt = argparse.RawDescriptionHelpFormatter
    s = sub.add_parser(
        "show",
        help="musl and distro floors, honest tags, system sonames of wheels",
        description="What the ELF files of each wheel need: the musl floor and the symbols that set it,\n"
        "the honest musllinux tag, and from the distro plugins their floor and the newest release\n"
        "that still ships the sonames.",
        epilog=EXAMPLES,
        formatter_class=fmt,
    )
    s.set_defaults(func=cmd_show)
    s.add_argument("wheels", nargs="+", metavar="WHEEL")
    s.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    t = sub.add_parser(
        "tag",
        help="write a copy tagged for its build system's release (<distro>_X_Y_<arch>), with "
        "Requires-External for its system sonames",
        description="Write each wheel again with the platform tag its build system's distro plugin gives\n"
        "(file name, WHEEL Tag lines, RECORD) and one METADATA Requires-External line per system\n"
        "soname it needs. The input is never modified. See docs/publish.md.",
        epilog=EXAMPLES,
        formatter_class=fmt,
    )
    t.set_defaults(func=cmd_tag)
    add_wheel_arguments(
        t,
        root_help="the system the wheel was built on (its release and libraries are read, never run)",
        system_help="state the distro release instead; a distro plugin may spell it --ID X.Y "
        "(see the examples)",
        out_help="where the tagged wheels go (default: beside each input)",
    )
    from alpinetags.cli.variant import add_parser as add_variant_parser

    add_variant_parser(sub)  # wheel variant: its own module


def _wheel_help(args: argparse.Namespace) -> int:
    from alpinetags.cli.common import make_registry
    from alpinetags.model import Target

    ways = system_options(stated_systems(make_registry(args, Target(environ=dict(os.environ)))))
    ways = ways.replace(" or ", " | ")
    print(
        f"alpinetags wheel: give a command: show WHEEL... | tag WHEEL... ({ways}); "
        "see `alpinetags wheel --help`",
        file=sys.stderr,
    )
    return EXIT_USAGE


# --------------------------------------------------------------------------------------------------
# show


def _ceiling_text(r: WheelReport) -> str:
    """Why no musl release loads the wheel when a loader feature no musl does is the cause, else ""."""
    from alpinetags._load import loaderfeatures

    never = loaderfeatures.never_supported(r.needs.loader_features) if r.needs else ()
    if not never:
        return ""
    table = loaderfeatures.loader_features()
    return "; ".join(f"{table[f].what}: {table[f].when_missing}" for f in never)


def _floor_text(r: WheelReport) -> str:
    if r.musl_floor is None:
        ceiling = _ceiling_text(r)
        if ceiling:
            return f"none: no musl loader loads it ({ceiling})"
        return "none of the listed musl releases resolves every name it needs"
    older = " or older" if r.musl_floor_is_oldest_list else ""
    because = f", set by {', '.join(r.musl_floor_symbols)}" if r.musl_floor_symbols else ""
    return f"{r.musl_floor}{older}{because} ({r.libc_names} libc names needed)"


def _show_text(r: WheelReport) -> str:
    lines = [r.wheel]

    def row(label: str, value: str) -> None:
        lines.append(f"  {label + ':' if label else '':<21}{value}")

    if not r.elf_files:
        if r.problems:
            row("ELF files", "none readable: nothing could be judged")
            for p in r.problems:
                row("unreadable", p)
        else:
            row("ELF files", "none: nothing here depends on the system's libraries")
        return "\n".join(lines)
    row(
        "arch",
        f"{r.arch or '(not a wheel arch)'}   ({r.elf_files} ELF file{'s' if r.elf_files != 1 else ''})",
    )
    if r.libc == "glibc":
        row("carries", ", ".join(r.carried) or "(no platform tag)")
        for label, value in r.rows("floor_rows"):
            row(label, value)
        row("system sonames", ", ".join(r.system_sonames) or "none (only libc)")
        for o in r.overclaims:  # the exit is 1 whenever one is found: it is shown too
            row("OVERCLAIMS", str(o))
        return "\n".join(lines)
    row("carries", ", ".join(r.carried) or "(no platform tag)")
    row("musl floor", _floor_text(r))
    if r.honest_musllinux:
        honest = r.honest_musllinux
    elif r.musl_floor is None and _ceiling_text(r):
        honest = "none: no tag is honest for current systems (what loads it, if anything, is old musl)"
    elif r.musl_floor is None:
        honest = "none: no listed musl release loads it"
    else:
        honest = "none (it needs a musl patch release; a tag speaks in minors)"
    row("honest musllinux", honest)
    for label, value in r.rows("floor_rows"):
        row(label, value)
    if r.system_sonames:
        row("system sonames", ", ".join(r.system_sonames))
        for label, value in r.rows("soname_rows"):
            row(label, value)
    else:
        row("system sonames", "none (only libc)")
    for p in r.problems:
        row("unreadable", p)
    if r.abi_arch_note:
        row("note", r.abi_arch_note)
    if r.overclaims:
        for o in r.overclaims:
            row("OVERCLAIMS", str(o))
        if any(set(o.lacking) & set(r.system_sonames) for o in r.overclaims):
            row(
                "",
                "(a distro tag cannot state an end; the install-time native check reads Requires-External)",
            )
    else:
        row("verdict", "its tags admit no system it cannot load on (as far as the data reaches)")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    from alpinetags._wheel.wheelinfo import show
    from alpinetags.cli.common import make_registry
    from alpinetags.model import Target

    registry = make_registry(args, Target(environ=dict(os.environ)))
    reports = [show(path, registry) for path in args.wheels]
    for r in reports:
        for problem in r.problems:
            print(f"alpinetags: warning: {r.wheel}: not read, not judged: {problem}", file=sys.stderr)
    # One shape whatever the number of wheels: a list, one entry per wheel (as ``wheel tag --json``).
    data = [r.as_dict() for r in reports]
    emit(args, data, lambda: "\n\n".join(_show_text(r) for r in reports))
    return EXIT_NO if any(r.overclaims for r in reports) else EXIT_OK


# --------------------------------------------------------------------------------------------------
# tag


def _would_overclaim(r: WheelReport, platform_tag: str, registry: Any) -> list[str]:
    """Why ``wheel show`` would call ``platform_tag`` an overclaim for this wheel (the same analysis: the
    core's musl judgement and every plugin's, so a floor a plugin adds is refused here too), leaving out
    only a system soname's end: a later release that no longer ships a soname the wheel needs. No distro
    tag can state an end; ``Requires-External`` records the soname and the native check refuses by it."""
    from alpinetags._wheel.wheelinfo import overclaims_for

    out = []
    for o in overclaims_for(r, platform_tag, registry):
        if set(o.lacking) - set(r.system_sonames):
            out.append(f"wheel show would call {platform_tag} an overclaim: {o}")
    return out


def _make_dir(path: str) -> None:
    from alpinetags.errors import ConfigError

    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"-w {path!r}: cannot create it: {exc.strerror or exc}") from None


def cmd_tag(args: argparse.Namespace) -> int:
    import dataclasses

    from alpinetags._wheel.wheelfile import retag
    from alpinetags._wheel.wheelinfo import show
    from alpinetags.cli.common import make_registry
    from alpinetags.errors import ConfigError
    from alpinetags.model import Target

    root: Optional[str] = opt(args, "root")
    environ = dict(os.environ)
    # The plugins depend on the environment only (ALPINETAGS_DISABLE_PLUGINS, --disable-plugin), not the root.
    registry = make_registry(args, Target(environ=environ))
    ids = args.stated_ids = stated_systems(registry)
    said = opt(args, "system") is not None or bool(stated_aliases(args))
    if (root is None) == (not said):
        raise ConfigError(f"give the build system: {system_options(ids)}")
    out_dir = opt(args, "wheel_dir")
    if out_dir is not None and os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"-w {out_dir!r} is not a directory")
    stated = stated_platform(args)
    target = Target(root=root, environ=environ) if root is not None else Target(environ=environ)
    arch = ""
    root_tag = ""
    if root is not None:
        platform = root_platform(root, registry, target)
        root_tag = distro_tag(platform, registry, target, f"--root {root!r}", args)
        arch = platform.arch
    else:
        assert stated is not None
        platform, flag = stated
        from alpinetags._elf.arch import host_arch

        # Asked once before any wheel is read: a release no plugin can tag is bad input (exit 2).
        distro_tag(dataclasses.replace(platform, arch=host_arch()), registry, target, flag, args)
    results: list[dict[str, Any]] = []
    refused = False
    for path in args.wheels:
        r = show(path, registry)
        wheel_arch = arch or r.arch
        here = platform if root is not None else dataclasses.replace(platform, arch=wheel_arch)
        refusals, warnings = tag_refusals(r, here, wheel_arch, root, path, registry)
        for w in warnings:
            print(f"alpinetags: warning: {path}: {w}", file=sys.stderr)
        if refusals:
            refused = True
            results.append({"wheel": path, "refused": refusals})
            continue
        own = root_tag or distro_tag(here, registry, target, flag, args)
        overclaims = _would_overclaim(r, f"{own}_{wheel_arch}", registry)
        if overclaims:
            refused = True
            results.append({"wheel": path, "refused": overclaims})
            continue
        if out_dir is not None:
            _make_dir(out_dir)  # as pip wheel -w and auditwheel repair -w do
        done = retag(path, out_dir or os.path.dirname(os.path.abspath(path)), f"{own}_{wheel_arch}",
                     r.system_sonames)  # fmt: skip
        results.append(
            {
                "wheel": path,
                "written": done.path,
                "tags": list(done.tags),
                "requires_external": list(done.requires_external),
                "dropped": list(done.dropped),
            }
        )

    if not opt(args, "json"):
        print_written(
            results,
            lambda res: (
                f"{res['written']}\n  Requires-External: {', '.join(res['requires_external']) or 'none'}"
            ),
        )
    else:
        emit(args, results, str)
    return EXIT_NO if refused else EXIT_OK

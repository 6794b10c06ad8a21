"""``alpinetags wheel show`` and ``alpinetags wheel tag``: the publisher's side of the distro tags.

``pip wheel`` on Alpine gives ``linux_x86_64``, and auditwheel knows only manylinux and musllinux (and takes
the running musl as the floor, not what the wheel uses). ``show`` says what a wheel's ELF files need and
which tags would be honest; ``tag`` writes a copy tagged for the Alpine release it was built on, with the
system sonames it needs recorded in METADATA. Repairing (copying libraries into the wheel) stays
auditwheel's job: repair first, then tag.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from .cli import EXIT_NO, EXIT_OK, EXIT_USAGE, emit, opt

if TYPE_CHECKING:
    from .wheelinfo import WheelReport

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
                 build system lacks),
            2 bad input (not a wheel, bad option), 3 the root could not be read
"""

_ALPINE_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\Z")


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("wheel", _wheel_help, "for publishers: what a wheel needs (show), tag it for Alpine (tag)")
    p.epilog = EXAMPLES
    sub = p.add_subparsers(title="wheel commands", metavar="show|tag")
    fmt = argparse.RawDescriptionHelpFormatter
    s = sub.add_parser(
        "show",
        help="musl and Alpine floors, honest tags, system sonames of wheels",
        description="What the ELF files of each wheel need: the musl floor and the symbols that set it,\n"
        "the honest musllinux tag, the Alpine floor, the newest release that still ships the sonames.",
        epilog=EXAMPLES,
        formatter_class=fmt,
    )
    s.set_defaults(func=cmd_show)
    s.add_argument("wheels", nargs="+", metavar="WHEEL")
    s.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    t = sub.add_parser(
        "tag",
        help="write a copy tagged alpine_X_Y_<arch>, with Requires-External for its system sonames",
        description="Write each wheel again with platform tag alpine_<X>_<Y>_<arch> (file name, WHEEL\n"
        "Tag lines, RECORD) and one METADATA Requires-External line per system soname it needs.\n"
        "The input is never modified. See docs/publish.md.",
        epilog=EXAMPLES,
        formatter_class=fmt,
    )
    t.set_defaults(func=cmd_tag)
    t.add_argument("wheels", nargs="+", metavar="WHEEL")
    which = t.add_mutually_exclusive_group()
    which.add_argument(
        "--root",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the Alpine system the wheel was built on (its release and libraries are read, never run)",
    )
    which.add_argument("--alpine", metavar="X.Y", help="state the Alpine release instead")
    t.add_argument(
        "-w", "--wheel-dir", metavar="DIR", help="where the tagged wheels go (default: beside each input)"
    )
    t.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")


def _wheel_help(args: argparse.Namespace) -> int:
    print(
        "alpinetags wheel: give a command: show WHEEL... | tag WHEEL... (--root DIR | --alpine X.Y); "
        "see `alpinetags wheel --help`",
        file=sys.stderr,
    )
    return EXIT_USAGE


# --------------------------------------------------------------------------------------------------
# show


def _floor_text(r: WheelReport) -> str:
    if r.musl_floor is None:
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
        row("libc", r.alpine_floor_note)
        row("system sonames", ", ".join(r.system_sonames) or "none (only libc)")
        return "\n".join(lines)
    row("carries", ", ".join(r.carried) or "(no platform tag)")
    row("musl floor", _floor_text(r))
    row(
        "honest musllinux",
        r.honest_musllinux or "none (it needs a musl patch release; a tag speaks in minors)",
    )
    floor = f"{r.alpine_floor} ({r.honest_alpine})" if r.alpine_floor else "unknown"
    row("alpine floor", floor + (f"   [{r.alpine_floor_note}]" if r.alpine_floor_note else ""))
    if r.system_sonames:
        row("system sonames", ", ".join(r.system_sonames))
        if r.alpine_last is None:
            row("sonames exist until", "unknown (not in the soname table)")
        elif r.alpine_breaks_at:
            row("sonames exist until", f"{r.alpine_last}; they break at {r.alpine_breaks_at}")
        else:
            row("sonames exist until", f"{r.alpine_last} (the newest release in the table)")
        for c in r.compat:
            row("compat", c)
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
    from .wheelinfo import show

    reports = [show(path) for path in args.wheels]
    for r in reports:
        for problem in r.problems:
            print(f"alpinetags: warning: {r.wheel}: not read, not judged: {problem}", file=sys.stderr)
    data: Any = [r.as_dict() for r in reports]
    emit(args, data if len(data) > 1 else data[0], lambda: "\n\n".join(_show_text(r) for r in reports))
    return EXIT_NO if any(r.overclaims for r in reports) else EXIT_OK


# --------------------------------------------------------------------------------------------------
# tag


def _root_release(root: str, args: argparse.Namespace) -> tuple[str, str]:
    """The root's own distro platform tag without its arch (``alpine_3_16``) and its arch, as the plugins
    read them from its files (os-release, the ELF header of its shell or interpreter)."""
    from .cli import make_registry
    from .detect import detect
    from .errors import ConfigError
    from .model import Target
    from .tags import plugin_platforms

    if not os.path.isdir(root):
        raise ConfigError(f"--root {root!r} is not a directory")
    target = Target(root=root, environ=dict(os.environ))
    registry = make_registry(args, target)
    platform = detect(target, registry)
    prefix = f"{platform.distro_id}_" if platform.distro_id else ""
    suffix = f"_{platform.arch}"
    for tag in plugin_platforms(platform, registry, target):
        if prefix and tag.startswith(prefix) and tag.endswith(suffix):
            # A build on a pre-release (edge: 3.21_alpha2024...) is not a build on the release its first
            # tag names (3.20, which edge accepts): the wheel may use what only the pre-release has.
            release = tag[len(prefix) : -len(suffix)].replace("_", ".")
            if not re.fullmatch(re.escape(release) + r"(\.\d+)?", platform.distro_version):
                raise ConfigError(
                    f"--root {root!r} is {platform.distro_id} {platform.distro_version}, whose own tag is "
                    f"{tag}: a pre-release is not that release; state the release with --alpine"
                )
            return tag[: -len(suffix)], platform.arch
    what = f"{platform.distro_id} {platform.distro_version}".strip() or "no distro found"
    raise ConfigError(f"--root {root!r}: no plugin gives a distro tag for it ({what}, {platform.arch})")


def _root_check(root: str, arch: str, path: str, r: WheelReport) -> tuple[list[str], bool]:
    """Whether the wheel loads on its build root, by the native check (the loader simulated from the
    root's files, nothing run): what the root lacks, as refusals, and whether its musl has every libc name
    the wheel imports."""
    from .native import check_wheel, read_system

    system = read_system(root, arch=arch)
    check = check_wheel(path, root, system=system)
    sonames = sorted({s for v in check.failures for s in v.missing_sonames})
    # The check names each missing symbol with who needs it ("wheel!member: name"): the name is what counts.
    symbols = sorted({s.rsplit(": ", 1)[-1] for v in check.failures for s in v.missing_symbols})
    libc = [s for s in symbols if s in r.needed_libc]
    other = [s for s in symbols if s not in r.needed_libc]
    out = []
    if sonames:
        out.append(f"{root} lacks {', '.join(sonames)}, which it needs")
    if libc:
        out.append(f"the musl of {root} ({system.musl_version or 'version unknown'}) lacks {', '.join(libc)}")
    if other:
        more = f" and {len(other) - 8} more" if len(other) > 8 else ""
        out.append(f"the libraries of {root} lack {', '.join(other[:8])}{more}")
    if not check.ok and not out:
        out.extend(dict.fromkeys(reason for v in check.failures for reason in v.reasons))
    return out, not libc


def _refusals(
    r: WheelReport, release: str, arch: str, root: Optional[str], path: str
) -> tuple[list[str], list[str]]:
    """Why the wheel cannot be tagged for ``release`` (refusals), and what to warn about."""
    from alpinetags_alpine import facts

    from .wheelinfo import releases_lacking

    if r.problems:
        return [f"an ELF file of it cannot be read, so what it needs is unknown: {r.problems[0]}"], []
    if not r.elf_files:
        return ["it has no ELF file: a pure-Python wheel needs no platform tag"], []
    if r.libc == "glibc":
        return ["its ELF files are built for glibc: an Alpine tag would be false"], []
    if "," in r.arch or not r.arch:
        return [f"its ELF files are not of one wheel arch ({r.arch or 'none'})"], []
    if arch != r.arch:
        return [f"its ELF files are {r.arch}, the build system is {arch}"], []
    out: list[str] = []
    warnings: list[str] = []
    root_musl_ok = False
    if root is not None:
        found, root_musl_ok = _root_check(root, arch, path, r)
        out.extend(found)
    else:
        lacking = releases_lacking(r.system_sonames, release)
        if lacking:
            out.append(f"Alpine {release} does not ship {', '.join(lacking)} (the soname table says)")
    missing_by = dict(r.musl_missing)
    for rel in facts.alpine_releases():
        if rel.version == release and rel.musl in missing_by:
            said = f"Alpine {release}'s musl {rel.musl} lacks {', '.join(missing_by[rel.musl])}"
            if root_musl_ok:
                # The root's own musl package has them (an Alpine backport): it loads here, and the tag is
                # for the whole branch, whose earlier point releases may not have them.
                warnings.append(f"{said} upstream; this root's musl exports them (a backport?): "
                                f"earlier {release} point releases may not")  # fmt: skip
            elif root is None:
                out.append(said)
    return out, warnings


def cmd_tag(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .wheelfile import retag
    from .wheelinfo import show

    root: Optional[str] = opt(args, "root")
    alpine: Optional[str] = opt(args, "alpine")
    if (root is None) == (alpine is None):
        raise ConfigError("give the build system: --root DIR or --alpine X.Y")
    out_dir = opt(args, "wheel_dir")
    if out_dir is not None and not os.path.isdir(out_dir):
        raise ConfigError(f"-w {out_dir!r} is not a directory")
    arch = ""
    if root is not None:
        distro_tag, arch = _root_release(root, args)
        release = ".".join(distro_tag.split("_")[1:3])
    else:
        m = _ALPINE_RE.match(alpine or "")
        if not m:
            raise ConfigError(f"--alpine {alpine!r} is not a release like 3.19")
        release = f"{int(m.group(1))}.{int(m.group(2))}"
        distro_tag = f"alpine_{int(m.group(1))}_{int(m.group(2))}"
    results: list[dict[str, object]] = []
    refused = False
    for path in args.wheels:
        r = show(path)
        wheel_arch = arch or r.arch
        refusals, warnings = _refusals(r, release, wheel_arch, root, path)
        for w in warnings:
            print(f"alpinetags: warning: {path}: {w}", file=sys.stderr)
        if refusals:
            refused = True
            results.append({"wheel": path, "refused": refusals})
            continue
        platform = f"{distro_tag}_{wheel_arch}"
        done = retag(path, out_dir or os.path.dirname(os.path.abspath(path)), platform, r.system_sonames)
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
        for res in results:
            if "refused" in res:
                reasons = "; ".join(res["refused"])  # type: ignore[arg-type]
                print(f"alpinetags: refused {res['wheel']}: {reasons}", file=sys.stderr)
                continue
            for member in res["dropped"]:  # type: ignore[attr-defined]
                print(
                    f"alpinetags: warning: left out {member}: the new RECORD invalidates it", file=sys.stderr
                )
            ext = ", ".join(res["requires_external"]) or "none"  # type: ignore[arg-type]
            print(f"{res['written']}\n  Requires-External: {ext}")
    else:
        emit(args, results, str)
    return EXIT_NO if refused else EXIT_OK

"""``alpinetags compare`` and ``alpinetags experiment matrix|symbols``.

Registered through ``COMMAND_MODULES`` in ``alpinetags.cli.main``; everything heavy is imported inside the
command functions, so ``alpinetags --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any, Optional

from alpinetags.cli.common import (
    EXIT_NO,
    EXIT_OK,
    EXIT_USAGE,
    add_common,
    emit,
    examples_epilog,
    make_registry,
    make_target,
    opt,
)

DEFAULT_OUT = os.path.join("experiments", "results")
TARGET_EXAMPLE = "alpine:3.19,musl:1.2.4,x86_64"

COMPARE_EXAMPLES = f"""\
examples:
  alpinetags compare                      this system's platforms in both schemes
  alpinetags compare --target {TARGET_EXAMPLE} --wheels ./wheelhouse
                                          what each scheme would install on Alpine 3.19 from a folder
  alpinetags compare --target musl:1.2.3,x86_64 --check-symbols a.whl b.whl
                                          a musl system with no distro tags; is each pick loadable?
"""
EXPERIMENT_EXAMPLES = """\
examples:
  alpinetags experiment matrix                       the report on stdout, nothing written
  alpinetags experiment matrix --out experiments/results --png
                                                     matrix.md and the heatmap, as experiments/run.sh does
  alpinetags experiment symbols ./wheelhouse --confirm-all --out symbols.md
                                                     what the wheels need of musl, checked by the loader
"""


def _describe(platform: Any) -> str:
    distro = f"{platform.distro_id} {platform.distro_version}".strip() or "no distro"
    libc = f"{platform.libc} {platform.libc_version}".strip() or "no libc found"
    return f"{distro}, {libc}, {platform.arch}"


def _command_line() -> str:
    import shlex

    return "alpinetags " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def cmd_compare(args: argparse.Namespace) -> int:
    from alpinetags._engine.detect import detect
    from alpinetags.experiments.compare import (
        SCHEMES,
        choose,
        read_wheel_names,
        scheme_platforms,
        scheme_tags,
        symbol_verdicts,
    )

    target = make_target(args)
    platform = detect(target, make_registry(args, target))
    platforms = scheme_platforms(platform)
    tags = scheme_tags(platform)
    paths = list(opt(args, "wheel_files") or []) + list(opt(args, "wheels") or [])
    wheels = read_wheel_names(paths) if paths else []
    choices = {s: choose(wheels, s, tags[s]) for s in SCHEMES}
    verdicts: dict[str, str] = {}
    if opt(args, "check_symbols"):
        picked = {c.wheel for s in SCHEMES for c in choices[s] if c.wheel}
        verdicts = symbol_verdicts(wheels, picked, platform.libc_version)
    notes = [
        f"no {s} platforms for this system ({_describe(platform)}); compare a system stated outright, "
        f"e.g. alpinetags compare --target {TARGET_EXAMPLE} [WHEEL ...]"
        for s in SCHEMES
        if not platforms[s]
    ]
    for note in notes:
        logging.getLogger("alpinetags").warning(note)
    data = {
        "notes": notes,
        "platform": platform.as_dict(),
        "schemes": {
            s: {
                "platforms": platforms[s],
                "tag_count": len(tags[s]),
                "choices": [dict(c.__dict__, symbols=verdicts.get(c.wheel or "")) for c in choices[s]],
            }
            for s in SCHEMES
        },
    }

    def text() -> str:
        p = platform
        out = [
            f"system: {p.distro_id or '(no distro)'} {p.distro_version} / {p.libc or '?'} "
            f"{p.libc_version or '?'} / {p.arch}",
            "",
        ]
        width = max([len(x) for s in SCHEMES for x in platforms[s]] + [24])
        out.append(f"{'alpine scheme':<{width}}  musllinux scheme")
        for i in range(max(len(platforms[s]) for s in SCHEMES)):
            row = [platforms[s][i] if i < len(platforms[s]) else "" for s in SCHEMES]
            out.append(f"{row[0]:<{width}}  {row[1]}")
        counts = "  ".join(f"{s}: {len(platforms[s])} platforms, {len(tags[s])} tags" for s in SCHEMES)
        out += ["", counts]
        if wheels:
            out += ["", f"{len(wheels)} wheels; what each scheme installs:"]
            by_project = {c.project: c for c in choices["alpine"]}
            for m in choices["musllinux"]:
                a = by_project[m.project]
                out.append(f"  {m.project}")
                for c in (a, m):
                    pick = c.wheel or "(nothing)"
                    out.append(f"    {c.scheme:<9} {pick}\n              {c.reason}")
                    if c.wheel and c.wheel in verdicts:
                        out.append(f"              symbols: {verdicts[c.wheel]}")
        return "\n".join(out)

    emit(args, data, text)
    return EXIT_OK


def cmd_matrix(args: argparse.Namespace) -> int:
    from alpinetags_alpine import facts as d

    from alpinetags.experiments import libmatrix, matrix, report

    arches = opt(args, "arches") or [a.tag_arch for a in d.alpine_arches()]
    cells = matrix.build_matrix(arches=arches)
    lib_cells = libmatrix.build()
    libs = libmatrix.summarize(lib_cells)
    versions = [r.version for r in d.alpine_releases()]
    with_data = [r.version for r in d.alpine_releases() if d.abi_for(r.musl) is not None]
    targets = [
        (f"supported ({versions[-4]} to {versions[-1]})", versions[-4:]),
        (f"every release with a symbol list ({with_data[0]} to {with_data[-1]})", with_data),
    ]
    counts_by_target = [
        (label, [matrix.count(cells, s, a, sup) for a in arches for s in matrix.SCHEMES])
        for label, sup in targets
    ]
    out_dir = opt(args, "out")
    picture_arches = [a for a in ("x86_64", "armv7l") if a in arches] or arches[:1]
    picture: Optional[str] = None
    notes: list[str] = []
    if out_dir:  # nothing is written unless a directory is named
        os.makedirs(out_dir, exist_ok=True)
        svg = os.path.join(out_dir, "matrix-heatmap.svg")
        with open(svg, "w", encoding="utf-8") as f:
            f.write(report.heatmap_svg(cells, picture_arches))
        picture = os.path.basename(svg)
        notes.append(f"wrote {svg}")
        if opt(args, "png"):
            png = os.path.join(out_dir, "matrix-heatmap.png")
            try:
                report.heatmap_png(cells, picture_arches, png)
                picture = os.path.basename(png)
                notes.append(f"wrote {png}")
            except ImportError:
                notes.append(
                    "no PNG: matplotlib is not installed (pip install 'alpinetags[experiments]'); SVG written"
                )
    md_text = report.matrix_markdown(cells, counts_by_target, picture, lib_cells, libs)
    if out_dir:
        md = os.path.join(out_dir, "matrix.md")
        with open(md, "w", encoding="utf-8") as f:
            f.write(md_text)
        notes.append(f"wrote {md}")
    result = {
        "pairs": len(cells),
        "counts": {label: [c.__dict__ for c in counts] for label, counts in counts_by_target},
        "libraries": [s.__dict__ for s in libs],
        "files": notes,
    }

    def text() -> str:
        if not out_dir:
            return md_text + "\n(nothing written; --out DIR writes matrix.md and the heatmap)"
        lines = []
        for label, counts in counts_by_target[:1]:
            lines.append(f"target releases: {label}")
            for arches_, rows in report.group_arches(counts):  # identical arches said once
                lines.append(f"  {arches_}:")
                lines += [
                    f"    {c.scheme:<9} accepts {c.accepts:>3}/{c.pairs}"
                    f"  newer-musl {c.unsafe_accepts:>3}  broken-by-musl-symbols {c.symbol_break_accepts:>3}"
                    f"  rejects-musl-allows {c.needless_rejects:>3}  builds {c.builds_needed}"
                    for c in rows
                ]
        broken = sum(s.accepted_broken for s in libs)
        accepted = sum(s.accepted for s in libs)
        lines.append(f"system libraries: alpine scheme accepts {accepted} triples, {broken} lose a soname")
        return "\n".join(lines + notes)

    emit(args, result, text)
    return EXIT_OK


def cmd_symbols(args: argparse.Namespace) -> int:
    from alpinetags._elf import elfscan as scan
    from alpinetags.errors import LoaderError
    from alpinetags.experiments import libc, loader, report

    the_libc = libc.read_libc(opt(args, "libc") or libc.DEFAULT_LIBC)
    started = time.perf_counter()
    containers = scan.scan_paths(args.paths)
    seconds = time.perf_counter() - started
    rows = []
    cross: list[libc.CrossCheck] = []
    not_run: list[str] = []
    any_finding = False
    for c in containers:
        needs = libc.wheel_needs(c, the_libc.abi.exports)
        findings = libc.findings_against(needs, the_libc)
        verdicts = {}
        same_arch = {o.member for o in c.objects if o.symbols.arch == the_libc.arch}
        members = [f.member for f in findings if f.member in same_arch]  # the loader runs its own arch only
        if opt(args, "confirm_all"):
            members = sorted(same_arch)
        if members and not opt(args, "no_confirm"):
            try:
                verdicts = loader.confirm(c.path, members, os.path.realpath(the_libc.path))
            except LoaderError as exc:
                not_run.append(f"{c.name}: {exc}")
        any_finding = any_finding or bool(findings)
        rows.append((c.name, len(c.objects), libc.sweep(needs), findings, verdicts))
        cross.append(libc.cross_check(needs, findings, verdicts, the_libc))
    total = sum(c.bytes_scanned for c in containers)
    label = f"{the_libc.path} (musl {the_libc.version})"
    md = report.symbols_markdown(rows, label, _command_line(), seconds, total)
    if opt(args, "confirm_all"):
        md += report.cross_check_markdown(cross)
    if not_run:
        md += "\n## The loader could not be run\n\n" + "".join(f"- {n}\n" for n in not_run)
    problems = [f"{c.name}: {p}" for c in containers for p in c.problems]
    if problems:
        md += "\n## ELF objects that could not be read\n\n" + "".join(f"- {p}\n" for p in problems)
    out = opt(args, "out")
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(md)
    result = {
        "libc": {"path": the_libc.path, "version": the_libc.version},
        "scanned_bytes": total,
        "loader_cross_check": [c.__dict__ for c in cross] if opt(args, "confirm_all") else None,
        "wheels": [
            {
                "name": name,
                "elf_objects": nobj,
                "carries": sweep.carried,
                "oldest_musl": sweep.oldest_ok,
                "floor_names": list(sweep.floor_names),
                "honest_musllinux": sweep.honest_musllinux,
                "honest_alpine": sweep.honest_alpine,
                "oldest_alpine": sweep.oldest_alpine,
                "verdict": sweep.verdict,
                "unreadable": list(container.problems),
                "system_libraries": list(sweep.system_libraries),
                "findings": [
                    {
                        "member": f.member,
                        "missing": list(f.missing),
                        "loader_errors": list(verdicts[f.member].errors) if f.member in verdicts else None,
                        "loader_confirms": (set(f.missing) <= verdicts[f.member].missing)
                        if f.member in verdicts
                        else None,
                    }
                    for f in findings
                ],
            }
            for (name, nobj, sweep, findings, verdicts), container in zip(rows, containers)  # noqa: B905
        ],
    }
    emit(args, result, lambda: md + (f"\n(written to {out})" if out else ""))
    return EXIT_NO if any_finding else EXIT_OK


def _experiment_help(args: argparse.Namespace) -> int:
    print(
        "usage: alpinetags experiment {matrix,symbols} ...  (alpinetags experiment --help)", file=sys.stderr
    )
    return EXIT_USAGE


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "compare",
        cmd_compare,
        "the alpine_3_x and musllinux_1_x schemes side by side, and what each installs",
        COMPARE_EXAMPLES,
    )
    p.add_argument("wheel_files", nargs="*", metavar="WHEEL", help="wheel files to choose from")
    p.add_argument("--wheels", action="append", metavar="DIR", help="a directory of wheels (repeatable)")
    p.add_argument(
        "--check-symbols",
        action="store_true",
        help="also say whether the system's musl (its symbol list) resolves what each picked wheel needs",
    )

    e = add(
        "experiment",
        _experiment_help,
        "measurements: the build/install matrix, symbol scans",
        EXPERIMENT_EXAMPLES,
    )
    esub = e.add_subparsers(title="experiments", metavar="EXPERIMENT")
    m = esub.add_parser(
        "matrix",
        help="every built-on/installed-on pair of Alpine releases and arches",
        epilog=examples_epilog(EXPERIMENT_EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(m)
    m.set_defaults(func=cmd_matrix)
    m.add_argument(
        "--out",
        metavar="DIR",
        help=f"write matrix.md and the heatmap here (run.sh uses {DEFAULT_OUT}); without it nothing is "
        "written and the report goes to stdout",
    )
    m.add_argument(
        "--only-arch", dest="arches", action="append", metavar="ARCH", help="only this arch (repeatable)"
    )
    m.add_argument("--png", action="store_true", help="also a PNG heatmap (needs matplotlib)")
    s = esub.add_parser(
        "symbols",
        help="dynamic symbols of the ELF objects in wheels that a musl lacks, confirmed by its loader",
        epilog=examples_epilog(EXPERIMENT_EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(s)
    s.set_defaults(func=cmd_symbols)
    s.add_argument("paths", nargs="+", metavar="WHEEL_OR_DIR")
    s.add_argument(
        "--libc", metavar="PATH", help="the musl loader or libc.so to check against (default: this system's)"
    )
    s.add_argument("--no-confirm", action="store_true", help="do not run the loader on the findings")
    s.add_argument(
        "--confirm-all",
        action="store_true",
        help="run the loader on every object of the libc's arch, to count what the scan missed",
    )
    s.add_argument("--out", metavar="FILE", help="also write the Markdown report here")

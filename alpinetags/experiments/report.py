"""Markdown reports and the heatmap picture, written from the experiments' results (no computing here).

The heatmap is SVG written by hand, so the picture needs no plotting library; ``alpinetags[experiments]``
(matplotlib) is needed only for the PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional
from xml.sax.saxutils import escape

from alpinetags_alpine import facts as data

from alpinetags.experiments.libc import AbiSweep, CrossCheck, ObjectFinding
from alpinetags.experiments.libmatrix import LibCell, LibSummary
from alpinetags.experiments.loader import LoaderVerdict
from alpinetags.experiments.matrix import SCHEMES, Cell, SchemeCounts

#: Cell outcome -> (colour, legend text).
OUTCOMES = {
    "ok": ("#4caf50", "accepted, safe"),
    "unsafe": ("#ff9800", "accepted, built on a newer musl (symbols fine)"),
    "break": ("#d32f2f", "accepted, and the musl symbol lists show a break"),
    "needless": ("#fff176", "rejected though musl and symbols allow"),
    "reject": ("#e0e0e0", "rejected, correctly"),
}


def outcome(cell: Cell, scheme: str) -> str:
    if cell.accepts(scheme):
        if cell.breaks_by_symbols:
            return "break"
        return "ok" if cell.safe else "unsafe"
    return "needless" if cell.safe and not cell.breaks_by_symbols else "reject"


def heatmap_svg(cells: list[Cell], arches: Sequence[str], cell_px: int = 12) -> str:
    """One panel per (arch, scheme): rows = built on B, columns = installed on R, oldest first."""
    releases = [r.version for r in data.alpine_releases()]
    n = len(releases)
    margin, gap, title_h = 46, 34, 30
    panel = n * cell_px
    width = margin + len(SCHEMES) * (panel + gap)
    height = title_h + len(arches) * (panel + margin + 14) + 24 * len(OUTCOMES)
    index = {(c.arch, c.built_on, c.installed_on): c for c in cells}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="9">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="6" y="16" font-size="12">Wheel built on Alpine B (rows) installed on R (columns): '
        "alpine_3_x scheme vs musllinux_1_x scheme</text>",
    ]
    y0 = title_h
    for arch in arches:
        for s, scheme in enumerate(SCHEMES):
            x0 = margin + s * (panel + gap)
            out.append(f'<text x="{x0}" y="{y0 + 10}" font-size="11">{escape(arch)}: {scheme} scheme</text>')
            top = y0 + 16
            for i, b in enumerate(releases):
                if s == 0:
                    out.append(f'<text x="{x0 - 4}" y="{top + i * cell_px + 9}" text-anchor="end">{b}</text>')
                for j, r in enumerate(releases):
                    cell = index.get((arch, b, r))
                    if cell is None:
                        continue
                    colour, _ = OUTCOMES[outcome(cell, scheme)]
                    tip = f"built {b} (musl {cell.built_musl}) on {r} (musl {cell.installed_musl})"
                    tip += f": {cell.breakage}"
                    out.append(
                        f'<rect x="{x0 + j * cell_px}" y="{top + i * cell_px}" width="{cell_px - 1}" '
                        f'height="{cell_px - 1}" fill="{colour}"><title>{escape(tip)}</title></rect>'
                    )
            for j, r in enumerate(releases):
                if j % 3 == 0:
                    x = x0 + j * cell_px + cell_px // 2
                    y = top + panel + 10
                    out.append(f'<text x="{x}" y="{y}" text-anchor="middle">{r}</text>')
        y0 += panel + margin + 14
    for k, (colour, text) in enumerate(OUTCOMES.values()):
        y = y0 + k * 24
        out.append(f'<rect x="{margin}" y="{y}" width="14" height="14" fill="{colour}" stroke="#999"/>')
        out.append(f'<text x="{margin + 20}" y="{y + 11}" font-size="11">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def heatmap_png(cells: list[Cell], arches: Sequence[str], path: str) -> None:
    """The same picture as PNG with matplotlib (``pip install 'alpinetags[experiments]'``)."""
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    from matplotlib.colors import ListedColormap  # type: ignore[import-not-found, unused-ignore]
    from matplotlib.patches import Patch  # type: ignore[import-not-found, unused-ignore]

    keys = list(OUTCOMES)
    releases = [r.version for r in data.alpine_releases()]
    index = {(c.arch, c.built_on, c.installed_on): c for c in cells}
    fig, axes = plt.subplots(len(arches), len(SCHEMES), figsize=(11, 5.2 * len(arches)), squeeze=False)
    cmap = ListedColormap([OUTCOMES[k][0] for k in keys])
    for a, arch in enumerate(arches):
        for s, scheme in enumerate(SCHEMES):
            grid = [[keys.index(outcome(index[(arch, b, r)], scheme)) for r in releases] for b in releases]
            ax = axes[a][s]
            ax.imshow(grid, cmap=cmap, vmin=0, vmax=len(keys) - 1)
            ax.set_title(f"{arch}: {scheme} scheme")
            ax.set_xticks(range(0, len(releases), 3), releases[::3])
            ax.set_yticks(range(0, len(releases), 2), releases[::2])
            ax.set_xlabel("installed on R")
            ax.set_ylabel("built on B")
    handles = [Patch(facecolor=colour, edgecolor="#999", label=text) for colour, text in OUTCOMES.values()]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def group_arches(counts: list[SchemeCounts]) -> list[tuple[str, list[SchemeCounts]]]:
    """Arches whose rows are identical (every number but the arch) are said once, named together."""
    groups: list[tuple[list[str], tuple[object, ...], list[SchemeCounts]]] = []
    by_arch: dict[str, list[SchemeCounts]] = {}
    for c in counts:
        by_arch.setdefault(c.arch, []).append(c)
    for arch, rows in by_arch.items():
        key = tuple((c.scheme, *[v for k, v in c.__dict__.items() if k != "arch"]) for c in rows)
        for names, k, _ in groups:
            if k == key:
                names.append(arch)
                break
        else:
            groups.append(([arch], key, rows))
    return [(", ".join(names), rows) for names, _, rows in groups]


def _counts_table(counts: list[SchemeCounts]) -> list[str]:
    lines = [
        "| arches (identical rows merged) | scheme | accepts | accepts with a newer musl than R's "
        "| accepts broken by musl symbols | rejects though musl and symbols allow | builds needed | built on "
        "| one build on the newest: broken installs / no wheel |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for arches, rows in group_arches(counts):
        for c in rows:
            builds = str(c.builds_needed) if c.builds_needed is not None else "> 4"
            ident = " (identity)" if c.scheme == "alpine" else ""
            lines.append(
                f"| {arches} | {c.scheme} | {c.accepts}/{c.pairs} | {c.unsafe_accepts}{ident} "
                f"| {c.symbol_break_accepts}{ident} | {c.needless_rejects} | {builds} "
                f"| {', '.join(c.builds)} | {c.newest_only_broken} / {c.newest_only_no_wheel} |"
            )
    return lines


def _libraries_section(libs: Sequence[LibSummary], lib_cells: Sequence[LibCell]) -> list[str]:
    rels = sorted(
        {c.built_on for c in lib_cells} | {c.installed_on for c in lib_cells}, key=data.version_tuple
    )
    accepted = sum(s.accepted for s in libs)
    broken = sum(s.accepted_broken for s in libs)
    broken_main = sum(s.accepted_broken_main for s in libs)
    changing = [s for s in libs if s.accepted_broken_main]
    lines = [
        f"## Finding: system libraries ({len(libs)} libraries, Alpine {rels[0]} to {rels[-1]}, x86_64)",
        "",
        "From the shared soname table (`plugins/alpinetags_alpine/data/alpine-sonames/sonames.tsv`: "
        "the sonames of each "
        "library in each release's x.0 tree, with sources). A wheel built on B that links L records L's "
        "sonames on B (`Requires-External`); on R it loads only if some package of R carries them.",
        "",
        f"- The alpine scheme accepts {accepted} (library, B, R) triples (B <= R). In **{broken}** of them "
        f"({100 * broken / accepted:.1f}%) R has no package with a soname the wheel links "
        f"({broken_main} counting only the library's own package, without `openssl3` before 3.17 and "
        "`openssl1.1-compat` on 3.17/3.18).",
        f"- {len(changing)} of {len(libs)} libraries change soname in the span; the other "
        f"{len(libs) - len(changing)} keep every soname (downward acceptance holds for them).",
        "- The musllinux scheme, beside it: a musllinux wheel bundles these libraries (auditwheel), so "
        "none of its pairs breaks by a system soname, **by construction**; it pays with the bundled "
        "copies, and its breaks come from musl (the section above).",
        "- With the native check (`alpinetags check`, and under pip), each broken triple is refused at "
        "install time with the missing soname named; `real-loads.json` checks that check against real "
        "loads.",
        "",
        "| library | sonames, by releases | alpine scheme: accepted triples | of which broken | "
        "downward acceptance breaks (built on -> first release without the soname) |",
        "|---|---|---:|---:|---|",
    ]
    for s in libs:
        eras = "; ".join(f"{a}-{b}: `{so}`" if a != b else f"{a}: `{so}`" for a, b, so in s.eras)
        breaks = "; ".join(f"{a}-{b} -> {r}" if a != b else f"{a} -> {r}" for a, b, r in s.breaks) or "never"
        if s.accepted_broken != s.accepted_broken_main:
            breaks += f" ({s.accepted_broken_main} broken without the side/compat package)"
        lines.append(f"| {s.library} | {eras} | {s.accepted} | {s.accepted_broken} | {breaks} |")
    lines += [
        "",
        "Not visible in sonames, so not in these counts (from the table's README): tiff 4.2 on 3.14 and "
        "xmlsec 1.3 on 3.18 changed ABI under the same soname; on 32-bit arches, 3.13 rebuilt the "
        "libraries with 64-bit `time_t` under the same sonames, which changes the ABI of every one with "
        "`time_t` in its API (measured for OpenSSL: `time64.json`).",
        "",
    ]
    return lines


def matrix_markdown(
    cells: list[Cell],
    counts_by_target: list[tuple[str, list[SchemeCounts]]],
    picture: Optional[str],
    lib_cells: Sequence[LibCell] = (),
    libs: Sequence[LibSummary] = (),
) -> str:
    """The report. Its header never names paths or options, so a rerun leaves it unchanged."""
    releases = data.alpine_releases()
    arches = sorted({c.arch for c in cells})
    x86 = [c for c in cells if c.arch == "x86_64"]
    musl_down = [
        (releases[i].version, releases[i + 1].version)
        for i in range(len(releases) - 1)
        if data.version_tuple(releases[i + 1].musl) < data.version_tuple(releases[i].musl)
    ]
    alpine_unsafe = sum(c.alpine_accepts and not c.safe for c in cells)
    alpine_broken = sum(c.alpine_accepts and c.breaks_by_symbols for c in cells)
    musl_newer = sum(c.musllinux_accepts and not c.safe for c in x86)
    lines = [
        "# Build/install matrix: alpine_3_x tags vs musllinux_1_x tags",
        "",
        "Made by `alpinetags experiment matrix` (`bash experiments/run.sh` remakes every file here).",
        "",
        f"{len(releases)} Alpine releases ({releases[0].version} to {releases[-1].version}) x "
        f"{len(releases)} x {len(arches)} arches = {len(cells)} (built on B, installed on R) pairs. A wheel "
        "built on B carries `alpine_<B>_<arch>` in the alpine scheme and `musllinux_<B's musl minor>_<arch>` "
        "in the musllinux scheme; R accepts it if the tag is in R's list (the Alpine plugin's "
        "`alpine_platforms`, the core's `musllinux_platforms`).",
        "",
        "## What holds by construction (identities, not findings)",
        "",
        "- The alpine scheme accepts B on R exactly when B <= R (on 32-bit arches also not across 3.13: the "
        "time64 floor). That is its definition.",
        "- Alpine's musl never goes down from one release to the next (`alpine-musl.tsv`; pairs where it "
        f"does: {len(musl_down)}). So the alpine scheme accepts no pair whose musl is older than the "
        f"build's ({alpine_unsafe} of {len(cells)}) and none the musl symbol lists say break "
        f"({alpine_broken}). These zeros follow from the two facts above; they are checked, not discovered.",
        "- The musllinux scheme speaks in musl minors, so it accepts every build on a newer patch release "
        f"of the same minor ({musl_newer} x86_64 pairs with B's musl newer than R's). That is its "
        "definition too; whether such a pair breaks is the finding below.",
        "- A musllinux wheel bundles its non-musl libraries, so it never breaks by a system soname.",
        "- The symbol lists are x86_64's and are used for every arch, so arches of the same word size give "
        "identical rows (the tables below merge them): an input, not a measurement. The real loads "
        "(`real-loads.md`) agree on aarch64 and x86 except where the arch does.",
        "",
        "## Finding: musl symbols (from the musl-abi lists of each musl release)",
        "",
    ]
    classes: dict[str, int] = {}
    for c in x86:
        classes[c.breakage] = classes.get(c.breakage, 0) + 1
    ex = [c for c in x86 if c.musllinux_accepts and c.breakage == "new-symbols"]
    hidden_accepted = sum(c.alpine_accepts and c.breakage == "hidden-internal" for c in x86)
    lines += [
        "- x86_64 pairs by what R's libc lacks of B's: "
        + ", ".join(f"`{k}` {v}" for k, v in sorted(classes.items()))
        + ". `hidden-internal` are musl's private names (1.1.21 hid them), which no public header lets a "
        'binary use; not counted as breaks. So "musl never breaks downward" holds for public names: '
        f"the alpine scheme accepts {hidden_accepted} x86_64 pairs whose R lacks internal names B's musl "
        "exported.",
        f"- The musllinux scheme accepts **{len(ex)}** x86_64 pairs where R's musl lacks public names B's "
        "exports (a wheel that uses one fails to load; one that does not, loads). Each: built on (musl) -> "
        "installed on (musl): names missing.",
        "",
    ]
    for c in ex:
        lines.append(
            f"  - {c.built_on} ({c.built_musl}) -> {c.installed_on} ({c.installed_musl}): "
            f"{', '.join(n for n in c.lacking if not n.startswith('__'))}"
        )
    lines.append("")
    if libs:
        lines += _libraries_section(libs, lib_cells)
    lines += [
        "## time64 (32-bit arches, across 3.13)",
        "",
        "Measured on the real x86 roots (`time64.json`, made by `python -m experiments.time64`): "
        "Alpine 3.12's busybox gives the same `stat`, `ls -l` and `date` output on 3.13 as on 3.12 "
        "(musl 1.2 keeps the 32-bit symbols); a 3.12 program that passes a `time_t` to 3.13's "
        "`libcrypto.so.1.1` (same soname, rebuilt with 64-bit `time_t`) gets a wrong year for a 2023 "
        "timestamp: the library reads the caller's next word as the high half of the time, so the year is "
        "whatever that word makes it (2159, 1887, 2976 for 1, -1, 7; right only for 0). So the pairs across "
        "3.13 are not musl breaks (not counted above); the alpine scheme's floor stays, for the libraries.",
        "",
    ]
    for label, counts in counts_by_target:
        lines += [f"## Counts per arch, target releases: {label}", "", *_counts_table(counts), ""]
    lines += [
        "- *accepts with a newer musl*: B's musl is newer than R's (1.2.5 build on 1.2.3).",
        "- *broken by musl symbols*: R's libc lacks public names B's exports (lists above).",
        "- *rejects though musl and symbols allow*: for the alpine scheme, builds on a later release with "
        "the same musl, and on 32-bit arches the builds before 3.13 (the time64 floor, kept for libraries).",
        "- *builds needed*: fewest builds, on releases of the target set, such that every release in it "
        "installs one that is not broken (the newest accepted build is the one installed).",
        "",
    ]
    if picture:
        lines += ["## Picture", "", f"![heatmap]({picture})", ""]
    unverified = [r.version for r in releases if not r.verified]
    lines += [
        "## Caveats",
        "",
        f"- Releases {', '.join(unverified)} have unverified musl versions and no symbol list: their pairs "
        "are `no-data` for symbols.",
        "- The symbol lists are x86_64; they stand for every arch (musl exports the same names everywhere, "
        "except the `__*_time64` names on 32-bit arches, added beside the old ones). Identical per-arch rows "
        "follow from that, by construction.",
        "- Every arch is counted in every release, as the tag policies are; some arches came later to "
        "Alpine (riscv64, loongarch64), so their early rows describe the policy, not shipped systems.",
        "- The soname table gives the packages of each release's repository, not what an image has "
        "installed: a plain `alpine:` image lacks most of them until `apk add`.",
        "",
    ]
    return "\n".join(lines)


def _carried(s: AbiSweep) -> str:
    return f"musllinux_{s.carried[0]}_{s.carried[1]}" if s.carried else "-"


def symbols_markdown(
    rows: list[
        tuple[
            str,
            int,
            AbiSweep,
            tuple[ObjectFinding, ...],
            dict[str, LoaderVerdict],
        ]
    ],
    libc_label: str,
    command: str,
    seconds: float,
    total_bytes: int,
) -> str:
    """One row per wheel: objects, what the given libc lacks (predicted and the loader's word), the sweep."""
    mb = total_bytes / 1e6
    compiled = [r for r in rows if r[1] and r[2].carried]
    over = [r[0] for r in compiled if r[2].verdict.startswith("overclaims")]
    inexpressible = [r[0] for r in compiled if r[2].oldest_ok and not r[2].honest_musllinux]
    flagged = sum(1 for r in rows if r[3])
    system = [(r[0], list(r[2].system_libraries)) for r in rows if r[2].system_libraries]
    confirmed = sum(
        1 for r in rows for f in r[3] if f.member in r[4] and set(f.missing) <= r[4][f.member].missing
    )
    summary = [
        "## Summary",
        "",
        f"- {len(compiled)} wheels with ELF objects and a musllinux tag; {len(over)} carry a tag that some "
        f"listed musl accepts but cannot load: {', '.join(n.split('-')[0] for n in over) or 'none'}.",
        f"- {len(inexpressible)} need a musl patch release no musllinux tag can state (the tag speaks in "
        f"minors); the alpine tag can: {', '.join(n.split('-')[0] for n in inexpressible) or 'none'}.",
        f"- Against the libc below: {flagged} wheels predicted to fail, {confirmed} objects confirmed by "
        "the loader.",
        f"- {len(system)} wheels load libraries they do not bundle, which no tag states: "
        + (
            ", ".join(
                f"{n.split('-')[0]} ({', '.join(libs[:3])}{' ...' if len(libs) > 3 else ''})"
                for n, libs in system
            )
            or "none"
        )
        + ".",
        "",
    ]
    lines = [
        "# Symbol scan: what real wheels need from musl",
        "",
        f"Made by `{command}`.",
        "",
        # No time here: a rerun must not rewrite the report for a different clock (speed: bench/).
        f"{len(rows)} wheels, {mb:.1f} MB of ELF data scanned.",
        "",
        *summary,
        f"## Against {libc_label}",
        "",
        "| wheel | ELF objects | predicted: names the libc lacks | loader's own error |",
        "|---|---:|---|---|",
    ]
    for name, nobj, _sweep, findings, verdicts in rows:
        if not findings:
            lines.append(f"| {name} | {nobj} | none | - |")
            continue
        for f in findings:
            v = verdicts.get(f.member)
            said = "; ".join(v.errors[:3]) if v else "(not run)"
            if v:
                agree = set(f.missing) <= v.missing
                said = ("confirmed: " if agree else "DISAGREES: ") + said
            lines.append(f"| {name} `{f.member}` | {nobj} | {', '.join(f.missing)} | {escape(said)} |")
    lines += [
        "",
        "## Against every musl release in musl-abi/ (x86_64)",
        "",
        "Oldest musl whose libc.so (plus, from 1.2.4, the loader's LFS64 aliases) resolves every libc name "
        "the wheel needs, the names that set that floor, and the honest tag in each scheme: the lowest "
        "`musllinux_1_N` all of whose accepting musl releases (in the lists, 1.1.16 on) load it, and "
        "`alpine_3_X` for the oldest Alpine release shipping a musl that loads it.",
        "",
        "| wheel | libc names needed | carries | needs musl | because of | honest musllinux | honest alpine "
        "| verdict on the carried tag |",
        "|---|---:|---|---|---|---|---|---|",
    ]
    first_listed = data.musl_abis()[0].version
    for name, _nobj, sweep, _f, _v in rows:
        gaps = f" (not {', '.join(sweep.gaps)})" if sweep.gaps else ""
        floor = ", ".join(sweep.floor_names[:4]) + (" ..." if len(sweep.floor_names) > 4 else "")
        needs, alpine_tag = sweep.oldest_ok or "none listed", sweep.honest_alpine or "-"
        if sweep.oldest_ok == first_listed:  # the lists start here: the real floor may be older
            needs, alpine_tag = f"<= {needs}", f"{alpine_tag} or older"
        lines.append(
            f"| {name} | {sweep.needs_count} | {_carried(sweep)} | "
            f"{needs}{gaps} | {floor or '-'} | "
            f"{sweep.honest_musllinux or 'none'} | {alpine_tag} | {sweep.verdict} |"
        )
    lines.append("")
    return "\n".join(lines)


def cross_check_markdown(checks: list[CrossCheck]) -> str:
    """The loader run on every object: did the scan predict exactly what the loader refuses?"""
    run = sum(c.objects_run for c in checks)
    predicted = sum(c.predicted for c in checks)
    confirmed = sum(c.confirmed for c in checks)
    missed = [f"{c.name} `{m}`" for c in checks for m in c.missed]
    lines = [
        "## The loader on every object",
        "",
        f"The loader was run (`--list`) on {run} objects in {len(checks)} wheels. Predicted failures: "
        f"{predicted}; confirmed by the loader: {confirmed}. Libc names the loader reported missing that "
        f"the scan did not predict: {len(missed)}.",
        "",
    ]
    lines += [f"- {m}" for m in missed]
    return "\n".join(lines) + "\n"

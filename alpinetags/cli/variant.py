"""``alpinetags wheel variant``: a copy of a wheel as a wheel variant whose properties say what it needs.

``wheel tag`` gives a wheel a distro tag, which only private indexes and ``--find-links`` accept. A wheel
variant keeps the tag it has (``musllinux_1_2_x86_64``, accepted where musllinux is) and adds a label and a
``variant.json`` whose properties a provider on the installing machine matches (docs/variants.md). The
wheel is judged exactly as ``wheel tag`` judges it (it must load on the build root, or the stated release
must ship what it needs); the properties come from the distro plugins (hook ``alpinetags_wheel_variant``:
the Alpine plugin's ``alpine :: release`` and one feature per system soname); the core writes the file
(``alpinetags.wheelvariant``) and the copy (``alpinetags._wheel.wheelfile.retag``, with
``Requires-External`` as ``wheel tag`` writes it, so the pip hook's check reads the same needs).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import TYPE_CHECKING, Any, Optional

from alpinetags.cli.common import EXIT_NO, EXIT_OK, emit, opt

if TYPE_CHECKING:
    from alpinetags._wheel.wheelinfo import WheelReport
    from alpinetags.model import Platform
    from alpinetags.wheelvariant import VariantSpec

EXAMPLES = """\
examples:
  alpinetags wheel variant --root / dist/demo-1.0-cp311-cp311-musllinux_1_2_x86_64.whl -w wheelhouse
        -> wheelhouse/demo-1.0-cp311-cp311-musllinux_1_2_x86_64-<label>.whl
           (alpine :: release :: 3.19 and one alpine :: <library> :: <version> per system soname)
  alpinetags wheel variant --alpine 3.16 demo-1.0-cp311-cp311-musllinux_1_2_x86_64.whl
  variantlib generate-index-json -d wheelhouse       # the demo-1.0-variants.json an index serves

exit codes: 0 done, 1 refused (as wheel tag refuses, or no plugin gives properties), 2 bad input
"""


def add_parser(sub: Any) -> None:
    """The ``wheel variant`` subcommand, added to ``wheel``'s subparsers (by ``cli.wheel.register``)."""
    v = sub.add_parser(
        "variant",
        help="write a copy as a wheel variant (tag kept; properties from what it needs), for variantlib",
        description="Write each wheel again as a wheel variant (PEP 825/850 drafts, variantlib 0.2.2): the\n"
        "tags stay, the file name gets a label, *.dist-info/variant.json the properties the distro\n"
        "plugins give for its build release and system sonames, METADATA Requires-External lines.\n"
        "The wheel is judged as `wheel tag` judges it. See docs/variants.md.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.set_defaults(func=cmd_variant)
    from alpinetags.cli.buildsystem import add_wheel_arguments

    add_wheel_arguments(
        v,
        root_help="the system the wheel was built on (read only)",
        system_help="state the distro release instead (--alpine X.Y)",
        out_help="where the variants go (default: beside each input)",
    )


def plugin_spec(registry: Any, platform: Platform, r: WheelReport) -> Optional[VariantSpec]:
    """The first plugin's ``VariantSpec`` for the wheel (hook ``alpinetags_wheel_variant``), each answer
    checked (``wheelvariant.valid_spec``); ``None`` when no plugin gives one."""
    from alpinetags.wheelvariant import valid_spec

    if r.needs is None or not hasattr(registry.manager.hook, "alpinetags_wheel_variant"):
        return None
    found = registry.call_all(
        "alpinetags_wheel_variant", lambda s: s is None or valid_spec(s), platform=platform, needs=r.needs
    )
    return next((s for _name, s in found if s is not None), None)


def _base_tag_warning(r: WheelReport) -> Optional[str]:
    if any(t.startswith("musllinux_") for t in r.carried):
        return None
    return (
        f"it carries {', '.join(r.carried) or 'no platform tag'}: public indexes take musllinux tags "
        "(auditwheel repair --plat musllinux_1_2_<arch> first, then make the variant)"
    )


def _build_platform(args: argparse.Namespace, registry: Any, environ: dict[str, str]) -> tuple[Platform, str]:
    """The build system (``--root`` read, or the release stated) and its arch (``""``: each wheel's)."""
    from alpinetags._elf.arch import host_arch
    from alpinetags.cli import buildsystem
    from alpinetags.errors import ConfigError
    from alpinetags.model import Target

    root: Optional[str] = opt(args, "root")
    ids = args.stated_ids = buildsystem.stated_systems(registry)
    said = opt(args, "system") is not None or bool(buildsystem.stated_aliases(args))
    if (root is None) == (not said):
        raise ConfigError(f"give the build system: {buildsystem.system_options(ids)}")
    if root is not None:
        target = Target(root=root, environ=environ)
        platform = buildsystem.root_platform(root, registry, target)
        buildsystem.distro_tag(platform, registry, target, f"--root {root!r}", args)
        return platform, platform.arch
    stated = buildsystem.stated_platform(args)
    assert stated is not None
    platform, flag = stated
    here = dataclasses.replace(platform, arch=host_arch())
    buildsystem.distro_tag(here, registry, Target(environ=environ), flag, args)
    return platform, ""


def _one(
    path: str, platform: Platform, arch: str, registry: Any, args: argparse.Namespace
) -> dict[str, object]:
    """Judge and write one wheel; its result for the report."""
    from alpinetags._wheel.wheelfile import retag
    from alpinetags._wheel.wheelinfo import show
    from alpinetags.cli.buildsystem import tag_refusals
    from alpinetags.wheelvariant import DIST_INFO_NAME, variant_json

    root: Optional[str] = opt(args, "root")
    r = show(path, registry)
    wheel_arch = arch or r.arch
    here = platform if arch else dataclasses.replace(platform, arch=wheel_arch)
    refusals, warnings = tag_refusals(r, here, wheel_arch, root, path, registry)
    spec = None if refusals else plugin_spec(registry, here, r)
    if not refusals and spec is None:
        refusals = [f"no plugin gives wheel-variant properties for {here.distro_id} {here.distro_version}"]
    if spec is not None and spec.refusals:
        refusals = list(spec.refusals)
    if refusals or spec is None:
        return {"wheel": path, "refused": refusals}
    base = _base_tag_warning(r)
    for w in [*warnings, *([base] if base else [])]:
        print(f"alpinetags: warning: {path}: {w}", file=sys.stderr)
    out_dir = opt(args, "wheel_dir") or os.path.dirname(os.path.abspath(path))
    data = variant_json(spec).encode("utf-8")
    done = retag(path, out_dir, None, r.system_sonames, label=spec.label, extra={DIST_INFO_NAME: data})
    return {
        "wheel": path,
        "written": done.path,
        "label": spec.label,
        "properties": list(spec.property_strings),
        "requires_external": list(done.requires_external),
        "dropped": list(done.dropped),
    }


def cmd_variant(args: argparse.Namespace) -> int:
    from alpinetags.cli.common import make_registry
    from alpinetags.errors import ConfigError
    from alpinetags.model import Target

    environ = dict(os.environ)
    registry = make_registry(args, Target(environ=environ))
    out_dir = opt(args, "wheel_dir")
    if out_dir is not None and not os.path.isdir(out_dir):
        raise ConfigError(f"-w {out_dir!r} is not a directory")
    platform, arch = _build_platform(args, registry, environ)
    results = [_one(path, platform, arch, registry, args) for path in args.wheels]
    if opt(args, "json"):
        emit(args, results, str)
    else:
        from alpinetags.cli.buildsystem import print_written

        print_written(
            results, lambda res: f"{res['written']}\n  variant {res['label']}: {', '.join(res['properties'])}"
        )
    return EXIT_NO if any("refused" in res for res in results) else EXIT_OK

"""Loader features are floors, like symbols: what an object asks of the loader beyond names.

An object linked with ``-z pack-relative-relocs`` keeps its relative relocations in ``DT_RELR``; musl's
loader applies them from 1.2.4 on. Older loaders ignore the table without a word (``ld-musl --list`` says
the object loads) and the process dies with SIGSEGV at the first pointer used, usually in a constructor.
That is a floor exactly as ``getrandom`` is one, but no symbol list shows it: it is read from the dynamic
section (``DynamicSymbols.loader_tags``) and judged against ``data/musl-loader-features.tsv``, the first
upstream musl release whose loader was *seen* to do it on real roots.

Initial-exec TLS in an object loaded by ``dlopen`` is the other kind: a ceiling, not a floor. No musl
loader gives such an object's TLS a place in the static block; from 1.1.20 the loader refuses the
relocation, before it wrote an offset outside the block. It is read from the TP-offset relocations
(``DynamicSymbols.static_tls``, ``alpinetags._elf.elfrelocs``), as the loader meets it, and from the
``DF_STATIC_TLS`` flag where the relocations do not explain it.

A distribution may carry a feature back into an older musl build (Alpine's musl 1.2.2-r9 of 3.15 applies
``DT_RELR``; 1.2.2-r4 of 3.14 does not). The core knows no distribution, so it asks the plugins (hook
``alpinetags_libc_features``) for what the system's own libc build was measured to do, and only when an
object needs a feature its upstream musl version lacks. Where nobody measured the build, the feature is
taken as missing: an over-cautious "does not load" costs a wheel, a wrong "loads" costs a crash.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Optional

from alpinetags._elf.elfdynamic import DynamicSymbols
from alpinetags._load.facts import DATA_DIR, read_table_rows, version_tuple

DT_FLAGS, DT_RELR, DT_FLAGS_1 = 30, 36, 0x6FFFFFFB
DF_STATIC_TLS = 0x10


@dataclass(frozen=True)
class LoaderFeature:
    """One row of ``musl-loader-features.tsv``."""

    name: str  # "relr"
    since: Optional[str]  # first upstream musl release that does it; None: none measured does
    what: str  # "packed relative relocations (DT_RELR)"
    when_missing: str  # what a loader without it does
    short: str = ""  # the table's label column ("DT_RELR", "initial-exec TLS")

    @property
    def label(self) -> str:
        """The short name ``wheel show`` lists beside libc names (``DT_RELR``)."""
        return self.short or self.name

    def upstream_has(self, musl_version: str) -> bool:
        """Whether upstream musl ``musl_version`` does it (an unreadable version: no)."""
        if self.since is None or not musl_version:
            return False
        try:
            return version_tuple(musl_version)[:3] >= version_tuple(self.since)[:3]
        except ValueError:
            return False


@cache
def loader_features(data_dir: str = DATA_DIR) -> dict[str, LoaderFeature]:
    """Every feature of the table, by name."""
    out = {}
    for row in read_table_rows(os.path.join(data_dir, "musl-loader-features.tsv")):
        name, since, what, missing, short = (row + [""] * 5)[:5]
        out[name] = LoaderFeature(name, None if since == "never" else since, what, missing, short)
    return out


def needs_static_tls(symbols: DynamicSymbols, startup: frozenset[str] = frozenset()) -> bool:
    """Whether ``symbols``, loaded by ``dlopen``, has initial-exec TLS that the loader must resolve to TLS
    of an object loaded after startup: a TP-offset relocation of its own TLS, or of a TLS name no object
    loaded at startup (``startup``: the names they export) defines, which then comes from the object itself
    or a library it brings; or the ``DF_STATIC_TLS`` flag where no relocation was found to explain it (an
    arch whose relocation types are not read). musl looks a name up among the startup objects first, so a
    name one of them defines is static TLS and loads."""
    if any(name == "" or name not in startup for name in symbols.static_tls):
        return True
    return not symbols.static_tls and bool(dict(symbols.loader_tags).get(DT_FLAGS, 0) & DF_STATIC_TLS)


def features_of(
    symbols: DynamicSymbols, dlopened: bool = False, startup: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The features of the table ``symbols`` needs from the loader that loads it. ``static-tls`` counts
    only for an object loaded by ``dlopen`` (an extension module and the libraries it brings): a program
    and the libraries it starts with get their initial-exec TLS from the static block. ``startup``: the
    names the objects loaded at startup export (``needs_static_tls``)."""
    tags = dict(symbols.loader_tags)
    out = []
    if DT_RELR in tags:
        out.append("relr")
    if dlopened and needs_static_tls(symbols, startup):
        out.append("static-tls")
    return tuple(out)


def never_supported(features: Iterable[str]) -> tuple[str, ...]:
    """The ``features`` no musl loader does (``since`` "never"): a wheel needing one has a ceiling (or
    nothing), not a floor."""
    table = loader_features()
    return tuple(f for f in features if f in table and table[f].since is None)


def wheel_features(objects: Iterable[DynamicSymbols]) -> tuple[str, ...]:
    """The features any of a wheel's ELF files needs (its extension modules and their libraries are all
    loaded by ``dlopen``), in table order."""
    found = {f for s in objects for f in features_of(s, dlopened=True)}
    return tuple(f for f in loader_features() if f in found)


def missing_upstream(features: Iterable[str], musl_version: str) -> tuple[str, ...]:
    """The ``features`` upstream musl ``musl_version`` does not do."""
    table = loader_features()
    return tuple(f for f in features if f in table and not table[f].upstream_has(musl_version))


def labels(features: Iterable[str]) -> frozenset[str]:
    """The short names (``DT_RELR``) of ``features``, as ``wheel show`` lists them beside libc names."""
    table = loader_features()
    return frozenset(table[f].label for f in features if f in table)


#: From this upstream release musl's loader refuses initial-exec TLS that resolves to dynamic TLS.
STATIC_TLS_REFUSED_FROM = "1.1.20"


def _static_tls_reason(path: str, musl_version: str) -> str:
    """What this system's loader does with initial-exec TLS in an object loaded by dlopen, by version."""
    try:
        refused = version_tuple(musl_version)[:3] >= version_tuple(STATIC_TLS_REFUSED_FROM)
    except ValueError:
        refused = True
    what = (
        "initial-exec TLS in an object loaded by dlopen (TP-offset relocations of TLS not in the static "
        "block)"
    )
    if refused:
        return (
            f"{path}: uses {what}: this musl {musl_version or '(version unknown)'} loader refuses it "
            '("initial-exec TLS resolves to dynamic definition"), as every musl from '
            f"{STATIC_TLS_REFUSED_FROM} on does (edge's 1.2.5-r3 dies with SIGSEGV while saying so)"
        )
    return (
        f"{path}: uses {what}: this musl {musl_version} loader (before {STATIC_TLS_REFUSED_FROM}) gives "
        "its TLS no place in the static block and writes an offset outside it: it may crash while "
        "loading, or load and read and write memory that is not its TLS"
    )


def reason(feature: str, path: str, musl_version: str) -> str:
    """The words ``check`` gives for a feature this system's loader lacks."""
    f = loader_features()[feature]
    if feature == "static-tls":
        return _static_tls_reason(path, musl_version)
    if f.since is None:
        return f"{path}: uses {f.what}, which no musl loader supports: {f.when_missing}"
    have = f"this musl {musl_version or '(version unknown)'} loader"
    return f"{path}: uses {f.what}, which {have} does not support (musl {f.since} does): {f.when_missing}"


def hint(feature: str) -> str:
    f = loader_features()[feature]
    if feature == "static-tls":
        return (
            "initial-exec TLS: no musl loads it in an object loaded by dlopen; rebuild with "
            "-ftls-model=global-dynamic (or TLS descriptors)"
        )
    if f.since is None:
        return f"{f.label}: no musl supports it; rebuild without it"
    return f"{f.label} needs musl {f.since} or newer, or an older musl build measured to carry it back"


@cache
def _measured(root: str, distro_id: str, distro_version: str, arch: str) -> frozenset[str]:
    """The features the plugins measured this system's own libc build to do (hook
    ``alpinetags_libc_features``); nothing without a plugin that knows the build."""
    from alpinetags._engine.plugins import disabled_from_env, load_plugins

    registry = load_plugins(disabled_from_env(os.environ))
    if not hasattr(registry.manager.hook, "alpinetags_libc_features"):
        return frozenset()
    found = registry.call_all(
        "alpinetags_libc_features",
        lambda r: isinstance(r, list) and all(isinstance(x, str) for x in r),
        root=root,
        distro_id=distro_id,
        distro_version=distro_version,
        arch=arch,
    )
    return frozenset(f for _, names in found for f in names)


def lacking(
    features: Iterable[str], root: str, distro_id: str, distro_version: str, arch: str, musl_version: str
) -> tuple[str, ...]:
    """The ``features`` the system's musl loader does not do: those its upstream release lacks, unless a
    plugin measured the system's own build to do them."""
    gaps = missing_upstream(features, musl_version)
    if not gaps:
        return ()
    measured = _measured(root, distro_id, distro_version, arch)
    return tuple(f for f in gaps if f not in measured)

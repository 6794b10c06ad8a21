"""A wheel variant as the core writes it: the properties a distro plugin gives, the label, ``variant.json``.

Wheel variants (PEP 825, package format; PEP 850, providers; both drafts; implemented by ``variantlib``
0.2.2) keep a wheel's ordinary tags and add a label to its file name
(``demo-1.0-cp311-cp311-musllinux_1_2_x86_64-<label>.whl``) and a ``*.dist-info/variant.json`` that maps
the label to properties ``namespace :: feature :: value``. An installer asks the provider named in that
file (``requires`` installs it, ``plugin-api`` says which object answers) which properties the machine
supports, and ranks the variants by them.

The core knows no distribution by name: a distro plugin answers the hook ``alpinetags_wheel_variant`` with
a ``VariantSpec`` (its namespace, the properties the wheel's needs come to, where its provider lives); the
core checks its shape against the spellings variantlib accepts, derives the label as variantlib does (the
first 8 hex digits of the sha256 of the sorted ``ns :: feature :: value`` lines), and renders the JSON.
variantlib itself is never imported: alpinetags does not depend on it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

#: The schema variantlib 0.2.2 writes and reads (``variantlib.constants.VARIANT_INFO_SCHEMA_URL``).
SCHEMA_URL = "https://variants-schema.wheelnext.dev/v0.2.0.json"
#: The member of ``*.dist-info/`` that holds it.
DIST_INFO_NAME = "variant.json"
LABEL_LENGTH = 8

# The spellings variantlib 0.2.2 validates (its constants module): names, features, values, object refs.
_NAMESPACE_RE = re.compile(r"[a-z0-9_]+\Z")
_FEATURE_RE = _NAMESPACE_RE
_VALUE_RE = re.compile(r"[a-z0-9_.]+\Z")
_PLUGIN_API_RE = re.compile(r"[\w.]+(\s*:\s*[\w.]+)?\Z")
_REQUIRES_RE = re.compile(r"[\S ]+\Z")


@dataclass(frozen=True)
class VariantSpec:
    """A plugin's answer for one wheel: the properties of its variant, or why none can be made.

    ``properties`` are (feature, value) pairs of ``namespace``; ``requires`` is what an installer
    installs to run the provider and ``plugin_api`` the object it then imports (``module`` or
    ``module:attr``). ``refusals`` non-empty means: no variant for this wheel, for these reasons.
    """

    namespace: str
    properties: tuple[tuple[str, str], ...] = ()
    requires: tuple[str, ...] = ()
    plugin_api: str = ""
    refusals: tuple[str, ...] = ()

    @property
    def property_strings(self) -> tuple[str, ...]:
        """``ns :: feature :: value`` for each property, in variantlib's order (sorted)."""
        return tuple(f"{self.namespace} :: {f} :: {v}" for f, v in sorted(set(self.properties)))

    @property
    def label(self) -> str:
        """The label variantlib gives these properties by default (``VariantDescription.label``)."""
        h = hashlib.sha256()
        for line in self.property_strings:
            h.update(f"{line}\n".encode())
        return h.hexdigest()[:LABEL_LENGTH]


def valid_spec(value: Any) -> bool:
    """Whether a plugin's ``alpinetags_wheel_variant`` answer is a ``VariantSpec`` variantlib would accept:
    every name in its spelling, at least one property (an empty one is the null variant, which needs no
    tool), one value per feature, and a provider an installer can find (or refusals instead)."""
    if not isinstance(value, VariantSpec) or not isinstance(value.namespace, str):
        return False
    if not isinstance(value.refusals, tuple) or not all(isinstance(r, str) for r in value.refusals):
        return False
    if value.refusals:
        return True
    props = value.properties
    if not isinstance(props, tuple) or not props or not _NAMESPACE_RE.match(value.namespace):
        return False
    if not all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str)
        for p in props
    ):
        return False
    if not all(_FEATURE_RE.match(f) and _VALUE_RE.match(v) for f, v in props):
        return False
    if len({f for f, _ in props}) != len(props):
        return False  # one value per feature: the features a variant writes are single-valued
    return (
        isinstance(value.requires, tuple)
        and bool(value.requires)
        and all(isinstance(r, str) and _REQUIRES_RE.match(r) for r in value.requires)
        and isinstance(value.plugin_api, str)
        and bool(_PLUGIN_API_RE.match(value.plugin_api))
    )


def variant_json(spec: VariantSpec) -> str:
    """The ``variant.json`` of a wheel with ``spec``'s properties: one variant under its label, the
    namespace as the only default priority, and its provider as an install-time one (``requires``), since
    what a system supports is only known on the installing system."""
    features: dict[str, list[str]] = {}
    for feature, value in sorted(set(spec.properties)):
        features.setdefault(feature, []).append(value)
    data = {
        "$schema": SCHEMA_URL,
        "default-priorities": {"namespace": [spec.namespace]},
        "providers": {spec.namespace: {"plugin-api": spec.plugin_api, "requires": list(spec.requires)}},
        "variants": {spec.label: {spec.namespace: features}},
    }
    return json.dumps(data, indent=4, sort_keys=True) + "\n"

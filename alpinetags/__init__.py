"""alpinetags: distro-versioned wheel tags (``alpine_3_19_x86_64``) with a musllinux fallback.

The public API::

    import alpinetags
    platform = alpinetags.detect()                 # what this system is, and from where
    alpinetags.platform_tags(platform)             # ['alpine_3_19_x86_64', ..., 'musllinux_1_2_x86_64', ...]
    alpinetags.sys_tags()                          # packaging Tags, best first
    alpinetags.detect(alpinetags.Target(root="/srv/image"))   # another root, nothing executed
    alpinetags.Marker('libc == "musl" and distro_version >= "3.18"').evaluate()

Everything public is exported here, and only here (``__all__``): the markers and requirement helpers,
the typed errors, and the types a distro plugin's hooks receive and return (``WheelNeeds``,
``DistroReport``, ``TagVerdict``, ``Overclaim``, ``VariantSpec``). Modules and folders whose names
start with ``_`` are internal (docs/design.md).

Names are loaded lazily (PEP 562) so that importing the package, as the pip hook's ``.pth`` line does,
costs nothing: pluggy, distro and packaging are imported only when a function needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AlpinetagsError",
    "ConfigError",
    "DistroReport",
    "InputRefused",
    "Marker",
    "Overclaim",
    "Platform",
    "TagVerdict",
    "Target",
    "VariantSpec",
    "WheelNeeds",
    "all_platforms",
    "default_environment",
    "detect",
    "filter_requirements",
    "hookimpl",
    "load_plugins",
    "parse_target_spec",
    "platform_tags",
    "read_requirements",
    "sys_tags",
]

_LAZY = {
    "Platform": "model",
    "Target": "model",
    "parse_target_spec": "model",
    "AlpinetagsError": "errors",
    "ConfigError": "errors",
    "InputRefused": "errors",
    "Marker": "markers",
    "default_environment": "markers",
    "read_requirements": "requirements",
    "filter_requirements": "requirements",
    "WheelNeeds": "wheelneeds",
    "DistroReport": "wheelneeds",
    "TagVerdict": "wheelneeds",
    "Overclaim": "wheelneeds",
    "VariantSpec": "wheelvariant",
    "detect": "_engine.detect",
    "hookimpl": "hookspecs",
    "load_plugins": "_engine.plugins",
    "all_platforms": "tags",
    "sys_tags": "tags",
    "platform_tags": ("tags", "plugin_platforms"),
}

if TYPE_CHECKING:
    from alpinetags._engine.detect import detect
    from alpinetags._engine.plugins import load_plugins
    from alpinetags.errors import AlpinetagsError, ConfigError, InputRefused
    from alpinetags.hookspecs import hookimpl
    from alpinetags.markers import Marker, default_environment
    from alpinetags.model import Platform, Target, parse_target_spec
    from alpinetags.requirements import filter_requirements, read_requirements
    from alpinetags.tags import all_platforms, sys_tags
    from alpinetags.tags import plugin_platforms as platform_tags
    from alpinetags.wheelneeds import DistroReport, Overclaim, TagVerdict, WheelNeeds
    from alpinetags.wheelvariant import VariantSpec


def __getattr__(name: str) -> Any:
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module 'alpinetags' has no attribute {name!r}")
    module_name, attr = spec if isinstance(spec, tuple) else (spec, name)
    import importlib

    value = getattr(importlib.import_module(f".{module_name}", __name__), attr)
    globals()[name] = value
    return value

"""Marker variables contributed by plugins (the ``alpinetags_marker_variables`` hook)."""

from __future__ import annotations

import re

from alpinetags._engine.plugins import Registry
from alpinetags.model import Platform

_NAME_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _is_variables(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and _NAME_RE.match(k) and isinstance(v, str) for k, v in value.items()
    )


def plugin_marker_variables(platform: Platform, registry: Registry) -> list[tuple[str, dict[str, str]]]:
    """(plugin name, variables) for each plugin that gives marker variables, in hook order."""
    return registry.call_all("alpinetags_marker_variables", _is_variables, platform=platform)

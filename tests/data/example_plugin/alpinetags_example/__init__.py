"""A third-party alpinetags plugin, as a user would write one: ``exampleos_<major>_<arch>`` tags."""

from __future__ import annotations

import dataclasses
from typing import Optional

from alpinetags import Platform, Target, hookimpl


@hookimpl(tryfirst=True)
def alpinetags_detect(target: Target, base: Platform) -> Optional[Platform]:
    # (target, base) only, as written before the hook gained ``interpreter``: it must still be called.
    if base.distro_id != "exampleos":
        return None
    return dataclasses.replace(base, libc="glibc")


@hookimpl
def alpinetags_platform_tags(platform: Platform) -> list[str]:
    if platform.distro_id != "exampleos":
        return []
    major = platform.distro_version.split(".")[0]
    return [f"exampleos_{major}_{platform.arch}"]


@hookimpl
def alpinetags_marker_variables(platform: Platform) -> dict[str, str]:
    return {
        "exampleos_major": platform.distro_version.split(".")[0] if platform.distro_id == "exampleos" else ""
    }

"""A third-party alpinetags plugin, as a user would write one: ``exampleos_<major>_<arch>`` tags."""

from __future__ import annotations

from alpinetags import Platform, hookimpl


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

# mypy: disable-error-code="empty-body"
"""The hooks a plugin implements, for the pluggy project name ``alpinetags``.

A plugin is a module (or object) registered under the entry-point group ``alpinetags``; it marks its
functions with ``alpinetags.hookimpl``. The shipped plugins use nothing more than this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import pluggy

from alpinetags.model import Platform, Target

if TYPE_CHECKING:  # for the annotation only: importing it would load the ELF reader with the hookspecs
    from alpinetags._system.interpreter import InterpreterFile
    from alpinetags.wheelneeds import DistroReport, TagVerdict, WheelNeeds
    from alpinetags.wheelvariant import VariantSpec

PROJECT = "alpinetags"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class AlpinetagsSpec:
    """Hook specifications. Plugins implement any subset of them."""

    @hookspec(firstresult=True)
    def alpinetags_detect(
        self, target: Target, base: Platform, interpreter: InterpreterFile
    ) -> Optional[Platform]:
        """Say what system ``target`` is, or return ``None`` to let the next plugin try.

        ``base`` holds what the core read generically (os-release id, version and id_like, and the arch);
        a plugin refines it with ``dataclasses.replace``. The first non-``None`` answer wins: a distro
        plugin should use ``tryfirst=True``, a generic fallback ``trylast=True``.

        ``interpreter`` is the target's interpreter as ``detect()`` found and read it, once for the core and
        every plugin (``interpreter.linked()``: the libc its PT_INTERP names, or ``None``; it raises the
        ``ElfError`` the read met). Like every hook argument it may be left out of an implementation's
        signature: a plugin taking only ``(target, base)`` is called with those.
        """

    @hookspec
    def alpinetags_platform_tags(self, platform: Platform, target: Target) -> list[str]:
        """Platform tags (``alpine_3_19_x86_64``) this plugin accepts for ``platform``, best first.

        ``target`` is passed for its ``environ`` (a plugin's own switches); the tags should depend on
        ``platform`` only, so that a stated target gets the same tags as a probed one.

        Return ``[]`` for a platform the plugin knows nothing about. All plugins are asked; their lists
        are joined in hook order (``tryfirst`` first) and placed before packaging's own platform tags.
        """

    @hookspec(firstresult=True)
    def alpinetags_expand_platform(self, platform_tag: str) -> Optional[list[str]]:
        """Every platform tag a system whose best tag is ``platform_tag`` accepts, best first.

        For an explicit platform (``pip --platform alpine_3_18_x86_64``): the plugin that owns the tag's
        scheme answers (``alpine_3_18_x86_64`` ... ``alpine_3_0_x86_64``); others return ``None``.
        """

    @hookspec
    def alpinetags_marker_variables(self, platform: Platform) -> dict[str, str]:
        """Extra environment-marker variables for ``platform`` (name -> string value)."""

    @hookspec
    def alpinetags_native_hints(
        self, distro_id: str, distro_version: str, arch: str, soname: str
    ) -> list[str]:
        """Ways out for a system that lacks the library ``soname`` (``apk add so:libssl.so.3``), from a plugin
        that knows the distribution; ``[]`` for one it does not. The native check (``alpinetags check`` and
        the pip hook) asks every plugin for each missing soname and shows all the answers.
        """

    @hookspec
    def alpinetags_libc_features(
        self, root: str, distro_id: str, distro_version: str, arch: str
    ) -> list[str]:
        """Loader features (names of ``alpinetags/data/musl-loader-features.tsv``: ``relr``) that this
        system's own libc build was *measured* to support although its upstream version does not (a
        distribution's backport); ``[]`` when the plugin does not know the build. Read from files of
        ``root`` (never run); asked only when an object needs such a feature.
        """

    @hookspec
    def alpinetags_wheel_report(self, needs: WheelNeeds) -> Optional[DistroReport]:
        """A distro plugin's rows for ``alpinetags wheel show``: where in its releases the wheel loads (its
        floor, the newest release that still ships the sonames it needs, the packages that ship them) and
        which of the carried tags of its scheme overclaim. ``None`` from a plugin with nothing to say.

        ``needs`` is what the core read from the wheel's ELF files (see ``alpinetags.wheelneeds``). Every
        plugin is asked; the answers are shown in hook order (a distro plugin: ``tryfirst=True``). A field
        name the core uses, an answer JSON cannot hold, or another type is reported as the plugin's fault
        and left out.
        """

    @hookspec
    def alpinetags_wheel_tag_check(
        self, platform: Platform, needs: WheelNeeds, root_musl_ok: Optional[bool]
    ) -> Optional[TagVerdict]:
        """Whether ``alpinetags wheel tag`` may tag the wheel for ``platform`` (a release of this plugin's
        distribution, stated or read from a build root): refusals and warnings, or ``None`` for another
        distribution.

        ``root_musl_ok`` is ``None`` for a stated release (nothing but the plugin's knowledge judges it);
        else the core has checked the wheel against the build root's own files (and refused what the root
        lacks), and it says whether the root's musl has every libc name the wheel imports.
        """

    @hookspec
    def alpinetags_wheel_variant(self, platform: Platform, needs: WheelNeeds) -> Optional[VariantSpec]:
        """The wheel-variant properties of a wheel built on ``platform`` (a release of this plugin's
        distribution, stated or read from a build root, which ``alpinetags_wheel_tag_check`` has already
        judged) with ``needs``, and the provider an installer runs to match them; ``None`` for another
        distribution. ``alpinetags wheel variant`` writes the first answer (``alpinetags.wheelvariant``)."""

    @hookspec
    def alpinetags_stated_systems(self) -> list[str]:
        """Distro ids whose releases a user may state by name: ``alpinetags wheel tag --ID X.Y`` then means
        ``--system ID:X.Y``. The plugin's ``alpinetags_platform_tags`` must answer a platform stated so."""

"""Typed errors: every bad input alpinetags meets ends in one of these, never a bare traceback."""

from __future__ import annotations


class AlpinetagsError(Exception):
    """Base class of every error alpinetags raises on purpose."""


class ConfigError(AlpinetagsError, ValueError):
    """A setting given by the user (environment variable, ``--target``, option) is invalid.

    The message always names the setting, so a user can find what to fix.
    """


class OsReleaseError(AlpinetagsError):
    """An os-release file exists but cannot be read or parsed."""


class ElfError(AlpinetagsError):
    """A file is not an ELF file alpinetags can read (truncated, hostile, wrong format)."""


class LoaderError(AlpinetagsError):
    """A libc loader could not be read or refused to be run, or gave no version."""


class PluginError(AlpinetagsError):
    """A plugin failed to import, raised, or returned something that is not allowed."""

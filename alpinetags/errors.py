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


class InputRefused(AlpinetagsError):
    """An input (a wheel, an ELF file, a root) is refused because it looks hostile or exceeds a cap.

    Raised when a reader hits one of its documented limits (sections, symbols, needed names, search steps,
    bytes inflated, include files), sees a bomb (duplicate or overlapping zip entries, a size that lies)
    or cannot read a file safely (a FIFO, a device, a loop). Unlike an internal error of alpinetags, which
    fails open under pip, this fails closed: the check says "refused: …" and the wheel is not installed.
    The message is one line that names the input and the limit it exceeded; it always starts with
    ``refused: ``.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message if message.startswith("refused: ") else f"refused: {message}")


class RootRefused(InputRefused):
    """A root (an image on disk) is refused: one of its files cannot be read safely (a FIFO, a device, a
    link loop, a file over its cap) or its configuration exceeds a cap. The CLI answers exit 3, as for a
    root it cannot read; a refused wheel is bad input (exit 2)."""

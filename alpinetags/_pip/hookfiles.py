"""Writing and removing the pip hook's two files (``alpinetags pip enable`` / ``disable``, the benches).

The texts are ``alpinetags._pip.pth``'s (``hook_module_text``, ``pth_text``); this module puts them in a
site-packages directory and takes them out, in the order and the way that never leaves a starting Python
a ``.pth`` line without its module: the module first and the ``.pth`` last, each renamed into place, and
the ``.pth`` removed first. It is apart from ``pth`` because ``pth`` is imported inside pip, and this
needs what pip need not import (``dataclasses``, ``py_compile``).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from alpinetags._pip.pth import HOOK_MODULE, MODULE_NAME, PTH_NAME, hook_module_text, pth_text


def site_dir(user: bool) -> str:
    """The site-packages directory the hook goes into: this environment's, or the user site."""
    if user:
        import site

        return site.getusersitepackages()
    import sysconfig

    return sysconfig.get_paths()["purelib"]


@dataclass(frozen=True)
class HookFiles:
    """The hook's two files in one site-packages directory."""

    pth: str
    module: str


def hook_files(site: str) -> HookFiles:
    return HookFiles(os.path.join(site, PTH_NAME), os.path.join(site, MODULE_NAME))


def _write_atomic(path: str, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place: a starting Python
    sees the old file or the new one, never half of one. The temporary name ends in ``.tmp``, which
    ``site`` and the import system both ignore."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _write_bytecode(module: str) -> None:
    """Compile the module into ``__pycache__`` now, so that no start has to: Python reads a cached
    ``.pyc`` even where it writes none (``PYTHONDONTWRITEBYTECODE``, a site-packages only root may write).

    Best effort: without it, each start compiles the module itself (about 1 ms more, ``bytecode_cached``).
    Compiled at optimization level 0 into the plain ``.pyc`` that a default start looks for, checked by
    the source's time stamp (not its hash, even under ``SOURCE_DATE_EPOCH``: that would read the source
    at every start).
    """
    import py_compile

    try:
        py_compile.compile(
            module, doraise=True, optimize=0, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
        )
    except (OSError, py_compile.PyCompileError):
        pass


def bytecode_cached(module: str) -> bool:
    """Whether a start of this interpreter finds the module's bytecode up to date in ``__pycache__``.

    Without it each start compiles the module, and the first compile in a process costs about 1 ms
    (``compile`` sets up the types of the ``ast`` module), several times the whole hook with it: what
    ``enable`` writes is lost when ``__pycache__`` is deleted where Python may not write it again.
    """
    import importlib.util

    try:
        with open(importlib.util.cache_from_source(module, optimization=""), "rb") as f:
            head = f.read(16)
        st = os.stat(module)
    except (OSError, ValueError, NotImplementedError):
        return False
    if len(head) < 16 or head[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(head[4:8], "little") & 1:
        return True  # hash-based (not what enable writes): Python checks it against the source itself
    mtime, size = int.from_bytes(head[8:12], "little"), int.from_bytes(head[12:16], "little")
    return (mtime, size) == (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)


def _remove_bytecode(site: str) -> None:
    """Remove the module's cached bytecode, and ``__pycache__`` if that leaves it empty."""
    cache = os.path.join(site, "__pycache__")
    for cached in glob.glob(os.path.join(glob.escape(cache), f"{HOOK_MODULE}.*.pyc")):
        try:
            os.remove(cached)
        except FileNotFoundError:
            pass
    try:
        os.rmdir(cache)
    except OSError:
        pass  # not empty (other modules' bytecode), or not there


def _same_text(path: str, text: str) -> bool:
    """Whether the file at ``path`` holds exactly ``text`` (reading no more than that and one character)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(len(text) + 1) == text
    except (OSError, UnicodeDecodeError):
        return False


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def enable_in(site: str) -> HookFiles:
    """Write the hook into the site-packages directory ``site``: the module first, then the ``.pth``.

    In that order a ``.pth`` never names a module that is not there yet (which would make ``site``
    print an error at that start). A ``.pth`` of an earlier release is replaced in one rename. Each
    file is written atomically; the module is left untouched when it already holds this text (its
    cached bytecode stays valid). ``OSError`` (a read-only site-packages, say) leaves nothing new behind.
    """
    files = hook_files(site)
    os.makedirs(site, exist_ok=True)
    text = hook_module_text()
    existed = os.path.exists(files.module)
    if not _same_text(files.module, text):
        _write_atomic(files.module, text)
    _write_bytecode(files.module)
    try:
        _write_atomic(files.pth, pth_text())
    except BaseException:
        if not existed:
            _remove_quietly(files.module)
            _remove_bytecode(site)
        raise
    return files


def disable_in(site: str) -> list[str]:
    """Remove the hook from ``site``: the ``.pth`` first, then the module and its cached bytecode.

    In that order an interrupted ``disable`` leaves at worst the module alone, which nothing imports.
    Returns the paths removed (empty when the hook was not there). ``OSError`` but a missing file.
    """
    files = hook_files(site)
    removed = []
    for path in (files.pth, files.module):
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    _remove_bytecode(site)
    return removed

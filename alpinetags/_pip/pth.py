"""What the pip hook runs at each start of Python: the text of its two files, and the finder's work in pip.

``alpinetags pip enable`` writes two files into site-packages (or the user site):

* ``alpinetags_pip_hook.py`` (``HOOK_MODULE``), a small readable module whose text is
  ``hook_module_text()``. It is its own import finder: it defines ``find_spec`` and puts itself at the
  front of ``sys.meta_path``, importing nothing (``sys`` is already loaded);
* ``alpinetags-pip-hook.pth``, comments saying what it does and one line, ``import alpinetags_pip_hook``.

Python executes every ``import ...`` line of every ``.pth`` file in site-packages at each start, so what
it runs must cost nothing in a process that never runs pip, must be readable by whoever audits
site-packages, and must never break Python. A module costs less than source in the line itself (the
form before issue 21's work: ``exec`` of the finder's text, compiled at every start): Python caches a
module's bytecode in ``__pycache__``, and ``enable`` writes that cache at once, so a start only loads it.
The finder answers ``None`` for every module except three of pip's:

* ``pip._internal.utils.compatibility_tags``, whose ``get_supported`` builds every tag list pip uses
  (patched by ``alpinetags._pip.hook``: the alpine platforms added);
* ``pip._internal.operations.install.wheel``, whose ``install_wheel`` installs each wheel (patched by
  ``alpinetags._pip.check``: the native-library check before the install);
* ``pip._internal.resolution.resolvelib.factory``, whose candidates the resolver tries (patched by
  ``alpinetags._pip.candidates``: a wheel whose ``Requires-External`` the target lacks is passed over).

Only when pip imports one of them does the finder import this module, so a ``python -c pass`` never
loads alpinetags, pluggy, distro or packaging.

If alpinetags is uninstalled and both files left behind (neither is in alpinetags' RECORD), Python still
starts and pip still works with its standard tags: the finder's import fails and it answers ``None``.
A ``.pth`` line written by an earlier release (``import sys; exec(...)``, or 0.1's, through
``alpinetags._pth``) still works: its finder imports ``find_pip_module_spec`` from here.

This module itself may be imported inside pip only, and imports nothing heavy either. Writing and
removing the two files is ``alpinetags._pip.hookfiles``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from alpinetags._pip.patching import FACTORY_MODULE, TAGS_MODULE, WHEEL_MODULE, off_message, warn

PTH_NAME = "alpinetags-pip-hook.pth"
#: The module the ``.pth`` line imports. A name no other distribution uses (alpinetags' own prefix), so
#: the line cannot import someone else's module, and nothing of theirs is shadowed by it.
HOOK_MODULE = "alpinetags_pip_hook"
MODULE_NAME = f"{HOOK_MODULE}.py"
#: The attribute that marks the hook's finder (this module's, or a finder of an earlier release) in
#: ``sys.meta_path``: ``find_pip_module_spec`` skips such finders, ``pip status`` looks for one.
FINDER_MARK = "alpinetags_pip_hook"


def hook_module_text() -> str:
    """The source of ``alpinetags_pip_hook.py``, the one place it is written (``enable`` writes this text).

    It must work with nothing but ``sys`` (alpinetags may be gone) and fail silently. A module is a finder
    once it has a ``find_spec`` (no class: a class is one more code object to load at every start). It is
    added once without testing for it: when ``site`` reads the ``.pth`` twice (a venv whose ``lib64``
    links to ``lib``), the second ``import`` finds the module in ``sys.modules`` and runs nothing. Its
    comments are comments, not a docstring: they cost nothing when the cached bytecode is loaded.
    """
    return f"""\
# The alpinetags pip hook, imported at every start of Python by the line of alpinetags-pip-hook.pth.
#
# `alpinetags pip enable` wrote this module and that file; `alpinetags pip disable` removes both.
# This module is an import finder: its find_spec below is asked first about every import. It imports
# nothing, and answers None ("not mine") for every module but three of pip's:
#   {TAGS_MODULE}: the tag list (alpinetags adds the alpine platforms)
#   {WHEEL_MODULE}: the installer (alpinetags checks native libraries)
#   {FACTORY_MODULE}: the resolver (wheels that cannot load are passed over)
# Only when pip imports one of them does it import alpinetags, which patches that module of pip.
# If alpinetags is gone, it answers None and pip runs as plain pip.
# ALPINETAGS_PIP=0 switches all of it off for one command.

import sys

# The mark alpinetags looks for in sys.meta_path (pip status; the other finders it asks).
{FINDER_MARK} = True


def find_spec(name, path=None, target=None):
    if name not in (
        {TAGS_MODULE!r},
        {WHEEL_MODULE!r},
        {FACTORY_MODULE!r},
    ):
        return None
    try:
        from alpinetags._pip.pth import find_pip_module_spec
    except Exception:  # alpinetags uninstalled, this file left: pip runs as plain pip
        return None
    return find_pip_module_spec(name, path, target)


# A module with a find_spec is a finder: this one goes first. Imported twice (site reads the .pth
# twice when lib64 links to lib), a module runs once, so it is added once.
sys.meta_path.insert(0, sys.modules[__name__])
"""


def pth_line() -> str:
    """The one line Python runs at each start: it imports the hook module (nothing else is run)."""
    return f"import {HOOK_MODULE}\n"


def pth_text() -> str:
    """What is written to the ``.pth`` file: comments saying what the line does, then the line."""
    return (
        f"# alpinetags pip hook: `alpinetags pip enable` wrote this file and {MODULE_NAME} beside it;\n"
        "# `alpinetags pip disable` removes both. At each start of Python the line below imports that\n"
        "# module, which adds itself to sys.meta_path and imports nothing more until pip imports its tag\n"
        "# list, its installer or its resolver: then alpinetags patches them (the module's text says how).\n"
        "# If alpinetags is gone, it does nothing. ALPINETAGS_PIP=0 switches it off for one command.\n"
        f"# Removing it by hand: delete this file first (this line without {MODULE_NAME} makes\n"
        "# every start of Python print an error, then start as usual).\n" + pth_line()
    )


def _patch_function(name: str) -> Callable[[Any], None]:
    """The function that patches pip's module ``name`` (imported now: this runs inside pip only)."""
    if name == TAGS_MODULE:
        from alpinetags._pip.hook import patch_tags_module

        return patch_tags_module
    if name == FACTORY_MODULE:
        from alpinetags._pip.candidates import patch_factory_module

        return patch_factory_module
    from alpinetags._pip.check import patch_wheel_module

    return patch_wheel_module


class PatchingLoader:
    """Wraps the real loader of one of pip's three modules and patches the module right after it has run.

    Patching before any other pip module runs ``from ... import get_supported`` (or ``install_wheel``)
    means every caller sees the patched function. Any failure is a warning: pip keeps its own function.
    """

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        try:
            _patch_function(self._name)(module)
        except Exception as exc:
            warn(f"{off_message(self._name)}: {type(exc).__name__}: {exc}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def find_pip_module_spec(name: str, path: Any = None, target: Any = None) -> Any:
    """The spec the other finders give for pip's module ``name``, its loader wrapped in ``PatchingLoader``.

    ``None`` (the import system then asks the next finders itself) when no other finder knows the
    module, or when anything goes wrong here.
    """
    try:
        for finder in list(sys.meta_path):
            if getattr(finder, FINDER_MARK, False):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = PatchingLoader(spec.loader, name)
        return spec
    except Exception as exc:
        warn(f"{off_message(name)}: {type(exc).__name__}: {exc}")
        return None


def finder_installed() -> bool:
    """Whether the hook's finder (this release's or an earlier one's) is in ``sys.meta_path``."""
    return any(getattr(finder, FINDER_MARK, False) for finder in sys.meta_path)


def install_finder() -> None:
    """Put the hook's finder in ``sys.meta_path`` of this process, as the ``.pth`` line does (no-op if there).

    The module is made from ``hook_module_text()``, the text ``enable`` writes, and registered under its
    own name, so that a later ``import alpinetags_pip_hook`` finds it there and adds nothing.
    """
    if finder_installed():
        return
    import types

    module = types.ModuleType(HOOK_MODULE)
    sys.modules[HOOK_MODULE] = module
    exec(compile(hook_module_text(), f"<{HOOK_MODULE}>", "exec"), module.__dict__)


def install() -> None:
    """Patch pip in this process: each of its three modules now if it is imported, else when it is."""
    later = False
    for name in (TAGS_MODULE, WHEEL_MODULE, FACTORY_MODULE):
        module = sys.modules.get(name)
        if module is None:
            later = True
            continue
        try:
            _patch_function(name)(module)
        except Exception as exc:
            warn(f"{off_message(name)}: {type(exc).__name__}: {exc}")
    if later:
        install_finder()

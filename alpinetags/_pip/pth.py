"""What the ``alpinetags-pip-hook.pth`` file runs, and the writing and removing of that file.

Python executes every ``import ...`` line of every ``.pth`` file in site-packages at each start, so the
line must cost nothing in a process that never runs pip, must be readable by whoever audits
site-packages, and must never break Python. It therefore imports nothing from alpinetags: it defines a
tiny finder (``FINDER_CODE``, plain source in the line) and puts it at the front of ``sys.meta_path``.
That finder answers ``None`` for every module except three of pip's:

* ``pip._internal.utils.compatibility_tags``, whose ``get_supported`` builds every tag list pip uses
  (patched by ``alpinetags._pip.hook``: the alpine platforms added);
* ``pip._internal.operations.install.wheel``, whose ``install_wheel`` installs each wheel (patched by
  ``alpinetags._pip.check``: the native-library check before the install);
* ``pip._internal.resolution.resolvelib.factory``, whose candidates the resolver tries (patched by
  ``alpinetags._pip.candidates``: a wheel whose ``Requires-External`` the target lacks is passed over).

Only when pip imports one of them does the finder import this module, so a ``python -c pass`` never
loads alpinetags, pluggy, distro or packaging.

If alpinetags is uninstalled and the ``.pth`` file left behind, Python still starts and pip still works
with its standard tags: the finder's import fails and it silently answers ``None``.

This module itself may be imported inside pip only, and imports nothing heavy either.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, Optional

from alpinetags._pip.patching import FACTORY_MODULE, TAGS_MODULE, WHEEL_MODULE, off_message, warn

PTH_NAME = "alpinetags-pip-hook.pth"

#: The finder the ``.pth`` line defines, as readable source: the line is ``exec`` of this text. It must
#: work with nothing but ``sys`` (alpinetags may be gone) and fail silently. A function is a finder once
#: it is its own ``find_spec`` (no class: a class body takes twice as long to compile at every start).
#: It is added once: a venv whose ``lib64`` links to ``lib`` has ``site`` read the same ``.pth`` twice.
#: That test is ``map(hasattr, ...)``, not a generator expression: the text is compiled at every start,
#: and a generator is one more code object to compile (about a quarter of the line's cost; issue 21).
FINDER_CODE = f"""\
def find_spec(name, path=None, target=None):
    if name in ({TAGS_MODULE!r}, {WHEEL_MODULE!r}, {FACTORY_MODULE!r}):
        try:
            from alpinetags._pip.pth import find_pip_module_spec
        except Exception:
            return None
        return find_pip_module_spec(name, path, target)
find_spec.find_spec = find_spec.alpinetags_pip_hook = find_spec
if not any(map(hasattr, sys.meta_path, ["alpinetags_pip_hook"] * len(sys.meta_path))):
    sys.meta_path.insert(0, find_spec)
"""


def pth_line() -> str:
    """The one line Python runs at each start: ``exec`` of ``FINDER_CODE``, as readable source.

    Readable costs about 80 µs more per start than the precompiled (marshal) form this replaced
    (about 160 µs against 80 µs for the line alone, in a fresh interpreter, bench/bench_pip.py; a
    ``python -c pass`` takes about 8 ms, about 1 %, and that bench's run-to-run noise is about 80 µs).
    In exchange the line works on every Python version and a reader sees what runs.
    """
    return f"import sys; exec({FINDER_CODE!r}, {{'sys': sys}})\n"


def pth_text() -> str:
    """What is written to the ``.pth`` file: comments saying what the line does, then the line."""
    return (
        "# alpinetags pip hook: `alpinetags pip enable` wrote this file, `alpinetags pip disable` removes\n"
        "# it. At each start the line below adds one function to sys.meta_path and imports nothing. It\n"
        f"# ignores every module but pip's {TAGS_MODULE},\n# {WHEEL_MODULE} and {FACTORY_MODULE};\n"
        "# when pip imports one, it imports alpinetags._pip.pth, which patches pip's tag list\n"
        "# (get_supported: the alpine platforms), its wheel installer (install_wheel: the native-library\n"
        "# check) or its candidates (a wheel the target cannot load is passed over). If alpinetags is gone,\n"
        "# it does nothing. ALPINETAGS_PIP=0 switches all of it off for one command.\n" + pth_line()
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
            if getattr(finder, "alpinetags_pip_hook", False):
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


def install_finder() -> None:
    """Put the finder in ``sys.meta_path`` of this process, as the ``.pth`` line does (no-op if there)."""
    exec(FINDER_CODE, {"sys": sys})


def site_dir(user: bool) -> str:
    """The site-packages directory a ``.pth`` file goes into: this environment's, or the user site."""
    if user:
        import site

        return site.getusersitepackages()
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def pth_path(user: bool) -> str:
    return os.path.join(site_dir(user), PTH_NAME)


def enable(user: bool) -> str:
    """Write the ``.pth`` file (atomically, so a starting Python never reads half a line); its path."""
    path = pth_path(user)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(pth_text())
    os.replace(tmp, path)
    return path


def disable(user: bool) -> Optional[str]:
    """Remove the ``.pth`` file; its path, or ``None`` when there was none."""
    path = pth_path(user)
    try:
        os.remove(path)
    except FileNotFoundError:
        return None
    return path


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

"""What the ``alpinetags-pip-hook.pth`` file runs, and the writing and removing of that file.

Python executes every ``import ...`` line of every ``.pth`` file in site-packages at each start, so the
line must cost nothing in a process that never runs pip. It therefore imports nothing from alpinetags:
it only puts a tiny finder (``FINDER_CODE``, precompiled into the line) at the front of
``sys.meta_path``. That finder answers ``None`` for every module except pip's tag module,
``pip._internal.utils.compatibility_tags``; only when pip imports that module does it import this
module (and later ``alpinetags.pip_hook``), so a ``python -c pass`` never loads alpinetags, pluggy,
distro or packaging.

If alpinetags is uninstalled and the ``.pth`` file left behind, Python still starts (the line imports
nothing that could be missing) and pip still works: the finder fails to import alpinetags, prints one
warning naming the leftover file, and lets pip's import go on unchanged.

This module itself may be imported inside pip only, and imports nothing heavy either.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

PTH_NAME = "alpinetags-pip-hook.pth"
TAGS_MODULE = "pip._internal.utils.compatibility_tags"
WARNING_PREFIX = "alpinetags: warning: "

#: The finder the ``.pth`` line defines. It runs with ``PTH`` (this file's path) in its namespace and
#: must work with nothing but the standard library: alpinetags may be gone. A function is a finder
#: once it is its own ``find_spec`` (no class: the line is compiled at every start, and a class body
#: takes twice as long to compile).
FINDER_CODE = """\
import sys
def find_spec(name, path=None, target=None):
    if name == "pip._internal.utils.compatibility_tags":
        try:
            from alpinetags._pth import find_tags_module_spec
        except Exception as exc:
            try:
                sys.stderr.write("alpinetags: warning: pip hook off, pip uses its standard tags: "
                    "cannot import alpinetags (%s: %s); reinstall it or delete %s\\n"
                    % (type(exc).__name__, exc, PTH))
            except Exception:
                pass
        else:
            return find_tags_module_spec(name, path, target)
find_spec.find_spec = find_spec.alpinetags_pip_hook = find_spec
if not any(getattr(f, "alpinetags_pip_hook", None) for f in sys.meta_path):
    sys.meta_path.insert(0, find_spec)
"""

_warned: set[str] = set()


def warn(message: str) -> None:
    """Print ``alpinetags: warning: message`` to stderr, once per process per message."""
    if message in _warned:
        return
    _warned.add(message)
    try:
        sys.stderr.write(f"{WARNING_PREFIX}{message}\n")
        sys.stderr.flush()
    except Exception:
        pass  # no stderr (pythonw, closed pipe): the warning is lost, pip still runs


def pth_text(pth_path: str) -> str:
    """What is written to ``pth_path``: a comment, and one line running ``FINDER_CODE`` precompiled.

    The code goes in marshalled (compiled by this interpreter, which is the one that reads this
    site-packages), as hex (a shorter literal than a bytes repr, so the line compiles faster):
    compiling the source at every start would cost about 0.25 ms of a 11 ms ``python -c pass``,
    this line about 0.12 ms. The line checks the bytecode magic number first, so an interpreter with
    another bytecode (an upgraded Python reusing the directory) just starts without the hook;
    ``alpinetags pip status`` then says it was not loaded.
    """
    import importlib.util
    import marshal

    code = compile(FINDER_CODE, "<alpinetags-pip-hook>", "exec")
    namespace = f"{{'__name__': 'alpinetags_pip_hook_pth', 'PTH': {pth_path!r}}}"
    magic = importlib.util.MAGIC_NUMBER
    return (
        "# alpinetags pip hook, written by `alpinetags pip enable`, removed by `alpinetags pip disable`.\n"
        "# It runs FINDER_CODE of alpinetags/_pth.py, compiled: it imports nothing at start.\n"
        f"import sys, marshal; getattr(sys.modules.get('_frozen_importlib_external'), 'MAGIC_NUMBER', None) "
        f"== {magic!r} and exec(marshal.loads(bytes.fromhex('{marshal.dumps(code).hex()}')), {namespace})\n"
    )


class PatchingLoader:
    """Wraps the real loader of pip's tag module and patches the module right after it has run.

    Patching before any other pip module runs ``from ...compatibility_tags import get_supported``
    means every caller sees the patched function. Any failure is a warning: pip keeps its own tags.
    """

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        try:
            from .pip_hook import patch_tags_module

            patch_tags_module(module)
        except Exception as exc:
            warn(f"pip hook off, pip uses its standard tags: {type(exc).__name__}: {exc}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def find_tags_module_spec(name: str, path: Any = None, target: Any = None) -> Any:
    """The spec the other finders give for pip's tag module, with its loader wrapped in ``PatchingLoader``.

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
            spec.loader = PatchingLoader(spec.loader)
        return spec
    except Exception as exc:
        warn(f"pip hook off, pip uses its standard tags: {type(exc).__name__}: {exc}")
        return None


def install_finder(pth_path: str = "(installed in-process)") -> None:
    """Put the finder in ``sys.meta_path`` of this process, as the ``.pth`` line does (no-op if there)."""
    exec(FINDER_CODE, {"__name__": "alpinetags_pip_hook_pth", "PTH": pth_path})


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
        f.write(pth_text(path))
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

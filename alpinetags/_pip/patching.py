"""The one way alpinetags replaces a function of pip's, and the words it says when it cannot.

Shared by the three patch points (``hook``: the tag list; ``candidates``: the resolver's candidates;
``check``: the install step) and by the ``.pth`` finder that installs them (``pth``). It imports nothing of
alpinetags and nothing heavy, so each of them can import it without importing the others.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Optional

#: pip's modules the finder patches when pip imports them.
TAGS_MODULE = "pip._internal.utils.compatibility_tags"
WHEEL_MODULE = "pip._internal.operations.install.wheel"
FACTORY_MODULE = "pip._internal.resolution.resolvelib.factory"
WARNING_PREFIX = "alpinetags: warning: "
TAGS_OFF = "pip hook off, pip uses its standard tags"
CHECK_OFF = "native check off, pip installs without it"
CANDIDATES_OFF = "candidate filter off, pip picks wheels by their tags alone (the install step still checks)"

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


#: The attribute a wrapper carries: pip's original function (also how a second patch is recognised).
PATCHED_MARK = "_alpinetags_original"


def replace_pip_function(
    module: Any,
    attr: str,
    accepts: Callable[[Any], bool],
    wrap: Callable[[Any], Any],
    signature: str,
    before: Optional[Callable[[], None]] = None,
) -> None:
    """Replace ``module.attr`` (a function of pip's) by ``wrap(original)``, the one way both patch points do.

    Nothing happens when it is already the wrapper. ``RuntimeError`` when pip's function is missing or
    ``accepts`` rejects its signature, so the caller warns and pip goes on unpatched. ``before`` runs once
    the function is known good, just before the swap. Modules of pip that already did ``from module import
    attr`` (only when the patch goes in late, as ``alpinetags pip ARGS`` may do) are rebound too.
    """
    original = getattr(module, attr, None)
    if original is not None and hasattr(original, PATCHED_MARK):
        return
    if original is None or not accepts(original):
        raise RuntimeError(f"{module.__name__}.{signature} not found in this pip (tested: pip 23.0 to 26.3)")
    if before is not None:
        before()
    wrapped = wrap(original)
    setattr(wrapped, PATCHED_MARK, original)
    setattr(module, attr, wrapped)
    for name, loaded in list(sys.modules.items()):
        if name.startswith("pip.") and getattr(loaded, attr, None) is original:
            setattr(loaded, attr, wrapped)


def off_message(name: str) -> str:
    """What is off when patching pip's module ``name`` fails."""
    if name == FACTORY_MODULE:
        return CANDIDATES_OFF
    return TAGS_OFF if name == TAGS_MODULE else CHECK_OFF

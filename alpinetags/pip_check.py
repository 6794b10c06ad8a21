"""The native-library check at pip's install step: a wheel that would not load here is not installed.

pip trusts a wheel's tags. An ``alpine_3_16_x86_64`` wheel linked against Alpine 3.16's
``libssl.so.1.1`` is accepted on 3.17 by the tag policy (later releases accept earlier tags), and fails
at import there, because 3.17 has only ``libssl.so.3``. So, with the hook on, each wheel pip is about to
install is checked against the target system (``/``, or ``ALPINETAGS_ROOT``) first; one that needs a
soname or symbol the target lacks stops pip with one error naming the wheel, what is missing and the
ways out (the hints of the check, such as an ``apk add``; ``--no-binary NAME``; ``ALPINETAGS_CHECK=0``).

The patch point is ``pip._internal.operations.install.wheel.install_wheel(name, wheel_path, ...)``
(pip 23.0, 24.3.1 and 26.3: same name, same first two parameters; pip's ``InstallRequirement.install``
calls it once per wheel, after resolving and downloading, before anything of that wheel is written).
It is patched lazily through the same ``.pth`` finder as the tag module (``alpinetags._pth``). The
wrapper changes nothing about the call: it runs the check, then pip's function with pip's arguments.

Cost: a wheel whose file name says platform ``any`` (pure Python) is not opened at all. Any other wheel
is read by the check: first the ``Requires-External`` sonames its METADATA lists (written by
``alpinetags wheel tag``; a missing one refuses the wheel without any ELF read), then its ELF files.

Fail open: a failure of the check itself (a bug, an unreadable file, a missing module) is one
``alpinetags: warning:`` line and pip installs the wheel as it would without alpinetags.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from ._pth import warn

CHECK_ENV = "ALPINETAGS_CHECK"
_OFF_VALUES = frozenset({"0", "off", "false", "no"})
_PATCHED = "_alpinetags_original"
#: What a Requires-External entry must look like to be taken as a soname (the field also allows
#: things like ``C`` or ``libpng (>=1.5)``, which are not files to look for).
_SONAME_RE = re.compile(r"[A-Za-z0-9_.+-]+\.so(\.[0-9]+)*\Z")
#: At most this many missing symbols are named per file in the error (the rest are counted).
MAX_SYMBOLS_SHOWN = 5
#: Every module the check imports, also inside functions. pip 26.3 blocks imports once it starts
#: installing (``BlockedImportError``: a module could come from a half-installed distribution), so they
#: are all imported when the install module is patched, which pip does just before it blocks.
PRELOAD = (
    "zipfile",
    "glob",
    "io",
    "dataclasses",
    "packaging.utils",
    "alpinetags.wheelfile",
    "alpinetags.elfdynamic",
    "alpinetags.elfscan",
    "alpinetags.native",
    "alpinetags.facts",
    "alpinetags.arch",
    "alpinetags.musl",
    "alpinetags.os_release",
    "alpinetags.plugins",
)
#: Why a module of ``PRELOAD`` could not be imported (reported when the check then fails open).
preload_errors: dict[str, str] = {}


@dataclass(frozen=True)
class Problem:
    """One file of the wheel that would not load on the target, and why."""

    member: str  # the path inside the wheel, or "METADATA" for a Requires-External line
    missing_sonames: tuple[str, ...]
    missing_symbols: tuple[str, ...]

    def line(self) -> str:
        """``  pkg/mod.so needs libssl.so.1.1, libcrypto.so.1.1``: the sonames first, as the loader
        fails on them first; symbols are named only when every library was found."""
        if self.missing_sonames:
            return f"  {self.member} needs {', '.join(self.missing_sonames)}, which the system does not have"
        shown = ", ".join(self.missing_symbols[:MAX_SYMBOLS_SHOWN])
        more = len(self.missing_symbols) - MAX_SYMBOLS_SHOWN
        shown += f" and {more} more" if more > 0 else ""
        return f"  {self.member} needs symbols the system's libraries do not define: {shown}"


@dataclass(frozen=True)
class Refusal:
    """Why a wheel is not installed: what is missing where, and what the user can do about it."""

    wheel: str  # the wheel's file name
    project: str  # the name pip installs it as (for --no-binary)
    root: str
    problems: tuple[Problem, ...]
    hints: tuple[str, ...]  # from the check, e.g. "apk add so:libssl.so.1.1"

    def message(self) -> str:
        """The one error pip prints (pip adds ``ERROR: `` in front)."""
        where = "this system" if self.root in ("", "/") else f"the system in {self.root} (ALPINETAGS_ROOT)"
        lines = [f"alpinetags: {self.wheel} would not load on {where}, so pip does not install it:"]
        lines.extend(p.line() for p in self.problems)
        lines.append("ways out:")
        lines.extend(f"  {hint}" for hint in self.hints)
        lines.append(f"  pip install --no-binary {self.project} ...   build it from source on this system")
        lines.append(f"  {CHECK_ENV}=0 pip install ...   install it anyway, unchecked")
        return "\n".join(lines)


def check_enabled(environ: Mapping[str, str]) -> bool:
    """False when ``ALPINETAGS_CHECK`` or ``ALPINETAGS_PIP`` is ``0`` (or off/false/no)."""
    from .pip_hook import hook_enabled

    return hook_enabled(environ) and environ.get(CHECK_ENV, "").strip().lower() not in _OFF_VALUES


def is_pure(wheel_path: str) -> bool:
    """True when the wheel's file name gives platform ``any`` only (nothing native to check).

    Read from the name alone: pip has not opened the wheel yet, and a pure wheel must cost nothing.
    """
    base = os.path.basename(wheel_path)
    if not base.endswith(".whl"):
        return False
    platforms = base[: -len(".whl")].rsplit("-", 1)[-1].split(".")
    return all(p == "any" for p in platforms)


def target_root(environ: Mapping[str, str], explicit_platforms: Sequence[str] = ()) -> Optional[str]:
    """The root of the system the wheel will run on: ``ALPINETAGS_ROOT``, or ``/``.

    ``None`` when pip was given ``--platform`` (``explicit_platforms``) and no root: pip then installs
    for another system (``pip install --platform ... --target DIR``), which is not ``/``, and the check
    has nothing to check against.
    """
    root = environ.get("ALPINETAGS_ROOT", "")
    if root:
        return root
    return None if explicit_platforms else "/"


def soname_looking(names: Sequence[str]) -> list[str]:
    """The Requires-External entries that name a shared library file (``libssl.so.1.1``)."""
    return [n for n in names if _SONAME_RE.match(n)]


#: The library directories musl's loader searches when ``/etc/ld-musl-<arch>.path`` is absent.
DEFAULT_LIB_DIRS = ("/lib", "/usr/local/lib", "/usr/lib")


def soname_in_root(soname: str, root: str) -> bool:
    """Whether ``soname`` is a file in one of the root's default library directories.

    Only the cheap first look, for ``Requires-External`` names: a soname found here is checked again,
    with everything the loader does, by the full check.
    """
    for d in DEFAULT_LIB_DIRS:
        if os.path.exists(os.path.join(root, d.lstrip("/"), soname)):
            return True
    return False


def requires_external_problem(wheel_path: str, root: str) -> Optional[Problem]:
    """The ``Requires-External`` sonames of the wheel that the root lacks, as a ``Problem`` (or None)."""
    from .wheelfile import requires_external

    missing = tuple(s for s in soname_looking(requires_external(wheel_path)) if not soname_in_root(s, root))
    return Problem("METADATA (Requires-External)", missing, ()) if missing else None


NativeCheck = Callable[[str, str], tuple[tuple[Problem, ...], tuple[str, ...]]]

#: The target system as the check reads it, per (root, arch): read once per pip process.
_systems: dict[tuple[str, str], Any] = {}


def native_problems(wheel_path: str, root: str) -> tuple[tuple[Problem, ...], tuple[str, ...]]:
    """The files of the wheel that would not load in ``root`` (``alpinetags.native``), and the hints.

    ``OSError`` when an ELF-looking member cannot be read: a failure of the check, not a verdict.
    """
    from . import native
    from .elfscan import scan_wheel
    from .pip_hook import _registry

    container = scan_wheel(wheel_path)
    if container.problems:
        raise OSError(f"cannot read {'; '.join(container.problems)}")
    if not container.objects:
        return (), ()
    arch = next((o.symbols.arch for o in container.objects if o.symbols.arch), "")
    system = _systems.get((root, arch))
    if system is None:
        system = _systems[(root, arch)] = native.read_system(root, arch or None)
    hints = native.plugin_hints(_registry(os.environ))
    report = native.check_objects([container], system, hints=hints)
    problems = []
    found_hints: list[str] = []
    for obj in report.failures:
        symbols = (*obj.missing_symbols, *obj.missing_versions)
        problems.append(Problem(_member(obj.path), obj.missing_sonames, symbols))
        found_hints.extend(h for h in obj.hints if h not in found_hints)
    return tuple(problems), tuple(found_hints)


def _member(path: str) -> str:
    """``wheel.whl!pkg/mod.so`` -> ``pkg/mod.so``: the error names the wheel once, at its top."""
    return path.split("!", 1)[1] if "!" in path else path


def check_for_pip(
    project: str,
    wheel_path: str,
    environ: Mapping[str, str],
    explicit_platforms: Sequence[str] = (),
    native: Optional[NativeCheck] = None,
) -> Optional[Refusal]:
    """Whether pip may install the wheel at ``wheel_path``: ``None`` if it may, else why not.

    Errors of the check itself propagate (the caller fails open). ``native`` defaults to the full
    ELF check of ``alpinetags.native``.
    """
    if is_pure(wheel_path):
        return None
    root = target_root(environ, explicit_platforms)
    if root is None:
        return None
    wheel = os.path.basename(wheel_path)
    declared = requires_external_problem(wheel_path, root)
    if declared is not None:
        return Refusal(wheel, project, root, (declared,), ())
    problems, hints = (native or native_problems)(wheel_path, root)
    if not problems:
        return None
    return Refusal(wheel, project, root, problems, hints)


def _installation_error(message: str) -> Exception:
    """pip's own ``InstallationError``: pip prints it as ``ERROR: message`` and exits 1, no traceback."""
    from pip._internal.exceptions import InstallationError

    return InstallationError(message)


def wrap_install_wheel(original: Callable[..., Any]) -> Callable[..., Any]:
    """pip's ``install_wheel`` with the native check in front; pip's own alone when the check fails."""

    def install_wheel(*args: Any, **kwargs: Any) -> Any:
        project = args[0] if args else kwargs.get("name")
        wheel_path = args[1] if len(args) > 1 else kwargs.get("wheel_path")
        refusal = None
        if check_enabled(os.environ) and isinstance(wheel_path, str):
            try:
                from .pip_hook import explicit_platforms

                refusal = check_for_pip(str(project), wheel_path, os.environ, explicit_platforms)
            except Exception as exc:
                cause = f"{type(exc).__name__}: {exc}"
                if preload_errors:  # the first cause, rather than pip's later block of the same import
                    cause = "; ".join(f"importing {n}: {e}" for n, e in preload_errors.items())
                wheel = os.path.basename(wheel_path)
                warn(f"native check failed for {wheel}, pip installs it unchecked: {cause}")
        if refusal is not None:
            raise _installation_error(refusal.message())
        return original(*args, **kwargs)

    install_wheel.__doc__ = original.__doc__
    setattr(install_wheel, _PATCHED, original)
    return install_wheel


def preload() -> None:
    """Import ``PRELOAD`` now, while pip still allows imports; remember what failed and why."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:
            preload_errors[name] = f"{type(exc).__name__}: {exc}"


def _accepts_wheel_path(func: Any) -> bool:
    """Whether ``func`` is ``install_wheel(name, wheel_path, ...)`` as the wrapper expects."""
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    return tuple(code.co_varnames[: min(code.co_argcount, 2)]) == ("name", "wheel_path")


def patch_wheel_module(module: Any) -> None:
    """Replace ``module.install_wheel`` (pip's wheel installer) by the wrapper.

    pip modules that already did ``from ...install.wheel import install_wheel`` (when the patch goes in
    late, as ``alpinetags pip ARGS`` may do) are rebound too. ``RuntimeError`` when pip's function is
    not there or has another signature, so the caller warns and pip installs unchecked.
    """
    original = getattr(module, "install_wheel", None)
    if original is not None and hasattr(original, _PATCHED):
        return
    if original is None or not _accepts_wheel_path(original):
        raise RuntimeError(
            f"{module.__name__}.install_wheel(name, wheel_path, ...) not found in this pip "
            f"(tested: pip 23.0 to 26.3)"
        )
    preload()
    wrapped = wrap_install_wheel(original)
    module.install_wheel = wrapped
    for name, loaded in list(sys.modules.items()):
        other: Any = loaded
        if name.startswith("pip.") and getattr(other, "install_wheel", None) is original:
            other.install_wheel = wrapped

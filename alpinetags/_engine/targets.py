"""The ``Target`` a command line or the environment describes: the root, the interpreter, the arch and a
stated system, each checked here so that a bad value is a ``ConfigError`` naming it (exit 2).

Apart from ``alpinetags._engine.detect`` (which reads the target) so that a command that only needs the
target, such as ``check``, does not import detection, the plugins and ``distro`` at start (issue 21).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Optional

from alpinetags._elf.arch import check_arch, elf_arch
from alpinetags._elf.elffile import ElfHeader, read_elf
from alpinetags.errors import ConfigError, ElfError
from alpinetags.model import Target, parse_target_spec

ROOT_ENV = "ALPINETAGS_ROOT"


def default_target(environ: Optional[Mapping[str, str]] = None) -> Target:
    """The target for this process: ``/`` and ``sys.executable``, or the root in ``ALPINETAGS_ROOT``."""
    env = dict(os.environ if environ is None else environ)
    root = env.get(ROOT_ENV, "") or "/"
    if not os.path.isdir(root):
        raise ConfigError(f"{ROOT_ENV}={root!r} is not a directory")
    return Target(root=root, environ=env)


def explicit_executable_arch(path: str) -> str:
    """The wheel-tag arch of an executable the user named; ``ConfigError`` saying what is wrong with it.

    An explicit ``--executable`` is never replaced by this machine's arch: a directory, a file that is not
    ELF or is cut short, or a machine no wheel is built for (MIPS) is bad input.
    """
    try:
        header: Optional[ElfHeader] = read_elf(path)
        error: Optional[ElfError] = None
    except ElfError as exc:
        header, error = None, exc
    return _explicit_arch(path, header, error)


def _explicit_arch(path: str, header: Optional[ElfHeader], error: Optional[ElfError]) -> str:
    """``explicit_executable_arch`` of a file already read (``header``, or the ``error`` reading met)."""
    if os.path.isdir(path):
        raise ConfigError(f"--executable {path!r} is a directory, not an interpreter")
    if header is None:
        raise ConfigError(f"--executable {path!r} is not a readable ELF file: {error}") from None
    arch = elf_arch(header)
    if not arch:
        raise ConfigError(
            f"--executable {path!r} is an ELF file of machine {header.machine} (class {header.elf_class}), "
            "for which no wheel arch exists"
        )
    return arch


def target_from_options(
    root: Optional[str],
    executable: Optional[str],
    arch: Optional[str],
    spec: Optional[str],
    environ: Mapping[str, str],
) -> Target:
    """The ``Target`` the command-line options describe; every bad value is a ``ConfigError`` naming it.

    ``--arch`` must be a wheel-tag arch; ``--executable`` must be an ELF interpreter of a wheel arch;
    ``--target`` is parsed and checked here, so nothing of it reaches a plugin unchecked.
    """
    root = root or default_target(environ).root
    if not os.path.isdir(root):
        raise ConfigError(f"--root {root!r} is not a directory")
    if arch is not None:
        check_arch(arch, "--arch")
    if executable is not None:
        if not os.path.lexists(executable):
            raise ConfigError(f"--executable {executable!r} does not exist")
        explicit_executable_arch(executable)
    given = parse_target_spec(spec) if spec else None
    if given is not None:
        check_arch(given.arch, "--target")
        if arch is not None and arch != given.arch:
            raise ConfigError(f"--arch {arch} and --target {spec!r} name two arches")
    return Target(root=root, executable=executable, arch=arch, environ=dict(environ), given=given)

"""Confirm a prediction by asking the musl loader itself.

``ld-musl-<arch>.so.1 --list OBJECT`` (what musl's ``ldd`` is) loads the object and its libraries and
performs every relocation, printing ``Error relocating OBJ: NAME: symbol not found`` for each name no
loaded object defines, and then exits without running any of the object's code. Its verdict is the
ground truth the symbol scan predicts.

The container is unpacked into a temporary directory first, keeping its layout, so that the object's
``RUNPATH $ORIGIN/../foo.libs`` finds the libraries bundled next to it, as it would once installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass

from alpinetags._elf.elfscan import TAR_SUFFIXES
from alpinetags.errors import LoaderError

RUN_TIMEOUT = 20.0
_MISSING_RE = re.compile(r"^Error relocating (.+?): (\S+): symbol not found$", re.MULTILINE)
_NOLIB_RE = re.compile(r"^Error loading shared library (\S+): (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class LoaderVerdict:
    """What the loader said about one object."""

    member: str
    exit_code: int
    missing: frozenset[str]  # names reported "symbol not found" while relocating the object itself
    missing_libraries: tuple[str, ...]
    errors: tuple[str, ...]  # the loader's own error lines, as printed
    missing_in_dependencies: frozenset[str] = frozenset()  # ... while relocating a library it needs


def run_list(loader: str, path: str, timeout: float = RUN_TIMEOUT) -> tuple[int, str]:
    """Run ``loader --list path`` with no shell, an empty environment and stdin closed."""
    if not os.path.isabs(loader) or not os.path.isfile(loader):
        raise LoaderError(f"{loader}: not an absolute path to a loader file")
    try:
        proc = subprocess.run(
            [loader, "--list", path],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={},
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LoaderError(f"{loader} --list {path}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise LoaderError(f"{loader}: cannot run: {exc.strerror or exc}") from None
    return proc.returncode, proc.stderr[:65536].decode("utf-8", "replace")


def parse_list_output(
    member: str, exit_code: int, stderr: str, path: str = "", base: str = ""
) -> LoaderVerdict:
    """The verdict in ``stderr`` of ``--list path``; errors of other objects (libraries the object loads)
    are kept apart. ``base`` is stripped from the shown lines (the temporary unpack directory)."""
    own: set[str] = set()
    deps: set[str] = set()
    target = os.path.realpath(path) if path else ""
    for m in _MISSING_RE.finditer(stderr):
        where = m.group(1)
        same = not target or os.path.realpath(where) == target
        (own if same else deps).add(m.group(2))
    prefix = base.rstrip("/") + "/" if base else ""
    errors = tuple(
        line.replace(prefix, "") if prefix else line
        for line in stderr.splitlines()
        if line.startswith("Error ")
    )
    return LoaderVerdict(
        member=member,
        exit_code=exit_code,
        missing=frozenset(own),
        missing_libraries=tuple(m.group(1) for m in _NOLIB_RE.finditer(stderr)),
        errors=errors,
        missing_in_dependencies=frozenset(deps),
    )


def _unpack(container: str, into: str) -> None:
    """Unpack a wheel (and any tar inside it, next to it as ``NAME!``) or copy nothing for a tree."""
    with zipfile.ZipFile(container) as zf:
        zf.extractall(into)
        for name in zf.namelist():
            if name.endswith(TAR_SUFFIXES):
                dest = os.path.join(into, name + "!")
                os.makedirs(dest, exist_ok=True)
                with tarfile.open(os.path.join(into, name)) as tar:
                    if hasattr(tarfile, "data_filter"):
                        tar.extractall(dest, filter="data")
                    else:  # Python < 3.11.4: no filter; refuse members that climb out
                        for m in tar.getmembers():
                            if m.name.startswith("/") or ".." in m.name.split("/"):
                                raise LoaderError(f"{name}: unsafe member {m.name!r}")
                        tar.extractall(dest)


def confirm(container: str, members: list[str], loader: str) -> dict[str, LoaderVerdict]:
    """The loader's verdict on each member of ``container`` (a wheel, or a directory of ELF files)."""
    if not members:
        return {}
    tmp = None
    try:
        if os.path.isdir(container):
            base = container
        else:
            tmp = tempfile.mkdtemp(prefix="alpinetags-confirm-")
            _unpack(container, tmp)
            base = tmp
        out = {}
        for member in members:
            path = os.path.abspath(os.path.join(base, *member.replace("!", "!/").split("/")))
            code, stderr = run_list(loader, path)
            out[member] = parse_list_output(member, code, stderr, path, base)
        return out
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

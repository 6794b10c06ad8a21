"""Faults of the system itself: an unreadable /etc/os-release, no /proc, a broken plugin beside them.

Each case runs the real command (``python -m alpinetags tags --json``) in a private mount namespace
(``unshare``), where the fault is real: the os-release bind-mounted over by a file owned by someone
else with mode 000, seen from a user namespace (so even root cannot read it), or an empty tmpfs over
/proc. In the same namespace packaging computes its own tags; alpinetags must print exactly those, and
one warning per fault.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGING_TAGS = "import json, packaging.tags; print(json.dumps([str(t) for t in packaging.tags.sys_tags()]))"


def in_namespace(tmp_path: Path, setup: list[str], user_ns: bool, env: dict[str, str] | None = None) -> tuple:
    """Run the setup commands, then alpinetags and packaging, in a new mount namespace.

    Returns (alpinetags --json output, its stderr lines, packaging's tags, alpinetags' exit code).
    """
    if os.geteuid() != 0:
        pytest.fail("this test makes a real unreadable file and mount namespace: run the suite as root")
    if shutil.which("unshare") is None:
        pytest.fail("unshare is missing: apt-get install util-linux")
    out, err, ref = tmp_path / "out.json", tmp_path / "err.txt", tmp_path / "ref.json"
    py = shlex.quote(sys.executable)
    script = " && ".join(
        [
            *setup,
            f"{{ {py} -m alpinetags tags --json > {out} 2> {err}; echo $? > {tmp_path / 'rc'}; }}",
            f"{py} -c {shlex.quote(PACKAGING_TAGS)} > {ref}",
        ]
    )
    argv = ["unshare", "--mount", *(["--user", "--map-root-user"] if user_ns else []), "sh", "-ec", script]
    base = {k: v for k, v in os.environ.items() if not k.startswith("ALPINETAGS_")}
    proc = subprocess.run(argv, capture_output=True, text=True, env={**base, **(env or {})}, cwd=tmp_path)
    if proc.returncode != 0:
        pytest.fail(
            f"could not set up the namespace (needs root or unprivileged user namespaces): {proc.stderr}"
            f"{err.read_text() if err.exists() else ''}"
        )
    data = json.loads(out.read_text())
    rc = int((tmp_path / "rc").read_text())
    return data, err.read_text().splitlines(), json.loads(ref.read_text()), rc


def unreadable_file(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        pytest.fail("this test makes a real unreadable file and mount namespace: run the suite as root")
    f = tmp_path / "os-release-unreadable"
    f.write_text("ID=alpine\nVERSION_ID=3.19.1\n")
    os.chown(f, 65534, 65534)  # nobody: unmapped in the user namespace, so root there cannot override
    f.chmod(0)
    return f


def test_unreadable_os_release(tmp_path: Path) -> None:
    f = unreadable_file(tmp_path)
    data, stderr, reference, rc = in_namespace(tmp_path, [f"mount --bind {f} /etc/os-release"], user_ns=True)
    assert rc == 0
    assert data["tags"] == reference
    assert data["platform"]["distro_id"] == ""
    assert [line for line in stderr if "os-release" in line] == [
        "alpinetags: warning: os-release ignored: /etc/os-release: Permission denied"
    ]


def test_no_proc(tmp_path: Path) -> None:
    data, stderr, reference, rc = in_namespace(
        tmp_path, ["mount -t tmpfs none /proc", "test ! -e /proc/self"], False
    )
    assert rc == 0
    assert data["tags"] == reference
    assert stderr == []  # nothing alpinetags reads needs /proc


def test_everything_at_once(tmp_path: Path) -> None:
    """No /proc, an unreadable os-release and an entry point that raises at import, together."""
    f = unreadable_file(tmp_path)
    site = tmp_path / "site"
    dist = site / "exploding_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: exploding-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[alpinetags]\nexploding = exploding_plugin\n")
    (site / "exploding_plugin.py").write_text("raise ImportError('exploding at import')\n")
    data, stderr, reference, rc = in_namespace(
        tmp_path,
        [f"mount --bind {f} /etc/os-release", "mount -t tmpfs none /proc"],
        user_ns=True,
        env={"PYTHONPATH": str(site)},
    )
    assert rc == 0
    assert data["tags"] == reference
    assert stderr == [
        "alpinetags: warning: plugin 'exploding' failed to load: ImportError: exploding at import",
        "alpinetags: warning: os-release ignored: /etc/os-release: Permission denied",
    ]

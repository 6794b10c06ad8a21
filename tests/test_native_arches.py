"""The native check on the other arches of the real minirootfs: x86 (i686; 3.12, 3.13, run natively) and
aarch64 (3.12, 3.16, 3.17, 3.20, run under qemu through a private binfmt_misc, see ``run_in_root``).

Every distinct ELF file of the arch's roots, in every root of that arch, against the root's own loader in
``--list`` mode, as in tests/test_native_real.py: the check reads the foreign files and roots, never runs
them, and must agree with the real loader on every pair.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from alpinetags._elf.elfscan import scan_tree
from alpinetags._load.native import check_paths
from tests import realparts
from tests.test_native_real import _parse_list_output

pytestmark = pytest.mark.realparts

#: Alpine arch -> (musl's loader arch, wheel-tag arch, run_in_root arch)
ARCHES = {"x86": ("i386", "i686", "x86_64"), "aarch64": ("aarch64", "aarch64", "aarch64")}
SCRIPT = """
for f in "$@"; do
  echo "@@@ $f"
  {loader} --list "$f" 2>&1 >/dev/null
  echo "@@@ rc=$?"
done
"""


@pytest.mark.parametrize("alpine_arch", sorted(ARCHES))
def test_predictions_match_the_real_loader(
    alpine_arch: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    loader_arch, tag_arch, run_arch = ARCHES[alpine_arch]
    rows = [m for m in realparts.minirootfs_manifest() if m.arch == alpine_arch]
    assert len(rows) >= 2
    files: list[tuple[str, str]] = []
    seen: set[str] = set()
    for m in rows:
        root = realparts.alpine_minirootfs(m.minor, alpine_arch)
        for obj in scan_tree(str(root)).objects:
            if os.path.basename(obj.member).startswith("ld-musl-"):
                continue
            digest = hashlib.sha256((root / obj.member).read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                files.append((f"{m.minor}-{obj.member.replace('/', '_')}", str(root / obj.member)))
    base = tmp_path_factory.mktemp(f"arch-{alpine_arch}")
    pairs = failures = 0
    disagreements = []
    for m in rows:
        root = realparts.copy_minirootfs(m.minor, base / m.minor, arch=alpine_arch)
        (root / "x" / "f").mkdir(parents=True)
        for name, path in files:
            realparts._link_or_copy(path, str(root / "x" / "f" / name))
        targets = [f"/x/f/{name}" for name, _ in files]
        script = SCRIPT.format(loader=f"/lib/ld-musl-{loader_arch}.so.1")
        proc = realparts.run_in_root(
            root, ["/bin/sh", "-c", script, "sh", *targets], arch=run_arch, timeout=600
        )
        real = _parse_list_output(proc.stdout)
        assert set(real) == set(targets), proc.stderr[-2000:]
        report = check_paths([str(root / t.lstrip("/")) for t in targets], str(root))
        assert report.system.arch == tag_arch and report.system.musl_version
        for v in report.objects:
            r = real[v.path]
            pairs += 1
            failures += not r.loads
            own = {s for s in v.missing_symbols if ": " not in s}
            if v.loads != r.loads or (
                not r.loads and (set(v.missing_sonames), own) != (r.sonames, r.own_symbols)
            ):
                disagreements.append(f"{m.minor} {v.path}: predicted {v.reasons[:4]}, real:\n{r.text}")
    print(
        f"{alpine_arch}: {pairs} (file, root) pairs, {failures} failures, {len(disagreements)} disagreements"
    )
    assert not disagreements, "\n".join(disagreements[:10])
    assert failures > 0

"""What reading the relocations of objects with TLS (``alpinetags._elf.elfrelocs``) costs ``wheel show``.

Run by hand on a folder of real wheels (any depth):

    python bench/bench_tls_relocs.py /work/heldout/wheels      # the held-out corpus of issue 17
    python bench/bench_tls_relocs.py .cache/experiments/wheels  # after bash experiments/fetch.sh

``wheelinfo.show`` runs on every wheel in this process; the time spent inside
``elfrelocs.static_tls_targets`` (only objects with a PT_TLS segment or an undefined TLS symbol get there)
is summed and printed beside the total, with the number of objects read and the largest table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alpinetags._elf import elfdynamic  # noqa: E402
from alpinetags._wheel import wheelinfo  # noqa: E402


def main() -> None:
    wheels = sorted(Path(sys.argv[1] if len(sys.argv) > 1 else ".").rglob("*.whl"))
    original = elfdynamic.elfrelocs.static_tls_targets
    spent = {"seconds": 0.0, "objects": 0, "largest": 0}

    def timed(*args: Any) -> tuple[str, ...]:
        start = time.perf_counter()
        found = original(*args)
        spent["seconds"] += time.perf_counter() - start
        spent["objects"] += 1
        tags = args[3]
        spent["largest"] = max(spent["largest"], *(tags.get(t, 0) for t in (2, 8, 18)))
        return found

    elfdynamic.elfrelocs.static_tls_targets = timed  # type: ignore[assignment]
    start = time.perf_counter()
    for w in wheels:
        wheelinfo.show(str(w))
    total = time.perf_counter() - start
    print(
        f"wheel show on {len(wheels)} wheels: {total:.3f} s, of which reading relocations "
        f"{spent['seconds']:.3f} s ({spent['seconds'] / total:.1%}) in {spent['objects']} objects with TLS "
        f"(largest table {spent['largest'] / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()

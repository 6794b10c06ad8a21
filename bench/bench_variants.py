"""What the Alpine wheel-variant provider costs, beside the tag list it shares its detection with.

Run by hand: ``python bench/bench_variants.py [--runs N]``. For this machine (``/``) and real Alpine roots
(``ALPINETAGS_ROOT``), in this process, the median of N runs of:

* ``tags``: ``alpinetags.tags.sys_tags(target)``, the tag list the pip hook gives pip;
* ``provider``: ``alpinetags_alpine.variants.get_supported_configs()``, what variantlib asks the provider
  (the same detection, plus one listing of the library directories);

and, once per root as a process, variantlib's whole resolver (``get_variants_by_priority`` on a
``variants.json`` of two Alpine variants: it starts the provider in a subprocess), against ``python -c
'import alpinetags; alpinetags.sys_tags()'`` started the same way. Figures only, no assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alpinetags_alpine.variants import get_supported_configs  # noqa: E402

from alpinetags.model import Target  # noqa: E402
from alpinetags.tags import sys_tags  # noqa: E402
from tests import realparts  # noqa: E402

VARIANTS_JSON = {
    "$schema": "https://variants-schema.wheelnext.dev/v0.2.0.json",
    "default-priorities": {"namespace": ["alpine"]},
    "providers": {"alpine": {"plugin-api": "alpinetags_alpine.variants", "requires": ["alpinetags"]}},
    "variants": {
        "c4b769e6": {"alpine": {"libcrypto": ["1.1"], "libssl": ["1.1"], "release": ["3.16"]}},
        "b2633aa3": {"alpine": {"libcrypto": ["3"], "libssl": ["3"], "release": ["3.17"]}},
    },
}
RANK = (
    "import json, sys; from variantlib.api import get_variants_by_priority; "
    "print([v.label for v in get_variants_by_priority(variants_json=json.load(open(sys.argv[1])))])"
)
TAGS = "import alpinetags; print(len(alpinetags.sys_tags()))"


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def process_ms(argv: list[str], env: dict[str, str], runs: int) -> float:
    def once() -> None:
        subprocess.run(argv, env=env, capture_output=True, check=True)

    return median_ms(once, runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    roots = {"/ (Debian 12)": "/"}
    roots.update({f"Alpine {m}": str(realparts.alpine_minirootfs(m)) for m in ("3.16", "3.17", "3.20")})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(VARIANTS_JSON, f)
    print(
        "| root | tag list (in-process) | provider (in-process) | `sys_tags()` process | resolver process |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, root in roots.items():
        env = {**os.environ, "ALPINETAGS_ROOT": root}
        old = os.environ.get("ALPINETAGS_ROOT")
        os.environ["ALPINETAGS_ROOT"] = root
        try:
            target = Target(root=root, environ=dict(os.environ))
            tags = median_ms(lambda t=target: sys_tags(t), args.runs)  # type: ignore[misc]
            provider = median_ms(get_supported_configs, args.runs)
        finally:
            if old is None:
                del os.environ["ALPINETAGS_ROOT"]
            else:
                os.environ["ALPINETAGS_ROOT"] = old
        runs = max(3, args.runs // 4)
        tags_p = process_ms([sys.executable, "-c", TAGS], env, runs)
        rank_p = process_ms([sys.executable, "-c", RANK, f.name], env, runs)
        print(
            f"| {name} | {tags:.1f} ms | {provider:.1f} ms | {tags_p:.0f} ms | {rank_p:.0f} ms |", flush=True
        )
    os.unlink(f.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

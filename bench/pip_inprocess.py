"""One pip command run in this process, with the CPU time of its parts: run by ``bench_pip.py --breakdown``.

``python bench/pip_inprocess.py OUT.json PIP-ARGS...`` with the bench venv's python (alpinetags installed
there, not from this tree). It runs ``pip._internal.cli.main.main(PIP-ARGS)`` and writes to OUT.json the
process CPU time (user + system, ``time.process_time``) of the whole command and of each part timed:
pip's resolver and wheel installer, and, when the hook is on in this process (its ``.pth`` in
site-packages), alpinetags' parts: the candidate filter, the tag list, and the install-step check with,
inside it, the inflating of ELF members (which pip's installer then does not do), the symbol reading and
the judging. The parts are timed by wrapping the functions where they are looked up, so the figures are
those of the code as it runs under pip; a wrapper costs a few microseconds a call (a few hundred calls).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

spent: defaultdict[str, float] = defaultdict(float)


def timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU time to ``spent[label]``."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start

    setattr(owner, name, wrapper)


def main() -> int:
    out, args = sys.argv[1], sys.argv[2:]
    start = time.process_time()
    hooked = any(getattr(f, "alpinetags_pip_hook", False) for f in sys.meta_path)
    if hooked:
        # imported now rather than when pip imports its modules: the cost of importing them is in the
        # total and in no part
        import alpinetags._elf.elfdynamic as elfdynamic
        import alpinetags._elf.zipguard as zipguard
        import alpinetags._pip.candidates as candidates
        import alpinetags._pip.check as check
        import alpinetags._pip.hook as hook

        timed(check, "inspect_wheel", "check at install (all)")
        timed(zipguard, "inflate", "check: inflating ELF members")
        timed(elfdynamic, "parse_dynamic_symbols", "check: reading symbols")
        timed(check, "native_problems", "check: judging")
        timed(candidates, "_judge", "candidate filter")
        timed(hook, "platforms_for_pip", "tag list: the root's platforms")
    import pip._internal.operations.install.wheel as pip_wheel
    import pip._internal.resolution.resolvelib.resolver as pip_resolver

    timed(pip_wheel, "_install_wheel", "pip: installing wheels")
    timed(pip_resolver.Resolver, "resolve", "pip: resolving")
    from pip._internal.cli.main import main as pip_main

    code = pip_main(args)
    spent["whole command"] = time.process_time() - start
    with open(out, "w") as f:
        json.dump({"hooked": hooked, "exit": code, "spent": dict(spent)}, f)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())

"""What the fuzz tests (``test_fuzz_*.py``) share: how many examples, and settings that make runs repeatable.

``FUZZ_EXAMPLES`` scales every fuzz test at once (a quick local run, a long soak). The settings are one
policy, kept in one place so the fuzz tests cannot drift apart: derandomized and without hypothesis'
example database, so a run explores the same inputs wherever it runs and a failure reproduces; no
deadline, because a loaded machine must not turn slowness into a failure (speed is measured in bench/,
not asserted); no health checks, because the strategies are cheap byte strings by design and the
fixtures (real files on tmpfs) are meant to be shared across examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.parts_hostile import Entry, Shape

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10000"))


def fuzz_settings(max_examples: int = EXAMPLES) -> settings:
    """The settings every fuzz test here runs with, for ``max_examples`` examples."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --------------------------------------------------------------------------------------------------
# hostile shapes (issue 23): what an attacker controls in an ELF object and in a zip's central directory


def hostile_shapes() -> st.SearchStrategy[Shape]:
    """ELF objects as ``tests/parts_hostile.elf_object`` writes them: many or repeated ``DT_NEEDED``
    names (from a small pool, so repeats are common, or all distinct, up to past the cap), an RPATH of
    repeated or many entries, many section headers describing the one dynamic table or symbol table."""
    from alpinetags import _limits as limits

    names = st.one_of(
        st.lists(
            st.sampled_from(["libc.musl-x86_64.so.1", "liba.so", "libb.so.1", "$ORIGIN", ""]), max_size=1500
        ),
        st.integers(0, 200).map(lambda n: [f"libn{i}.so" for i in range(n)]),
        st.integers(limits.MAX_NEEDED - 5, limits.MAX_NEEDED + 50).map(
            lambda n: [f"libn{i}.so" for i in range(n)]
        ),
    )
    rpath = st.one_of(
        st.just(""),
        st.lists(st.sampled_from(["/usr/lib", "$ORIGIN/../lib", "/opt", "", "x"]), max_size=50).map(":".join),
        st.integers(limits.MAX_RPATH_ENTRIES - 5, limits.MAX_RPATH_ENTRIES + 20).map(
            lambda n: ":".join(f"/r{i}" for i in range(n))
        ),
    )
    return st.builds(
        Shape,
        needed=names,
        rpath=rpath,
        soname=st.sampled_from(["", "libself.so.1"]),
        undefined=st.lists(st.sampled_from(["foo", "bar", "malloc"]), max_size=20),
        dynamic_headers=st.integers(1, 400),
        dynsym_headers=st.integers(1, 50),
    )


def zip_layouts() -> st.SearchStrategy[tuple[list[bytes], list[Entry]]]:
    """Central directories that may lie: entries naming the same stored data (with the same name or
    another), entries declaring sizes their data does not have, beside honest entries."""
    blobs = st.lists(
        st.binary(min_size=0, max_size=300).map(lambda b: b"\x7fELF" + b), min_size=1, max_size=4
    )

    def entries(stored: list[bytes]) -> st.SearchStrategy[tuple[list[bytes], list[Entry]]]:
        one = st.builds(
            Entry,
            name=st.sampled_from(["a.so", "b.so", "pkg/c.so", "d.py"]),
            blob=st.integers(0, len(stored) - 1),
            declared=st.one_of(st.none(), st.integers(0, 1 << 20), st.just(5 << 30)),
        )
        return st.lists(one, min_size=1, max_size=8).map(lambda es: (stored, es))

    return blobs.flatmap(entries)

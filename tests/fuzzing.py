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

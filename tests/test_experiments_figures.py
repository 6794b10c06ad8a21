"""The figures docs/spec.md quotes, recounted from the committed results by ``python -m experiments.figures``.

The expected counts below were read off the results by hand and are the ones the spec states; the test
fails when a remade result changes one of them, so the spec cannot drift from its evidence unseen.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from experiments import figures

RESULTS = Path(__file__).resolve().parent.parent / "experiments" / "results"
SPEC = Path(__file__).resolve().parent.parent / "docs" / "spec.md"
#: figures.txt as committed (``bash experiments/run.sh`` writes it, with the pinned wheels fetched).
PINNED = "e1fd2a1fb3bc022e9e3c54999688da137323da1f93d3095e7918f582db2b722c"


def test_downward_loads_under_each_meaning_of_has_the_soname() -> None:
    got = figures.real_loads(json.loads((RESULTS / "real-loads.json").read_text()))
    assert got["x86_64 minirootfs loads built on B, run on R >= B"] == 1944
    assert got["... of which fail"] == 444
    assert got["... R = B that fail"] == 0  # every file loads on its own release: all 444 are R > B
    assert got["x86_64 minirootfs loads with R > B"] == 1705
    assert got["... failures on 3.17/3.18 that openssl1.1-compat would fix"] == 84
    assert got["... failures counting openssl1.1-compat as present (the soname table's meaning)"] == 360
    fams = ("libssl/libcrypto", "libtls", "libapk")
    assert sum(v for k, v in got.items() if any(f in k and "naming" in k for f in fams)) == 444


def test_matrix_figures() -> None:
    got = figures.matrix_figures()
    assert (
        got["x86_64 pairs the alpine scheme accepts whose R lacks internal __* names B's musl exported"] == 80
    )
    assert got["armv7l builds needed for 3.10-3.16, alpine scheme (time64 floor)"] == "2 (on 3.10, 3.13)"
    assert got["armv7l builds needed for 3.10-3.16, musllinux scheme"] == "1 (on 3.10)"


def test_committed_figures_are_remade_from_the_committed_results() -> None:
    committed = (RESULTS / "figures.txt").read_text()
    assert hashlib.sha256(committed.encode()).hexdigest() == PINNED
    # everything but the wheel section is remade from result files alone (no download needed)
    head = committed.split("# module names")[0]
    assert figures.report(None).split("# module names")[0] == head
    assert "    34  cp311 wheels whose modules are all named -linux-musl" in committed


def test_the_spec_states_these_figures() -> None:
    spec = SPEC.read_text()
    for figure in ("1,705", "444", "360", "84", "2,164", "**80**", "2159", "2976", "1887"):
        assert figure in spec, figure

"""The fast version-string search finds exactly what the full pattern finds at every byte."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from alpinetags._system.musl import _VERSION_STR_RE, _version_strings

ALPHABET = b"0123456789....\x00\x00abcXz-_+~ "


def full_scan(data: bytes) -> set[str]:
    return {m.group(1).decode("ascii") for m in _VERSION_STR_RE.finditer(data)}


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(list(ALPHABET)), max_size=300).map(bytes))
def test_same_strings_as_the_full_pattern(data: bytes) -> None:
    assert _version_strings(data) == full_scan(data)


def test_same_strings_on_the_real_loader() -> None:
    loader = Path("/lib/ld-musl-x86_64.so.1")
    if not loader.exists():
        raise AssertionError("needs Debian's musl loader: apt-get install musl (or bash scripts/test)")
    data = loader.read_bytes()
    assert _version_strings(data) == full_scan(data) and "1.2.3" in _version_strings(data)

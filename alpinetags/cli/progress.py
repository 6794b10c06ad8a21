"""A progress line for long work on a terminal; nothing at all when the output is not a terminal, or with -q.

A check of a large folder can take seconds (5.6 s for a big site-packages) and printed nothing until it
was done, which reads as a hang. The work itself (reading ELF files, simulating the loader) has no good
place to report from without threading a callback through every reader, so the line says what runs and
for how long, redrawn from a thread twice a second, and is erased when the work ends (the result then
prints where the line was). Written to stderr only: stdout stays the result, whatever it is piped to.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional, TextIO

#: Seconds between two redraws of the line.
EVERY = 0.5


def on_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress(what: str, quiet: bool = False, stream: Optional[TextIO] = None) -> Iterator[None]:
    """Show ``alpinetags: <what> ... N s`` on ``stream`` (stderr) while the block runs, if it is a terminal
    and not ``quiet``; the line is erased at the end, also when the block raises (Ctrl-C)."""
    out = sys.stderr if stream is None else stream
    if quiet or not on_terminal(out):
        yield
        return
    stop = threading.Event()
    start = time.monotonic()
    width = 0

    def draw() -> None:
        nonlocal width
        try:
            while True:
                text = f"alpinetags: {what} ... {time.monotonic() - start:.0f} s"
                out.write("\r" + text.ljust(width))
                out.flush()
                width = max(width, len(text))
                if stop.wait(EVERY):
                    break
            out.write("\r" + " " * width + "\r")
            out.flush()
        except (OSError, ValueError):
            pass  # the terminal went away: the work goes on without its line

    thread = threading.Thread(target=draw, name="alpinetags-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()

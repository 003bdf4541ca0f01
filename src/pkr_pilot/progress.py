"""The one progress facility: what a long phase tells the person waiting for it.

Engines (the simulator, benches, disburse, the sending core) report :class:`Progress` events or
plain one-line messages; they never print. The command line turns them into text with a
:class:`ProgressLine`:

* on a terminal, one line redrawn in place: ``simulating  120/300  40 %  12.5/s  ETA 14 s``;
* on anything else (a log file, CI), a line now and then (every ``every`` seconds, and at the end),
  so a log shows progress without thousands of lines;
* with ``--json`` (``quiet``), nothing: stdout stays JSON and stderr stays empty of noise.

>>> import io
>>> out = io.StringIO()
>>> clock = iter([0.0, 1.0, 2.0, 4.0]).__next__
>>> line = ProgressLine("paying", 4, stream=out, tty=False, every=0.0, clock=clock)
>>> line.update(2); line.update(4); line.close()
>>> print(out.getvalue(), end="")
paying 2/4 (50 %) 2.0/s, ETA 1 s
paying 4/4 (100 %) 1.0/s, done in 4 s
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Progress", "ProgressLine", "eta_text"]


@dataclass(frozen=True)
class Progress:
    """One progress report of an engine: ``done`` of ``total`` units of ``phase`` (setup, step, report …)."""

    done: int
    total: int
    phase: str
    message: str = ""


def eta_text(seconds: float) -> str:
    """``14 s``, ``3 min 20 s``, ``1 h 5 min``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class ProgressLine:
    """Count, rate and time left of one phase, drawn for a terminal or a log (see the module doc)."""

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        stream: TextIO | None = None,
        quiet: bool = False,
        tty: bool | None = None,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every
        self._clock = clock
        self.started = clock()
        self.done = 0
        self._last_shown = -float("inf")
        self._drawn = False
        self._closed = False

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int) -> None:
        """``done`` units are finished now (not an increment)."""
        self.done = done
        now = self._clock()
        finished = self.total is not None and done >= self.total
        if self.tty or (not finished and now - self._last_shown >= self.every):
            self._show(now, final=False)

    def advance(self, count: int = 1) -> None:
        self.update(self.done + count)

    def note(self, message: str) -> None:
        """A line of its own (a phase starting, a warning), above the progress line."""
        if self.quiet:
            return
        self._clear()
        self.stream.write(message + "\n")
        self.stream.flush()

    def close(self) -> None:
        """The final line (count, rate, time taken); once."""
        if self._closed:
            return
        self._closed = True
        self._show(self._clock(), final=True)

    def text(self, now: float, *, final: bool = False) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.label} {self.done:,}" + (f"/{self.total:,}" if self.total else "")]
        if self.total:
            parts[0] += f" ({100 * self.done // self.total} %)"
        tail = f"{rate:,.1f}/s"
        if final:
            tail += f", done in {eta_text(elapsed)}"
        elif self.total and rate > 0:
            tail += f", ETA {eta_text((self.total - self.done) / rate)}"
        return f"{parts[0]} {tail}"

    def _show(self, now: float, *, final: bool) -> None:
        if self.quiet:
            return
        self._last_shown = now
        text = self.text(now, final=final)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
            self._drawn = not final
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[2K")
            self._drawn = False

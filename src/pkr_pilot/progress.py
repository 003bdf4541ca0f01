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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TextIO, TypedDict, Unpack

__all__ = ["Progress", "ProgressLine", "ProgressPhases", "eta_text"]


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

    def restart(self) -> None:
        """Count the rate and the time left from now: work before the first unit (a simulation's
        setup) is not spread over the units."""
        self.started = self._clock()

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
        # Under one item a second (a simulation's steps), the rate would print as "0.0/s": say the
        # seconds each item takes instead.
        tail = f"{rate:,.1f}/s" if rate >= 1 or not self.done else f"{elapsed / self.done:,.1f} s each"
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


class LineOptions(TypedDict, total=False):
    """The options of :class:`ProgressLine` other than its label and total."""

    stream: TextIO | None
    quiet: bool
    tty: bool | None
    every: float
    clock: Callable[[], float]


class ProgressPhases:
    """:class:`Progress` events of several phases drawn one :class:`ProgressLine` at a time.

    A phase's line opens with its first event and stays until it is complete; a phase that runs
    alongside it (confirmations arriving while packs are still being sent) keeps its latest count
    and takes the line over when the one shown is complete. ``labels`` names the phases.

    >>> import io
    >>> out = io.StringIO()
    >>> phases = ProgressPhases({"send": "sending: rows", "confirm": "confirming: rows"}, stream=out, tty=False, every=0.0,
    ...                         clock=iter(float(t) for t in range(10)).__next__)
    >>> for event in (Progress(1, 2, "send"), Progress(1, 2, "confirm"), Progress(2, 2, "send"), Progress(2, 2, "confirm")):
    ...     phases(event)
    >>> phases.close()
    >>> print(out.getvalue(), end="")
    sending: rows 1/2 (50 %) 1.0/s, ETA 1 s
    sending: rows 2/2 (100 %) 1.5 s each, done in 3 s
    confirming: rows 2/2 (100 %) 1.0/s, done in 2 s
    """

    def __init__(self, labels: Mapping[str, str], **options: Unpack[LineOptions]) -> None:
        self.labels = labels
        self._options = options
        self.quiet = options.get("quiet", False)
        self._line: ProgressLine | None = None
        self._phase: str | None = None
        self._waiting: dict[str, Progress] = {}

    def __call__(self, event: Progress) -> None:
        line = self._line
        if line is not None and event.phase == self._phase and _complete(line) and event.done < event.total:
            line.close()  # the phase runs again (a second search after a resend): a new line
            line = self._line = None
        if line is not None and event.phase != self._phase and not _complete(line):
            self._waiting[event.phase] = event  # shown when the phase on screen is complete
            return
        if line is None or event.phase != self._phase:
            line = self._open(event)
        line.update(event.done)

    def note(self, message: str) -> None:
        """A line of its own above the progress line (a phase's message, a warning).

        A complete phase gets its final line first, so the notes of the next phase come after it."""
        if self._line is not None and _complete(self._line) and not self._waiting:
            self._line.close()
            self._line = None
        if self._line is not None:
            self._line.note(message)
        elif not self.quiet:
            ProgressLine("", None, **self._options).note(message)

    def close(self) -> None:
        """The final line of the phase shown and of every phase still waiting."""
        while self._line is not None or self._waiting:
            if self._line is not None:
                self._line.close()
                self._line = None
            if self._waiting:
                event = self._waiting.pop(next(iter(self._waiting)))
                self._open(event).update(event.done)

    def _open(self, event: Progress) -> ProgressLine:
        if self._line is not None:
            self._line.close()
        self._waiting.pop(event.phase, None)
        self._phase = event.phase
        self._line = ProgressLine(self.labels.get(event.phase, event.phase), event.total or None, **self._options)
        return self._line


def _complete(line: ProgressLine) -> bool:
    """Done, or open-ended (no total: it never holds another phase back)."""
    return line.total is None or line.done >= line.total

"""Event export and reconcile books stream: memory does not grow with the number of events.

The rows come from a synthetic source at the export seam (an :class:`EventStream` whose rows are
generated), so a million events take seconds to produce; the chain path of the same code is run by
the simulator tests (a real anvil run exported, read back and reconciled).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from pkr_pilot.reports.events import EventRow, EventStream, open_events, write_events_csv
from pkr_pilot.reports.reconcile import Books

TOKEN = to_checksum_address("0x" + "77" * 20)
ZERO = "0x" + "00" * 20
HOLDERS = [to_checksum_address(f"0x{n:040x}") for n in range(1, 1_001)]


def _stream(count: int) -> EventStream:
    """``count`` Transfer events among 1,000 holders, 50 per block, one day of blocks per 10,000."""

    def produce() -> Iterator[EventRow]:
        for n in range(count):
            block = 1 + n // 50
            src = ZERO if n < len(HOLDERS) else HOLDERS[n % len(HOLDERS)]
            dst = HOLDERS[(n * 7 + 3) % len(HOLDERS)]
            yield EventRow(block, 1_900_000_000 + block, "0x" + f"{n:064x}", n % 50, "Transfer",
                           {"from": src, "to": dst, "value": 1_000_000 if n < len(HOLDERS) else 1})

    return EventStream(31337, TOKEN, "PKRP", 2, 1, 1 + count // 50, True, produce=produce)


def _books() -> Books:
    return Books(reader=None, opening_block=None)  # type: ignore[arg-type]  # no opening state read


def _peak(work: Any) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_and_reading_back_stay_flat_in_the_number_of_events(tmp_path: Path, compiled: Any) -> None:
    abi = compiled.artifacts["PilotRupee"].abi
    peaks = {}
    for count in (5_000, 25_000):
        path = tmp_path / f"{count}.csv"
        books = _books()
        write_peak = _peak(lambda: write_events_csv(_stream(count), path, observe=books.add))  # noqa: B023
        assert books.counts["Transfer"] == count and sum(books.replay.values()) == 1_000 * 1_000_000
        read_books = _books()

        def read_back(path: Path = path, read_books: Books = read_books) -> None:
            for row in open_events(path, abi):
                read_books.add(row)

        read_peak = _peak(read_back)
        assert read_books.replay == books.replay
        peaks[count] = max(write_peak, read_peak)
    # Five times the events, about the same peak (a list of rows would be five times larger).
    assert peaks[25_000] < peaks[5_000] * 1.3 + 2**20, peaks


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("PKR_PILOT_SCALE_TESTS"),
    reason="a million events (about 30 s, 90 s under coverage): run with `make scale`",
)
def test_a_million_events_export_and_reconcile_books_within_five_minutes(tmp_path: Path, compiled: Any) -> None:
    """Timed without tracemalloc (it slows Python several times); memory is the test above's."""
    abi = compiled.artifacts["PilotRupee"].abi
    path = tmp_path / "million.csv"
    books = _books()
    started = time.perf_counter()
    counts = write_events_csv(_stream(1_000_000), path, observe=books.add)
    write_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = _books()
    for row in open_events(path, abi):
        again.add(row)
    read_seconds = time.perf_counter() - started
    assert counts == {"Transfer": 1_000_000} and again.replay == books.replay
    assert write_seconds <= 300 and read_seconds <= 300, (write_seconds, read_seconds)

"""Small assertions shared by the operations tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pkr_pilot.ops import RunOptions

YES = RunOptions(yes=True)
UNIT = 100  # 2 decimals: base units per PKRP


def journal_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def statuses(path: Path) -> list[str]:
    return [line["status"] for line in journal_lines(path)]


@contextmanager
def sends_nothing(nonce_of: Callable[[], int], journal: Path) -> Iterator[None]:
    """Assert the block sends no transaction (nonce unchanged) and writes no journal line."""
    before_nonce = nonce_of()
    before_lines = journal_lines(journal)
    yield
    assert nonce_of() == before_nonce, "a transaction was sent"
    assert journal_lines(journal) == before_lines, "a journal line was written"

"""The operations journal's incremental index: each read parses only what was appended since the last one,
and always answers what a full re-read would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pkr_pilot.errors import JournalError
from pkr_pilot.ops import OperationsJournal, OperationState
from pkr_pilot.ops.journal import JOURNAL_SCHEMA, JOURNAL_SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


class CountingLoads:
    """A ``loads`` seam that counts the lines parsed."""

    def __init__(self) -> None:
        self.parsed = 0

    def __call__(self, raw: bytes) -> Any:
        self.parsed += 1
        return json.loads(raw)


def _op(i: int, scope: str = "tier-set") -> dict[str, Any]:
    return {"action": scope, "scope": scope, "key": f"0x{i:064x}", "fingerprint": f"sha256:{i}", "args": {}}


def _line(status: str, op: dict[str, Any], **fields: Any) -> bytes:
    body = {"schema": JOURNAL_SCHEMA, "v": JOURNAL_SCHEMA_VERSION, "time": "2025-01-01T00:00:00.000Z",
            "status": status, "op": op, **fields}
    return (json.dumps(body, separators=(",", ":")) + "\n").encode()


def _history(path: Path, operations: int) -> None:
    """``operations`` finished operations, three lines each, written in one go (as many runs would)."""
    with path.open("ab") as fh:
        for i in range(operations):
            tx = {"hash": f"0x{i:064x}", "nonce": i}
            fh.write(_line("sending", _op(i), tx=tx) + _line("sent", _op(i), tx=tx)
                     + _line("confirmed", _op(i), tx_hash=tx["hash"], block=i))


def _fresh_state(path: Path, scope: str, key: str) -> OperationState:
    return OperationsJournal(path).state(scope, key)


def test_a_lookup_after_many_lines_parses_only_the_lines_appended_since(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 1_500)
    loads = CountingLoads()
    journal = OperationsJournal(path, loads=loads)

    assert journal.state("tier-set", _op(7)["key"]).status == "confirmed"
    assert loads.parsed == 4_500

    journal.append("sending", _op(1_500), tx={"hash": "0xabc", "nonce": 1_500})
    journal.append("sent", _op(1_500), tx={"hash": "0xabc", "nonce": 1_500})
    state = journal.state("tier-set", _op(1_500)["key"])

    assert loads.parsed == 4_502
    assert state.status == "inflight" and [t["hash"] for t in state.inflight] == ["0xabc"]
    assert journal.state("tier-set", _op(1_499)["key"]).status == "confirmed"
    assert loads.parsed == 4_502  # nothing new: nothing parsed


def test_lines_appended_by_another_process_are_read_from_the_last_offset(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 200)
    loads = CountingLoads()
    mine = OperationsJournal(path, loads=loads)
    mine.state("tier-set", _op(0)["key"])
    script = textwrap.dedent(f"""
        from pathlib import Path
        from pkr_pilot.ops import OperationsJournal
        op = {_op(500)!r}
        journal = OperationsJournal(Path({str(path)!r}))
        with journal.locked():
            journal.append("sending", op, tx={{"hash": "0x01", "nonce": 500}})
            journal.append("sent", op, tx={{"hash": "0x01", "nonce": 500}})
        journal.append("confirmed", op, tx_hash="0x01", block=9)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    parsed_before = loads.parsed

    with mine.locked():
        state = mine.state("tier-set", _op(500)["key"])

    assert loads.parsed - parsed_before == 3
    assert state.status == "confirmed" and state.confirmed is not None and state.confirmed["block"] == 9
    assert state == _fresh_state(path, "tier-set", _op(500)["key"])


def test_the_index_answers_what_a_full_reread_answers_after_every_kind_of_line(tmp_path):
    path = tmp_path / "operations.jsonl"
    journal = OperationsJournal(path)
    steps: list[tuple[str, int, dict[str, Any]]] = [
        ("sending", 1, {"tx": {"hash": "0x1a", "nonce": 1}}),
        ("sent", 1, {"tx": {"hash": "0x1a", "nonce": 1}}),
        ("sending", 2, {"tx": {"hash": "0x2a", "nonce": 2}}),
        ("dropped", 2, {"tx_hash": "0x2a", "nonce": 2}),
        ("sending", 1, {"tx": {"hash": "0x1b", "nonce": 1, "replaces": "0x1a"}}),
        ("sending", 2, {"tx": {"hash": "0x2b", "nonce": 2}}),
        ("failed", 2, {"tx_hash": "0x2b", "error": "EnforcedPause()"}),
        ("confirmed", 1, {"tx_hash": "0x1b", "block": 5}),
        ("sending", 2, {"tx": {"hash": "0x2c", "nonce": 3}}),
    ]
    for status, i, fields in steps:
        journal.append(status, _op(i), **fields)
        for j in (1, 2, 3):
            assert journal.state("tier-set", _op(j)["key"]) == _fresh_state(path, "tier-set", _op(j)["key"])
    assert journal.state("tier-set", _op(2)["key"]).attempts == 2
    assert journal.lines() == OperationsJournal(path).lines()
    assert [line["status"] for line in journal.entries(action="tier-set")] == [s for s, _, _ in steps]


def test_a_returned_state_is_a_copy(tmp_path):
    journal = OperationsJournal(tmp_path / "operations.jsonl")
    journal.append("sending", _op(1), tx={"hash": "0x1a", "nonce": 1})
    state = journal.state("tier-set", _op(1)["key"])
    state.status = "confirmed"
    state.inflight.clear()

    again = journal.state("tier-set", _op(1)["key"])

    assert again.status == "inflight" and len(again.inflight) == 1


def test_a_replaced_journal_is_indexed_again_from_the_start(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 3)
    journal = OperationsJournal(path)
    assert journal.state("tier-set", _op(1)["key"]).status == "confirmed"

    path.unlink()  # lost, then a new journal as long as the old one with other operations
    _history(path, 0)
    with path.open("ab") as fh:
        for i in range(10, 13):
            fh.write(_line("sending", _op(i), tx={"hash": f"0x{i:064x}", "nonce": i}) * 3)

    assert journal.state("tier-set", _op(1)["key"]).status == "new"
    assert journal.state("tier-set", _op(11)["key"]).status == "inflight"
    assert journal.lines() == OperationsJournal(path).lines()


def test_a_journal_rewritten_in_place_is_indexed_again(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 3)
    journal = OperationsJournal(path)
    journal.state("tier-set", _op(0)["key"])
    original = path.read_bytes()

    with path.open("r+b") as fh:  # same file, same size, other content (a restored backup)
        fh.write(original.replace(b'"status":"confirmed"', b'"status":"failed"   '))

    assert journal.state("tier-set", _op(2)["key"]) == _fresh_state(path, "tier-set", _op(2)["key"])
    assert journal.state("tier-set", _op(2)["key"]).status == "retryable"


def test_a_missing_journal_reads_as_empty_and_forgets_the_old_index(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 2)
    journal = OperationsJournal(path)
    assert journal.state("tier-set", _op(0)["key"]).status == "confirmed"

    path.unlink()

    assert journal.lines() == []
    assert journal.state("tier-set", _op(0)["key"]).status == "new"


def test_a_torn_tail_is_not_indexed_and_the_line_after_it_is(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 2)
    loads = CountingLoads()
    journal = OperationsJournal(path, loads=loads)
    journal.state("tier-set", _op(0)["key"])
    with path.open("ab") as fh:
        fh.write(_line("sending", _op(5), tx={"hash": "0x5", "nonce": 5})[:40])

    assert journal.state("tier-set", _op(5)["key"]).status == "new" and journal.truncated_tail

    journal.append("sending", _op(6), tx={"hash": "0x6", "nonce": 6})

    assert journal.state("tier-set", _op(6)["key"]).status == "inflight" and not journal.truncated_tail
    assert journal.state("tier-set", _op(5)["key"]).status == "new"
    assert journal.lines() == OperationsJournal(path).lines()
    assert (tmp_path / "operations.torn").exists()


def test_a_line_being_written_by_another_process_is_read_once_it_is_complete(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 1)
    journal = OperationsJournal(path)
    journal.state("tier-set", _op(0)["key"])
    whole = _line("sending", _op(9), tx={"hash": "0x9", "nonce": 9})
    with path.open("ab") as fh:
        fh.write(whole[:25])
        fh.flush()
        assert journal.state("tier-set", _op(9)["key"]).status == "new"
        fh.write(whole[25:])

    assert journal.state("tier-set", _op(9)["key"]).status == "inflight"
    assert journal.lines() == OperationsJournal(path).lines()


def test_a_damaged_line_in_the_middle_is_an_error_with_its_line_number_on_every_read(tmp_path):
    path = tmp_path / "operations.jsonl"
    _history(path, 1)
    with path.open("ab") as fh:
        fh.write(b"\n{oops\n")
    _history(path, 1)
    journal = OperationsJournal(path)

    for _ in range(2):
        with pytest.raises(JournalError, match=r"operations\.jsonl:5 is not valid JSON"):
            journal.state("tier-set", _op(0)["key"])

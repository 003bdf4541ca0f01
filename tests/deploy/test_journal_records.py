"""The write-ahead journal and the record store, without a chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pkr_pilot.deploy._code import compare_code, strip_metadata
from pkr_pilot.deploy.journal import DeployJournal
from pkr_pilot.deploy.records import ContractRecord, GitInfo, RecordStore
from pkr_pilot.deploy.runner import create_address
from pkr_pilot.errors import ChainIdMismatch, DeploymentError, JournalError
from pkr_pilot.journal import JournalWarning


def test_journal_reloads_the_latest_state_of_each_step(tmp_path: Path) -> None:
    journal = DeployJournal(tmp_path / ".journal.jsonl")
    journal.append("planned", "a", params="p1", args=[1, b"\x01"], sender="0xS")
    journal.append("sending", "a", tx="0xaa", nonce=3, sender="0xS")
    journal.append("sent", "a", tx="0xaa", nonce=3)
    journal.append("planned", "b", params="p2", args=[], sender="0xS")
    journal.append("sending", "b", tx="0xbb", nonce=4, sender="0xS")
    journal.append("confirmed", "b", params="p2", tx="0xbb", block=7, via="receipt")
    again = DeployJournal(tmp_path / ".journal.jsonl")
    a, b = again.state("a"), again.state("b")
    assert a.status == "sent" and a.inflight == [("0xaa", 3)] and a.args == [1, "0x01"]
    assert b.is_confirmed and b.confirmed is not None and b.confirmed["block"] == 7 and b.inflight == []
    assert again.state("c").status == "new"
    assert [s.step for s in again.steps()] == ["a", "b"]


def test_a_line_cut_short_by_a_crash_is_reported_and_set_aside(tmp_path: Path) -> None:
    path = tmp_path / ".journal.jsonl"
    journal = DeployJournal(path)
    journal.append("planned", "a", params="p", args=[], sender="0xS")
    with path.open("ab") as fh:
        fh.write(b'{"schema": "pkr-pilot.deploy", "v": 1, "event": "sending", "step": "a", "tx": "0x')  # killed mid-write
    again = DeployJournal(path)
    assert again.truncated_tail and again.state("a").status == "planned"
    with pytest.warns(JournalWarning, match="cut short by a crash"):  # and "copied to .journal.torn"
        again.append("sent", "a", tx="0x1", nonce=0)
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == ["planned", "sent"]
    assert json.loads(path.with_suffix(".torn").read_text())["bytes"].endswith('"tx": "0x')  # kept, not lost


def test_lines_carry_the_one_journal_format(tmp_path: Path) -> None:
    path = tmp_path / ".journal.jsonl"
    DeployJournal(path).append("planned", "a", params="p", args=[b"\x01"], sender="0xS", nonce=3, address=None)
    line = json.loads(path.read_text())
    assert line["schema"] == "pkr-pilot.deploy" and line["v"] == 1 and line["time"].endswith("Z")
    assert line["args"] == ["0x01"] and line["nonce"] == 3 and "address" not in line


def test_a_damaged_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / ".journal.jsonl"
    good = '{"schema": "pkr-pilot.deploy", "v": 1, "event": "run"}\n'
    path.write_text(good + "not json\n" + good)
    with pytest.raises(JournalError, match=r":2 is not valid JSON"):
        DeployJournal(path)


def test_a_newer_journal_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ".journal.jsonl"
    path.write_text('{"schema": "pkr-pilot.deploy", "v": 9, "event": "run"}\n')
    with pytest.raises(JournalError, match="schema v9"):
        DeployJournal(path)


def test_a_journal_of_an_older_pkr_pilot_is_moved_aside_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / ".journal.jsonl"
    path.write_text('{"v": 1, "event": "run"}\n')
    with pytest.warns(JournalWarning, match="older pkr-pilot"):
        journal = DeployJournal(path)
    assert len(journal) == 0 and not path.exists()
    assert len(list(tmp_path.glob(".journal.*.legacy.jsonl"))) == 1


def _record(chain_id: int = 31337) -> ContractRecord:
    return ContractRecord(
        name="MintDesk", address="0x" + "11" * 20, abi=(), contract_name="MintDesk", source_name="contracts/MintDesk.sol",
        transaction_hash="0x" + "22" * 32, block_number=5, block_hash="0x" + "33" * 32, gas_used=21_000,
        deployer="0x" + "44" * 20, args=("0x" + "11" * 20, 0), chain_id=chain_id, solc_long_version="0.8.28+commit.x",
        build_info_id="abc", bytecode="0x00", deployed_bytecode="0x00", git=GitInfo("deadbeef", False), timestamp=1,
    )


def test_records_round_trip_and_write_the_chain_id(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "net", "net")
    store.write(_record())
    assert (tmp_path / "net" / ".chainId").read_text() == "31337\n"
    again = RecordStore(tmp_path / "net", "net").read("MintDesk")
    assert again == _record()
    assert not list((tmp_path / "net").glob(".*.tmp"))  # atomic writes leave no temporaries
    deployment = store.deployment()
    assert deployment.contracts["MintDesk"].address == "0x" + "11" * 20


def test_a_folder_of_another_chain_is_refused(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "net", "net")
    store.write(_record(chain_id=2026))
    with pytest.raises(ChainIdMismatch, match="expects chain id 2026 but the node reports 31337"):
        store.write(_record(chain_id=31337))


def test_a_record_of_another_schema_is_refused(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "net", "net")
    store.write(_record())
    path = tmp_path / "net" / "MintDesk.json"
    data = json.loads(path.read_text())
    data["schemaVersion"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="schemaVersion 99"):
        store.read("MintDesk")


def test_an_empty_folder_has_no_deployment(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="nothing is deployed"):
        RecordStore(tmp_path / "none", "none").deployment()


def test_create_address_matches_the_well_known_first_anvil_deployment() -> None:
    assert create_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0) == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    assert create_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 1) == "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def test_code_comparison_distinguishes_full_partial_and_mismatch() -> None:
    body = bytes.fromhex("6080604052")
    cbor = bytes.fromhex("a264697066735822") + b"\x12" * 34 + bytes.fromhex("64736f6c6343") + b"\x00\x08\x1c"
    code = body + cbor + len(cbor).to_bytes(2, "big")
    other_meta = body + cbor.replace(b"\x12", b"\x13") + len(cbor).to_bytes(2, "big")
    assert strip_metadata(code) == body
    assert compare_code(code, code, None) == "full"
    assert compare_code(other_meta, code, None) == "partial"
    assert compare_code(b"\x60\x00" + cbor + len(cbor).to_bytes(2, "big"), code, None) == "mismatch"
    assert compare_code(b"", code, None) == "mismatch"
    refs = {"7": [{"start": 1, "length": 2}]}
    filled = body[:1] + b"\xff\xff" + body[3:] + cbor + len(cbor).to_bytes(2, "big")
    assert compare_code(filled, code, refs) == "full"
    assert compare_code(filled, code, None) == "mismatch"

"""Reconciliation: a clean chain balances; a tampered export or an inconsistent state fails, naming the check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from pkr_pilot.cli import main
from pkr_pilot.contracts import Token
from pkr_pilot.errors import ReconcileError
from pkr_pilot.reports.events import export_events, read_events, write_events
from pkr_pilot.reports.reconcile import CHECKS, RECONCILE_SCHEMA, reconcile

#: ERC-7201 root of PilotRupee's storage; the `accounts` mapping sits at root + 4 (contracts/README.md).
_ROOT = int.from_bytes(keccak(encode(["uint256"], [int.from_bytes(keccak(text="pkrpilot.storage.PilotRupee"), "big") - 1])), "big") & ~0xFF
_ACCOUNTS_SLOT = _ROOT + 4
_MASK96 = (1 << 96) - 1


def _account_slot(account: str) -> int:
    return int.from_bytes(keccak(encode(["address", "uint256"], [account, _ACCOUNTS_SLOT])), "big")


def _poke_account_word(token: Token, chain: Any, account: str, change: Any) -> None:
    """Overwrite an account's packed word (balance low 96 bits, frozen amount next 96) behind the token's back."""
    slot = _account_slot(account)
    word = int.from_bytes(token.w3.eth.get_storage_at(token.address, slot), "big")
    assert word & _MASK96 == token.balance_of(account), "storage layout changed: update _ACCOUNTS_SLOT"
    chain.rpc("anvil_setStorageAt", token.address, hex(slot), "0x" + change(word).to_bytes(32, "big").hex())


def _failed(report: Any) -> set[str]:
    return {c.name for c in report.failed()}


def test_a_clean_chain_reconciles_against_itself(book: Token) -> None:
    report = reconcile(book)
    assert report.ok, report.text()
    assert [c.name for c in report.checks] == [c for c in CHECKS if c != "export_matches_chain"]
    assert report.check("supply_matches_mints_and_burns").actual == str(book.total_supply())
    assert report.check("frozen_accounts_match_events").actual == "1"  # carol, under the court order
    assert report.check("frozen_amounts_match_events").actual == str(150 * 100)  # 400 - 150 released - 100 seized
    report.raise_for_mismatch()


def test_a_clean_export_reconciles_against_the_chain(book: Token, tmp_path: Path) -> None:
    for fmt in ("csv", "json"):
        path = tmp_path / f"events.{fmt}"
        write_events(export_events(book, include_transfers=fmt == "json"), path, fmt)
        report = reconcile(book, events=read_events(path, book.abi), source=str(path))
        assert report.ok, report.text()
        assert report.check("export_matches_chain").ok


def _tampered(book: Token, tmp_path: Path, edit: Any) -> Any:
    path = tmp_path / "events.csv"
    write_events(export_events(book), path, "csv")
    path.write_text(edit(path.read_text()))
    return reconcile(book, events=read_events(path, book.abi), source=str(path))


def test_an_edited_mint_amount_in_the_export_is_caught(book: Token, tmp_path: Path) -> None:
    report = _tampered(book, tmp_path, lambda t: t.replace('""amount"":""500000""', '""amount"":""900000""', 1))
    assert _failed(report) == {"supply_matches_mints_and_burns", "export_matches_chain"}
    assert "changed: Minted" in report.check("export_matches_chain").details[0]
    assert "amount 500000 -> 900000" in report.check("export_matches_chain").details[0]
    with pytest.raises(ReconcileError, match=r"supply_matches_mints_and_burns failed.*export_matches_chain"):
        report.raise_for_mismatch()


def test_a_deleted_burn_row_in_the_export_is_caught(book: Token, tmp_path: Path) -> None:
    def drop_burn(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if ",Burned," not in line) + "\n"

    report = _tampered(book, tmp_path, drop_burn)
    assert _failed(report) == {"supply_matches_mints_and_burns", "export_matches_chain"}
    supply = report.check("supply_matches_mints_and_burns")
    assert int(supply.expected) - int(supply.actual) == 700 * 100  # the burn that went missing
    assert report.check("export_matches_chain").details[0].startswith("missing from the file: Burned")


def test_a_deleted_freeze_row_is_caught_by_the_freeze_checks(book: Token, tmp_path: Path) -> None:
    def drop_freeze(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if ",Frozen," not in line) + "\n"

    report = _tampered(book, tmp_path, drop_freeze)
    assert {"frozen_accounts_match_events", "export_matches_chain"} <= _failed(report)


def test_a_seizure_whose_stated_frozen_total_disagrees_with_the_replay_is_caught(book: Token, tmp_path: Path) -> None:
    def edit_seized_total(text: str) -> str:
        lines = text.splitlines()
        hits = [i for i, line in enumerate(lines) if ",Seized," in line and '""totalFrozen"":""15000""' in line]
        assert len(hits) == 1, "the book seizes 100.00 of bob's 250.00 frozen once"
        lines[hits[0]] = lines[hits[0]].replace('""totalFrozen"":""15000""', '""totalFrozen"":""15001""')
        return "\n".join(lines) + "\n"

    report = _tampered(book, tmp_path, edit_seized_total)
    assert {"frozen_amounts_match_events", "export_matches_chain"} == _failed(report)
    assert any("Seized of" in d and "says totalFrozen 15001, the events before it give 15000" in d
               for d in report.check("frozen_amounts_match_events").details)


def test_a_balance_changed_behind_the_events_is_caught(book: Token, stack: Any) -> None:
    alice = stack.actors.alice.address
    _poke_account_word(book, stack.chain, alice, lambda w: w + 1)
    report = reconcile(book)
    assert _failed(report) == {"holder_balances_sum_to_supply", "holder_balances_match_transfers"}
    assert alice in report.check("holder_balances_match_transfers").details[0]


def test_a_frozen_amount_changed_behind_the_events_is_caught(book: Token, stack: Any) -> None:
    bob = stack.actors.bob.address
    _poke_account_word(book, stack.chain, bob, lambda w: w + (1 << 96))
    report = reconcile(book)
    assert _failed(report) == {"frozen_amounts_match_events"}
    assert f"{bob}: events leave 15000 frozen, frozenBalanceOf is 15001" in report.check("frozen_amounts_match_events").details


def test_a_frozen_account_whose_balance_moved_without_a_seizure_is_caught(book: Token, stack: Any) -> None:
    carol = stack.actors.carol.address
    dave = stack.actors.dave.address
    _poke_account_word(book, stack.chain, carol, lambda w: w - 5)
    _poke_account_word(book, stack.chain, dave, lambda w: w + 5)  # the supply still adds up
    report = reconcile(book)
    assert "frozen_balances_match_seizures" in _failed(report)
    assert "holder_balances_sum_to_supply" not in _failed(report)


def test_supply_above_the_last_attestation_is_caught(book: Token, stack: Any) -> None:
    a = stack.actors
    stack.token.as_(a.attestor).attestReserves(book.total_supply() - 1, stack.now(), bytes(32)).send()
    report = reconcile(book)
    assert _failed(report) == {"supply_within_reserves"}
    with pytest.raises(ReconcileError, match="supply_within_reserves failed: expected at most"):
        report.raise_for_mismatch()


def test_reconcile_at_an_earlier_block_reads_everything_there(book: Token, stack: Any) -> None:
    before = book.w3.eth.block_number
    stack.token.as_(stack.actors.minter).mint(stack.actors.alice, 1, bytes(32)).send()
    report = reconcile(book, block=before)
    assert report.ok and report.block == before
    assert report.check("supply_matches_mints_and_burns").actual == str(book.total_supply(block=before))


def test_an_export_of_a_later_range_reconciles_from_the_opening_state(book: Token, tmp_path: Path) -> None:
    full = export_events(book)
    start = full.of("Frozen")[0].block_number  # starts with carol's freeze: earlier events are opening state
    path = tmp_path / "tail.json"
    write_events(export_events(book, from_block=start), path, "json")
    report = reconcile(book, events=read_events(path, book.abi))
    assert report.ok, report.text()


# --------------------------------------------------------------------------- CLI


def test_cli_export_then_reconcile_passes_and_a_tampered_file_exits_non_zero(
    recorded: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, folder = recorded
    common = ["--network", stack.chain.url, "--deployment-dir", str(folder)]
    out = tmp_path / "events.csv"
    assert main(["events", "export", *common, "--format", "csv", "--out", str(out), "--transfers"]) == 0
    assert "exported" in capsys.readouterr().err

    assert main(["reconcile", *common, "--events", str(out), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["schema"] == RECONCILE_SCHEMA and body["ok"] is True and body["failed"] == []

    out.write_text("\n".join(line for line in out.read_text().splitlines() if ",Burned," not in line) + "\n")
    assert main(["reconcile", *common, "--events", str(out)]) == ReconcileError.exit_code
    captured = capsys.readouterr()
    assert "FAIL supply_matches_mints_and_burns" in captured.out
    assert "error: supply_matches_mints_and_burns failed" in captured.err


def test_cli_export_json_to_stdout_and_reconcile_the_chain(recorded: Any, capsys: pytest.CaptureFixture[str]) -> None:
    stack, folder = recorded
    common = ["--network", stack.chain.url, "--deployment-dir", str(folder)]
    assert main(["events", "export", *common, "--format", "json", "--from-block", "1"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["from_block"] == 1 and {"Minted", "Burned", "Seized"} <= set(body["counts"])
    assert main(["reconcile", *common]) == 0
    assert "books balance" in capsys.readouterr().out


def test_cli_without_a_deployment_says_what_to_do(chain: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reconcile", "--network", chain.url, "--deployment-dir", str(tmp_path / "none")])
    assert code != 0
    assert "no PilotRupee deployment recorded" in capsys.readouterr().err


def test_an_export_just_read_from_the_chain_can_stand_in_for_reading_it_again(book: Token) -> None:
    export = export_events(book, include_transfers=True)
    given = reconcile(book, chain_events=export)
    assert given.ok and given.checks == reconcile(book).checks

"""Idempotency: re-running an operation after a crash, a lost journal or a concurrent run never sends twice."""

from __future__ import annotations

import _thread
import contextlib
import json
import signal
import threading
from collections.abc import Iterator

import pytest
from faultproxy import Act, FaultProxy, NullReceipts
from ops_env import ALICE, BOB, FREEZER, MINTER, StackEnv, addr
from ops_helpers import YES, journal_lines, sends_nothing, statuses
from web3 import Web3

from pkr_pilot import ops
from pkr_pilot.errors import ChainError, MinedUnseen, SentNotConfirmed, UserInputError
from pkr_pilot.journal import JournalWarning
from pkr_pilot.ops import RunOptions


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing in the flow may swallow it)."""


def _minted(env: StackEnv, ref: bytes) -> int:
    return sum(1 for e in env.token.events(("Minted",)) if e.args["ref"] == ref)


REF = b"BANK-TX-7".ljust(32, b"\0")


def test_rerun_after_success_reports_already_done_and_sends_nothing(env: StackEnv, operator_for, tmp_path):
    first = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    with sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl"):
        again = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    assert again.status == "already-done" and again.tx_hash == first.tx_hash
    assert again.supply_after == first.supply_after
    assert _minted(env, REF) == 1


def test_same_ref_with_a_different_amount_is_refused(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    with sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match=r"idempotency key .* was already used for mint"):
            ops.mint(operator_for(MINTER), addr(ALICE), "100.01", ref="BANK-TX-7", options=YES)


def test_same_ref_from_another_operator_account_is_refused(env: StackEnv, operator_for, tmp_path):
    """Another minter re-keying the same bank transfer must not mint it a second time."""
    ops.configure_minter(operator_for(1), addr(BOB), "1,000", ref="M-BOB", options=YES)
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    result = ops.mint(operator_for(BOB), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    assert result.status == "already-done"
    assert _minted(env, REF) == 1


def test_lost_journal_the_chain_event_still_prevents_a_second_mint(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)
    (tmp_path / "operations.jsonl").unlink()

    before = env.nonce(MINTER)
    again = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    assert again.status == "already-done" and "already done on chain" in (again.note or "")
    assert env.nonce(MINTER) == before
    assert _minted(env, REF) == 1
    assert statuses(tmp_path / "operations.jsonl") == ["confirmed"]  # recorded for next time


def test_lost_journal_a_different_amount_under_a_minted_ref_is_refused(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)
    (tmp_path / "operations.jsonl").unlink()

    with sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match=r"already minted: 100\.00 PKRP"):
            ops.mint(operator_for(MINTER), addr(ALICE), "90", ref="BANK-TX-7", options=YES)


def test_an_explicit_idempotency_key_cannot_mint_a_ref_twice(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    result = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7",
                      options=RunOptions(yes=True, idempotency_key="second-try"))

    assert result.status == "already-done"
    assert _minted(env, REF) == 1


def test_an_explicit_idempotency_key_allows_a_deliberate_repeat_of_a_non_mint(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP", options=YES)
    freezer = operator_for(FREEZER)
    ops.freeze_amount(freezer, addr(ALICE), "10", ref="CASE-5", options=YES)

    same = ops.freeze_amount(freezer, addr(ALICE), "10", ref="CASE-5", options=YES)
    more = ops.freeze_amount(freezer, addr(ALICE), "10", ref="CASE-5",
                             options=RunOptions(yes=True, idempotency_key="CASE-5/2"))

    assert same.status == "already-done" and more.status == "confirmed"
    assert env.token.frozen_balance_of(addr(ALICE)) == 2_000


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here, as in an operator's terminal. A test run started in the
    background (`make test &`, some CI wrappers) inherits SIGINT ignored, and ``interrupt_main`` then
    does nothing: the mint below finished instead of being interrupted (seen as "DID NOT RAISE")."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_interrupted_after_send_then_rerun_resumes_without_a_second_mint(env: StackEnv, operator_for, tmp_path):
    supply = env.token.total_supply()
    with FaultProxy(env.node.url) as proxy, ctrl_c_raises():  # Ctrl-C as the operator waits for the receipt
        proxy.add(Act(methods=("eth_getTransactionReceipt",), action=lambda _call: _thread.interrupt_main()))
        with pytest.raises(SentNotConfirmed):  # sent, not yet confirmed
            ops.mint(operator_for(MINTER, w3=Web3(Web3.HTTPProvider(proxy.url))), addr(ALICE), "100",
                     ref="BANK-TX-7", options=YES)
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "sent"]

    before = env.nonce(MINTER)
    result = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    assert result.status == "confirmed" and result.note == "resumed an earlier run"
    assert env.nonce(MINTER) == before
    assert _minted(env, REF) == 1
    assert env.token.total_supply() == supply + 10_000
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "sent", "confirmed"]


def test_a_mined_transaction_the_node_does_not_show_is_undecided_not_dropped(env: StackEnv, operator_for, tmp_path):
    """No receipt and no transaction (a node that lost its last blocks), but the nonce was used: the
    operation stops as undecided; "dropped" would invite a second mint. The re-run finds it by its ref."""
    with FaultProxy(env.node.url) as proxy:
        proxy.add(NullReceipts(times=None, transactions=True))
        with pytest.raises(MinedUnseen, match=r"undecided .*nonce \d+ of its sender was used"):
            ops.mint(operator_for(MINTER, w3=Web3(Web3.HTTPProvider(proxy.url))), addr(ALICE), "100",
                     ref="BANK-TX-7", options=YES)
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "sent"]

    before = env.nonce(MINTER)
    again = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    assert env.nonce(MINTER) == before and _minted(env, REF) == 1
    assert again.status == "confirmed" and again.note == "resumed an earlier run"


def test_crash_between_signing_and_submitting_then_rerun_sends_exactly_once(env: StackEnv, operator_for, tmp_path):
    """The journal has the signed hash, the node never saw it: the rerun resends with the same nonce."""
    dead = Web3(Web3.HTTPProvider(env.node.url))

    def die(_raw):
        raise Crash()

    dead.eth.send_raw_transaction = die  # type: ignore[method-assign]
    nonce = env.nonce(MINTER)
    with pytest.raises(Crash):
        ops.mint(operator_for(MINTER, w3=dead), addr(ALICE), "100", ref="BANK-TX-7", options=YES)
    assert statuses(tmp_path / "operations.jsonl") == ["sending"]
    assert env.nonce(MINTER) == nonce

    result = ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="BANK-TX-7", options=YES)

    assert result.status == "confirmed" and result.nonce == nonce
    assert _minted(env, REF) == 1
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "dropped", "sending", "sent", "confirmed"]


def test_concurrent_runs_of_the_same_operation_mint_once(env: StackEnv, operator_for, tmp_path):
    journal = ops.OperationsJournal(tmp_path / "shared.jsonl")
    outcomes: list[object] = []
    hashes: set[str | None] = set()

    def run() -> None:
        try:
            result = ops.mint(operator_for(MINTER, journal=journal), addr(ALICE), "100",
                              ref="BANK-TX-7", options=YES)
        except (ChainError, UserInputError) as exc:
            outcomes.append(type(exc).__name__)
        else:
            outcomes.append(result.status)
            hashes.add(result.tx_hash)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert _minted(env, REF) == 1
    # One transaction: a run that starts after another sent it follows that transaction (and may
    # report it confirmed, as a resumed run does); the others are refused or find it done.
    assert statuses(tmp_path / "shared.jsonl").count("sending") == 1
    assert "confirmed" in outcomes and len(hashes) == 1, outcomes
    rerun = ops.mint(operator_for(MINTER, journal=journal), addr(ALICE), "100", ref="BANK-TX-7", options=YES)
    assert rerun.status == "already-done"


def test_concurrent_different_operations_from_one_account_all_land(env: StackEnv, operator_for, tmp_path):
    journal = ops.OperationsJournal(tmp_path / "shared.jsonl")
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            ops.mint(operator_for(MINTER, journal=journal), addr(ALICE), "1", ref=f"BANK-C-{i}", options=YES)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert env.token.balance_of(addr(ALICE)) == 400
    nonces = sorted(line["nonce"] for line in journal_lines(tmp_path / "shared.jsonl") if line["status"] == "confirmed")
    assert len(set(nonces)) == 4


def test_torn_last_journal_line_is_reported_and_not_glued_to_the_next(env: StackEnv, operator_for, tmp_path):
    path = tmp_path / "operations.jsonl"
    ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-T1", options=YES)
    offset = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(b'{"schema": "pkr-pilot.operations", "v": 1, "sta')

    with pytest.warns(JournalWarning, match=f"operations.jsonl: the last line \\(byte offset {offset}, 47 bytes\\)"):
        ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-T2", options=YES)

    assert [line["op"]["ref_text"] for line in journal_lines(path)][-1] == "BANK-T2"
    assert ops.OperationsJournal(path).state("mint", "0x" + b"BANK-T2".ljust(32, b"\0").hex()).status == "confirmed"
    aside = json.loads((tmp_path / "operations.torn").read_text())
    assert aside["offset"] == offset and aside["bytes"] == '{"schema": "pkr-pilot.operations", "v": 1, "sta'


# --------------------------------------------------------------------------- the chain decides, not operations.jsonl


def _fund_alice(env: StackEnv, operator_for) -> None:
    ops.mint(operator_for(MINTER), addr(ALICE), "50", ref="BANK-FUND-A", options=YES)
    (env.journal_path("opsnet").parent).mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize("damage", ["deleted", "old copy restored"])
def test_a_transfer_is_not_sent_again_when_operations_jsonl_is_deleted_or_restored(
    env: StackEnv, operator_for, tmp_path, damage: str
):
    _fund_alice(env, operator_for)
    journal = tmp_path / "operations.jsonl"
    old_copy = journal.read_bytes()  # before the transfer
    first = ops.transfer(operator_for(ALICE), addr(BOB), "7", ref="PAY-77", options=YES)
    assert first.status == "confirmed"
    if damage == "deleted":
        journal.unlink()
    else:
        journal.write_bytes(old_copy)
    before = env.nonce(ALICE)

    again = ops.transfer(operator_for(ALICE), addr(BOB), "7", ref="PAY-77", options=YES)

    assert again.status == "already-done" and "already done on chain" in (again.note or "")
    assert again.tx_hash == first.tx_hash
    assert env.nonce(ALICE) == before and env.token.balance_of(addr(BOB)) == 700


def test_a_transfer_ref_used_for_another_payment_is_refused_without_the_journal(env: StackEnv, operator_for, tmp_path):
    _fund_alice(env, operator_for)
    ops.transfer(operator_for(ALICE), addr(BOB), "7", ref="PAY-78", options=YES)
    (tmp_path / "operations.jsonl").unlink()

    with sends_nothing(lambda: env.nonce(ALICE), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match=r"ref 'PAY-78' was already used by .*7\.00 PKRP paid to"):
            ops.transfer(operator_for(ALICE), addr(BOB), "8", ref="PAY-78", options=YES)


def test_pause_and_role_grants_are_decided_from_chain_state_without_the_journal(env: StackEnv, operator_for, tmp_path):
    from ops_env import PAUSER

    ops.pause(operator_for(PAUSER), ref="INC-9", options=YES)
    ops.grant_role(operator_for(0), "freezer", addr(BOB), ref="GRANT-9", options=YES)
    (tmp_path / "operations.jsonl").unlink()

    with sends_nothing(lambda: env.nonce(PAUSER) + env.nonce(0), tmp_path / "operations.jsonl"):
        assert ops.pause(operator_for(PAUSER), ref="INC-9", options=YES).status == "already-done"
        assert ops.grant_role(operator_for(0), "freezer", addr(BOB), ref="GRANT-9", options=YES).status == "already-done"
    ops.unpause(operator_for(2), ref="INC-9-END", options=YES)


def test_a_journal_confirmed_operation_the_chain_does_not_show_is_not_taken_as_done(env: StackEnv, operator_for, tmp_path):
    _fund_alice(env, operator_for)
    snap = env.node.rpc("evm_snapshot")
    ops.transfer(operator_for(ALICE), addr(BOB), "3", ref="PAY-79", options=YES)
    env.node.rpc("evm_revert", snap)  # the chain forgot the transfer; the journal still says confirmed

    again = ops.transfer(operator_for(ALICE), addr(BOB), "3", ref="PAY-79", options=YES)

    assert again.status == "confirmed"
    assert env.token.balance_of(addr(BOB)) == 300

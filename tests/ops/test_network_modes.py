"""Real-network behaviour on anvil: interval mining, no automine (timeouts, resume, --replace),
dropped transactions, confirmations and fee caps."""

from __future__ import annotations

import threading
import time

import pytest
from faultproxy import Act, FaultProxy
from ops_env import ALICE, MINTER, StackEnv, addr
from ops_helpers import YES, journal_lines, sends_nothing, statuses
from web3 import Web3

from pkr_pilot import ops
from pkr_pilot.errors import ChainError, TransactionTimeout, UserInputError
from pkr_pilot.ops import RunOptions
from pkr_pilot.tx import TransactionDropped, TxPolicy

REF = b"BANK-NET".ljust(32, b"\0")


def _minted(env: StackEnv) -> int:
    return sum(1 for e in env.token.events(("Minted",)) if e.args["ref"] == REF)


def _manual_mining(env: StackEnv) -> None:
    env.node.rpc("evm_setAutomine", False)


def _mine_later(env: StackEnv, delay: float, blocks: int = 1) -> threading.Timer:
    def mine() -> None:
        for _ in range(blocks):
            env.node.rpc("evm_mine")

    timer = threading.Timer(delay, mine)
    timer.start()
    return timer


def test_interval_mining_waits_for_the_next_block(env: StackEnv, operator_for):
    env.node.rpc("evm_setAutomine", False)
    env.node.rpc("evm_setIntervalMining", 1)

    started = time.monotonic()
    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)
    elapsed = time.monotonic() - started

    assert result.status == "confirmed" and _minted(env) == 1
    assert elapsed < 5


def test_interval_mining_with_two_confirmations_waits_for_a_second_block(env: StackEnv, operator_for):
    env.node.rpc("evm_setAutomine", False)
    env.node.rpc("evm_setIntervalMining", 1)
    policy = TxPolicy(confirmations=2, timeout=20, poll_interval=0.05)

    result = ops.mint(operator_for(MINTER, policy=policy), addr(ALICE), "1", ref="BANK-NET", options=YES)

    assert int(env.w3.eth.block_number) >= result.block + 1  # type: ignore[operator]


def test_no_automine_the_command_returns_once_a_block_is_mined(env: StackEnv, operator_for):
    _manual_mining(env)
    timer = _mine_later(env, 0.5)

    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)
    timer.join()

    assert result.status == "confirmed" and _minted(env) == 1


def test_no_automine_timeout_says_what_to_do_and_a_rerun_resumes(env: StackEnv, operator_for, tmp_path):
    _manual_mining(env)
    quick = TxPolicy(timeout=0.5, poll_interval=0.05)

    with pytest.raises(TransactionTimeout) as info:
        ops.mint(operator_for(MINTER, policy=quick), addr(ALICE), "1", ref="BANK-NET", options=YES)

    message = str(info.value)
    assert "was not mined within 0.5 s" in message and "re-run the same command" in message and "--replace" in message
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "sent"]

    env.node.rpc("evm_mine")
    before = env.nonce(MINTER)
    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)

    assert result.status == "confirmed" and result.note == "resumed an earlier run"
    assert env.nonce(MINTER) == before and _minted(env) == 1


def test_rerun_while_still_pending_waits_for_the_same_transaction(env: StackEnv, operator_for, tmp_path):
    _manual_mining(env)
    with pytest.raises(TransactionTimeout):
        ops.mint(operator_for(MINTER, policy=TxPolicy(timeout=0.3, poll_interval=0.05)), addr(ALICE), "1",
                 ref="BANK-NET", options=YES)
    first_hash = journal_lines(tmp_path / "operations.jsonl")[-1]["tx_hash"]

    timer = _mine_later(env, 0.5)
    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)
    timer.join()

    assert result.tx_hash == first_hash and _minted(env) == 1


def test_dry_run_of_a_pending_operation_sends_nothing(env: StackEnv, operator_for, tmp_path):
    _manual_mining(env)
    with pytest.raises(TransactionTimeout):
        ops.mint(operator_for(MINTER, policy=TxPolicy(timeout=0.3, poll_interval=0.05)), addr(ALICE), "1",
                 ref="BANK-NET", options=YES)

    with sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl"):
        result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=RunOptions(dry_run=True))

    assert result.status == "already-done" and "still pending" in (result.note or "")


def test_replace_speeds_up_a_stuck_transaction_with_the_same_nonce(env: StackEnv, operator_for, tmp_path):
    _manual_mining(env)
    with pytest.raises(TransactionTimeout):
        ops.mint(operator_for(MINTER, policy=TxPolicy(timeout=0.3, poll_interval=0.05)), addr(ALICE), "1",
                 ref="BANK-NET", options=YES)
    stuck = journal_lines(tmp_path / "operations.jsonl")[-1]

    timer = _mine_later(env, 0.7)
    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET",
                      options=RunOptions(yes=True, replace=True))
    timer.join()

    assert result.status == "confirmed" and _minted(env) == 1
    assert result.nonce == stuck["nonce"] and result.tx_hash != stuck["tx_hash"]
    replacement = [line for line in journal_lines(tmp_path / "operations.jsonl") if line["status"] == "sending"][-1]
    assert replacement["tx"]["replaces"] == stuck["tx_hash"]
    assert int(replacement["tx"]["maxFeePerGas"]) > int(stuck["tx"]["maxFeePerGas"])
    mined = env.w3.eth.get_transaction(result.tx_hash)  # type: ignore[arg-type]
    assert mined["maxFeePerGas"] == int(replacement["tx"]["maxFeePerGas"])


def test_replace_with_nothing_pending_is_refused(env: StackEnv, operator_for, tmp_path):
    with sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match="nothing to replace"):
            ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET",
                     options=RunOptions(yes=True, replace=True))


def test_dropped_transaction_raises_and_a_rerun_resends_exactly_once(env: StackEnv, operator_for, tmp_path):
    _manual_mining(env)

    def drop(call) -> None:  # the node forgets the transaction as the operator first asks for its receipt
        env.node.rpc("anvil_dropTransaction", call["params"][0])

    nonce = env.nonce(MINTER)
    with FaultProxy(env.node.url) as proxy, pytest.raises(TransactionDropped) as info:
        proxy.add(Act(methods=("eth_getTransactionReceipt",), action=drop))
        ops.mint(operator_for(MINTER, w3=Web3(Web3.HTTPProvider(proxy.url))), addr(ALICE), "1", ref="BANK-NET",
                 options=YES)
    assert "re-run the same command" in str(info.value)
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "sent", "dropped"]
    assert env.nonce(MINTER) == nonce and _minted(env) == 0

    env.node.rpc("evm_setAutomine", True)
    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)

    assert result.status == "confirmed" and result.nonce == nonce
    assert _minted(env) == 1 and env.nonce(MINTER) == nonce + 1
    again = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)
    assert again.status == "already-done" and _minted(env) == 1


def test_dropped_while_no_one_was_waiting_is_settled_on_the_rerun(env: StackEnv, operator_for, tmp_path):
    _manual_mining(env)
    with pytest.raises(TransactionTimeout):
        ops.mint(operator_for(MINTER, policy=TxPolicy(timeout=0.3, poll_interval=0.05)), addr(ALICE), "1",
                 ref="BANK-NET", options=YES)
    env.node.rpc("anvil_dropTransaction", journal_lines(tmp_path / "operations.jsonl")[-1]["tx_hash"])
    env.node.rpc("evm_setAutomine", True)

    result = ops.mint(operator_for(MINTER), addr(ALICE), "1", ref="BANK-NET", options=YES)

    assert result.status == "confirmed" and _minted(env) == 1
    assert statuses(tmp_path / "operations.jsonl") == ["sending", "sent", "dropped", "sending", "sent", "confirmed"]


def test_fee_cap_below_the_base_fee_is_refused_before_signing(env: StackEnv, operator_for, tmp_path):
    capped = TxPolicy(timeout=5, max_fee_per_gas=1)

    with sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl"):
        with pytest.raises(ChainError, match="below the current base fee"):
            ops.mint(operator_for(MINTER, policy=capped), addr(ALICE), "1", ref="BANK-NET", options=YES)


def test_fees_stay_within_the_network_caps(env: StackEnv, operator_for, tmp_path):
    base = int(env.w3.eth.get_block("latest")["baseFeePerGas"])
    cap, tip_cap = 3 * base, 1
    policy = TxPolicy(timeout=5, max_fee_per_gas=cap, max_priority_fee_per_gas=tip_cap)

    ops.mint(operator_for(MINTER, policy=policy), addr(ALICE), "1", ref="BANK-NET", options=YES)

    sent = journal_lines(tmp_path / "operations.jsonl")[1]["tx"]
    assert int(sent["maxFeePerGas"]) <= cap and int(sent["maxPriorityFeePerGas"]) <= tip_cap


def test_waiting_for_mining_says_the_time_left(env: StackEnv, operator_for):
    _manual_mining(env)
    said: list[str] = []
    with pytest.raises(TransactionTimeout):
        ops.mint(operator_for(MINTER, policy=TxPolicy(timeout=0.3, poll_interval=0.05), progress=said.append),
                 addr(ALICE), "1", ref="BANK-WAIT", options=YES)

    waiting = [s for s in said if "to be mined" in s]
    assert waiting and waiting[0].endswith("s left of 0.3 s)")

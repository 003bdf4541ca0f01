"""Regulator controls through the ops flow: maker-checker desk, wallet tiers and limits, allowlist mode,
timelocked unpause and upgrade."""

from __future__ import annotations

import pytest
from ops_env import (
    ALICE,
    BOB,
    CAROL,
    CHECKER_A,
    CHECKER_B,
    DEPLOYER,
    EXECUTOR,
    KYC,
    MAKER,
    MINTER,
    PAUSER,
    PROPOSER,
    TIMELOCK_DELAY,
    StackEnv,
    addr,
)
from ops_helpers import UNIT, YES, sends_nothing

from pkr_pilot import ops
from pkr_pilot.contracts import UNLIMITED, role_id
from pkr_pilot.errors import ContractRevert, UserInputError

BIG = "150,000"  # above the desk threshold (100,000 PKRP): two approvals
BIG_UNITS = 150_000 * UNIT

# --------------------------------------------------------------------------- desk


def test_mint_request_approvals_and_execution_mint_once(env: StackEnv, operator_for, tmp_path):
    maker, checker_a, checker_b = operator_for(MAKER), operator_for(CHECKER_A), operator_for(CHECKER_B)

    filed = ops.mint_request(maker, addr(ALICE), BIG, ref="BANK-DESK-1", options=YES)
    rid = filed.values["request_id"]
    assert filed.status == "confirmed" and rid >= 1 and filed.values["required_approvals"] == 2

    pending = ops.mint_requests(env.stack)
    assert [(p.request.id, p.request.amount, p.ready) for p in pending] == [(rid, BIG_UNITS, False)]

    ops.mint_approve(checker_a, rid, options=YES)
    nonce = env.nonce(CHECKER_A)
    fresh_journal = ops.OperationsJournal(tmp_path / "elsewhere.jsonl")  # another machine: only the chain knows
    again = ops.mint_approve(operator_for(CHECKER_A, journal=fresh_journal), rid, options=YES)
    assert again.status == "already-done" and "already approved" in (again.note or "")
    assert env.nonce(CHECKER_A) == nonce

    with sends_nothing(lambda: env.nonce(MAKER), tmp_path / "operations.jsonl"):
        with pytest.raises(ContractRevert) as info:
            ops.mint_execute(maker, rid, options=YES)
    assert (info.value.name, info.value.args_by_name) == ("NotEnoughApprovals", {"id": rid, "approvals": 1, "required": 2})

    ops.mint_approve(checker_b, rid, options=YES)
    assert ops.mint_requests(env.stack)[0].ready

    executed = ops.mint_execute(maker, rid, options=YES)
    assert executed.status == "confirmed"
    assert env.token.balance_of(addr(ALICE)) == BIG_UNITS
    assert ops.mint_requests(env.stack) == []
    assert ops.mint_execute(maker, rid, options=YES).status == "already-done"


def test_maker_cannot_approve_own_request(env: StackEnv, operator_for, tmp_path):
    ops.grant_role(operator_for(DEPLOYER), "checker", addr(MAKER), ref="HR-DESK", options=YES)
    rid = ops.mint_request(operator_for(MAKER), addr(ALICE), "10", ref="BANK-DESK-2", options=YES).values["request_id"]

    with sends_nothing(lambda: env.nonce(MAKER), tmp_path / "operations.jsonl"):
        with pytest.raises(ContractRevert) as info:
            ops.mint_approve(operator_for(MAKER), rid, options=YES)

    assert (info.value.name, info.value.args_by_name) == ("MakerCannotApprove", {"id": rid, "maker": addr(MAKER)})


def test_rerunning_a_mint_request_returns_the_same_request(env: StackEnv, operator_for, tmp_path):
    first = ops.mint_request(operator_for(MAKER), addr(ALICE), BIG, ref="BANK-DESK-3", options=YES)
    again = ops.mint_request(operator_for(MAKER), addr(ALICE), BIG, ref="BANK-DESK-3", options=YES)
    (tmp_path / "operations.jsonl").unlink()
    from_chain = ops.mint_request(operator_for(MAKER), addr(ALICE), BIG, ref="BANK-DESK-3", options=YES)

    assert again.status == from_chain.status == "already-done"
    assert again.values["request_id"] == first.values["request_id"]
    assert f"request {first.values['request_id']} (pending)" in (from_chain.note or "")
    assert env.stack.desk.request_count() == first.values["request_id"]


def test_a_ref_minted_directly_cannot_be_requested_on_the_desk(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "10", ref="BANK-DESK-4", options=YES)

    with pytest.raises(UserInputError, match="already used for mint"):
        ops.mint_request(operator_for(MAKER), addr(ALICE), "10", ref="BANK-DESK-4", options=YES)
    (tmp_path / "operations.jsonl").unlink()
    with sends_nothing(lambda: env.nonce(MAKER), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match="already minted"):
            ops.mint_request(operator_for(MAKER), addr(ALICE), "10", ref="BANK-DESK-4", options=YES)


def test_mint_cancel_frees_the_request(env: StackEnv, operator_for):
    rid = ops.mint_request(operator_for(MAKER), addr(ALICE), BIG, ref="BANK-DESK-5", options=YES).values["request_id"]

    ops.mint_cancel(operator_for(MAKER), rid, options=YES)

    assert env.stack.desk.request(rid).status == "Cancelled"
    assert ops.mint_requests(env.stack) == []


def test_unknown_request_id_is_decoded(env: StackEnv, operator_for):
    with pytest.raises(ContractRevert) as info:
        ops.mint_approve(operator_for(CHECKER_A), 999, options=YES)
    assert (info.value.name, info.value.args_by_name) == ("RequestNotFound", {"id": 999})


# --------------------------------------------------------------------------- tiers, limits, allowlist


def test_allowlist_mode_blocks_tier_zero_recipients_until_they_get_a_tier(env: StackEnv, operator_for, tmp_path):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP-A", options=YES)
    ops.set_tier(operator_for(KYC), addr(ALICE), 1, ref="KYC-ALICE", options=YES)
    ops.allowlist(operator_for(DEPLOYER), True, ref="BOARD-7", options=YES)
    assert env.token.allowlist_enabled()

    with sends_nothing(lambda: env.nonce(ALICE), tmp_path / "operations.jsonl"):
        with pytest.raises(ContractRevert) as info:
            ops.transfer(operator_for(ALICE), addr(BOB), "1", ref="PAY-1", options=YES)
    assert (info.value.name, info.value.args_by_name) == ("NotAllowlisted", {"account": addr(BOB)})

    ops.set_tier(operator_for(KYC), addr(BOB), 1, ref="KYC-BOB", options=YES)
    ops.transfer(operator_for(ALICE), addr(BOB), "1", ref="PAY-1", options=YES)
    assert env.token.tier_of(addr(BOB)) == 1 and env.token.balance_of(addr(BOB)) == UNIT

    ops.allowlist(operator_for(DEPLOYER), False, ref="BOARD-8", options=YES)
    assert not env.token.allowlist_enabled()


def test_tier_balance_limit_holds_at_the_edge(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP-A", options=YES)
    kyc, admin = operator_for(KYC), operator_for(DEPLOYER)
    ops.set_tier(kyc, addr(ALICE), 3, ref="KYC-A", options=YES)
    ops.set_tier(kyc, addr(CAROL), 2, ref="KYC-C", options=YES)
    ops.set_tier_limits(admin, 2, max_balance="50", max_daily_outflow="unlimited", ref="LIM-2", options=YES)
    ops.limits(admin, True, ref="LIM-ON", options=YES)

    with pytest.raises(ContractRevert) as info:
        ops.transfer(operator_for(ALICE), addr(CAROL), "50.01", ref="PAY-2", options=YES)
    assert (info.value.name, info.value.args_by_name) == (
        "TierBalanceLimitExceeded", {"account": addr(CAROL), "limit": 5_000, "attempted": 5_001},
    )
    ops.transfer(operator_for(ALICE), addr(CAROL), "50", ref="PAY-3", options=YES)

    assert env.token.balance_of(addr(CAROL)) == 5_000
    assert env.token.tier_limits(2).max_daily_outflow == UNLIMITED


def test_tier_set_rejects_out_of_range_tiers(env: StackEnv, operator_for, tmp_path):
    with sends_nothing(lambda: env.nonce(KYC), tmp_path / "operations.jsonl"):
        for bad in (256, -1, "gold"):
            with pytest.raises(UserInputError, match="tier"):
                ops.set_tier(operator_for(KYC), addr(ALICE), bad, ref="KYC-X", options=YES)


# --------------------------------------------------------------------------- timelock


def _advance(env: StackEnv, seconds: int) -> None:
    env.node.rpc("evm_increaseTime", seconds)
    env.node.rpc("evm_mine")


def test_unpause_goes_through_the_timelock_delay(env: StackEnv, operator_for, tmp_path):
    gov = env.gov
    ops.pause(operator_for(PAUSER, stack=gov), ref="INC-9", options=YES)

    with pytest.raises(ContractRevert) as direct:
        ops.unpause(operator_for(PAUSER, stack=gov), ref="INC-9-END", options=YES)
    assert direct.value.name == "AccessControlUnauthorizedAccount"
    assert direct.value.args_by_name["neededRole"] == role_id("UNPAUSER_ROLE")

    scheduled = ops.timelock_schedule(operator_for(PROPOSER, stack=gov), "unpause", ref="INC-9-END", options=YES)
    assert scheduled.values["ready_at"] >= env.now() + TIMELOCK_DELAY - 5

    with sends_nothing(lambda: env.nonce(EXECUTOR), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match="not ready until"):
            ops.timelock_execute(operator_for(EXECUTOR, stack=gov), "unpause", ref="INC-9-END", options=YES)
    assert gov.token.paused()

    _advance(env, TIMELOCK_DELAY + 1)
    done = ops.timelock_execute(operator_for(EXECUTOR, stack=gov), "unpause", ref="INC-9-END", options=YES)

    assert done.status == "confirmed" and not gov.token.paused()
    assert ops.timelock_execute(operator_for(EXECUTOR, stack=gov), "unpause", ref="INC-9-END",
                                options=YES).status == "already-done"
    assert ops.timelock_schedule(operator_for(PROPOSER, stack=gov), "unpause", ref="INC-9-END",
                                 options=YES).status == "already-done"


def test_upgrade_through_the_timelock_switches_the_implementation(env: StackEnv, operator_for, compiled):
    from ops_env import acct

    gov = env.gov
    artifact = compiled.artifacts["PilotRupee"]
    tx = {"from": acct(DEPLOYER).address, "data": "0x" + artifact.bytecode.hex()}
    receipt = env.w3.eth.wait_for_transaction_receipt(env.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
    new_impl = receipt["contractAddress"]
    slot = int.from_bytes(__import__("eth_utils").keccak(text="eip1967.proxy.implementation"), "big") - 1

    ops.timelock_schedule(operator_for(PROPOSER, stack=gov), "upgrade", implementation=new_impl, ref="UPG-2",
                          options=YES)
    _advance(env, TIMELOCK_DELAY + 1)
    ops.timelock_execute(operator_for(EXECUTOR, stack=gov), "upgrade", implementation=new_impl, ref="UPG-2",
                         options=YES)

    stored = env.w3.eth.get_storage_at(gov.token.address, slot)
    assert stored[-20:] == bytes.fromhex(new_impl[2:])
    assert gov.token.total_supply() >= 0  # the proxy still answers through the new implementation


def test_upgrade_to_an_address_without_code_is_refused(env: StackEnv, operator_for, tmp_path):
    with sends_nothing(lambda: env.nonce(PROPOSER), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match="no contract at implementation"):
            ops.timelock_schedule(operator_for(PROPOSER, stack=env.gov), "upgrade", implementation=addr(BOB),
                                  ref="UPG-3", options=YES)


def test_execute_of_an_unscheduled_operation_says_to_schedule_first(env: StackEnv, operator_for):
    with pytest.raises(UserInputError, match="never scheduled"):
        ops.timelock_execute(operator_for(EXECUTOR, stack=env.gov), "unpause", ref="NOPE", options=YES)


def test_timelock_commands_need_a_deployment_with_a_timelock(env: StackEnv, operator_for):
    with pytest.raises(UserInputError, match="no timelock"):
        ops.timelock_schedule(operator_for(PROPOSER), "unpause", ref="X", options=YES)

"""Every token operation's happy path through the one flow, with its journal lines and events."""

from __future__ import annotations

from pathlib import Path

import pytest
from ops_env import (
    ALICE,
    ATTESTOR,
    BOB,
    BURNER,
    DEPLOYER,
    FREEZER,
    MINTER,
    MINTER_ADMIN,
    OUTSIDER,
    PAUSER,
    SEIZER,
    StackEnv,
    addr,
)
from ops_helpers import UNIT, YES, journal_lines, statuses

from pkr_pilot import ops
from pkr_pilot.contracts import role_id


def _journal(tmp_path: Path) -> Path:
    return tmp_path / "operations.jsonl"


def test_mint_credits_recipient_journals_each_step_and_reports_supply(env: StackEnv, operator_for, tmp_path):
    op = operator_for(MINTER)
    supply = env.token.total_supply()

    result = ops.mint(op, addr(ALICE), "1,250.50", ref="BANK-TX-0001", options=YES)

    assert result.status == "confirmed"
    assert env.token.balance_of(addr(ALICE)) == 125_050
    assert result.supply_after == supply + 125_050 == env.token.total_supply()
    assert any(e.startswith("Minted(") and "amount=125050" in e for e in result.events)
    assert statuses(_journal(tmp_path)) == ["sending", "sent", "confirmed"]
    confirmed = journal_lines(_journal(tmp_path))[-1]
    assert confirmed["schema"] == "pkr-pilot.operations" and confirmed["v"] == 1
    assert confirmed["op"]["action"] == "mint"
    assert confirmed["op"]["who"] == addr(MINTER)
    assert confirmed["op"]["args"] == {"to": addr(ALICE), "amount": "125050"}
    assert confirmed["op"]["ref_text"] == "BANK-TX-0001"
    assert confirmed["tx_hash"] == result.tx_hash and confirmed["block"] == result.block
    assert confirmed["supply_after"] == str(result.supply_after)
    sent = journal_lines(_journal(tmp_path))[1]
    assert sent["tx"]["nonce"] == result.nonce and sent["tx"]["hash"] == result.tx_hash
    assert "maxFeePerGas" in sent["tx"]  # EIP-1559


def test_burn_reduces_burner_balance_and_supply(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(BURNER), "500", ref="DEPOSIT-B", options=YES)
    supply = env.token.total_supply()

    result = ops.burn(operator_for(BURNER), "200.25", ref="REDEEM-1", options=YES)

    assert result.status == "confirmed"
    assert env.token.balance_of(addr(BURNER)) == 50_000 - 20_025
    assert result.supply_after == supply - 20_025
    assert any(e.startswith("Burned(") for e in result.events)


def test_transfer_moves_tokens_from_the_signer(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "10", ref="DEP-A", options=YES)

    ops.transfer(operator_for(ALICE), addr(BOB), "2.50", ref="PAY-1", options=YES)

    assert env.token.balance_of(addr(ALICE)) == 750
    assert env.token.balance_of(addr(BOB)) == 250


def test_freeze_and_unfreeze_toggle_the_full_freeze(env: StackEnv, operator_for):
    freezer = operator_for(FREEZER)

    ops.freeze(freezer, addr(ALICE), ref="ALERT-1", options=YES)
    assert env.token.is_frozen(addr(ALICE))

    ops.unfreeze(freezer, addr(ALICE), ref="ALERT-1-CLEARED", options=YES)
    assert not env.token.is_frozen(addr(ALICE))


def test_freeze_amount_and_unfreeze_amount_change_the_frozen_part(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP-A", options=YES)
    freezer = operator_for(FREEZER)

    ops.freeze_amount(freezer, addr(ALICE), "40", ref="CASE-9", options=YES)
    assert env.token.frozen_balance_of(addr(ALICE)) == 40 * UNIT
    assert env.token.available_balance_of(addr(ALICE)) == 60 * UNIT

    ops.unfreeze_amount(freezer, addr(ALICE), "15", ref="CASE-9-PART", options=YES)
    assert env.token.frozen_balance_of(addr(ALICE)) == 25 * UNIT


def test_seize_moves_frozen_funds_by_court_order(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP-A", options=YES)
    ops.freeze(operator_for(FREEZER), addr(ALICE), ref="COURT-1", options=YES)

    result = ops.seize(operator_for(SEIZER), addr(ALICE), addr(BOB), "30", ref="COURT-1", options=YES)

    assert result.status == "confirmed"
    assert env.token.balance_of(addr(ALICE)) == 70 * UNIT
    assert env.token.balance_of(addr(BOB)) == 30 * UNIT
    assert any(e.startswith("Seized(") for e in result.events)


def test_pause_then_unpause(env: StackEnv, operator_for):
    pauser = operator_for(PAUSER)

    ops.pause(pauser, ref="INCIDENT-1", options=YES)
    assert env.token.paused()

    ops.unpause(pauser, ref="INCIDENT-1-RESOLVED", options=YES)
    assert not env.token.paused()


def test_minter_configure_and_remove(env: StackEnv, operator_for):
    admin = operator_for(MINTER_ADMIN)

    ops.configure_minter(admin, addr(BOB), "5,000", ref="MINTER-BOB", options=YES)
    assert env.token.is_minter(addr(BOB))
    assert env.token.minter_allowance(addr(BOB)) == 5_000 * UNIT

    ops.remove_minter(admin, addr(BOB), ref="MINTER-BOB-OFF", options=YES)
    assert not env.token.is_minter(addr(BOB))


def test_roles_grant_and_revoke_on_the_token(env: StackEnv, operator_for):
    admin = operator_for(DEPLOYER)

    ops.grant_role(admin, "freezer", addr(BOB), ref="HR-12", options=YES)
    assert env.token.has_role(role_id("FREEZER_ROLE"), addr(BOB))
    assert addr(BOB) in ops.roles_list(env.stack)["PilotRupee"]["FREEZER_ROLE"]

    ops.revoke_role(admin, "FREEZER_ROLE", addr(BOB), ref="HR-13", options=YES)
    assert not env.token.has_role(role_id("FREEZER_ROLE"), addr(BOB))
    assert addr(BOB) not in ops.roles_list(env.stack)["PilotRupee"].get("FREEZER_ROLE", [])


def test_granting_a_role_already_held_sends_nothing(env: StackEnv, operator_for):
    admin = operator_for(DEPLOYER)
    before = env.nonce(DEPLOYER)

    result = ops.grant_role(admin, "FREEZER_ROLE", addr(FREEZER), ref="HR-14", options=YES)

    assert result.status == "already-done" and "already holds FREEZER_ROLE" in (result.note or "")
    assert env.nonce(DEPLOYER) == before


def test_reserves_attest_records_amount_date_and_report(env: StackEnv, operator_for):
    now = int(env.w3.eth.get_block("latest")["timestamp"])

    ops.attest_reserves(operator_for(ATTESTOR), "2,000,000,000", as_of=now, report="RPT-2025-01", options=YES)

    reserves = env.token.reserves()
    assert reserves.amount == 2_000_000_000 * UNIT
    assert reserves.as_of == now
    assert reserves.report_hash == b"RPT-2025-01".ljust(32, b"\0")


def test_balance_view_shows_frozen_and_available_parts(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP-A", options=YES)
    ops.freeze_amount(operator_for(FREEZER), addr(ALICE), "40", ref="CASE-1", options=YES)

    report = ops.balance(env.stack, addr(ALICE).lower())

    assert report.account == addr(ALICE)
    assert (report.balance, report.frozen_amount, report.available) == (10_000, 4_000, 6_000)
    assert report.fully_frozen is False
    assert report.to_json()["available"] == "6000"


def test_status_lists_supply_reserves_minters_roles_and_frozen_accounts(env: StackEnv, operator_for):
    ops.mint(operator_for(MINTER), addr(ALICE), "100", ref="DEP-A", options=YES)
    ops.freeze(operator_for(FREEZER), addr(BOB), ref="ALERT-2", options=YES)
    ops.freeze_amount(operator_for(FREEZER), addr(ALICE), "25", ref="CASE-2", options=YES)

    report = ops.status(env.stack)
    data = report.to_json()

    assert report.total_supply == env.token.total_supply()
    assert report.collateralisation == report.reserves.amount / report.total_supply  # type: ignore[operator]
    assert not report.attestation_stale and report.reserves_age >= 0
    assert data["minters"][addr(MINTER)] == str(env.token.minter_allowance(addr(MINTER)))
    assert data["roles"]["PilotRupee"]["FREEZER_ROLE"] == [addr(FREEZER)]
    assert data["roles"]["MintDesk"]["MAKER_ROLE"]
    assert data["frozen"][addr(BOB)] == {"fully_frozen": True, "frozen_amount": "0"}
    assert data["frozen"][addr(ALICE)] == {"fully_frozen": False, "frozen_amount": "2500"}
    assert data["paused"] is False and data["desk"]["pending_requests"] == 0


def test_status_drops_an_account_once_unfrozen(env: StackEnv, operator_for):
    freezer = operator_for(FREEZER)
    ops.freeze(freezer, addr(BOB), ref="ALERT-3", options=YES)
    ops.unfreeze(freezer, addr(BOB), ref="ALERT-3-OFF", options=YES)

    assert addr(BOB) not in ops.status(env.stack).frozen


@pytest.mark.parametrize("index", [OUTSIDER])
def test_result_json_has_a_stable_shape(env: StackEnv, operator_for, index):
    result = ops.mint(operator_for(MINTER), addr(index), "1", ref="DEP-J", options=YES)

    data = result.to_json()

    assert set(data) == {
        "action", "status", "key", "sender", "call", "args", "display", "ref", "ref_text", "tx_hash",
        "nonce", "block", "gas_used", "gas_estimate", "supply_after", "events", "values", "note",
    }
    assert data["supply_after"] == str(result.supply_after)
    assert data["display"]["amount"] == "1.00 PKRP"

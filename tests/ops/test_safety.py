"""Bad input and refused operations: a clear error, and nothing signed, sent or journalled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ops_env import ALICE, BOB, FREEZER, MINTER, OUTSIDER, PAUSER, SEIZER, StackEnv, addr
from ops_helpers import YES, journal_lines, sends_nothing

from pkr_pilot import ops
from pkr_pilot.contracts import role_id
from pkr_pilot.errors import ContractRevert, UserInputError
from pkr_pilot.ops import RunOptions


def _mint_guard(env: StackEnv, tmp_path):
    return sends_nothing(lambda: env.nonce(MINTER), tmp_path / "operations.jsonl")


BAD_CHECKSUM = addr(ALICE)[:-1] + ("a" if addr(ALICE)[-1] != "a" else "b")


@pytest.mark.parametrize(
    ("to", "amount", "message"),
    [
        ("0x1234", "1", "is not an Ethereum address"),
        ("alice", "1", "is not an Ethereum address"),
        (addr(ALICE).replace("0x", "0X"), "1", "is not an Ethereum address"),
        ("0x" + "00" * 20, "1", "zero address"),
        ("MIXED", "1", "bad checksum"),
        ("OK", "1.001", "more than 2 decimal places"),
        ("OK", "-5", "negative"),
        ("OK", "0", "is zero"),
        ("OK", "0.00", "is zero"),
        ("OK", "ten", "not a number"),
        ("OK", "1e3", "not a number"),
        ("OK", "1,25.00", "misplaced thousands separators"),
        ("OK", "", "not a number"),
    ],
)
def test_mint_refuses_bad_input_and_sends_nothing(env: StackEnv, operator_for, tmp_path, to, amount, message):
    recipient = {"OK": addr(ALICE), "MIXED": BAD_CHECKSUM}.get(to, to)
    op = operator_for(MINTER)

    with _mint_guard(env, tmp_path), pytest.raises(UserInputError, match=message):
        ops.mint(op, recipient, amount, ref="BANK-BAD", options=YES)


@pytest.mark.parametrize("amount", [1.5, True, -3, 0])
def test_mint_refuses_floats_bools_and_non_positive_ints(env: StackEnv, operator_for, tmp_path, amount):
    with _mint_guard(env, tmp_path), pytest.raises(UserInputError):
        ops.mint(operator_for(MINTER), addr(ALICE), amount, ref="BANK-BAD", options=YES)


def test_mint_accepts_exact_decimal_and_int_base_units(env: StackEnv, operator_for):
    op = operator_for(MINTER)
    ops.mint(op, addr(ALICE), Decimal("12.34"), ref="BANK-D", options=YES)
    ops.mint(op, addr(ALICE), 66, ref="BANK-I", options=YES)

    assert env.token.balance_of(addr(ALICE)) == 1_300


@pytest.mark.parametrize("ref", ["", "   ", "x" * 33, "0x" + "zz" * 32])
def test_every_privileged_operation_needs_a_valid_ref(env: StackEnv, operator_for, tmp_path, ref):
    with _mint_guard(env, tmp_path), pytest.raises(UserInputError, match=r"ref|reference"):
        ops.mint(operator_for(MINTER), addr(ALICE), "1", ref=ref, options=YES)


def test_mint_to_a_frozen_account_shows_the_decoded_error_and_sends_nothing(env: StackEnv, operator_for, tmp_path):
    ops.freeze(operator_for(FREEZER, journal=ops.OperationsJournal(tmp_path / "other.jsonl")), addr(ALICE),
               ref="ALERT-9", options=YES)

    with _mint_guard(env, tmp_path), pytest.raises(ContractRevert) as info:
        ops.mint(operator_for(MINTER), addr(ALICE), "10", ref="BANK-F", options=YES)

    assert info.value.name == "FrozenAccount"
    assert info.value.args_by_name == {"account": addr(ALICE)}
    assert f"FrozenAccount(account={addr(ALICE)})" in str(info.value)
    assert str(info.value).startswith("mint reverted:")


def test_mint_while_paused_is_refused_with_enforced_pause(env: StackEnv, operator_for, tmp_path):
    ops.pause(operator_for(PAUSER, journal=ops.OperationsJournal(tmp_path / "other.jsonl")), ref="INC-2", options=YES)

    with _mint_guard(env, tmp_path), pytest.raises(ContractRevert) as info:
        ops.mint(operator_for(MINTER), addr(ALICE), "10", ref="BANK-P", options=YES)

    assert info.value.name == "EnforcedPause"


def test_freeze_without_the_role_names_the_missing_role(env: StackEnv, operator_for, tmp_path):
    guard = sends_nothing(lambda: env.nonce(OUTSIDER), tmp_path / "operations.jsonl")
    with guard, pytest.raises(ContractRevert) as info:
        ops.freeze(operator_for(OUTSIDER), addr(BOB), ref="ALERT-X", options=YES)

    assert info.value.name == "AccessControlUnauthorizedAccount"
    assert info.value.args_by_name == {"account": addr(OUTSIDER), "neededRole": role_id("FREEZER_ROLE")}


def test_mint_by_a_non_minter_is_refused_with_not_minter(env: StackEnv, operator_for, tmp_path):
    with sends_nothing(lambda: env.nonce(OUTSIDER), tmp_path / "operations.jsonl"):
        with pytest.raises(ContractRevert) as info:
            ops.mint(operator_for(OUTSIDER), addr(ALICE), "1", ref="BANK-N", options=YES)

    assert (info.value.name, info.value.args_by_name) == ("NotMinter", {"account": addr(OUTSIDER)})


def test_seize_beyond_the_frozen_part_is_refused_with_amounts(env: StackEnv, operator_for, tmp_path):
    other = ops.OperationsJournal(tmp_path / "other.jsonl")
    ops.mint(operator_for(MINTER, journal=other), addr(ALICE), "100", ref="DEP", options=YES)
    ops.freeze_amount(operator_for(FREEZER, journal=other), addr(ALICE), "10", ref="C-1", options=YES)

    with sends_nothing(lambda: env.nonce(SEIZER), tmp_path / "operations.jsonl"):
        with pytest.raises(ContractRevert) as info:
            ops.seize(operator_for(SEIZER), addr(ALICE), addr(BOB), "10.01", ref="C-1", options=YES)

    assert info.value.name == "SeizeExceedsFrozen"
    assert info.value.args_by_name == {"account": addr(ALICE), "seizable": 1_000, "requested": 1_001}


def test_dry_run_simulates_and_sends_nothing(env: StackEnv, operator_for, tmp_path):
    supply = env.token.total_supply()
    with _mint_guard(env, tmp_path):
        result = ops.mint(operator_for(MINTER), addr(ALICE), "5", ref="BANK-DRY", options=RunOptions(dry_run=True))

    assert result.status == "dry-run" and not result.sent
    assert result.gas_estimate and result.gas_estimate > 21_000
    assert env.token.total_supply() == supply


def test_dry_run_still_shows_the_decoded_revert(env: StackEnv, operator_for, tmp_path):
    with _mint_guard(env, tmp_path), pytest.raises(ContractRevert, match="MinterAllowanceExceeded"):
        ops.mint(operator_for(MINTER), addr(ALICE), "999,999,999", ref="BANK-BIG", options=RunOptions(dry_run=True))


def test_declining_the_confirmation_sends_nothing(env: StackEnv, operator_for, tmp_path):
    seen = []

    def decline(preview):
        seen.append(preview.text())
        return False

    with _mint_guard(env, tmp_path), pytest.raises(UserInputError, match="not confirmed"):
        ops.mint(operator_for(MINTER, confirm=decline), addr(ALICE), "5", ref="BANK-NO")

    assert "PilotRupee.mint(" in seen[0] and "simulation ok" in seen[0]


def test_without_yes_or_a_confirm_callback_nothing_is_sent(env: StackEnv, operator_for, tmp_path):
    with _mint_guard(env, tmp_path), pytest.raises(UserInputError, match="needs confirmation"):
        ops.mint(operator_for(MINTER), addr(ALICE), "5", ref="BANK-Q")


def test_confirmed_operation_is_shown_before_sending(env: StackEnv, operator_for, tmp_path):
    order = []

    def confirm(preview):
        order.append(("confirm", env.nonce(MINTER), len(journal_lines(tmp_path / "operations.jsonl"))))
        return True

    before = env.nonce(MINTER)
    ops.mint(operator_for(MINTER, confirm=confirm), addr(ALICE), "5", ref="BANK-Y")

    assert order == [("confirm", before, 0)]
    assert env.nonce(MINTER) == before + 1


def test_seize_to_the_same_account_is_refused(env: StackEnv, operator_for, tmp_path):
    with sends_nothing(lambda: env.nonce(SEIZER), tmp_path / "operations.jsonl"):
        with pytest.raises(UserInputError, match="same account"):
            ops.seize(operator_for(SEIZER), addr(ALICE), addr(ALICE).lower(), "1", ref="C-2", options=YES)


def test_unknown_role_is_refused_with_the_known_names(env: StackEnv, operator_for):
    with pytest.raises(UserInputError, match=r"unknown role 'SUPERUSER'.*FREEZER_ROLE"):
        ops.grant_role(operator_for(0), "SUPERUSER", addr(BOB), ref="HR-1", options=YES)

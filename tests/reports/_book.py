"""A small book of token operations for the report tests, written on the shared test stack.

Every kind of supply and compliance event happens at least once, spread over many blocks, so
pagination has boundaries to cross: mints (one with a printable ref), a redemption burn, a reserve
attestation, a partial freeze, a full freeze and a seizure from it, a pause drill, and transfers.
"""

from __future__ import annotations

from typing import Any

from pkr_pilot.contracts import Stack

UNIT = 100
#: A printable reference: exported as text.
BANK_REF = b"BANK-TX-0042".ljust(32, b"\0")
CASE_REF = b"COURT-CASE-7".ljust(32, b"\0")


def write_book(stack: Any) -> Stack:
    """Run the operations as the stack's actors; return the library's view of the stack."""
    a = stack.actors
    token = stack.token
    token.as_(a.minter).mint(a.alice, 5_000 * UNIT, BANK_REF).send()
    token.as_(a.minter).mint(a.minter, 2_000 * UNIT, b"BANK-TX-0043".ljust(32, b"\0")).send()
    token.as_(a.minter).burn(700 * UNIT, b"REDEEM-0001".ljust(32, b"\0")).send()
    token.as_(a.alice).transfer(a.bob, 1_250 * UNIT).send()
    token.as_(a.freezer).freezeAmount(a.bob, 400 * UNIT, b"SUSPICIOUS-1".ljust(32, b"\0")).send()
    token.as_(a.freezer).unfreezeAmount(a.bob, 150 * UNIT, b"CLEARED-1".ljust(32, b"\0")).send()
    token.as_(a.freezer).freeze(a.carol, CASE_REF).send()
    token.as_(a.seizer).seize(a.carol, a.dave, 300 * UNIT, CASE_REF).send()
    token.as_(a.seizer).seize(a.bob, a.dave, 100 * UNIT, b"COURT-CASE-8".ljust(32, b"\0")).send()
    now = stack.now()
    token.as_(a.attestor).attestReserves(2_000_000_000 * UNIT, now, bytes.fromhex("ab" * 32)).send()
    token.as_(a.pauser).pause().send()
    token.as_(a.unpauser).unpause().send()
    token.as_(a.alice).transfer(a.dave, 10 * UNIT).send()
    return Stack.from_deployment(stack.w3, stack.deployment)

"""Paying an order with PKRP and a permit: one transaction, once per order, the token's rules apply."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pkr_pilot.errors import ContractRevert
from pkr_pilot.testing import PkrpStack

ORDER = b"order-0001".ljust(32, b"\0")


def pay(pkrp: PkrpStack, checkout: Any, payer: Any, amount: str, order: bytes = ORDER, **permit: Any) -> Any:
    deadline, v, r, s = pkrp.permit(payer, checkout.address, amount, **permit)
    return pkrp.send(payer, checkout.build("payWithPermit", order, pkrp.units(amount), deadline, v, r, s), checkout)


def test_an_order_is_paid_with_a_permit_in_one_transaction(pkrp: PkrpStack, pkrp_wallets: Any, checkout: Any,
                                                            merchant: Any) -> None:
    payer = pkrp_wallets[0]
    receipt = pay(pkrp, checkout, payer, "250.50")
    assert receipt["status"] == 1
    assert pkrp.balance(payer.address) == Decimal("749.50")
    assert pkrp.balance(merchant.address) == Decimal("1250.50")
    assert checkout.view("paidBy", ORDER) == payer.address
    assert pkrp.token.view("allowance", payer.address, checkout.address) == 0  # the permit was spent exactly
    paid = [e for e in checkout.decode_receipt(receipt) if e.name == "OrderPaid"]
    assert [(e.args["payer"], e.args["amount"]) for e in paid] == [(payer.address, 25_050)]


def test_an_order_is_paid_once(pkrp: PkrpStack, pkrp_wallets: Any, checkout: Any) -> None:
    pay(pkrp, checkout, pkrp_wallets[0], "10.00")
    with pytest.raises(ContractRevert) as refused:
        pay(pkrp, checkout, pkrp_wallets[1], "10.00")
    assert refused.value.name == "OrderAlreadyPaid"
    assert refused.value.args_by_name["payer"] == pkrp_wallets[0].address


def test_a_frozen_payer_cannot_pay(pkrp: PkrpStack, pkrp_wallets: Any, checkout: Any) -> None:
    payer = pkrp_wallets[2]
    pkrp.freeze(payer.address)  # one line, as the stack's freezer
    with pytest.raises(ContractRevert) as refused:
        pay(pkrp, checkout, payer, "1.00")
    assert refused.value.name == "FrozenAccount"
    assert pkrp.balance(payer.address) == Decimal("1000.00")


def test_an_expired_permit_is_refused(pkrp: PkrpStack, pkrp_wallets: Any, checkout: Any) -> None:
    with pytest.raises(ContractRevert) as refused:
        pay(pkrp, checkout, pkrp_wallets[3], "5.00", deadline=pkrp.chain.latest_timestamp() - 1)
    assert refused.value.name == "ERC2612ExpiredSignature"


def test_each_test_starts_from_the_deployed_stack(pkrp: PkrpStack, pkrp_wallets: Any) -> None:
    """The snapshot isolation: payments and freezes of the other tests are gone."""
    assert [pkrp.balance(w.address) for w in pkrp_wallets[:4]] == [Decimal("1000.00")] * 4
    assert not pkrp.token.is_frozen(pkrp_wallets[2].address)


def test_minted_pkrp_can_pay_a_larger_order(pkrp: PkrpStack, pkrp_wallets: Any, checkout: Any, merchant: Any) -> None:
    payer = pkrp_wallets[4]
    pkrp.attest("2,000,000,000")  # more reserves, attested as of the latest block
    pkrp.mint(payer.address, "50,000.00")
    pay(pkrp, checkout, payer, "50,500.00", order=b"order-big".ljust(32, b"\0"))
    assert pkrp.balance(payer.address) == Decimal("500.00")
    assert pkrp.balance(merchant.address) == Decimal("51500.00")

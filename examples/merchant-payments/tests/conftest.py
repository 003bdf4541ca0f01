"""The merchant's own fixtures, on top of pkr-pilot's plugin (pkrp, pkrp_wallets, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pkr_pilot.testing import PkrpStack, compile_contracts

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def artifacts() -> Any:
    """contracts/ compiled by the toolkit's compiler (cached in build/)."""
    return compile_contracts(ROOT)


@pytest.fixture
def merchant(pkrp: PkrpStack) -> Any:
    """The shop's account: a funded wallet that is not a payer in these tests."""
    return pkrp.wallets[-1]


@pytest.fixture
def checkout(pkrp: PkrpStack, artifacts: Any, merchant: Any) -> Any:
    """MerchantCheckout for ``merchant``, deployed on the test's snapshot of the PKRP stack."""
    return pkrp.deploy(artifacts["MerchantCheckout"], pkrp.address, merchant.address)

"""The pytest plugin itself (entry point ``pytest11: pkr_pilot``); see :mod:`pkr_pilot.testing`.

Importing this module imports pytest only: the toolkit (web3, the compiler, the EVMs) is imported
inside the fixtures, when a test first asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..accounts import Signer
    from ..chain import Chain
    from ._stack import PkrpStack

BACKENDS = ("anvil", "memory")
#: Funded wallets: dev accounts after the ten the built-in deploy config gives roles to.
WALLET_INDEXES = range(10, 20)
WALLET_ETH = 10 * 10**18
WALLET_PKRP = "1,000.00"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pkrp", "pkr-pilot: a deployed PKRP stack (pkr_pilot.testing)")
    group.addoption(
        "--pkrp-backend", choices=BACKENDS, default=None, help="EVM of the pkrp fixtures (ini: pkrp_backend)"
    )
    parser.addini("pkrp_backend", "EVM of the pkrp fixtures: anvil or memory (py-evm)", default="memory")
    parser.addini("pkrp_root", "pkr-pilot checkout whose contracts are deployed (default: PKR_PILOT_ROOT)")


@pytest.fixture(scope="session")
def pkrp_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """A fresh dev chain for the session: a managed anvil, or in-process py-evm."""
    from ..chain import connect
    from ._project import toolkit_project

    backend = request.config.getoption("--pkrp-backend") or request.config.getini("pkrp_backend")
    if backend not in BACKENDS:
        raise pytest.UsageError(f"pkrp_backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    project = toolkit_project(request.config.getini("pkrp_root") or None)
    with connect(project, "local" if backend == "anvil" else "memory", log=False) as chain:
        yield chain


@pytest.fixture(scope="session")
def pkrp_deployed(request: pytest.FixtureRequest, pkrp_chain: Chain) -> PkrpStack:
    """The PKRP stack deployed once on ``pkrp_chain`` (built-in dev config), wallets funded."""
    from ..accounts import dev_account
    from ..compile import compile_project
    from ..contracts import Stack
    from ..deploy import deploy_stack
    from ..deploy.config import dev_default_config
    from ._project import toolkit_project
    from ._stack import PkrpStack, actors_of

    project = toolkit_project(request.config.getini("pkrp_root") or None)
    config = dev_default_config()
    chain_id = pkrp_chain.chain_id
    deployment = deploy_stack(
        pkrp_chain, dev_account(0, chain_id=chain_id), project, config,
        compiled=compile_project(project), deployments_dir=None,
    )  # fmt: skip
    wallets = tuple(dev_account(i, chain_id=chain_id) for i in WALLET_INDEXES)
    stack = PkrpStack(
        chain=pkrp_chain,
        deployment=deployment,
        contracts=Stack.from_deployment(pkrp_chain.w3, deployment),
        actors=actors_of(config, chain_id),
        wallets=wallets,
    )
    _fund(stack, wallets)
    return stack


def _fund(stack: PkrpStack, wallets: tuple[Signer, ...]) -> None:
    gas = stack.sender("admin")
    for wallet in wallets:
        if stack.w3.eth.get_balance(wallet.address) < WALLET_ETH:  # type: ignore[arg-type]
            gas.transact({"to": wallet.address, "value": WALLET_ETH})
        stack.mint(wallet.address, WALLET_PKRP)


@pytest.fixture
def pkrp(pkrp_deployed: PkrpStack) -> Iterator[PkrpStack]:
    """The deployed stack on a snapshot: whatever the test does is reverted afterwards."""
    with pkrp_deployed.snapshot():
        yield pkrp_deployed


@pytest.fixture
def pkrp_actors(pkrp: PkrpStack) -> Any:
    """Role name -> signer: admin, minter_admin, pauser, unpauser, freezer, seizer, attestor, burner,
    rescuer, upgrader, kyc, minter, maker, checker1, checker2."""
    return pkrp.actors


@pytest.fixture
def pkrp_wallets(pkrp: PkrpStack) -> tuple[Signer, ...]:
    """Ten wallets without roles, each holding 10 ETH and 1,000.00 PKRP at the start of every test."""
    return pkrp.wallets

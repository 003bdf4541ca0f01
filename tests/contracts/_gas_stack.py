"""A minimal PilotRupee stack for the gas budget test: compile, private anvil, impl + proxy, roles.

Self-contained on purpose (the budget figures must not depend on what a fuller deploy plan
configures): compiles ``contracts/`` with the project's settings through
:func:`pkr_pilot.compile.compile_project` (cached in ``build/``), starts anvil (``AnvilNode``,
``--hardfork cancun``) on a free port, deploys the ``PilotRupee`` implementation behind
``PilotRupeeProxy`` (OZ ``ERC1967Proxy``) and grants one role per dev account.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from pkr_pilot.bench.gas import BenchAccounts
from pkr_pilot.chain import AnvilNode, AnvilOptions

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
ADMIN_DELAY = 3_600


@dataclass(frozen=True)
class GasStack:
    w3: Web3
    token: Contract  # the proxy, with PilotRupee's ABI
    implementation: str
    accounts: BenchAccounts


@contextmanager
def anvil() -> Iterator[Web3]:
    """A private anvil (an :class:`~pkr_pilot.chain.AnvilNode`: cancun, EIP-170 enforced, 12 unlocked dev
    accounts), stopped on exit."""
    with AnvilNode(ANVIL, AnvilOptions(accounts=12)) as node:
        yield Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))


def deploy_gas_stack(w3: Web3) -> GasStack:
    """Deploy PilotRupee behind its proxy and give each role to its own dev account."""
    from pkr_pilot.compile import compile_project
    from pkr_pilot.config import load_project

    artifacts = compile_project(load_project(ROOT)).artifacts
    token_art, proxy_art = artifacts["PilotRupee"], artifacts["PilotRupeeProxy"]
    acc = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    admin = acc[0]

    def send(fn: object) -> dict[str, object]:
        tx_hash = fn.transact({"from": admin})  # type: ignore[attr-defined]
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return dict(receipt)

    impl = send(w3.eth.contract(abi=token_art.abi, bytecode=token_art.bytecode).constructor())
    impl_address = str(impl["contractAddress"])
    init = w3.eth.contract(abi=token_art.abi).encode_abi(
        "initialize", args=["Pilot Pakistani Rupee", "PKRP", 2, admin, ADMIN_DELAY]
    )
    proxy = send(
        w3.eth.contract(abi=proxy_art.abi, bytecode=proxy_art.bytecode).constructor(
            impl_address, init
        )
    )
    token = w3.eth.contract(address=proxy["contractAddress"], abi=token_art.abi)
    t = token.functions
    roles = {
        "MINTER_ADMIN_ROLE": acc[1],
        "ATTESTOR_ROLE": acc[2],
        "FREEZER_ROLE": acc[3],
        "KYC_ROLE": acc[4],
    }
    for role, holder in roles.items():
        send(t.grantRole(getattr(t, role)().call(), holder))
    accounts = BenchAccounts(
        admin=admin,
        minter_admin=acc[1],
        attestor=acc[2],
        freezer=acc[3],
        kyc=acc[4],
        minter=acc[5],
        sender=acc[6],
        recipient=acc[7],
        spender=acc[8],
    )
    return GasStack(w3=w3, token=token, implementation=impl_address, accounts=accounts)

"""The deployed stack as the tests see it: who holds which role, the contracts, time and funding.

One power per account, so the access-control matrix can tell the roles apart:

=========  =========================================  ==============
actor      powers                                     key
=========  =========================================  ==============
admin      deployer, DEFAULT_ADMIN_ROLE               dev:0
minter_admin MINTER_ADMIN_ROLE                        dev:1
pauser     PAUSER_ROLE                                dev:2
freezer    FREEZER_ROLE                               dev:3
seizer     SEIZER_ROLE                                dev:4
attestor   ATTESTOR_ROLE (the first attestation)      dev:5
burner     BURNER_ROLE                                dev:6
kyc        KYC_ROLE                                   dev:7
minter     configured minter (MINTER_ALLOWANCE)       dev:8
unpauser   UNPAUSER_ROLE                              dev:9
upgrader   UPGRADER_ROLE                              dev:10
rescuer    RESCUER_ROLE                               dev:11
alice, bob, carol, dave   holders without roles      dev:12-15
spender    a holder without roles (approvals)         dev:16
stranger   no role, no tokens                         dev:17
maker, checker1, checker2  MintDesk maker/checkers    dev:18-20
=========  =========================================  ==============

The stack is deployed once per backend by ``pkr_pilot.deploy.deploy_stack`` with
:func:`deploy_config_for_tests`; holders are funded with tokens by the minter and every actor
beyond dev:9 gets ETH, then each test runs on a snapshot (see ``tests/conftest.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers import (
    Actor,
    ContractClient,
    Domain,
    PreparedCall,
    Transactor,
    authorization_signature,
    cancel_signature,
    permit_signature,
    random_nonce,
    ref,
)
from pkr_pilot.accounts import dev_account
from pkr_pilot.amounts import TierLimits
from pkr_pilot.contracts import stack_decoder
from pkr_pilot.deploy.config import (
    AttestationConfig,
    DeployConfig,
    MintDeskConfig,
    MinterConfig,
    TimelockConfig,
    TokenConfig,
)

if TYPE_CHECKING:
    from web3 import Web3

    from pkr_pilot.chain import Chain
    from pkr_pilot.deploy import Deployment

UNIT = 100  # 2 decimals: 1 PKRP = 100 paisa
MINTER_ALLOWANCE = 100_000_000 * UNIT
SUPPLY_CAP = 10_000_000_000 * UNIT
RESERVES = 1_000_000_000 * UNIT
MAX_ATTESTATION_AGE = 30 * 86_400
#: Tokens each holder (alice … dave, spender) starts with.
HOLDER_FUNDING = 1_000_000 * UNIT
#: Tier limits defined by the deploy (limits and allowlist start off).
TIERS = {
    1: (200_000 * UNIT, 25_000 * UNIT),
    2: (500_000 * UNIT, 50_000 * UNIT),
    3: (10_000_000 * UNIT, 1_000_000 * UNIT),
}
ETH_FUNDING = 100 * 10**18
REF = ref("test-ref")

PERMIT_VRS = "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"
PERMIT_BYTES = "permit(address,address,uint256,uint256,bytes)"
AUTH_ARGS = "(address,address,uint256,uint256,uint256,bytes32)"
CANCEL_VRS = "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"
CANCEL_BYTES = "cancelAuthorization(address,bytes32,bytes)"

ROLE_ACTORS: dict[str, int] = {
    "admin": 0,
    "minter_admin": 1,
    "pauser": 2,
    "freezer": 3,
    "seizer": 4,
    "attestor": 5,
    "burner": 6,
    "kyc": 7,
    "minter": 8,
    "unpauser": 9,
    "upgrader": 10,
    "rescuer": 11,
    "alice": 12,
    "bob": 13,
    "carol": 14,
    "dave": 15,
    "spender": 16,
    "stranger": 17,
    "maker": 18,
    "checker1": 19,
    "checker2": 20,
}
HOLDERS = ("alice", "bob", "carol", "dave", "spender")


def deploy_config_for_tests() -> DeployConfig:
    """The deploy config of the test stack (the table above)."""
    return DeployConfig(
        token=TokenConfig(),
        admin="deployer",
        admin_delay=3_600,
        roles={
            "minter_admin": ("dev:1",),
            "pauser": ("dev:2",),
            "unpauser": ("dev:9",),
            "freezer": ("dev:3",),
            "seizer": ("dev:4",),
            "attestor": ("dev:5",),
            "burner": ("dev:6",),
            "rescuer": ("dev:11",),
            "upgrader": ("dev:10",),
            "kyc": ("dev:7",),
        },
        minters=(MinterConfig("dev:8", MINTER_ALLOWANCE),),
        supply_cap=SUPPLY_CAP,
        max_attestation_age=MAX_ATTESTATION_AGE,
        attestation=AttestationConfig(amount=RESERVES, report_hash=ref("reserve report 0")),
        mint_desk=MintDeskConfig(
            enabled=True,
            admin="deployer",
            admin_delay=0,
            makers=("dev:18",),
            checkers=("dev:19", "dev:20"),
            allowance=1_000_000_000 * UNIT,
            threshold=100_000 * UNIT,
            approvals_required=2,
            daily_direct_limit=1_000_000 * UNIT,
            request_ttl=86_400,
            exempt=True,
        ),
        timelock=TimelockConfig(enabled=False),
        limits_enabled=False,
        allowlist_enabled=False,
        tiers=tuple(TierLimits(t, b, o) for t, (b, o) in TIERS.items()),
        exempt=("dev:8",),
        source="tests/_stack.py",
    )


@dataclass(frozen=True)
class Actors:
    """Every named actor; ``by_name`` for matrices."""

    by_name: dict[str, Actor]

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.by_name[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Actor:
        return self.by_name[name]


def make_actors(chain_id: int) -> Actors:
    return Actors({name: Actor(name, dev_account(i, chain_id=chain_id)) for name, i in ROLE_ACTORS.items()})


@dataclass(frozen=True)
class PilotStack:
    """The deployed stack, its actors and the chain it lives on."""

    chain: Chain
    deployment: Deployment
    actors: Actors
    transactor: Transactor
    token: ContractClient
    desk: ContractClient | None
    artifacts: Any

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def backend(self) -> str:
        return self.chain.kind

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    # -- time and isolation ------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """Undo everything done inside the block (the chain's snapshot/revert)."""
        with self.chain.snapshot() as snapshot_id:
            yield snapshot_id

    def now(self) -> int:
        """Timestamp of the latest block."""
        return self.chain.latest_timestamp()

    def increase_time(self, seconds: int) -> int:
        """Mine one block ``seconds`` after the latest; its timestamp."""
        return self.chain.increase_time(seconds)

    def set_next_timestamp(self, timestamp: int) -> None:
        """The next block gets exactly ``timestamp`` (must be after the latest block)."""
        self.chain.set_next_timestamp(timestamp)

    def next_block_not_before(self, timestamp: int) -> None:
        """Make the next block's timestamp at least ``timestamp``.

        The backends differ after a reverted or mined block (anvil may repeat a timestamp,
        py-evm adds a second), so "at least" is what a test can rely on.
        """
        if self.now() < timestamp:
            self.chain.set_next_timestamp(timestamp)

    # -- EIP-712 ------------------------------------------------------------------------------
    def domain(self, **overrides: Any) -> Domain:
        """The token's EIP-712 domain (``eip712Domain()`` read from the chain), with overrides."""
        _fields, name, version, chain_id, verifying, _salt, _ext = self.token.view("eip712Domain")
        base = Domain(str(name), str(version), int(chain_id), str(verifying))
        return dataclasses.replace(base, **overrides)

    # -- contracts ----------------------------------------------------------------------------
    def deploy(self, name: str, *args: Any, sender: Actor | None = None) -> ContractClient:
        """Deploy artifact ``name`` with constructor ``args``; a client for it."""
        from eth_abi.abi import encode

        from helpers import _canonical_type, _plain

        artifact = self.artifacts[name]
        ctor = next((i for i in artifact.abi if i.get("type") == "constructor"), {"inputs": []})
        types = [_canonical_type(i) for i in ctor.get("inputs", [])]
        data = bytes(artifact.bytecode) + encode(types, [_plain(a) for a in args])
        receipt = self.transactor.send(sender or self.actors.admin, None, data, gas=8_000_000)
        return ContractClient(self.transactor, name, receipt.raw["contractAddress"], artifact.abi)

    def client(self, name: str, address: str, abi_of: str | None = None) -> ContractClient:
        """A client for a contract already on chain, with the ABI of artifact ``abi_of`` (default ``name``)."""
        return ContractClient(self.transactor, name, address, self.artifacts[abi_of or name].abi)

    # -- signed messages ------------------------------------------------------------------------
    def permit(
        self, owner: Actor, spender: Any, value: int, *, deadline: int | None = None, nonce: int | None = None,
        domain: Domain | None = None, submitter: Actor | None = None, packed: bool = False,
    ) -> PreparedCall:
        """A permit signed by ``owner`` (eth-account EIP-712), submitted by ``submitter`` (default spender)."""
        deadline = self.now() + 3_600 if deadline is None else deadline
        nonce = int(self.token.view("nonces", owner)) if nonce is None else nonce
        sig = permit_signature(owner, domain or self.domain(), spender, value, nonce, deadline)
        by = submitter or (spender if isinstance(spender, Actor) else owner)
        if packed:
            return self.token.as_(by).fn(PERMIT_BYTES)(owner, spender, value, deadline, sig.packed)
        return self.token.as_(by).fn(PERMIT_VRS)(owner, spender, value, deadline, sig.v, sig.r, sig.s)

    def authorization(
        self, signer: Actor, to: Any, value: int, *, receive: bool = False, valid_after: int = 0,
        valid_before: int | None = None, nonce: bytes | None = None, domain: Domain | None = None,
        submitter: Actor | None = None, packed: bool = False,
    ) -> PreparedCall:
        """An EIP-3009 transfer (or receive) authorization signed by ``signer``, ready to submit."""
        valid_before = self.now() + 3_600 if valid_before is None else valid_before
        nonce = random_nonce() if nonce is None else nonce
        sig = authorization_signature(
            signer, domain or self.domain(), to=to, value=value, valid_after=valid_after,
            valid_before=valid_before, nonce=nonce, receive=receive,
        )
        by = submitter or (to if receive and isinstance(to, Actor) else signer)
        name = "receiveWithAuthorization" if receive else "transferWithAuthorization"
        args: tuple[Any, ...] = (signer, to, value, valid_after, valid_before, nonce)
        if packed:
            return self.token.as_(by).fn(f"{name}{AUTH_ARGS[:-1]},bytes)")(*args, sig.packed)
        return self.token.as_(by).fn(f"{name}{AUTH_ARGS[:-1]},uint8,bytes32,bytes32)")(*args, sig.v, sig.r, sig.s)

    def cancel_authorization(
        self, signer: Actor, nonce: bytes, *, domain: Domain | None = None, submitter: Actor | None = None,
    ) -> PreparedCall:
        sig = cancel_signature(signer, domain or self.domain(), nonce)
        return self.token.as_(submitter or signer).fn(CANCEL_VRS)(signer, nonce, sig.v, sig.r, sig.s)

    # -- token shortcuts ----------------------------------------------------------------------
    def balance(self, who: Any) -> int:
        return int(self.token.view("balanceOf", who))

    def mint(self, to: Any, amount: int) -> None:
        self.token.as_(self.actors.minter).mint(to, amount, REF).send()


def build_stack(chain: Chain, deployment: Deployment, artifacts: Any) -> PilotStack:
    """Wrap a fresh deployment, give ETH to actors beyond the node's funded ones and tokens to holders."""
    actors = make_actors(chain.chain_id)
    abis = [c.abi for c in deployment.contracts.values()]
    abis.extend(artifacts[n].abi for n in ("PilotRupeeV2", "MockERC20", "ERC1967Proxy") if n in artifacts)
    transactor = Transactor(chain.w3, stack_decoder(abis))
    token = ContractClient(transactor, "PilotRupee", deployment.token.address, deployment.token.abi)
    desk_rec = deployment.mint_desk
    desk = ContractClient(transactor, "MintDesk", desk_rec.address, desk_rec.abi) if desk_rec else None
    stack = PilotStack(chain, deployment, actors, transactor, token, desk, artifacts)
    funder = actors.admin
    for name, index in ROLE_ACTORS.items():
        if index >= 10:
            transactor.send(funder, actors[name].address, b"", value=ETH_FUNDING, gas=21_000)
    for name in HOLDERS:
        stack.mint(actors[name], HOLDER_FUNDING)
    return stack

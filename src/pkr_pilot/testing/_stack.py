"""The deployed PKRP stack a test sees: contracts, role-holding actors, funded wallets, one-line helpers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..accounts import Signer, dev_account
from ..amounts import parse_amount, parse_ref
from ..tx import Sender, TxPolicy

if TYPE_CHECKING:
    from web3 import Web3
    from web3.types import TxReceipt

    from ..chain import Chain
    from ..compile import Artifact
    from ..contracts import Call, ContractHandle, Stack, Token
    from ..decode import ErrorDecoder
    from ..deploy import Deployment
    from ..deploy.config import DeployConfig

__all__ = ["Amount", "PkrpStack", "actors_of"]

#: An amount: PKRP as text or Decimal (``"1,250.50"``), or an int of base units (paisa).
Amount = str | Decimal | int


def actors_of(config: DeployConfig, chain_id: int) -> dict[str, Signer]:
    """Who holds which power in a deploy config of dev accounts: role name -> signer.

    ``admin`` (the deployer), one entry per ``[roles]`` name (first holder), ``minter`` (the first
    configured minter), and the desk's ``maker`` / ``checker1`` / ``checker2`` when it has them.
    """

    def signer(spec: str) -> Signer:
        index = 0 if spec == "deployer" else int(spec.removeprefix("dev:"))
        return dev_account(index, chain_id=chain_id)

    actors = {"admin": dev_account(0, chain_id=chain_id)}
    actors.update({role: signer(holders[0]) for role, holders in config.roles.items() if holders})
    if config.minters:
        actors["minter"] = signer(config.minters[0].account)
    desk = config.mint_desk
    if desk.enabled:
        if desk.makers:
            actors["maker"] = signer(desk.makers[0])
        actors.update({f"checker{i}": signer(c) for i, c in enumerate(desk.checkers[:2], start=1)})
    return actors


@dataclass(frozen=True)
class PkrpStack:
    """A PKRP stack deployed on a dev chain, as a test uses it.

    ::

        def test_pays(pkrp, pkrp_wallets):
            alice, bob = pkrp_wallets[:2]
            pkrp.mint(alice.address, "100.00")             # one line, as the minter
            pkrp.freeze(bob.address)                       # as the freezer
            pkrp.attest("2,000,000,000")                   # as the attestor, as of the latest block
            assert pkrp.balance(alice.address) == Decimal("1100.00")
    """

    chain: Chain
    deployment: Deployment
    contracts: Stack
    actors: Mapping[str, Signer]
    wallets: tuple[Signer, ...]

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def token(self) -> Token:
        return self.contracts.token

    @property
    def address(self) -> str:
        """The token's (proxy) address."""
        return self.contracts.token.address

    @property
    def decimals(self) -> int:
        return self.contracts.token.decimals

    # -- amounts ------------------------------------------------------------------------------
    def units(self, amount: Amount) -> int:
        """Base units of ``amount`` (text or Decimal in PKRP; an int is already base units)."""
        if isinstance(amount, int):
            return amount
        return parse_amount(str(amount), decimals=self.decimals, allow_zero=True)

    def balance(self, account: str) -> Decimal:
        """PKRP balance of ``account``."""
        return Decimal(self.token.balance_of(account)).scaleb(-self.decimals)

    # -- sending ------------------------------------------------------------------------------
    def sender(self, who: str | Signer, decoder: ErrorDecoder | None = None) -> Sender:
        """A sending core for an actor name (``"minter"``) or any signer (reverts decoded by
        ``decoder``, default the stack's)."""
        signer = self.actors[who] if isinstance(who, str) else who
        return Sender(
            self.w3, signer, decoder=decoder or self.contracts.decoder, policy=TxPolicy.from_network(self.chain.network)
        )

    def send(self, who: str | Signer, call: Call, contract: ContractHandle | None = None) -> TxReceipt:
        """Send ``call`` as ``who``; a revert raises the decoded custom error (``ContractRevert``),
        decoded against ``contract``'s errors too when the call goes to one of your contracts."""
        decoder = contract.decoder if contract is not None else None
        return self.sender(who, decoder).transact(call.tx(), action=call.describe())

    def deploy(self, artifact: Artifact, *args: Any, by: str | Signer = "admin") -> ContractHandle:
        """Deploy one of your contracts (constructor ``args``); its handle decodes its own custom
        errors and the token's, so a revert in a test names the exact error either way."""
        from eth_abi.abi import encode
        from eth_utils.abi import collapse_if_tuple

        from ..contracts import ContractHandle
        from ..decode import ErrorDecoder

        ctor: Mapping[str, Any] = next((item for item in artifact.abi if item.get("type") == "constructor"), {"inputs": []})
        types = [str(collapse_if_tuple(dict(i))) for i in ctor["inputs"]]
        data = artifact.bytecode + (encode(types, list(args)) if types else b"")
        receipt = self.sender(by).transact({"data": "0x" + data.hex()}, action=f"deploy {artifact.name}")
        decoder = ErrorDecoder([artifact.abi, self.token.abi])
        return ContractHandle(
            self.w3, str(receipt["contractAddress"]), artifact.abi, name=artifact.name,
            from_block=int(receipt["blockNumber"]), decoder=decoder,
        )  # fmt: skip

    def permit(self, owner: Signer, spender: str, amount: Amount, deadline: int | None = None) -> tuple[int, int, bytes, bytes]:
        """Sign an EIP-2612 permit of ``amount`` for ``spender``: ``(deadline, v, r, s)``.

        ``deadline`` defaults to an hour after the latest block.
        """
        from ..contracts import PERMIT_TYPES

        _fields, name, version, chain_id, verifying, _salt, _ext = self.token.view("eip712Domain")
        when = self.chain.latest_timestamp() + 3_600 if deadline is None else deadline
        message = {
            "owner": owner.address, "spender": spender, "value": self.units(amount),
            "nonce": int(self.token.view("nonces", owner.address)), "deadline": when,
        }  # fmt: skip
        signed = owner.sign_typed_data(
            {"name": name, "version": version, "chainId": int(chain_id), "verifyingContract": verifying},
            PERMIT_TYPES,
            message,
        )
        return when, int(signed.v), int(signed.r).to_bytes(32, "big"), int(signed.s).to_bytes(32, "big")

    # -- one-line helpers ---------------------------------------------------------------------
    def mint(self, to: str, amount: Amount, ref: str | None = None) -> TxReceipt:
        """Mint ``amount`` to ``to`` as the minter (a fresh ref unless given)."""
        return self.send("minter", self.token.mint(to, self.units(amount), self._ref(ref, "mint")))

    def freeze(self, account: str, ref: str | None = None) -> TxReceipt:
        """Fully freeze ``account`` as the freezer."""
        return self.send("freezer", self.token.freeze(account, self._ref(ref, "freeze")))

    def unfreeze(self, account: str, ref: str | None = None) -> TxReceipt:
        """Lift a full freeze as the freezer."""
        return self.send("freezer", self.token.unfreeze(account, self._ref(ref, "unfreeze")))

    def attest(self, amount: Amount, as_of: int | None = None, report: str | None = None) -> TxReceipt:
        """Attest reserves of ``amount`` as the attestor, as of ``as_of`` (default: the latest block)."""
        when = self.chain.latest_timestamp() if as_of is None else as_of
        return self.send("attestor", self.token.attest_reserves(self.units(amount), when, self._ref(report, "attest")))

    # -- isolation ----------------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """Undo everything done inside the block."""
        with self.chain.snapshot() as snapshot_id:
            yield snapshot_id

    def _ref(self, ref: str | None, action: str) -> bytes:
        if ref is not None:
            return parse_ref(ref)
        return parse_ref(f"pkrp-test-{action}-{self.w3.eth.block_number}-{next(_COUNTER)}")


_COUNTER = itertools.count(1)

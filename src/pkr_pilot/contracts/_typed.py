"""Typed wrappers of the stack: :class:`Token`, :class:`Desk`, :class:`Timelock` and the :class:`Stack` of all three."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..amounts import TierLimits
from ..decode import ErrorDecoder
from ..errors import UserInputError
from ._abi import (
    _ZERO32,
    DESK_ROLES,
    TIMELOCK_ROLES,
    TOKEN_ROLES,
    Call,
)
from ._events import EventCache
from ._handle import ContractHandle

if TYPE_CHECKING:
    from web3 import Web3


@dataclass(frozen=True)
class Reserves:
    """The token's last reserve attestation."""

    amount: int
    as_of: int
    report_hash: bytes
    attested_at: int


@dataclass(frozen=True)
class DeskPolicy:
    """The desk's approval policy."""

    threshold: int
    daily_direct_limit: int
    request_ttl: int
    approvals_required: int


#: ``IMintDesk.RequestKind`` and ``RequestStatus`` by value.
REQUEST_KINDS = ("None", "Mint", "Burn")


REQUEST_STATUSES = ("None", "Pending", "Executed", "Cancelled", "Expired")


@dataclass(frozen=True)
class DeskRequest:
    """A desk request as stored, plus the approvals it needs now."""

    id: int
    maker: str
    expires_at: int
    approvals: int
    required_approvals: int
    kind: str
    status: str
    to: str
    amount: int
    ref: bytes
    approvals_needed: int = 0


class Token(ContractHandle):
    """The PilotRupee token (through its proxy)."""

    ROLES = TOKEN_ROLES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", "PilotRupee")
        super().__init__(*args, **kwargs)
        self._decimals: int | None = None
        self._symbol: str | None = None

    # -- views -----------------------------------------------------------------------------
    @property
    def decimals(self) -> int:
        if self._decimals is None:
            self._decimals = int(self.view("decimals"))
        return self._decimals

    @property
    def symbol(self) -> str:
        if self._symbol is None:
            self._symbol = str(self.view("symbol"))
        return self._symbol

    def total_supply(self, *, block: int | str = "latest") -> int:
        return int(self.view("totalSupply", block=block))

    def balance_of(self, account: str, *, block: int | str = "latest") -> int:
        return int(self.view("balanceOf", account, block=block))

    def frozen_balance_of(self, account: str, *, block: int | str = "latest") -> int:
        return int(self.view("frozenBalanceOf", account, block=block))

    def available_balance_of(self, account: str, *, block: int | str = "latest") -> int:
        return int(self.view("availableBalanceOf", account, block=block))

    def is_frozen(self, account: str, *, block: int | str = "latest") -> bool:
        return bool(self.view("isFrozen", account, block=block))

    def is_minter(self, account: str, *, block: int | str = "latest") -> bool:
        return bool(self.view("isMinter", account, block=block))

    def minter_allowance(self, account: str, *, block: int | str = "latest") -> int:
        return int(self.view("minterAllowance", account, block=block))

    def reserves(self, *, block: int | str = "latest") -> Reserves:
        amount, as_of, report_hash, attested_at = self.view("reserves", block=block)
        return Reserves(int(amount), int(as_of), bytes(report_hash), int(attested_at))

    def supply_cap(self, *, block: int | str = "latest") -> int:
        return int(self.view("supplyCap", block=block))

    def max_attestation_age(self, *, block: int | str = "latest") -> int:
        return int(self.view("maxAttestationAge", block=block))

    def paused(self, *, block: int | str = "latest") -> bool:
        return bool(self.view("paused", block=block))

    def tier_of(self, account: str, *, block: int | str = "latest") -> int:
        return int(self.view("tierOf", account, block=block))

    def tier_limits(self, tier: int, *, block: int | str = "latest") -> TierLimits:
        max_balance, max_outflow = self.view("tierLimits", tier, block=block)
        return TierLimits(tier, int(max_balance), int(max_outflow))

    def limits_enabled(self, *, block: int | str = "latest") -> bool:
        return bool(self.view("limitsEnabled", block=block))

    def allowlist_enabled(self, *, block: int | str = "latest") -> bool:
        return bool(self.view("allowlistEnabled", block=block))

    def is_exempt(self, account: str, *, block: int | str = "latest") -> bool:
        return bool(self.view("isExempt", account, block=block))

    def outflow_today(self, account: str, *, block: int | str = "latest") -> int:
        return int(self.view("outflowToday", account, block=block))

    def default_admin(self, *, block: int | str = "latest") -> str:
        return str(self.view("defaultAdmin", block=block))

    # -- builders --------------------------------------------------------------------------
    def mint(self, to: str, amount: int, ref: bytes) -> Call:
        return self.build("mint", to, amount, ref)

    def burn(self, amount: int, ref: bytes) -> Call:
        return self.build("burn", amount, ref)

    def transfer(self, to: str, amount: int) -> Call:
        return self.build("transfer", to, amount)

    def freeze(self, account: str, ref: bytes) -> Call:
        return self.build("freeze", account, ref)

    def unfreeze(self, account: str, ref: bytes) -> Call:
        return self.build("unfreeze", account, ref)

    def freeze_amount(self, account: str, amount: int, ref: bytes) -> Call:
        return self.build("freezeAmount", account, amount, ref)

    def unfreeze_amount(self, account: str, amount: int, ref: bytes) -> Call:
        return self.build("unfreezeAmount", account, amount, ref)

    def seize(self, source: str, to: str, amount: int, ref: bytes) -> Call:
        return self.build("seize", source, to, amount, ref)

    def pause(self) -> Call:
        return self.build("pause")

    def unpause(self) -> Call:
        return self.build("unpause")

    def configure_minter(self, minter: str, allowance: int, ref: bytes) -> Call:
        return self.build("configureMinter", minter, allowance, ref)

    def remove_minter(self, minter: str, ref: bytes) -> Call:
        return self.build("removeMinter", minter, ref)

    def attest_reserves(self, amount: int, as_of: int, report_hash: bytes) -> Call:
        return self.build("attestReserves", amount, as_of, report_hash)

    def set_tier(self, account: str, tier: int, ref: bytes) -> Call:
        return self.build("setTier", account, tier, ref)

    def set_tier_limits(self, tier: int, max_balance: int, max_daily_outflow: int, ref: bytes) -> Call:
        return self.build("setTierLimits", tier, max_balance, max_daily_outflow, ref)

    def set_limits_mode(self, enabled: bool, ref: bytes) -> Call:
        return self.build("setLimitsMode", enabled, ref)

    def set_allowlist_mode(self, enabled: bool, ref: bytes) -> Call:
        return self.build("setAllowlistMode", enabled, ref)

    def set_exempt(self, account: str, exempt: bool, ref: bytes) -> Call:
        return self.build("setExempt", account, exempt, ref)

    def set_supply_cap(self, cap: int, ref: bytes) -> Call:
        return self.build("setSupplyCap", cap, ref)

    def set_max_attestation_age(self, max_age: int, ref: bytes) -> Call:
        return self.build("setMaxAttestationAge", max_age, ref)

    def upgrade_to_and_call(self, implementation: str, data: bytes = b"") -> Call:
        return self.build("upgradeToAndCall", implementation, data)

    # -- event-derived lists ---------------------------------------------------------------
    def minters(self, *, to_block: int | None = None) -> dict[str, int]:
        """Configured minters and their remaining allowances (events, then ``isMinter``)."""
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        seen: dict[str, None] = {}
        for ev in self.events(("MinterConfigured", "MinterRemoved"), to_block=head):
            seen[str(ev.args["minter"])] = None
        return {
            m: self.minter_allowance(m, block=head) for m in seen if self.is_minter(m, block=head)
        }

    def frozen_accounts(self, *, to_block: int | None = None) -> dict[str, tuple[bool, int]]:
        """Accounts that are fully frozen or have a frozen amount: ``{account: (full, amount)}``."""
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        seen: dict[str, None] = {}
        names = ("Frozen", "Unfrozen", "AmountFrozen", "AmountUnfrozen", "Seized")
        for ev in self.events(names, to_block=head):
            seen[str(ev.args["from"] if ev.name == "Seized" else ev.args["account"])] = None
        out: dict[str, tuple[bool, int]] = {}
        for account in seen:
            full = self.is_frozen(account, block=head)
            amount = self.frozen_balance_of(account, block=head)
            if full or amount:
                out[account] = (full, amount)
        return out


class Desk(ContractHandle):
    """The maker-checker MintDesk."""

    ROLES = DESK_ROLES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", "MintDesk")
        super().__init__(*args, **kwargs)

    def policy(self, *, block: int | str = "latest") -> DeskPolicy:
        threshold, daily, ttl, approvals = self.view("approvalPolicy", block=block)
        return DeskPolicy(int(threshold), int(daily), int(ttl), int(approvals))

    def request(self, request_id: int, *, block: int | str = "latest") -> DeskRequest:
        """Request ``request_id``; raises the decoded ``RequestNotFound`` for an unknown id."""
        raw = self.view("getRequest", request_id, block=block)
        maker, expires_at, approvals, required, kind, status, to, amount, ref = raw
        return DeskRequest(
            id=request_id,
            maker=str(maker),
            expires_at=int(expires_at),
            approvals=int(approvals),
            required_approvals=int(required),
            kind=REQUEST_KINDS[int(kind)],
            status=REQUEST_STATUSES[int(status)],
            to=str(to),
            amount=int(amount),
            ref=bytes(ref),
            approvals_needed=int(self.view("approvalsNeeded", request_id, block=block)),
        )

    def request_count(self, *, block: int | str = "latest") -> int:
        return int(self.view("requestCount", block=block))

    def pending_ids(self, *, block: int | None = None) -> list[int]:
        """Every pending request id (expired-but-unclosed included), all pages read at one block."""
        at = int(self.w3.eth.block_number) if block is None else block
        ids: list[int] = []
        cursor = 0
        while True:
            page, cursor = self.view("pendingRequestIds", cursor, 100, block=at)
            ids.extend(int(i) for i in page)
            if int(cursor) == 0:
                return ids

    def has_approved(self, request_id: int, checker: str, *, block: int | str = "latest") -> bool:
        return bool(self.view("hasApproved", request_id, checker, block=block))

    def ref_holder(self, ref: bytes, *, block: int | str = "latest") -> int:
        return int(self.view("refHolder", ref, block=block))

    def is_ref_available(self, ref: bytes, *, block: int | str = "latest") -> bool:
        return bool(self.view("isRefAvailable", ref, block=block))

    def token_address(self) -> str:
        return str(self.view("token"))

    def request_mint(self, to: str, amount: int, ref: bytes) -> Call:
        return self.build("requestMint", to, amount, ref)

    def approve_mint(self, request_id: int) -> Call:
        return self.build("approveMint", request_id)

    def execute_mint(self, request_id: int) -> Call:
        return self.build("executeMint", request_id)

    def cancel_mint(self, request_id: int) -> Call:
        return self.build("cancelMint", request_id)

    def mint_direct(self, to: str, amount: int, ref: bytes) -> Call:
        return self.build("mintDirect", to, amount, ref)


#: ``TimelockController.OperationState`` by value.
OPERATION_STATES = ("Unset", "Waiting", "Ready", "Done")


class Timelock(ContractHandle):
    """The governance ``TimelockController`` (PilotTimelock)."""

    ROLES = TIMELOCK_ROLES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", "PilotTimelock")
        super().__init__(*args, **kwargs)

    def min_delay(self, *, block: int | str = "latest") -> int:
        return int(self.view("getMinDelay", block=block))

    def operation_id(self, target: str, value: int, data: bytes, predecessor: bytes, salt: bytes) -> bytes:
        return bytes(self.view("hashOperation", target, value, data, predecessor, salt))

    def operation_state(self, op_id: bytes, *, block: int | str = "latest") -> str:
        return OPERATION_STATES[int(self.view("getOperationState", op_id, block=block))]

    def ready_at(self, op_id: bytes, *, block: int | str = "latest") -> int:
        """Timestamp from which the operation can execute (0 unset, 1 done)."""
        return int(self.view("getTimestamp", op_id, block=block))

    def schedule(self, call: Call, *, salt: bytes, delay: int, predecessor: bytes = _ZERO32) -> Call:
        return self.build("schedule", call.target, call.value, call.data, predecessor, salt, delay)

    def execute(self, call: Call, *, salt: bytes, predecessor: bytes = _ZERO32) -> Call:
        return self.build("execute", call.target, call.value, call.data, predecessor, salt)


@dataclass(frozen=True)
class Stack:
    """The deployed contracts an operator acts on, sharing one error decoder."""

    token: Token
    desk: Desk | None = None
    timelock: Timelock | None = None
    decoder: ErrorDecoder = field(default_factory=lambda: ErrorDecoder([]))

    @property
    def w3(self) -> Web3:
        return self.token.w3

    def require_desk(self) -> Desk:
        if self.desk is None:
            raise UserInputError(
                "this deployment has no MintDesk",
                hint="deploy the stack with the desk enabled in the deploy config",
            )
        return self.desk

    def require_timelock(self) -> Timelock:
        if self.timelock is None:
            raise UserInputError(
                "this deployment has no timelock",
                hint="deploy the stack with governance (timelock) enabled in the deploy config",
            )
        return self.timelock

    def handles(self) -> list[ContractHandle]:
        return [h for h in (self.token, self.desk, self.timelock) if h is not None]

    @classmethod
    def build(
        cls,
        w3: Web3,
        *,
        token: tuple[str, Sequence[Mapping[str, Any]], int],
        desk: tuple[str, Sequence[Mapping[str, Any]], int] | None = None,
        timelock: tuple[str, Sequence[Mapping[str, Any]], int] | None = None,
        extra_abis: Iterable[Sequence[Mapping[str, Any]]] = (),
        cache: EventCache | None = None,
    ) -> Stack:
        """A stack from ``(address, abi, deployment block)`` triples."""
        abis = [token[1], *(x[1] for x in (desk, timelock) if x is not None), *extra_abis]
        decoder = stack_decoder(abis)
        common: dict[str, Any] = {"decoder": decoder, "cache": cache}
        token_handle = Token(w3, token[0], token[1], from_block=token[2], **common)
        decoder.use_token(lambda: (token_handle.decimals, token_handle.symbol))
        return cls(
            token=token_handle,
            desk=Desk(w3, desk[0], desk[1], from_block=desk[2], **common) if desk else None,
            timelock=(
                Timelock(w3, timelock[0], timelock[1], from_block=timelock[2], **common)
                if timelock
                else None
            ),
            decoder=decoder,
        )

    @classmethod
    def from_deployment(cls, w3: Web3, deployment: Any, *, cache: EventCache | None = None) -> Stack:
        """A stack from a loaded deployment (``pkr_pilot.deploy.load_deployment``).

        Accepts a :class:`~pkr_pilot.deploy.Deployment`, or any mapping of names to records with
        ``address``, ``abi`` and ``block``/``block_number`` (``ContractRecord``: the block is where event
        scans start; without one they start at block 0). The token is the record named ``PilotRupee`` (the
        proxy address with the implementation's ABI).
        """
        records = _records_of(deployment)
        token = records.get("PilotRupee")
        if token is None:
            raise UserInputError(
                "the deployment has no PilotRupee record",
                hint="run `pkr-pilot deploy --network N` first",
            )
        desk = records.get("MintDesk")
        timelock = records.get("PilotTimelock")
        extra = [r[1] for name, r in records.items() if name not in ("PilotRupee", "MintDesk", "PilotTimelock")]
        return cls.build(w3, token=token, desk=desk, timelock=timelock, extra_abis=extra, cache=cache)


def _records_of(deployment: Any) -> dict[str, tuple[str, Sequence[Mapping[str, Any]], int]]:
    contracts = getattr(deployment, "contracts", deployment)
    out: dict[str, tuple[str, Sequence[Mapping[str, Any]], int]] = {}
    for name, rec in dict(contracts).items():
        get = rec.get if isinstance(rec, Mapping) else (lambda k, r=rec: getattr(r, k, None))
        address, abi = get("address"), get("abi")
        block = get("block") if get("block") is not None else get("block_number")
        if address is None or abi is None:
            continue
        out[str(name)] = (str(address), list(abi), int(block or 0))
    return out


def stack_decoder(abis: Iterable[Sequence[Mapping[str, Any]]]) -> ErrorDecoder:
    """One decoder for every custom error of the stack's ABIs (token, desk, timelock, proxy)."""
    return ErrorDecoder(list(abis))

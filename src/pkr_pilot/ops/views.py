"""Read-only operator views: ``balance``, ``status``, ``roles list``, ``mint-requests``.

All values are read at one block (the head when the view starts), so a report is consistent even
while blocks keep coming. Lists that AccessControl and the token do not enumerate (role holders,
minters, frozen accounts) come from the contracts' events, each entry confirmed by a view call.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..amounts import format_amount
from ..contracts import UNLIMITED, DeskPolicy, DeskRequest, Reserves, TierLimits
from ..errors import UserInputError

if TYPE_CHECKING:
    from ..contracts import Stack, Token

__all__ = [
    "BalanceReport",
    "StatusReport",
    "balance",
    "mint_requests",
    "roles_list",
    "status",
]


@dataclass(frozen=True)
class BalanceReport:
    """One account as the token sees it."""

    account: str
    block: int
    balance: int
    frozen_amount: int
    available: int
    fully_frozen: bool
    tier: int
    is_minter: bool
    minter_allowance: int
    decimals: int
    symbol: str

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "block": self.block,
            "balance": str(self.balance),
            "frozen_amount": str(self.frozen_amount),
            "available": str(self.available),
            "fully_frozen": self.fully_frozen,
            "tier": self.tier,
            "is_minter": self.is_minter,
            "minter_allowance": str(self.minter_allowance),
            "decimals": self.decimals,
            "symbol": self.symbol,
        }


@dataclass(frozen=True)
class StatusReport:
    """The state of the whole stack at one block."""

    block: int
    timestamp: int
    token: str
    name: str
    symbol: str
    decimals: int
    total_supply: int
    supply_cap: int
    reserves: Reserves
    max_attestation_age: int
    paused: bool
    limits_enabled: bool
    allowlist_enabled: bool
    minters: Mapping[str, int]
    roles: Mapping[str, Mapping[str, list[str]]]
    frozen: Mapping[str, tuple[bool, int]]
    desk: str | None = None
    desk_policy: DeskPolicy | None = None
    pending_requests: int | None = None
    timelock: str | None = None
    timelock_min_delay: int | None = None
    tier_limits: tuple[TierLimits, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reserves_age(self) -> int:
        """Seconds since the attestation's as-of date (what the token compares with the max age)."""
        return max(0, self.timestamp - self.reserves.as_of)

    @property
    def attestation_stale(self) -> bool:
        return self.reserves.as_of == 0 or self.reserves_age > self.max_attestation_age

    @property
    def collateralisation(self) -> Decimal | None:
        """Reserves / supply (None while nothing is minted)."""
        if self.total_supply == 0:
            return None
        return Decimal(self.reserves.amount) / Decimal(self.total_supply)

    @property
    def mint_headroom(self) -> int:
        """How much more can be minted now: min(cap, reserves) - supply, 0 when stale or paused."""
        if self.paused or self.attestation_stale:
            return 0
        return max(0, min(self.supply_cap, self.reserves.amount) - self.total_supply)

    def fmt(self, units: int) -> str:
        return f"{format_amount(units, decimals=self.decimals)} {self.symbol}"

    def to_json(self) -> dict[str, Any]:
        ratio = self.collateralisation
        return {
            "block": self.block,
            "timestamp": self.timestamp,
            "token": {"address": self.token, "name": self.name, "symbol": self.symbol, "decimals": self.decimals},
            "total_supply": str(self.total_supply),
            "supply_cap": str(self.supply_cap),
            "reserves": {
                "amount": str(self.reserves.amount),
                "as_of": self.reserves.as_of,
                "report_hash": "0x" + self.reserves.report_hash.hex(),
                "attested_at": self.reserves.attested_at,
                "age_seconds": self.reserves_age,
                "max_age_seconds": self.max_attestation_age,
                "stale": self.attestation_stale,
            },
            "collateralisation": None if ratio is None else str(ratio.quantize(Decimal("0.0001"))),
            "collateralisation_percent": (
                None if ratio is None else str((ratio * 100).quantize(Decimal("0.01")))
            ),
            "mint_headroom": str(self.mint_headroom),
            "paused": self.paused,
            "limits_enabled": self.limits_enabled,
            "allowlist_enabled": self.allowlist_enabled,
            "minters": {m: str(a) for m, a in self.minters.items()},
            "roles": {c: {r: list(h) for r, h in roles.items()} for c, roles in self.roles.items()},
            "frozen": {
                a: {"fully_frozen": full, "frozen_amount": str(amount)} for a, (full, amount) in self.frozen.items()
            },
            "tier_limits": [
                {"tier": t.tier, "max_balance": _limit_json(t.max_balance), "max_daily_outflow": _limit_json(t.max_daily_outflow)}
                for t in self.tier_limits
            ],
            "desk": None if self.desk is None else {
                "address": self.desk,
                "pending_requests": self.pending_requests,
                "policy": None if self.desk_policy is None else {
                    "threshold": str(self.desk_policy.threshold),
                    "approvals_required": self.desk_policy.approvals_required,
                    "daily_direct_limit": str(self.desk_policy.daily_direct_limit),
                    "request_ttl": self.desk_policy.request_ttl,
                },
            },
            "timelock": None if self.timelock is None else {
                "address": self.timelock, "min_delay": self.timelock_min_delay,
            },
        }


def balance(stack: Stack, account: str) -> BalanceReport:
    """Balance, frozen and available amounts, tier and minter allowance of ``account``."""
    from ..amounts import parse_address

    addr = parse_address(account, what="account")
    token = stack.token
    block = int(stack.w3.eth.block_number)
    minter = token.is_minter(addr, block=block)
    return BalanceReport(
        account=addr,
        block=block,
        balance=token.balance_of(addr, block=block),
        frozen_amount=token.frozen_balance_of(addr, block=block),
        available=token.available_balance_of(addr, block=block),
        fully_frozen=token.is_frozen(addr, block=block),
        tier=token.tier_of(addr, block=block),
        is_minter=minter,
        minter_allowance=token.minter_allowance(addr, block=block) if minter else 0,
        decimals=token.decimals,
        symbol=token.symbol,
    )


def roles_list(stack: Stack, *, block: int | None = None) -> dict[str, dict[str, list[str]]]:
    """Role holders of each contract of the stack (from events, confirmed with ``hasRole``)."""
    head = int(stack.w3.eth.block_number) if block is None else block
    return {h.name: h.role_holders(to_block=head) for h in stack.handles()}


def status(stack: Stack, *, tiers: range = range(0, 4)) -> StatusReport:
    """Supply, reserves and their age, collateralisation, cap, pause, minters, roles, frozen accounts."""
    token: Token = stack.token
    head = stack.w3.eth.get_block("latest")
    block = int(head["number"])
    desk, timelock = stack.desk, stack.timelock
    return StatusReport(
        block=block,
        timestamp=int(head["timestamp"]),
        token=token.address,
        name=str(token.view("name", block=block)),
        symbol=token.symbol,
        decimals=token.decimals,
        total_supply=token.total_supply(block=block),
        supply_cap=token.supply_cap(block=block),
        reserves=token.reserves(block=block),
        max_attestation_age=token.max_attestation_age(block=block),
        paused=token.paused(block=block),
        limits_enabled=token.limits_enabled(block=block),
        allowlist_enabled=token.allowlist_enabled(block=block),
        minters=token.minters(to_block=block),
        roles=roles_list(stack, block=block),
        frozen=token.frozen_accounts(to_block=block),
        tier_limits=tuple(token.tier_limits(t, block=block) for t in tiers),
        desk=None if desk is None else desk.address,
        desk_policy=None if desk is None else desk.policy(block=block),
        pending_requests=None if desk is None else len(desk.pending_ids(block=block)),
        timelock=None if timelock is None else timelock.address,
        timelock_min_delay=None if timelock is None else timelock.min_delay(block=block),
    )


@dataclass(frozen=True)
class PendingRequest:
    """A pending desk request with whether it has expired (it can no longer run) and is ready."""

    request: DeskRequest
    expired: bool
    ready: bool

    def to_json(self, decimals: int) -> dict[str, Any]:
        r = self.request
        return {
            "id": r.id,
            "kind": r.kind.lower(),
            "maker": r.maker,
            "to": r.to if r.kind == "Mint" else None,
            "amount": str(r.amount),
            "amount_text": format_amount(r.amount, decimals=decimals),
            "ref": "0x" + r.ref.hex(),
            "ref_text": ref_text(r.ref),
            "approvals": r.approvals,
            "approvals_needed": r.approvals_needed,
            "expires_at": r.expires_at,
            "expires_at_iso": _dt.datetime.fromtimestamp(r.expires_at, _dt.UTC).isoformat().replace("+00:00", "Z"),
            "expired": self.expired,
            "ready_to_execute": self.ready,
        }


def mint_requests(stack: Stack, *, kind: str | None = "Mint") -> list[PendingRequest]:
    """Pending desk requests (mint by default; ``kind=None`` for mints and burns), oldest id first."""
    desk = stack.require_desk()
    if kind not in (None, "Mint", "Burn"):
        raise UserInputError(f"unknown request kind {kind!r}", hint="Mint or Burn")
    head = stack.w3.eth.get_block("latest")
    block, now = int(head["number"]), int(head["timestamp"])
    out: list[PendingRequest] = []
    for rid in sorted(desk.pending_ids(block=block)):
        req = desk.request(rid, block=block)
        if kind is not None and req.kind != kind:
            continue
        expired = now > req.expires_at
        out.append(PendingRequest(req, expired, ready=not expired and req.approvals >= req.approvals_needed))
    return out


def ref_text(ref: bytes) -> str:
    """A ``bytes32`` ref as it was typed when it is short printable text, else its ``0x`` hex."""
    stripped = ref.rstrip(b"\0")
    try:
        text = stripped.decode()
    except UnicodeDecodeError:
        return "0x" + ref.hex()
    if stripped and text.isprintable() and b"\0" not in stripped:
        return text
    return "0x" + ref.hex()


def _limit_json(value: int) -> str:
    return "unlimited" if value >= UNLIMITED else str(value)

"""Typed Python wrappers around the deployed stack: the PilotRupee token, the MintDesk and the timelock.

Each wrapper holds an explicit ``Web3``, an address and the contract's ABI. It offers

* **views** that return Python values (ints, checksummed addresses, small frozen dataclasses), read at
  ``latest`` or at an explicit block;
* **builders** that return a :class:`Call` (target, function, arguments and ABI-encoded call data) for
  each state-changing operation; nothing here signs or sends: :mod:`pkr_pilot.ops` does that through
  :class:`~pkr_pilot.tx.Sender`;
* an **event scanner** that pages ``eth_getLogs`` over large block ranges and decodes the logs, with
  an optional :class:`EventCache` so a full-history read only scans the blocks added since last time.

:func:`stack_decoder` builds one :class:`~pkr_pilot.decode.ErrorDecoder` from every ABI of the stack so
a revert anywhere (the desk calling the token, the timelock calling the token) reads like
``FrozenAccount(account=0x…)``.

>>> role_id("DEFAULT_ADMIN_ROLE") == bytes(32)
True
>>> role_name(role_id("freezer"))
'FREEZER_ROLE'
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .decode import ErrorDecoder, revert_data_from_exception
from .errors import ChainError, UserInputError

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "DESK_ROLES",
    "TIMELOCK_ROLES",
    "TOKEN_ROLES",
    "UNLIMITED",
    "Call",
    "ContractHandle",
    "DecodedEvent",
    "Desk",
    "DeskPolicy",
    "DeskRequest",
    "EventCache",
    "Reserves",
    "Stack",
    "TierLimits",
    "Timelock",
    "Token",
    "role_id",
    "role_name",
    "scan_events",
    "stack_decoder",
]

#: Roles of the token, in the order operators usually read them.
TOKEN_ROLES: tuple[str, ...] = (
    "DEFAULT_ADMIN_ROLE",
    "MINTER_ADMIN_ROLE",
    "PAUSER_ROLE",
    "UNPAUSER_ROLE",
    "FREEZER_ROLE",
    "SEIZER_ROLE",
    "ATTESTOR_ROLE",
    "BURNER_ROLE",
    "RESCUER_ROLE",
    "UPGRADER_ROLE",
    "KYC_ROLE",
)
DESK_ROLES: tuple[str, ...] = ("DEFAULT_ADMIN_ROLE", "MAKER_ROLE", "CHECKER_ROLE")
TIMELOCK_ROLES: tuple[str, ...] = (
    "DEFAULT_ADMIN_ROLE",
    "PROPOSER_ROLE",
    "EXECUTOR_ROLE",
    "CANCELLER_ROLE",
)

#: ``type(uint128).max``: the token's "unlimited" tier limit.
UNLIMITED = 2**128 - 1

_ZERO32 = bytes(32)
#: Blocks per ``eth_getLogs`` request; halved automatically when a node refuses a range.
DEFAULT_LOG_PAGE = 5_000
#: Blocks behind the head that an event cache never stores (they could still be reorganised).
REORG_MARGIN = 64
#: Events an event cache does not keep: frequent, and not needed by operations or status.
UNCACHED_EVENTS = frozenset({"Transfer", "Approval", "AuthorizationUsed"})


def role_id(name: str) -> bytes:
    """The ``bytes32`` id of a role name (``DEFAULT_ADMIN_ROLE`` is zero, others ``keccak256(name)``)."""
    from eth_utils.crypto import keccak

    canonical = _canonical_role(name)
    if canonical == "DEFAULT_ADMIN_ROLE":
        return _ZERO32
    return bytes(keccak(text=canonical))


def role_name(role: bytes, known: Iterable[str] = TOKEN_ROLES + DESK_ROLES + TIMELOCK_ROLES) -> str:
    """The name of a role id among ``known``, or its ``0x`` hex when unknown."""
    for name in known:
        if role_id(name) == role:
            return name
    return "0x" + role.hex()


def _canonical_role(name: str) -> str:
    """``minter-admin``, ``MINTER_ADMIN`` and ``MINTER_ADMIN_ROLE`` all mean ``MINTER_ADMIN_ROLE``."""
    text = name.strip().upper().replace("-", "_")
    if text in ("ADMIN", "DEFAULT_ADMIN"):
        return "DEFAULT_ADMIN_ROLE"
    return text if text.endswith("_ROLE") else f"{text}_ROLE"


@dataclass(frozen=True)
class Call:
    """One state-changing contract call, ready for :class:`~pkr_pilot.tx.Sender` (not yet signed)."""

    #: Checksummed target address.
    target: str
    #: Contract name, for messages (``PilotRupee``, ``MintDesk`` …).
    contract: str
    #: Function name (``mint``).
    function: str
    #: Canonical signature (``mint(address,uint256,bytes32)``).
    signature: str
    #: Arguments by ABI name, as encoded.
    args: Mapping[str, Any]
    data: bytes
    value: int = 0

    def tx(self) -> dict[str, Any]:
        """The transaction fields that identify this call (``to``, ``data``, ``value``)."""
        return {"to": self.target, "data": "0x" + self.data.hex(), "value": self.value}

    def describe(self) -> str:
        """``PilotRupee.mint(to=0x…, amount=125050, ref=0x…)`` for logs and confirmations."""
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in self.args.items())
        return f"{self.contract}.{self.function}({rendered})"


@dataclass(frozen=True)
class DecodedEvent:
    """A decoded log: event name, arguments (addresses checksummed) and where it was emitted."""

    name: str
    args: Mapping[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class Reserves:
    """The token's last reserve attestation."""

    amount: int
    as_of: int
    report_hash: bytes
    attested_at: int


@dataclass(frozen=True)
class TierLimits:
    """Limits of one wallet tier (``UNLIMITED`` means no limit)."""

    tier: int
    max_balance: int
    max_daily_outflow: int


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


# --------------------------------------------------------------------------- generic handle


class ContractHandle:
    """A deployed contract: address, ABI, views, call builders and event scanning."""

    #: Role names this contract knows (for ``roles list``).
    ROLES: tuple[str, ...] = ()

    def __init__(
        self,
        w3: Web3,
        address: str,
        abi: Sequence[Mapping[str, Any]],
        *,
        name: str,
        from_block: int = 0,
        decoder: ErrorDecoder | None = None,
        cache: EventCache | None = None,
    ) -> None:
        from eth_utils.address import to_checksum_address

        self.w3 = w3
        #: Where scanned events are kept between runs (None: scan the chain every time).
        self.cache = cache
        self.address: str = str(to_checksum_address(address))
        self.abi = list(abi)
        self.name = name
        #: First block worth scanning for this contract's events (its deployment block).
        self.from_block = from_block
        self.decoder = decoder or ErrorDecoder([self.abi])
        self._functions: dict[str, Mapping[str, Any]] = {}
        self._events: dict[bytes, Mapping[str, Any]] = {}
        overloaded: set[str] = set()
        for item in self.abi:
            if item.get("type") == "function":
                fname = str(item["name"])
                if fname in self._functions:
                    overloaded.add(fname)
                self._functions[fname] = item
            elif item.get("type") == "event" and not item.get("anonymous"):
                self._events[_event_topic(item)] = item
        for fname in overloaded:  # only the non-overloaded functions are addressable by name
            del self._functions[fname]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    # -- encoding --------------------------------------------------------------------------
    def has_function(self, name: str) -> bool:
        return name in self._functions

    def build(self, function: str, *args: Any) -> Call:
        """Encode a call of ``function`` with positional ``args``."""
        from eth_abi.abi import encode

        item = self._function(function)
        types = [_canonical_type(i) for i in item.get("inputs", [])]
        names = [i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))]
        if len(args) != len(types):
            raise TypeError(f"{function} takes {len(types)} arguments, got {len(args)}")
        signature = f"{function}({','.join(types)})"
        data = _selector(signature) + encode(types, list(args))
        return Call(
            target=self.address,
            contract=self.name,
            function=function,
            signature=signature,
            args=dict(zip(names, args, strict=True)),
            data=data,
        )

    def view(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """``eth_call`` a view; one output is returned bare, several as a tuple."""
        from eth_abi.abi import decode

        call = self.build(function, *args)
        try:
            raw = bytes(self.w3.eth.call({"to": self.address, "data": call.tx()["data"]}, block))  # type: ignore[arg-type, typeddict-item]
        except Exception as exc:
            data = revert_data_from_exception(exc)
            if data is not None and ("revert" in str(exc).lower() or len(data) >= 4):
                raise self.decoder.decode(data, action=f"{self.name}.{function}") from None
            raise ChainError(
                f"{self.name}.{function} at {self.address} could not be read: {exc}",
                hint="check --network and that the deployment record matches this chain",
            ) from None
        outputs = self._function(function).get("outputs", [])
        types = [_canonical_type(o) for o in outputs]
        if not raw and types:
            raise ChainError(
                f"{self.name}.{function} at {self.address} returned nothing",
                hint="is there a contract at this address on this chain? check --network",
            )
        values = decode(types, raw)
        values = tuple(_normalise(o, v) for o, v in zip(outputs, values, strict=True))
        return values[0] if len(values) == 1 else values

    def decode_output(self, function: str, raw: bytes) -> Any:
        """Decode the return data of ``function`` (None when it returns nothing)."""
        from eth_abi.abi import decode

        outputs = self._function(function).get("outputs", [])
        if not outputs or not raw:
            return None
        values = decode([_canonical_type(o) for o in outputs], raw)
        values = tuple(_normalise(o, v) for o, v in zip(outputs, values, strict=True))
        return values[0] if len(values) == 1 else values

    # -- roles -----------------------------------------------------------------------------
    def has_role(self, role: str | bytes, account: str, *, block: int | str = "latest") -> bool:
        return bool(self.view("hasRole", _role_bytes(role), account, block=block))

    def grant_role(self, role: str | bytes, account: str) -> Call:
        return self.build("grantRole", _role_bytes(role), account)

    def revoke_role(self, role: str | bytes, account: str) -> Call:
        return self.build("revokeRole", _role_bytes(role), account)

    def role_holders(self, *, to_block: int | None = None) -> dict[str, list[str]]:
        """Holders of each role, from ``RoleGranted``/``RoleRevoked`` events, checked with ``hasRole``.

        AccessControl has no enumeration, so the events are the only list; every candidate is then
        confirmed against ``hasRole`` at the same block, so a missed or out-of-order log cannot show a
        holder that no longer holds the role.
        """
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        candidates: dict[bytes, dict[str, None]] = {}
        for ev in self.events(("RoleGranted", "RoleRevoked"), to_block=head):
            candidates.setdefault(bytes(ev.args["role"]), {})[str(ev.args["account"])] = None
        out: dict[str, list[str]] = {}
        for role, accounts in candidates.items():
            holders = [a for a in accounts if self.has_role(role, a, block=head)]
            if holders:
                out[role_name(role, self.ROLES or TOKEN_ROLES + DESK_ROLES + TIMELOCK_ROLES)] = holders
        return out

    # -- events ----------------------------------------------------------------------------
    def events(
        self,
        names: Iterable[str] | None = None,
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        page: int = DEFAULT_LOG_PAGE,
    ) -> list[DecodedEvent]:
        """Decoded events of this contract (all kinds, or ``names``), oldest first.

        With an :class:`EventCache`, a full-history read scans only the blocks added since the
        last run (up to ``REORG_MARGIN`` blocks behind the head); the recent blocks are always read
        live. Transfers and approvals are never cached (they are many and nothing here needs them).
        """
        wanted = set(names) if names is not None else None
        topics = [t for t, item in self._events.items() if wanted is None or item["name"] in wanted]
        if wanted is not None:
            unknown = wanted - {str(self._events[t]["name"]) for t in topics}
            if unknown:
                raise KeyError(f"{self.name} has no event(s) {sorted(unknown)}")
        start = self.from_block if from_block is None else from_block
        cacheable = {t: e for t, e in self._events.items() if e["name"] not in UNCACHED_EVENTS}
        if self.cache is None or start != self.from_block or not set(topics) <= set(cacheable):
            return scan_events(
                self.w3, [self.address], {t: self._events[t] for t in topics},
                from_block=start, to_block=to_block, page=page,
            )
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        cached, scanned_to = self.cache.read(self, cacheable)
        settled = head - REORG_MARGIN
        if settled > scanned_to:
            cached += scan_events(
                self.w3, [self.address], cacheable, from_block=scanned_to + 1, to_block=settled, page=page
            )
            scanned_to = settled
            self.cache.write(self, cacheable, cached, scanned_to)
        recent = scan_events(
            self.w3, [self.address], {t: self._events[t] for t in topics},
            from_block=max(scanned_to + 1, start), to_block=head, page=page,
        )
        names_wanted = {str(self._events[t]["name"]) for t in topics}
        return [e for e in cached if e.block_number <= head and e.name in names_wanted] + recent

    def decode_receipt(self, receipt: Mapping[str, Any]) -> list[DecodedEvent]:
        """This contract's events in a receipt."""
        out: list[DecodedEvent] = []
        for log in receipt.get("logs", []):
            if str(log["address"]).lower() != self.address.lower() or not log["topics"]:
                continue
            item = self._events.get(bytes(log["topics"][0]))
            if item is not None:
                out.append(_decode_log(self.w3, item, log))
        return out

    # -- internals -------------------------------------------------------------------------
    def _function(self, name: str) -> Mapping[str, Any]:
        try:
            return self._functions[name]
        except KeyError:
            raise ChainError(
                f"{self.name} at {self.address} has no function {name!r} in its ABI",
                hint="the deployment record may be from an older build; redeploy or upgrade",
            ) from None


# --------------------------------------------------------------------------- token


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


# --------------------------------------------------------------------------- desk


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


# --------------------------------------------------------------------------- timelock


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


# --------------------------------------------------------------------------- the stack


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
        return cls(
            token=Token(w3, token[0], token[1], from_block=token[2], **common),
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


# --------------------------------------------------------------------------- event cache


class EventCache:
    """Decoded events kept between runs, one JSON file per contract: ``<folder>/<address>.json``.

    A cache, never a source of truth: a file that is unreadable, from another schema, chain or
    contract, or whose last scanned block no longer has the recorded hash (a reorganisation deeper
    than ``REORG_MARGIN``, or a dev chain that was reset) is dropped and rebuilt from the chain.
    Written atomically (temporary file, ``os.replace``).
    """

    SCHEMA = "pkr-pilot.event-cache"
    VERSION = 1

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, handle: ContractHandle) -> Path:
        return self.folder / f"{handle.address}.json"

    def read(
        self, handle: ContractHandle, events: Mapping[bytes, Mapping[str, Any]]
    ) -> tuple[list[DecodedEvent], int]:
        """The cached events and the last block they cover (``from_block - 1`` when empty)."""
        from web3.exceptions import BlockNotFound

        empty: tuple[list[DecodedEvent], int] = ([], handle.from_block - 1)
        try:
            data = json.loads(self.path(handle).read_text())
        except (OSError, ValueError):
            return empty
        try:
            if (
                data.get("schema") != self.SCHEMA
                or data.get("v") != self.VERSION
                or data.get("address") != handle.address
                or int(data["from_block"]) != handle.from_block
            ):
                return empty
            scanned_to = int(data["scanned_to"])
            block = handle.w3.eth.get_block(scanned_to)
            if "0x" + bytes(block["hash"]).hex() != data.get("scanned_to_hash"):
                return empty
            by_name = {str(e["name"]): e for e in events.values()}
            out = [_event_from_json(item, by_name[item["name"]]) for item in data["events"]]
        except (KeyError, TypeError, ValueError, BlockNotFound):  # malformed, or the block is gone
            return empty
        return out, scanned_to

    def write(
        self,
        handle: ContractHandle,
        events: Mapping[bytes, Mapping[str, Any]],
        decoded: Sequence[DecodedEvent],
        scanned_to: int,
    ) -> None:
        block = handle.w3.eth.get_block(scanned_to)
        data = {
            "schema": self.SCHEMA,
            "v": self.VERSION,
            "address": handle.address,
            "from_block": handle.from_block,
            "scanned_to": scanned_to,
            "scanned_to_hash": "0x" + bytes(block["hash"]).hex(),
            "events": [_event_to_json(e) for e in decoded],
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".events.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
            os.replace(tmp, self.path(handle))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _event_to_json(event: DecodedEvent) -> dict[str, Any]:
    return {
        "name": event.name,
        "args": {k: ("0x" + v.hex()) if isinstance(v, bytes) else v for k, v in event.args.items()},
        "address": event.address,
        "block": event.block_number,
        "tx": event.tx_hash,
        "index": event.log_index,
    }


def _event_from_json(item: Mapping[str, Any], abi: Mapping[str, Any]) -> DecodedEvent:
    types = {str(i["name"]): str(i["type"]) for i in abi.get("inputs", [])}
    args: dict[str, Any] = {}
    for key, value in item["args"].items():
        typ = types[key]
        if typ.startswith("bytes") and isinstance(value, str):
            args[key] = bytes.fromhex(value[2:])
        elif typ.startswith(("uint", "int")):
            args[key] = int(value)
        else:
            args[key] = value
    return DecodedEvent(
        name=str(item["name"]), args=args, address=str(item["address"]), block_number=int(item["block"]),
        tx_hash=str(item["tx"]), log_index=int(item["index"]),
    )


# --------------------------------------------------------------------------- logs


def scan_events(
    w3: Web3,
    addresses: Sequence[str],
    events_by_topic: Mapping[bytes, Mapping[str, Any]],
    *,
    from_block: int = 0,
    to_block: int | None = None,
    page: int = DEFAULT_LOG_PAGE,
) -> list[DecodedEvent]:
    """``eth_getLogs`` in pages of ``page`` blocks (halved when the node refuses), decoded."""
    if not events_by_topic:
        return []
    head = int(w3.eth.block_number) if to_block is None else to_block
    topic_filter = ["0x" + t.hex() for t in events_by_topic]
    out: list[DecodedEvent] = []
    start = from_block
    size = max(1, page)
    while start <= head:
        end = min(head, start + size - 1)
        try:
            logs = w3.eth.get_logs(
                {
                    "address": list(addresses),  # type: ignore[typeddict-item]
                    "fromBlock": start,
                    "toBlock": end,
                    "topics": [topic_filter],  # type: ignore[list-item]
                }
            )
        except Exception as exc:
            if size > 1 and _is_range_error(exc):
                size //= 2
                continue
            raise ChainError(f"reading logs {start}..{end} failed: {exc}") from None
        for log in logs:
            item = events_by_topic.get(bytes(log["topics"][0]))
            if item is not None:
                out.append(_decode_log(w3, item, log))
        start = end + 1
    out.sort(key=lambda e: (e.block_number, e.log_index))
    return out


def _is_range_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(k in text for k in ("range", "too many", "limit", "exceed", "10000", "query returned"))


def _decode_log(w3: Web3, item: Mapping[str, Any], log: Mapping[str, Any]) -> DecodedEvent:
    from web3._utils.events import get_event_data

    data = get_event_data(w3.codec, item, log)  # type: ignore[arg-type]
    args = {k: _normalise_value(v) for k, v in dict(data["args"]).items()}
    return DecodedEvent(
        name=str(data["event"]),
        args=args,
        address=str(log["address"]),
        block_number=int(log["blockNumber"]),
        tx_hash="0x" + bytes(log["transactionHash"]).hex(),
        log_index=int(log["logIndex"]),
    )


# --------------------------------------------------------------------------- helpers


def _role_bytes(role: str | bytes) -> bytes:
    if isinstance(role, bytes):
        return role
    if role.startswith("0x") and len(role) == 66:
        return bytes.fromhex(role[2:])
    return role_id(role)


def _selector(signature: str) -> bytes:
    from eth_utils.crypto import keccak

    return bytes(keccak(text=signature)[:4])


def _event_topic(item: Mapping[str, Any]) -> bytes:
    from eth_utils.crypto import keccak

    types = ",".join(_canonical_type(i) for i in item.get("inputs", []))
    return bytes(keccak(text=f"{item['name']}({types})"))


def _canonical_type(param: Mapping[str, Any]) -> str:
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){typ[5:]}"
    return typ


def _normalise(param: Mapping[str, Any], value: Any) -> Any:
    """Checksum addresses (also inside tuples and arrays)."""
    from eth_utils.address import to_checksum_address

    typ = str(param["type"])
    if typ == "address":
        return str(to_checksum_address(value))
    if typ.startswith("tuple") and not typ.endswith("]"):
        return tuple(
            _normalise(c, v) for c, v in zip(param.get("components", []), value, strict=True)
        )
    return value


def _normalise_value(value: Any) -> Any:
    from eth_utils.address import is_hex_address, to_checksum_address

    if isinstance(value, str) and is_hex_address(value):
        return str(to_checksum_address(value))
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return value


def _render(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)

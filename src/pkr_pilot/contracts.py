"""Typed Python wrappers around the deployed stack: the PilotRupee token, the MintDesk and the timelock.

Each wrapper holds an explicit ``Web3``, an address and the contract's ABI. It offers

* **views** that return Python values (ints, checksummed addresses, small frozen dataclasses), read at
  ``latest`` or at an explicit block;
* **builders** that return a :class:`Call` (target, function, arguments and ABI-encoded call data) for
  each state-changing operation; nothing here signs or sends: :mod:`pkr_pilot.ops` does that through
  :class:`~pkr_pilot.tx.Sender`;
* an **event scanner** that pages ``eth_getLogs`` over large block ranges and decodes the logs, with
  an optional :class:`EventCache` so a full-history read only scans the blocks added since last time;
  :meth:`ContractHandle.find_events` looks for particular events (one account's, one ref's) and
  decodes only the logs that can match: indexed arguments filtered by the node, the others compared
  in the raw log data.

:func:`stack_decoder` builds one :class:`~pkr_pilot.decode.ErrorDecoder` from every ABI of the stack so
a revert anywhere (the desk calling the token, the timelock calling the token) reads like
``FrozenAccount(account=0x…)``.

>>> role_id("DEFAULT_ADMIN_ROLE") == bytes(32)
True
>>> role_name(role_id("freezer"))
'FREEZER_ROLE'
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import atomic_write_json
from .decode import ErrorDecoder, revert_data_from_exception
from .errors import ChainError, UserInputError
from .transport import RpcError, Transport, transport_for

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "DESK_ROLES",
    "TIMELOCK_ROLES",
    "TOKEN_ROLES",
    "UNLIMITED",
    "CachedEvents",
    "Call",
    "ContractHandle",
    "DecodedEvent",
    "Desk",
    "DeskPolicy",
    "DeskRequest",
    "EventCache",
    "LogStats",
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


@dataclass
class LogStats:
    """Running counts of a handle's log reads (diagnostics; tests count decoded logs through it)."""

    #: ``eth_getLogs`` requests sent.
    requests: int = 0
    #: Logs the node returned.
    received: int = 0
    #: Logs decoded (the costly part: 1 to 2 ms each).
    decoded: int = 0


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
        #: What this handle's event reads cost: ``eth_getLogs`` requests, logs received, logs decoded.
        self.stats = LogStats()
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
        To look for particular events (one account's, one ref's) use :meth:`find_events`.
        """
        wanted = set(names) if names is not None else None
        topics = [t for t, item in self._events.items() if wanted is None or item["name"] in wanted]
        if wanted is not None:
            unknown = wanted - {str(self._events[t]["name"]) for t in topics}
            if unknown:
                raise KeyError(f"{self.name} has no event(s) {sorted(unknown)}")
        start = self.from_block if from_block is None else from_block
        selected = {t: self._events[t] for t in topics}
        cache = self._cache_for(start, selected)
        if cache is None:
            return scan_events(
                self.w3, [self.address], selected, from_block=start, to_block=to_block, page=page,
                stats=self.stats,
            )
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        cached = self._synced_cache(cache, head, page)
        recent = scan_events(
            self.w3, [self.address], selected,
            from_block=max(cached.scanned_to + 1, start), to_block=head, page=page, stats=self.stats,
        )
        names_wanted = {str(item["name"]) for item in selected.values()}
        return [e for e in cached.select(names_wanted) if e.block_number <= head] + recent

    def find_events(
        self,
        name: str,
        match: Mapping[str, Any],
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        page: int = DEFAULT_LOG_PAGE,
    ) -> list[DecodedEvent]:
        """The ``name`` events whose arguments equal ``match``, oldest first.

        The same answer as ``[e for e in events((name,)) if all(e.args.get(k) == v ...)]``, without
        decoding the whole history: indexed arguments in ``match`` are filtered by the node (log
        topics), the other fixed-size arguments are compared in the raw log data, and only the logs
        that pass are decoded (then compared once more, decoded). With an :class:`EventCache` the
        cached part is looked up through an in-memory index on the indexed arguments.

        >>> token.find_events("TierSet", {"account": "0xAbc…", "ref": ref})  # doctest: +SKIP
        """
        topic0 = next((t for t, item in self._events.items() if item["name"] == name), None)
        if topic0 is None:
            raise KeyError(f"{self.name} has no event {name!r}")
        item = self._events[topic0]
        log_filter = _LogFilter(item, match)
        start = self.from_block if from_block is None else from_block
        selected = {topic0: item}
        cache = self._cache_for(start, selected)
        if cache is None:
            scanned = scan_events(
                self.w3, [self.address], selected, from_block=start, to_block=to_block, page=page,
                topics=log_filter.topics, accept=log_filter.accepts, stats=self.stats,
            )
            return [e for e in scanned if log_filter.matches(e)]
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        cached = self._synced_cache(cache, head, page)
        recent = scan_events(
            self.w3, [self.address], selected, from_block=max(cached.scanned_to + 1, start), to_block=head,
            page=page, topics=log_filter.topics, accept=log_filter.accepts, stats=self.stats,
        )
        found = [e for e in cached.find(name, match, log_filter.indexed) if e.block_number <= head]
        return [e for e in found + recent if log_filter.matches(e)]

    def _cache_for(self, start: int, selected: Mapping[bytes, Mapping[str, Any]]) -> EventCache | None:
        """The event cache, when it can answer a read of ``selected`` events from ``start``."""
        if start != self.from_block or any(item["name"] in UNCACHED_EVENTS for item in selected.values()):
            return None
        return self.cache

    def _synced_cache(self, cache: EventCache, head: int, page: int) -> CachedEvents:
        """The cached events, first extended to ``head - REORG_MARGIN`` (scanning only the new blocks)."""
        cacheable = {t: e for t, e in self._events.items() if e["name"] not in UNCACHED_EVENTS}
        cached = cache.load(self, cacheable)
        settled = head - REORG_MARGIN
        if settled > cached.scanned_to:
            new = scan_events(
                self.w3, [self.address], cacheable, from_block=cached.scanned_to + 1, to_block=settled,
                page=page, stats=self.stats,
            )
            cached = cache.extend(self, cached, new, settled)
        return cached

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


# --------------------------------------------------------------------------- event cache


class CachedEvents:
    """One contract's cached events up to ``scanned_to``, with lookups by an indexed argument.

    Held in memory by :class:`EventCache` between reads (a snapshot: extending the cache makes a
    new one). Events read from the cache file stay in their stored (JSON) form until something asks
    for them, and ``find`` answers from a per-``(event, argument)`` index built on first use: a
    lookup converts only the events it returns, whatever the history holds.
    """

    def __init__(self, events: Sequence[DecodedEvent], scanned_to: int, scanned_to_hash: str) -> None:
        self.scanned_to = scanned_to
        self.scanned_to_hash = scanned_to_hash
        #: Each event decoded, or as stored in the file (converted, and kept, when first needed).
        self._items: list[DecodedEvent | Mapping[str, Any]] = list(events)
        self._abis: Mapping[str, Mapping[str, Any]] = {}
        self._by_name: dict[str, list[int]] | None = None
        self._by_arg: dict[tuple[str, str], dict[Any, list[int]]] = {}

    @classmethod
    def from_stored(
        cls,
        items: Sequence[Mapping[str, Any]],
        abis: Mapping[str, Mapping[str, Any]],
        scanned_to: int,
        scanned_to_hash: str,
    ) -> CachedEvents:
        """Events in their stored form (``_event_to_json``), converted lazily with the event ABIs ``abis``."""
        names = {name: {str(i["name"]) for i in abi.get("inputs", [])} for name, abi in abis.items()}
        for item in items:  # the shape is checked now; a file that fails is dropped by the caller
            if (
                not isinstance(item, Mapping)
                or not _STORED_KEYS <= item.keys()
                or item["name"] not in names
                or not isinstance(item["args"], Mapping)
                or not item["args"].keys() <= names[item["name"]]
            ):
                raise ValueError("malformed cached event")
        out = cls((), scanned_to, scanned_to_hash)
        out._items = list(items)
        out._abis = abis
        return out

    def __len__(self) -> int:
        return len(self._items)

    @property
    def converted(self) -> int:
        """How many events are held decoded (the others are still in their stored form)."""
        return sum(1 for item in self._items if isinstance(item, DecodedEvent))

    @property
    def events(self) -> tuple[DecodedEvent, ...]:
        """Every cached event, oldest first."""
        return tuple(self._event(i) for i in range(len(self._items)))

    def select(self, names: Iterable[str]) -> list[DecodedEvent]:
        """The events named ``names``, oldest first (only those are converted)."""
        by_name = self._names()
        positions = sorted(n for name in set(names) for n in by_name.get(name, []))
        return [self._event(n) for n in positions]

    def stored(self) -> list[Mapping[str, Any]]:
        """Every event in its stored (JSON) form."""
        return [item if isinstance(item, Mapping) else _event_to_json(item) for item in self._items]

    def find(self, name: str, match: Mapping[str, Any], indexed: Iterable[str] = ()) -> list[DecodedEvent]:
        """The ``name`` events whose arguments equal ``match``, oldest first.

        ``indexed`` names the arguments worth an index (the event's indexed ones); the first of them
        present in ``match`` with a hashable value selects the candidates.
        """
        positions: Sequence[int] | None = None
        for arg in indexed:
            if arg in match:
                try:
                    positions = self._index(name, arg).get(_index_key(match[arg]), [])
                except TypeError:  # an unhashable value: compare one by one
                    continue
                break
        if positions is None:
            positions = self._names().get(name, [])
        out: list[DecodedEvent] = []
        for n in positions:
            item = self._items[n]
            if not isinstance(item, DecodedEvent):  # compare the stored form before converting
                stored = item["args"]
                if not all(_may_equal(stored.get(k), v) for k, v in match.items()):
                    continue
            event = self._event(n)
            if all(event.args.get(k) == v for k, v in match.items()):
                out.append(event)
        return out

    def extended(self, new: Sequence[DecodedEvent], scanned_to: int, scanned_to_hash: str) -> CachedEvents:
        """A snapshot with ``new`` appended (indexes already built are carried over and extended)."""
        out = CachedEvents((), scanned_to, scanned_to_hash)
        base = len(self._items)
        out._items = self._items + list(new)
        out._abis = self._abis
        if self._by_name is not None:
            out._by_name = {k: list(v) for k, v in self._by_name.items()}
            for n, e in enumerate(new, start=base):
                out._by_name.setdefault(e.name, []).append(n)
        for (name, arg), index in self._by_arg.items():
            copy = {k: list(v) for k, v in index.items()}
            for n, e in enumerate(new, start=base):
                if e.name == name and arg in e.args:
                    copy.setdefault(_index_key(e.args[arg]), []).append(n)
            out._by_arg[(name, arg)] = copy
        return out

    def _event(self, position: int) -> DecodedEvent:
        item = self._items[position]
        if isinstance(item, DecodedEvent):
            return item
        event = _event_from_json(item, self._abis[str(item["name"])])
        self._items[position] = event
        return event

    def _names(self) -> dict[str, list[int]]:
        if self._by_name is None:
            by_name: dict[str, list[int]] = {}
            for n, item in enumerate(self._items):
                name = item.name if isinstance(item, DecodedEvent) else str(item["name"])
                by_name.setdefault(name, []).append(n)
            self._by_name = by_name
        return self._by_name

    def _index(self, name: str, arg: str) -> dict[Any, list[int]]:
        """Positions of the ``name`` events by the stored form of argument ``arg``."""
        index = self._by_arg.get((name, arg))
        if index is None:
            index = {}
            for n in self._names().get(name, []):
                item = self._items[n]
                args = item.args if isinstance(item, DecodedEvent) else item["args"]
                if arg in args:
                    index.setdefault(_index_key(args[arg]), []).append(n)
            self._by_arg[(name, arg)] = index
        return index


def _may_equal(stored: Any, value: Any) -> bool:
    """False only when a stored argument surely does not decode to ``value`` (see ``_event_from_json``)."""
    if isinstance(value, bytes):
        return not isinstance(stored, str) or stored.lower() == "0x" + value.hex()
    if isinstance(value, int) and isinstance(stored, int):
        return bool(stored == value)
    if isinstance(value, str) and isinstance(stored, str):
        return stored == value
    return True


_STORED_KEYS = frozenset({"name", "args", "address", "block", "tx", "index"})


def _index_key(value: Any) -> Any:
    """The index key of an argument, decoded or stored (bytes as ``0x`` hex, text in lower case).

    Equal arguments always get equal keys; an index hit is then compared decoded.
    """
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value.lower() if isinstance(value, str) else value


class EventCache:
    """Decoded events kept between runs, one JSON file per contract: ``<folder>/<address>.json``.

    A cache, never a source of truth: a file that is unreadable, from another schema, chain or
    contract, or whose last scanned block no longer has the recorded hash (a reorganisation deeper
    than ``REORG_MARGIN``, or a dev chain that was reset) is dropped and rebuilt from the chain.
    Written atomically (temporary file, ``os.replace``). Within a process the parsed file is kept in
    memory (:class:`CachedEvents`) and parsed again only when the file changed on disk; the last
    block's hash is checked against the chain on every load either way.
    """

    SCHEMA = "pkr-pilot.event-cache"
    VERSION = 1

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._memo: dict[tuple[str, int], tuple[tuple[int, int, int], CachedEvents]] = {}
        self._guard = threading.Lock()

    def path(self, handle: ContractHandle) -> Path:
        return self.folder / f"{handle.address}.json"

    def read(
        self, handle: ContractHandle, events: Mapping[bytes, Mapping[str, Any]]
    ) -> tuple[list[DecodedEvent], int]:
        """The cached events and the last block they cover (``from_block - 1`` when empty)."""
        cached = self.load(handle, events)
        return list(cached.events), cached.scanned_to

    def load(self, handle: ContractHandle, events: Mapping[bytes, Mapping[str, Any]]) -> CachedEvents:
        """The cached events (empty, covering up to ``from_block - 1``, when there is no usable file)."""
        from web3.exceptions import BlockNotFound

        empty = CachedEvents((), handle.from_block - 1, "")
        path = self.path(handle)
        key = (handle.address, handle.from_block)
        try:
            signature = _file_signature(path)
        except OSError:
            return empty
        with self._guard:
            memo = self._memo.get(key)
        if memo is not None and memo[0] == signature:
            cached = memo[1]
        else:
            parsed = self._parse(path, handle, events)
            if parsed is None:
                return empty
            cached = parsed
            with self._guard:
                self._memo[key] = (signature, cached)
        try:
            block = handle.w3.eth.get_block(cached.scanned_to)
        except BlockNotFound:
            return empty
        if "0x" + bytes(block["hash"]).hex() != cached.scanned_to_hash:
            return empty
        return cached

    def write(
        self,
        handle: ContractHandle,
        events: Mapping[bytes, Mapping[str, Any]],
        decoded: Sequence[DecodedEvent],
        scanned_to: int,
    ) -> None:
        """Replace the cache of ``handle`` with ``decoded``, covering up to ``scanned_to``."""
        self._store(handle, CachedEvents(decoded, scanned_to, self._block_hash(handle, scanned_to)))

    def extend(
        self, handle: ContractHandle, cached: CachedEvents, new: Sequence[DecodedEvent], scanned_to: int
    ) -> CachedEvents:
        """Store ``cached`` plus ``new`` (the blocks after ``cached.scanned_to`` up to ``scanned_to``)."""
        out = cached.extended(new, scanned_to, self._block_hash(handle, scanned_to))
        self._store(handle, out)
        return out

    def _store(self, handle: ContractHandle, cached: CachedEvents) -> None:
        data = {
            "schema": self.SCHEMA,
            "v": self.VERSION,
            "address": handle.address,
            "from_block": handle.from_block,
            "scanned_to": cached.scanned_to,
            "scanned_to_hash": cached.scanned_to_hash,
            "events": cached.stored(),
        }
        atomic_write_json(self.path(handle), data, indent=None)
        try:
            signature = _file_signature(self.path(handle))
        except OSError:
            return
        with self._guard:
            self._memo[(handle.address, handle.from_block)] = (signature, cached)

    def _parse(
        self, path: Path, handle: ContractHandle, events: Mapping[bytes, Mapping[str, Any]]
    ) -> CachedEvents | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        try:
            if (
                data.get("schema") != self.SCHEMA
                or data.get("v") != self.VERSION
                or data.get("address") != handle.address
                or int(data["from_block"]) != handle.from_block
            ):
                return None
            by_name = {str(e["name"]): e for e in events.values()}
            return CachedEvents.from_stored(
                data["events"], by_name, int(data["scanned_to"]), str(data["scanned_to_hash"])
            )
        except (AttributeError, KeyError, TypeError, ValueError):  # malformed
            return None

    @staticmethod
    def _block_hash(handle: ContractHandle, number: int) -> str:
        return "0x" + bytes(handle.w3.eth.get_block(number)["hash"]).hex()


def _file_signature(path: Path) -> tuple[int, int, int]:
    """What tells a changed file from the one parsed before: inode, size, modification time."""
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


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
    topics: Sequence[bytes | None] = (),
    accept: Callable[[bytes], bool] | None = None,
    stats: LogStats | None = None,
) -> list[DecodedEvent]:
    """``eth_getLogs`` in pages of ``page`` blocks (halved when the node refuses), decoded.

    ``topics`` filters the indexed arguments at the node (position ``i`` is topic ``i + 1``; None
    matches anything); ``accept`` sees each log's raw data first and only the logs it accepts are
    decoded. Logs are read as the node sends them (see :func:`_get_logs`).
    """
    if not events_by_topic:
        return []
    head = int(w3.eth.block_number) if to_block is None else to_block
    topic_filter: list[Any] = [["0x" + t.hex() for t in events_by_topic]]
    topic_filter += [None if t is None else "0x" + t.hex() for t in topics]
    while len(topic_filter) > 1 and topic_filter[-1] is None:
        topic_filter.pop()
    out: list[DecodedEvent] = []
    start = from_block
    size = max(1, page)
    transport = transport_for(w3)
    while start <= head:
        end = min(head, start + size - 1)
        query = {"address": list(addresses), "fromBlock": hex(start), "toBlock": hex(end), "topics": topic_filter}
        try:
            logs = _get_logs(w3, transport, query)
        except Exception as exc:
            refused = exc.rpc_message if isinstance(exc, RpcError) else str(exc)
            if size > 1 and _is_range_error(refused):
                size //= 2
                continue
            if isinstance(exc, RpcError):
                refused = f"the node refused eth_getLogs: {refused}"
            raise ChainError(f"reading logs {start}..{end} failed: {refused}") from None
        if stats is not None:
            stats.requests += 1
            stats.received += len(logs)
        for log in logs:
            item = events_by_topic.get(_as_bytes(log["topics"][0]))
            if item is not None and (accept is None or accept(_as_bytes(log.get("data") or b""))):
                if stats is not None:
                    stats.decoded += 1
                out.append(_decode_log(w3, item, log))
        start = end + 1
    out.sort(key=lambda e: (e.block_number, e.log_index))
    return out


def _get_logs(w3: Web3, transport: Transport, query: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The logs of ``query``, as the node sent them when it speaks JSON-RPC (hex strings).

    web3's result formatting (AttributeDict, HexBytes, checksums) costs about 0.1 ms per log, ten
    times the request itself; a scan that keeps few of many logs (one ref among every ``Minted``)
    decodes only those it keeps, from either form. Other providers (the in-process EVM) go through
    ``w3.eth.get_logs``.
    """
    from web3.providers import JSONBaseProvider

    if not isinstance(w3.provider, JSONBaseProvider):
        return list(w3.eth.get_logs(query))  # type: ignore[arg-type]
    result = transport.call("eth_getLogs", [query])
    if not isinstance(result, list):
        raise ChainError(f"the node answered eth_getLogs with {type(result).__name__}, not a list of logs")
    return result


def _as_bytes(value: Any) -> bytes:
    """A log field as bytes, from the node's ``0x`` hex or web3's HexBytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _as_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class _LogFilter:
    """How to look for the events of one kind whose arguments equal ``match``, cheapest first.

    * ``topics``: the indexed arguments of ``match`` as log topics (the node filters on them);
    * ``accepts``: the other fixed-size arguments compared as 32-byte words of the raw log data;
    * ``matches``: the decoded comparison, the one that decides (the first two only narrow).

    A value that cannot be ABI-encoded as its argument's type (so that no log could carry it in
    that form) is left to ``matches`` rather than narrowed on.
    """

    def __init__(self, item: Mapping[str, Any], match: Mapping[str, Any]) -> None:
        inputs = list(item.get("inputs", []))
        known = {str(i.get("name")) for i in inputs}
        unknown = set(match) - known
        if unknown:
            raise KeyError(f"event {item['name']} has no argument(s) {sorted(unknown)}")
        self.match = dict(match)
        #: Names of the indexed arguments, in order.
        self.indexed: tuple[str, ...] = tuple(str(i["name"]) for i in inputs if i.get("indexed"))
        self.topics: list[bytes | None] = []
        self.words: list[tuple[int, bytes]] = []
        offset: int | None = 0
        for param in inputs:
            name, typ = str(param.get("name")), str(param["type"])
            if param.get("indexed"):
                self.topics.append(_word(typ, match[name]) if name in match else None)
                continue
            if offset is None:
                continue
            if name in match:
                word = _word(typ, match[name])
                if word is not None:
                    self.words.append((offset, word))
            # Each argument takes one 32-byte head word, except fixed-size tuples and arrays.
            offset = offset + 32 if _is_elementary(typ) or _is_dynamic(typ) else None

    def accepts(self, data: bytes) -> bool:
        """Whether a log's raw ``data`` carries every narrowable non-indexed value of ``match``."""
        return all(data[at : at + 32] == word for at, word in self.words)

    def matches(self, event: DecodedEvent) -> bool:
        return all(event.args.get(k) == v for k, v in self.match.items())


def _is_elementary(typ: str) -> bool:
    return typ in ("address", "bool") or re.fullmatch(r"u?int\d*|bytes\d+", typ) is not None


def _is_dynamic(typ: str) -> bool:
    return typ in ("bytes", "string") or typ.endswith("[]")


def _word(typ: str, value: Any) -> bytes | None:
    """``value`` as the 32-byte word a log carries for a fixed-size elementary ``typ`` (None: not narrowable)."""
    from eth_abi.abi import encode
    from eth_abi.exceptions import EncodingError

    if not _is_elementary(typ) or isinstance(value, float):
        return None
    if typ == "bool" and not isinstance(value, bool):
        return None  # 1 == True in Python: leave such comparisons to the decoded check
    if typ.startswith(("uint", "int")) and (isinstance(value, bool) or not isinstance(value, int)):
        return None
    try:
        word = encode([typ], [value])
    except (EncodingError, TypeError, ValueError, OverflowError):
        return None
    return word if len(word) == 32 else None


def _is_range_error(message: str) -> bool:
    text = message.lower()
    return any(k in text for k in ("range", "too many", "limit", "exceed", "10000", "query returned"))


def _decode_log(w3: Web3, item: Mapping[str, Any], log: Mapping[str, Any]) -> DecodedEvent:
    """Decode one log, as web3 formats it (receipts) or as the node sent it (:func:`_get_logs`).

    Events whose arguments are all one-word types (addresses, integers, bools, ``bytesN``: every
    token event but ``Upgraded``-style strings) are decoded word by word (:func:`_decode_words`),
    about 30 times faster than web3's decoder, which decodes the rest; the tests compare the two.
    """
    from eth_utils.address import to_checksum_address

    topics = [_as_bytes(t) for t in log["topics"]]
    data = _as_bytes(log.get("data") or b"")
    args = _decode_words(item, topics, data)
    if args is not None:
        return DecodedEvent(
            name=str(item["name"]),
            args=args,
            address=_checksum(str(log["address"]) if isinstance(log["address"], str) else log["address"]),
            block_number=_as_int(log["blockNumber"]),
            tx_hash="0x" + _as_bytes(log["transactionHash"]).hex(),
            log_index=_as_int(log["logIndex"]),
        )
    return _decode_log_web3(w3, item, log, to_checksum_address)


def _decode_words(item: Mapping[str, Any], topics: Sequence[bytes], data: bytes) -> dict[str, Any] | None:
    """The arguments of a log whose inputs are all one 32-byte word each, or None (decode otherwise)."""
    inputs = item.get("inputs", [])
    out: dict[str, Any] = {}
    topic = 1
    offset = 0
    for param in inputs:
        typ = str(param["type"])
        if param.get("indexed"):
            if topic >= len(topics):
                return None
            word = topics[topic]
            topic += 1
        else:
            word = data[offset : offset + 32]
            offset += 32
        value = _word_value(typ, word)
        if value is _NOT_A_WORD:
            return None
        out[str(param["name"])] = value
    if offset != len(data) or topic != len(topics):
        return None
    return out


_NOT_A_WORD = object()


def _word_value(typ: str, word: bytes) -> Any:
    if len(word) != 32:
        return _NOT_A_WORD
    if typ == "address":
        if any(word[:12]):
            return _NOT_A_WORD
        return _checksum("0x" + word[12:].hex())
    if typ.startswith("uint") and typ[4:].isdigit():
        value = int.from_bytes(word, "big")
        return value if value.bit_length() <= int(typ[4:]) else _NOT_A_WORD
    if typ.startswith("int") and typ[3:].isdigit():
        bits = int(typ[3:])
        value = int.from_bytes(word, "big", signed=True)
        return value if -(2 ** (bits - 1)) <= value < 2 ** (bits - 1) else _NOT_A_WORD
    if typ == "bool":
        value = int.from_bytes(word, "big")
        return bool(value) if value <= 1 else _NOT_A_WORD
    if typ.startswith("bytes") and typ[5:].isdigit():
        size = int(typ[5:])
        if not 1 <= size <= 32 or any(word[size:]):
            return _NOT_A_WORD
        return bytes(word[:size])
    return _NOT_A_WORD


@functools.lru_cache(maxsize=1 << 18)
def _checksum(address: str) -> str:
    """The checksummed form of ``address`` (cached: a run has far fewer wallets than logs)."""
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(address))


def _decode_log_web3(
    w3: Web3, item: Mapping[str, Any], log: Mapping[str, Any], to_checksum_address: Callable[[Any], Any]
) -> DecodedEvent:
    from web3._utils.events import get_event_data

    entry = {
        "topics": [_as_bytes(t) for t in log["topics"]],
        "data": _as_bytes(log.get("data") or b""),
        "address": log["address"],
        "blockHash": log.get("blockHash"),
        "blockNumber": log["blockNumber"],
        "transactionHash": log["transactionHash"],
        "transactionIndex": log.get("transactionIndex"),
        "logIndex": log["logIndex"],
    }
    data = get_event_data(w3.codec, item, entry)  # type: ignore[arg-type]
    args = {k: _normalise_value(v) for k, v in dict(data["args"]).items()}
    return DecodedEvent(
        name=str(data["event"]),
        args=args,
        address=str(to_checksum_address(log["address"])),
        block_number=_as_int(log["blockNumber"]),
        tx_hash="0x" + _as_bytes(log["transactionHash"]).hex(),
        log_index=_as_int(log["logIndex"]),
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

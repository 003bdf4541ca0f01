"""The ABI handle: a deployed contract's address and ABI, views, call builders and event reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..decode import ErrorDecoder, revert_data_from_exception
from ..errors import ChainError
from ._abi import (
    DESK_ROLES,
    TIMELOCK_ROLES,
    TOKEN_ROLES,
    Call,
    _canonical_type,
    _event_topic,
    _normalise,
    _role_bytes,
    encode_call,
    role_name,
)
from ._events import (
    DEFAULT_LOG_PAGE,
    REORG_MARGIN,
    UNCACHED_EVENTS,
    CachedEvents,
    DecodedEvent,
    EventCache,
    LogStats,
    _LogFilter,
    decode_log,
    scan_events,
)

if TYPE_CHECKING:
    from web3 import Web3


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
        #: Function entries by name (several for an overloaded name: told apart by argument count).
        self._functions: dict[str, list[Mapping[str, Any]]] = {}
        self._events: dict[bytes, Mapping[str, Any]] = {}
        for item in self.abi:
            if item.get("type") == "function":
                self._functions.setdefault(str(item["name"]), []).append(item)
            elif item.get("type") == "event" and not item.get("anonymous"):
                self._events[_event_topic(item)] = item

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    # -- encoding --------------------------------------------------------------------------
    def has_function(self, name: str) -> bool:
        return name in self._functions

    def build(self, function: str, *args: Any) -> Call:
        """Encode a call of ``function`` with positional ``args``."""
        item = self._function(function, len(args))
        names = [i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))]
        signature, data = encode_call(item, args)
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
        outputs = self._function(function, len(args)).get("outputs", [])
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
                out.append(decode_log(item, log))
        return out

    # -- internals -------------------------------------------------------------------------
    def _function(self, name: str, arg_count: int | None = None) -> Mapping[str, Any]:
        """The ABI entry of ``name``; an overloaded name is resolved by ``arg_count``."""
        items = self._functions.get(name)
        if not items:
            raise ChainError(
                f"{self.name} at {self.address} has no function {name!r} in its ABI",
                hint="the deployment record may be from an older build; redeploy or upgrade",
            )
        if len(items) > 1 and arg_count is not None:
            items = [i for i in items if len(i.get("inputs", [])) == arg_count] or items
        if len(items) > 1:
            raise ChainError(f"{self.name}.{name} is overloaded; the arguments do not tell which is meant")
        return items[0]

"""Event scanning: ``eth_getLogs`` in pages (halved when a node refuses a range), log decoding, the
narrowing of :meth:`~pkr_pilot.contracts.ContractHandle.find_events`, and the :class:`EventCache`
(kept on disk, appended to, with an in-memory index) that makes a full-history read scan only new
blocks."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import append_durably, atomic_write_bytes
from ..errors import ChainError
from ..sending import quantity
from ..transport import RpcError, Transport, transport_for
from ._abi import _canonical_type, _normalise_value

if TYPE_CHECKING:
    from web3 import Web3

    from ._handle import ContractHandle


#: Blocks per ``eth_getLogs`` request; halved automatically when a node refuses a range.
DEFAULT_LOG_PAGE = 5_000


#: Blocks behind the head that an event cache never stores (they could still be reorganised).
REORG_MARGIN = 64


#: Events an event cache does not keep: frequent, and not needed by operations or status.
UNCACHED_EVENTS = frozenset({"Transfer", "Approval", "AuthorizationUsed"})


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


class CachedEvents:
    """One contract's cached events up to ``scanned_to``, with lookups by an indexed argument.

    Held in memory by :class:`EventCache` between reads and extended in place (new blocks' events
    are appended, and the indexes built so far with them: at national scale a copy per extension
    cost more than the lookup). Events read from the cache file stay in their stored (JSON) form
    until something asks for them, and ``find`` answers from a per-``(event, argument)`` index built
    on first use: a lookup converts only the events it returns, whatever the history holds.
    """

    def __init__(self, events: Sequence[DecodedEvent], scanned_to: int, scanned_to_hash: str) -> None:
        self.scanned_to = scanned_to
        self.scanned_to_hash = scanned_to_hash
        #: Each event decoded, or as stored in the file (converted, and kept, when first needed).
        self._items: list[DecodedEvent | Mapping[str, Any]] = list(events)
        self._abis: Mapping[str, Mapping[str, Any]] = {}
        self._by_name: dict[str, list[int]] | None = None
        self._by_arg: dict[tuple[str, str], dict[Any, list[int]]] = {}
        #: Read from a whole cache file (no damaged line, no scan without its checkpoint).
        self.clean = True

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

    def extend(self, new: Sequence[DecodedEvent], scanned_to: int, scanned_to_hash: str) -> None:
        """Append ``new`` (the blocks after :attr:`scanned_to` up to ``scanned_to``), indexes included."""
        base = len(self._items)
        self._items.extend(new)
        if self._by_name is not None:
            for n, e in enumerate(new, start=base):
                self._by_name.setdefault(e.name, []).append(n)
        for (name, arg), index in self._by_arg.items():
            for n, e in enumerate(new, start=base):
                if e.name == name and arg in e.args:
                    index.setdefault(_index_key(e.args[arg]), []).append(n)
        self.scanned_to = scanned_to
        self.scanned_to_hash = scanned_to_hash

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
    """Decoded events kept between runs, one JSON-lines file per contract: ``<folder>/<address>.jsonl``.

    The file is a header line (schema, contract, first block), then, for each scan, the new events
    one per line and a checkpoint line (``{"scanned_to": N, "hash": H}``). A scan appends (one
    ``write``), so keeping the cache current costs what the new blocks hold, not the whole history
    (a national run's 125,000 cached events, rewritten at every operation, cost more than the
    lookup). Reading stops at the first damaged line and keeps what its last checkpoint covers: a
    torn append loses only the scan it was writing.

    A cache, never a source of truth: a file that is unreadable, from another schema, chain or
    contract, or whose last checkpoint's block no longer has the recorded hash (a reorganisation
    deeper than ``REORG_MARGIN``, or a dev chain that was reset) is dropped and rebuilt from the
    chain (written whole, atomically). Within a process the parsed file is kept in memory
    (:class:`CachedEvents`) and parsed again only when another process changed it; the last
    block's hash is checked against the chain on every load either way.
    """

    SCHEMA = "pkr-pilot.event-cache"
    VERSION = 2

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._memo: dict[tuple[str, int], tuple[tuple[int, int, int], CachedEvents]] = {}
        self._guard = threading.Lock()

    def path(self, handle: ContractHandle) -> Path:
        return self.folder / f"{handle.address}.jsonl"

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
                self._memo[key] = (signature if cached.clean else _NOT_APPENDABLE, cached)
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
        self._replace(handle, CachedEvents(decoded, scanned_to, self._block_hash(handle, scanned_to)))

    def extend(
        self, handle: ContractHandle, cached: CachedEvents, new: Sequence[DecodedEvent], scanned_to: int
    ) -> CachedEvents:
        """``cached`` plus ``new`` (the blocks after ``cached.scanned_to`` up to ``scanned_to``), stored.

        ``cached`` is what :meth:`load` returned: when the file is still the one it was read from,
        the scan is appended to it; otherwise (a new file, or another process wrote it) it is
        written whole."""
        path = self.path(handle)
        key = (handle.address, handle.from_block)
        block_hash = self._block_hash(handle, scanned_to)
        with self._guard:
            if scanned_to <= cached.scanned_to:
                return cached  # another thread of this process stored these blocks meanwhile
            # (and when it stored some of them: only what it did not)
            new = [e for e in new if e.block_number > cached.scanned_to]
            memo = self._memo.get(key)
            try:
                appendable = memo is not None and memo[1] is cached and memo[0] == _file_signature(path)
            except OSError:
                appendable = False
            if not appendable:
                out = CachedEvents(cached.events, cached.scanned_to, cached.scanned_to_hash)
                out.extend(new, scanned_to, block_hash)
            else:
                cached.extend(new, scanned_to, block_hash)
                try:
                    append_durably(path, _lines([*map(_event_to_json, new), _checkpoint(cached)]))
                except OSError:
                    self._memo.pop(key, None)  # the file is behind the memory: read it again next time
                    raise
                self._memo[key] = (_file_signature(path), cached)
                return cached
        self._replace(handle, out)
        return out

    def _replace(self, handle: ContractHandle, cached: CachedEvents) -> None:
        """Write the whole cache of ``handle`` (atomically) and remember it."""
        header = {"schema": self.SCHEMA, "v": self.VERSION, "address": handle.address, "from_block": handle.from_block}
        path = self.path(handle)
        atomic_write_bytes(path, _lines([header, *cached.stored(), _checkpoint(cached)]))
        path.with_suffix(".json").unlink(missing_ok=True)  # the whole-file form of version 1
        try:
            signature = _file_signature(path)
        except OSError:
            return
        with self._guard:
            self._memo[(handle.address, handle.from_block)] = (signature, cached)

    def _parse(
        self, path: Path, handle: ContractHandle, events: Mapping[bytes, Mapping[str, Any]]
    ) -> CachedEvents | None:
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            return None
        try:
            header = json.loads(lines[0])
            if (
                header.get("schema") != self.SCHEMA
                or header.get("v") != self.VERSION
                or header.get("address") != handle.address
                or int(header["from_block"]) != handle.from_block
            ):
                return None
        except (AttributeError, KeyError, TypeError, ValueError):  # malformed
            return None
        stored: list[Mapping[str, Any]] = []
        kept = 0
        scanned_to: int | None = None
        scanned_to_hash = ""
        damaged = False
        for line in lines[1:]:
            if not line:
                continue  # the end of the last line
            try:
                item = json.loads(line)
                if "scanned_to" in item:
                    scanned_to, scanned_to_hash = int(item["scanned_to"]), str(item["hash"])
                    kept = len(stored)
                else:
                    stored.append(item)
            except (KeyError, TypeError, ValueError):
                damaged = True  # a torn append (or damage): keep what the last checkpoint covers
                break
        if scanned_to is None:
            return None
        by_name = {str(e["name"]): e for e in events.values()}
        try:
            cached = CachedEvents.from_stored(stored[:kept], by_name, scanned_to, scanned_to_hash)
        except (AttributeError, KeyError, TypeError, ValueError):  # malformed
            return None
        # Appending after a damaged line or unfinished scan would hide the appended scans from every
        # later reader: such a file is written whole at its next extension.
        cached.clean = not damaged and kept == len(stored)
        return cached

    @staticmethod
    def _block_hash(handle: ContractHandle, number: int) -> str:
        return "0x" + bytes(handle.w3.eth.get_block(number)["hash"]).hex()


#: The memo's file signature of a cache file that must not be appended to (see ``EventCache._parse``).
_NOT_APPENDABLE = (-1, -1, -1)


def _checkpoint(cached: CachedEvents) -> dict[str, Any]:
    return {"scanned_to": cached.scanned_to, "hash": cached.scanned_to_hash}


def _lines(items: Iterable[Any]) -> bytes:
    return "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in items).encode()


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
                out.append(decode_log(item, log))
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


def decode_log(item: Mapping[str, Any], log: Mapping[str, Any]) -> DecodedEvent:
    """Decode one log of event ``item``, as web3 formats it (receipts) or as the node sent it.

    Events whose arguments are all one-word types (addresses, integers, bools, ``bytesN``: every
    token event) are decoded word by word (:func:`_decode_words`), about 30 times faster than a
    general ABI decoder; the others by eth-abi (:func:`_decode_log_abi`); the tests compare the two.
    """
    topics = [_as_bytes(t) for t in log["topics"]]
    args = _decode_words(item, topics, _as_bytes(log.get("data") or b""))
    if args is None:
        return _decode_log_abi(item, log)
    return DecodedEvent(
        name=str(item["name"]),
        args=args,
        address=_checksum(str(log["address"]) if isinstance(log["address"], str) else log["address"]),
        block_number=quantity(log["blockNumber"]),
        tx_hash="0x" + _as_bytes(log["transactionHash"]).hex(),
        log_index=quantity(log["logIndex"]),
    )


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


def _decode_log_abi(item: Mapping[str, Any], log: Mapping[str, Any]) -> DecodedEvent:
    """:func:`decode_log` for any event, by eth-abi.

    Arguments come indexed first, then the others (web3's order); an indexed argument of a
    dynamic type (string, bytes, arrays, tuples) is its 32-byte hash, as the log carries it.
    """
    from eth_abi.abi import decode

    topics = [_as_bytes(t) for t in log["topics"]]
    inputs = list(item.get("inputs", []))
    indexed = [i for i in inputs if i.get("indexed")]
    plain = [i for i in inputs if not i.get("indexed")]
    if len(topics) != len(indexed) + 1:
        raise ChainError(
            f"a {item['name']} log of {log['address']} carries {len(topics) - 1} indexed values, "
            f"its ABI {len(indexed)}",
            hint="the ABI does not match the contract that emitted the log",
        )
    args: dict[str, Any] = {}
    for param, topic in zip(indexed, topics[1:], strict=True):
        typ = _canonical_type(param)
        args[str(param["name"])] = topic if _is_hashed(typ) else decode([typ], topic)[0]
    values = decode([_canonical_type(p) for p in plain], _as_bytes(log.get("data") or b""))
    args.update((str(p["name"]), v) for p, v in zip(plain, values, strict=True))
    return DecodedEvent(
        name=str(item["name"]),
        args={k: _normalise_value(v) for k, v in args.items()},
        address=_checksum(str(log["address"]) if isinstance(log["address"], str) else log["address"]),
        block_number=quantity(log["blockNumber"]),
        tx_hash="0x" + _as_bytes(log["transactionHash"]).hex(),
        log_index=quantity(log["logIndex"]),
    )


def _is_hashed(typ: str) -> bool:
    """An indexed argument of this type is stored as its keccak hash."""
    return typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("(")

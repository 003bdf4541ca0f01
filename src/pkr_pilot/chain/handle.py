"""The chain handle and :func:`connect`: one ``Web3`` per network, checked against its chain id."""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .._files import atomic_write_bytes
from ..config import DEV_CHAIN_IDS, NetworkConfig
from ..errors import ChainError, ChainIdMismatch, ConfigError, UserInputError, require_extra
from ..transport import RpcError, Transport, transport_for
from .anvil import AnvilNode, AnvilOptions

if TYPE_CHECKING:
    from eth_tester import EthereumTester
    from web3 import Web3

    from ..config import Project

__all__ = ["REQUEST_TIMEOUT", "Chain", "ChainKind", "SnapshotId", "connect", "web3_for_url"]

ChainKind = Literal["anvil", "memory", "rpc"]
#: An ``evm_snapshot`` id (anvil: a hex string) or an eth-tester snapshot id.
SnapshotId = Any
#: Seconds one JSON-RPC request may take before it fails.
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True, eq=False)
class Chain:
    """A connected chain: its ``Web3``, the network it stands for, and dev-chain controls.

    ``kind`` says what is behind ``w3``: a managed ``anvil`` (``node`` is its process),
    the in-process ``memory`` chain (``tester`` is its eth-tester), or any ``rpc`` URL.
    The controls (snapshots, mining, time, state dumps) work on dev chain ids only
    (31337, 1337) and need anvil or the memory backend behind them.
    """

    w3: Web3
    network: NetworkConfig
    chain_id: int
    kind: ChainKind
    node: AnvilNode | None = None
    tester: EthereumTester | None = field(default=None, repr=False)

    @property
    def is_dev(self) -> bool:
        """True for the local dev chain ids (31337, 1337), where dev keys and controls work."""
        return self.chain_id in DEV_CHAIN_IDS

    @property
    def url(self) -> str | None:
        """The JSON-RPC URL (None for the in-process memory chain)."""
        if self.node is not None:
            return self.node.url
        return self.network.url

    def __repr__(self) -> str:
        where = self.url or "in-process"
        return f"Chain({self.network.name!r}, {self.kind}, chain_id={self.chain_id}, {where})"

    # ------------------------------------------------------------------ raw JSON-RPC

    @cached_property
    def transport(self) -> Transport:
        """The JSON-RPC client of this chain (batches over HTTP; see :mod:`pkr_pilot.transport`)."""
        return transport_for(self.w3)

    def rpc(self, method: str, *params: Any) -> Any:
        """One raw JSON-RPC call (no result formatting); raises :class:`ChainError` on an error answer."""
        try:
            return self.transport.call(method, list(params))
        except RpcError as exc:
            raise ChainError(
                f"{self.network.name}: {method} failed: {exc.rpc_message}",
                hint="dev controls need anvil (`pkr-pilot node`) or the memory backend",
            ) from None

    # ------------------------------------------------------------------ snapshots

    def take_snapshot(self) -> SnapshotId:
        """Record the chain state now; :meth:`revert_to` comes back to it."""
        self._require_dev("snapshots")
        if self.tester is not None:
            return self.tester.take_snapshot()
        return self.rpc("evm_snapshot")

    def revert_to(self, snapshot: SnapshotId) -> None:
        """Return to ``snapshot`` (anvil forgets it and every later one).

        The transaction pool is emptied too: anvil keeps pending and queued
        transactions across ``evm_revert``, so a transaction stuck behind a
        nonce gap would otherwise outlive the state it was sent against.
        """
        self._require_dev("snapshots")
        if self.tester is not None:
            self.tester.revert_to_snapshot(snapshot)
            return
        if self.rpc("evm_revert", snapshot) is not True:
            raise ChainError(f"{self.network.name}: snapshot {snapshot} is unknown (already reverted?)")
        self.rpc("anvil_dropAllTransactions")

    @contextmanager
    def snapshot(self) -> Iterator[SnapshotId]:
        """Run a block of code and undo its effect on the chain afterwards (even on error).

        ::

            with chain.snapshot():
                token.mint(...)     # gone after the block
        """
        snapshot_id = self.take_snapshot()
        try:
            yield snapshot_id
        finally:
            self.revert_to(snapshot_id)

    # ------------------------------------------------------------------ blocks and time

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now (pending transactions go into the first)."""
        self._require_dev("mining on demand")
        if blocks < 1:
            raise UserInputError(f"blocks must be at least 1, got {blocks}")
        if self.tester is not None:
            self.tester.mine_blocks(blocks)
        else:
            self.rpc("anvil_mine", hex(blocks), hex(1))  # one second apart, as py-evm

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def set_next_timestamp(self, timestamp: int) -> None:
        """Give the next mined block this timestamp (later than the latest block's)."""
        self._require_dev("time travel")
        latest = self.latest_timestamp()
        if timestamp <= latest:
            raise UserInputError(
                f"timestamp {timestamp} is not after the latest block's ({latest})",
                hint="blocks move forward in time only",
            )
        if self.tester is not None:
            self.tester.backend.set_pending_timestamp(timestamp)
        else:
            self.rpc("evm_setNextBlockTimestamp", hex(timestamp))

    def increase_time(self, seconds: int) -> int:
        """Mine one block ``seconds`` after the latest one; its timestamp.

        The same on both dev backends: afterwards ``latest_timestamp()`` is the old one
        plus ``seconds``, and later blocks keep moving forward from there.
        """
        if seconds < 1:
            raise UserInputError(f"seconds must be at least 1, got {seconds}")
        target = self.latest_timestamp() + seconds
        self.set_next_timestamp(target)
        self.mine(1)
        return target

    # ------------------------------------------------------------------ state dumps (anvil)

    def dump_state(self) -> bytes:
        """anvil's whole chain state (``anvil_dumpState``) as gzipped JSON."""
        self._require_anvil_state("dump_state")
        raw = self.rpc("anvil_dumpState")
        return bytes.fromhex(str(raw).removeprefix("0x"))

    def load_state(self, data: bytes) -> None:
        """Merge a dump into the running chain (``anvil_loadState``: accounts, code and storage
        in the dump overwrite the live ones). For an exact copy of a saved chain, start a node
        from the file instead: ``AnvilNode(..., AnvilOptions(state_file=path))`` or
        ``pkr-pilot node --state path``."""
        self._require_anvil_state("load_state")
        if data[:2] != b"\x1f\x8b":
            data = gzip.compress(data)
        if self.rpc("anvil_loadState", "0x" + data.hex()) is not True:
            raise ChainError(f"{self.network.name}: anvil refused the state dump")

    def save_state(self, path: Path) -> Path:
        """Write the state as JSON (the format of ``anvil --state``), atomically; the path."""
        data = gzip.decompress(self.dump_state())
        atomic_write_bytes(path, data)
        return path

    # ------------------------------------------------------------------ guards

    def _require_dev(self, what: str) -> None:
        if not self.is_dev:
            raise ChainError(
                f"{what} only work on a local dev chain; {self.network.name} has chain id {self.chain_id}",
                hint="use --network local, memory or localhost",
            )

    def _require_anvil_state(self, what: str) -> None:
        self._require_dev(what)
        if self.tester is not None:
            raise ChainError(
                f"{what} needs anvil; the memory backend keeps its state in-process only",
                hint="use --network local or localhost (`pkr-pilot node`)",
            )


# --------------------------------------------------------------------------- connect


@contextmanager
def connect(
    project: Project,
    network: NetworkConfig | str,
    *,
    state_file: Path | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
    log: bool = True,
    node_args: tuple[str, ...] = (),
) -> Iterator[Chain]:
    """Connect to ``network`` (a name from ``pkr-pilot.toml``, a URL, or a config) for a block.

    * ``anvil``: start a managed anvil on a free port (its EVM version from the compiler
      settings; ``state_file`` to load and dump state; ``node_args`` appended to its command line,
      e.g. ``("--prune-history", "8")``), stop it afterwards;
    * ``memory``: a fresh in-process py-evm chain;
    * ``rpc``: HTTP(S) or WS(S) JSON-RPC to ``network.url``.

    Then read ``eth_chainId`` and refuse a chain other than ``network.chain_id``.

    Raises:
        ChainError: the node is unreachable or does not speak JSON-RPC.
        ChainIdMismatch: the chain id differs from the configured one.
        NodeStartError, ToolchainError: the managed anvil cannot start.
    """
    net = project.network(network) if isinstance(network, str) else network
    if net.backend == "memory":
        if net.block_time is not None:
            raise ConfigError(
                f"[networks.{net.name}]: block_time needs the anvil backend",
                hint="use no_mining = true and Chain.mine() on the memory backend",
            )
        require_extra("eth_tester", extra="memory", feature="the memory backend (--network memory)")
        from .memory import MEMORY_CHAIN_ID, memory_web3

        w3, tester = memory_web3(net.chain_id or MEMORY_CHAIN_ID, auto_mine=not net.no_mining)
        yield _checked(Chain(w3, net, _read_chain_id(w3, net, "memory"), "memory", tester=tester))
        return
    if net.backend == "anvil":
        options = AnvilOptions(
            chain_id=net.chain_id or AnvilOptions.chain_id,
            block_time=net.block_time,
            no_mining=net.no_mining,
            state_file=state_file,
            extra_args=tuple(node_args),
        )
        with AnvilNode.for_project(project, options, log=log) as node:
            w3 = web3_for_url(node.url, request_timeout)
            yield _checked(Chain(w3, net, _read_chain_id(w3, net, node.url), "anvil", node=node))
        return
    if not net.url:
        raise ConfigError(f"[networks.{net.name}] has no url")
    w3 = web3_for_url(net.url, request_timeout)
    chain = _checked(Chain(w3, net, _read_chain_id(w3, net, net.url), "rpc"))
    _adapt_to_poa(chain)
    try:
        yield chain
    finally:
        _close_provider(w3)


def _checked(chain: Chain) -> Chain:
    expected = chain.network.chain_id
    if expected is not None and expected != chain.chain_id:
        raise ChainIdMismatch(expected, chain.chain_id, where=f"network {chain.network.name!r}")
    return chain


def web3_for_url(url: str, timeout: float = REQUEST_TIMEOUT) -> Web3:
    """A ``Web3`` on ``url`` (HTTP(S) or WS(S)), without two of web3's default middlewares.

    * ``validation`` asks the node for ``eth_chainId`` before every ``eth_call`` and gas estimate
      (400 of the 988 requests of a small simulation): the chain id is read once when connecting
      (:func:`connect` refuses a chain other than the configured one) and every transaction is
      signed here with it, so the node is not asked again.
    * ``ens_name_to_address`` resolves ENS names in call arguments: this toolkit takes checksummed
      addresses only, and a pilot network has no ENS registry to ask.

    Raises:
        ConfigError: the URL's scheme is not one of those four.
    """
    from web3 import Web3

    scheme = urlsplit(url).scheme.lower()
    w3: Web3
    if scheme in ("http", "https"):
        from web3 import HTTPProvider

        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
    elif scheme in ("ws", "wss"):
        from web3 import LegacyWebSocketProvider

        w3 = Web3(LegacyWebSocketProvider(url, websocket_timeout=max(1, int(timeout))))
    else:
        raise ConfigError(f"unsupported URL {url!r}", hint="use http://, https://, ws:// or wss://")
    for name in ("validation", "ens_name_to_address"):
        w3.middleware_onion.remove(name)
    return w3


def _read_chain_id(w3: Web3, net: NetworkConfig, where: str) -> int:
    """eth_chainId, failing fast and in one line when nothing (or not a node) answers."""
    try:
        result = transport_for(w3).call("eth_chainId")
    except RpcError as exc:
        raise ChainError(
            f"{where} answered eth_chainId with an error: {exc.rpc_message}", hint="is this an Ethereum node?"
        ) from None
    if isinstance(result, str):
        return int(result, 16)
    if isinstance(result, int):
        return result
    raise ChainError(f"{where} answered eth_chainId with {result!r:.80}", hint="is this an Ethereum node?")


def _adapt_to_poa(chain: Chain) -> None:
    """Besu/Geth clique/QBFT blocks carry > 32 bytes of extraData: read them as POA blocks."""
    try:
        block = chain.rpc("eth_getBlockByNumber", "latest", False)
    except ChainError:
        return
    extra = block.get("extraData", "0x") if isinstance(block, dict) else "0x"
    if isinstance(extra, str) and len(extra) > 2 + 64:
        from web3.middleware import ExtraDataToPOAMiddleware

        chain.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)


def _close_provider(w3: Web3) -> None:
    """Close a websocket connection; HTTP sessions are pooled by web3 itself."""
    from web3 import LegacyWebSocketProvider

    provider = w3.provider
    if not isinstance(provider, LegacyWebSocketProvider):
        return
    ws = provider.conn.ws
    loop = LegacyWebSocketProvider._loop
    if ws is None or loop is None:
        return
    import asyncio

    from websockets.exceptions import WebSocketException

    with contextlib.suppress(OSError, TimeoutError, WebSocketException):
        asyncio.run_coroutine_threadsafe(ws.close(), loop).result(timeout=5)
    provider.conn.ws = None

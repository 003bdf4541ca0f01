"""A fault-injecting JSON-RPC proxy: a real local HTTP server between the toolkit and anvil.

Test support only (production code never imports it). The toolkit talks to ``proxy.url`` as it would
to any node; the proxy forwards each call to the upstream node and applies the scripted faults::

    with FaultProxy(node.url) as proxy:
        proxy.add(NullReceipts(times=3))                 # a mined transaction's receipt answers null 3 times
        proxy.add(DropResponse("eth_sendRawTransaction"))  # the node gets it, the client never hears back
        run("pkr-pilot", "deploy", "--network", "drill", ...)

Faults (each fires on the calls it matches, after ``skip`` of them, at most ``times`` times):

* :class:`NullReceipts`  ``eth_getTransactionReceipt`` (and optionally ``eth_getTransactionByHash``)
  answers ``null`` for a transaction that is mined (a load-balanced node that has not seen it);
* :class:`DropResponse`  forwards the call, then closes the connection without an answer;
* :class:`Duplicate`     forwards the call twice (a retrying gateway) and answers with the second reply;
* :class:`HttpError`     answers an HTTP 5xx without forwarding;
* :class:`Timeout`       forwards the call, holds the answer ``delay`` seconds, then closes the connection;
* :class:`Lag`           after each submitted transaction the node's view stays at the block before it
  for ``seconds``: ``eth_blockNumber``, ``latest`` state reads and receipts of newer blocks lag;
* :class:`NonceGap`      ``eth_getTransactionCount`` answers one more than the truth (a nonce gap);
* :class:`Kill`          SIGKILLs the client process at a call (before forwarding it, or after): a crash at
  an exact point of its work, chosen by a predicate (e.g. what its journal says it is doing);
* :class:`Act`           runs an action (with the call) before forwarding it: e.g. Ctrl-C in the test's own
  process (``_thread.interrupt_main``), or a node that drops the transaction asked about.

A node restart that loses recent blocks and receipts, and a chain reverted to before mined transactions,
are actions on the node (``AnvilNode.restart()`` from its state file, ``evm_snapshot``/``evm_revert``);
:meth:`FaultProxy.forget` makes the proxy answer ``null`` for the receipts and transactions it saw
mined before, as a restarted node that lost them does. Batch requests (a JSON array) are proxied call
by call through the same faults.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Act",
    "DropResponse",
    "Duplicate",
    "Fault",
    "FaultProxy",
    "HttpError",
    "Kill",
    "Lag",
    "NonceGap",
    "NullReceipts",
    "Timeout",
]

_STATE_READS = ("eth_call", "eth_getCode", "eth_getBalance", "eth_getStorageAt", "eth_getTransactionCount",
                "eth_getBlockByNumber", "eth_estimateGas")


class _Drop(Exception):
    """Close the connection without an answer."""


@dataclass
class Fault:
    """A scripted fault: which methods, after how many matching calls, how many times."""

    methods: tuple[str, ...] = ()
    skip: int = 0
    times: int | None = 1
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, call: dict[str, Any]) -> bool:
        return not self.methods or call.get("method") in self.methods

    def due(self) -> bool:
        """Count one matching call; True when this one is to be faulted."""
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        """The answer to send instead of forwarding (None: forward as usual)."""
        raise NotImplementedError


@dataclass
class NullReceipts(Fault):
    """Receipts (and, with ``transactions=True``, transactions) of mined transactions answer null."""

    methods: tuple[str, ...] = ("eth_getTransactionReceipt",)
    transactions: bool = False

    def __post_init__(self) -> None:
        if self.transactions:
            self.methods = (*self.methods, "eth_getTransactionByHash")

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        return {"jsonrpc": "2.0", "id": call.get("id"), "result": None}


@dataclass
class DropResponse(Fault):
    methods: tuple[str, ...] = ("eth_sendRawTransaction",)

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        proxy.forward(call)
        raise _Drop


@dataclass
class Duplicate(Fault):
    methods: tuple[str, ...] = ("eth_sendRawTransaction",)

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        proxy.forward(call)
        return proxy.forward(call)


@dataclass
class HttpError(Fault):
    status: int = 502

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        raise _HttpStatus(self.status)


@dataclass
class Timeout(Fault):
    delay: float = 1.0

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        proxy.forward(call)
        time.sleep(self.delay)
        raise _Drop


@dataclass
class NonceGap(Fault):
    methods: tuple[str, ...] = ("eth_getTransactionCount",)

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        answer = proxy.forward(call)
        if isinstance(answer.get("result"), str):
            answer["result"] = hex(int(answer["result"], 16) + 1)
        return answer


@dataclass
class Kill(Fault):
    """SIGKILL the client (process ``pid``, set once it is started) at a matching call for which ``when()`` holds.

    ``forward``: the call reaches the node first (the client dies before hearing the answer); otherwise it
    never does. The connection is then closed. ``when`` is asked at each call of ``methods`` (any method
    when empty), e.g. "the client's journal ends with this step's ``sending`` line".
    """

    when: Callable[[], bool] = lambda: True
    forward: bool = False
    pid: int | None = None

    def matches(self, call: dict[str, Any]) -> bool:
        return super().matches(call) and self.when()

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        if self.forward:
            proxy.forward(call)
        deadline = time.monotonic() + 10
        while self.pid is None and time.monotonic() < deadline:  # the test sets it right after starting the client
            time.sleep(0.01)
        if self.pid is None:
            raise RuntimeError("Kill fault: no client pid was set")
        os.kill(self.pid, signal.SIGKILL)
        raise _Drop


@dataclass
class Act(Fault):
    """Run ``action(call)`` at a matching call, then forward it as usual."""

    action: Callable[[dict[str, Any]], None] = lambda _call: None

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        self.action(call)
        return None


@dataclass
class Lag(Fault):
    """For ``seconds`` after each ``eth_sendRawTransaction`` the node's view stays at the block before."""

    seconds: float = 1.5
    times: int | None = None
    _frozen: int | None = field(default=None, init=False)
    _until: float = field(default=0.0, init=False)

    def matches(self, call: dict[str, Any]) -> bool:
        return True

    def apply(self, proxy: FaultProxy, call: dict[str, Any]) -> dict[str, Any] | None:
        method = call.get("method")
        if method == "eth_sendRawTransaction":
            if time.monotonic() >= self._until:
                head = proxy.forward({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []})
                self._frozen = int(head["result"], 16)
            self._until = time.monotonic() + self.seconds
            return None
        if self._frozen is None or time.monotonic() >= self._until:
            return None
        frozen = self._frozen
        if method == "eth_blockNumber":
            return {"jsonrpc": "2.0", "id": call.get("id"), "result": hex(frozen)}
        if method == "eth_getTransactionReceipt":
            answer = proxy.forward(call)
            result = answer.get("result")
            if isinstance(result, dict) and int(result["blockNumber"], 16) > frozen:
                answer["result"] = None
            return answer
        if method in _STATE_READS:
            params = [hex(frozen) if p == "latest" else p for p in call.get("params", [])]
            return proxy.forward({**call, "params": params})
        return None


class _HttpStatus(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class FaultProxy:
    """The proxy server (a thread of the test process) in front of ``upstream``."""

    def __init__(self, upstream: str, *, host: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._forgotten: set[str] = set()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle holds the body until the
                # client's delayed ACK (40 ms), on every call of a keep-alive connection.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                try:
                    if isinstance(body, list):
                        answer: Any = [proxy.handle(call) for call in body]
                    else:
                        answer = proxy.handle(body)
                except _Drop:
                    self.close_connection = True
                    return
                except _HttpStatus as status:
                    self._send(status.status, b'{"error":"injected"}')
                    return
                self._send(200, json.dumps(answer).encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting ----------------------------------------------------------------------
    def add(self, *faults: Fault) -> FaultProxy:
        with self._lock:
            self.faults.extend(faults)
        return self

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def forget(self, tx_hashes: set[str]) -> None:
        """Answer null for these transactions and their receipts (a node that lost them)."""
        self._forgotten |= {h.lower() for h in tx_hashes}

    # -- serving --------------------------------------------------------------------------
    def handle(self, call: dict[str, Any]) -> dict[str, Any]:
        method = str(call.get("method"))
        self.calls[method] += 1
        if method in ("eth_getTransactionReceipt", "eth_getTransactionByHash"):
            params = call.get("params") or [""]
            if str(params[0]).lower() in self._forgotten:
                return {"jsonrpc": "2.0", "id": call.get("id"), "result": None}
        with self._lock:
            due = [f for f in self.faults if f.matches(call) and f.due()]
        for fault in due:
            self.injected[type(fault).__name__] += 1
            answer = fault.apply(self, call)
            if answer is not None:
                return answer
        return self.forward(call)

    def forward(self, call: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the upstream is a local test node
            self.upstream, data=json.dumps(call).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a local test node
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            raise _HttpStatus(502) from None  # the node is down (restarting): a gateway error

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

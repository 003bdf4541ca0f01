"""The one JSON-RPC client: single calls and batches, one error model.

::

    transport = transport_for(w3)                  # HttpTransport for http(s) nodes
    transport.call("eth_chainId")                  # '0x7a69', or RpcError
    transport.batch([("eth_getBalance", [a, "latest"]), ("eth_blockNumber", [])])
                                                   # [RpcReply(result=...), RpcReply(result=...)]

Errors (all :class:`~pkr_pilot.errors.ChainError`, one line with a hint):

* the node cannot be reached or does not answer in time: ``cannot reach the node at <url> (...)``;
* the node answers a call with an error object: :class:`RpcError` (``method``, ``code``,
  ``message``, ``data``) from :meth:`Transport.call`; in a batch each reply carries its own
  ``error`` and the caller decides;
* the answer is not JSON-RPC.

A node that refuses a batch (HTTP 413, an error object for the whole array, a proxy that only
passes single requests) gets smaller batches, down to single requests: the transport halves its
batch size and remembers it, so the caller sees answers, not an error.

:class:`ProviderTransport` offers the same interface over any web3 provider, one request at a
time (the in-process memory chain, websockets). Tests put a fake :class:`Transport` in its place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .errors import ChainError

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "Call",
    "HttpTransport",
    "ProviderTransport",
    "RpcError",
    "RpcReply",
    "Transport",
    "call_all",
    "transport_for",
    "unreachable",
]

Call = tuple[str, Sequence[Any]]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104 - a host name compared, not bound


class RpcError(ChainError):
    """The node answered a call with a JSON-RPC error object."""

    def __init__(self, where: str, method: str, error: Mapping[str, Any], *, hint: str | None = None) -> None:
        self.method = method
        self.code = error.get("code")
        self.rpc_message = str(error.get("message", error))
        self.data = error.get("data")
        super().__init__(f"{where}: {method} failed: {self.rpc_message}", hint=hint)


@dataclass(frozen=True)
class RpcReply:
    """One JSON-RPC answer: ``result`` or ``error`` (the node's error object)."""

    result: Any = None
    error: Mapping[str, Any] | None = None

    @property
    def message(self) -> str:
        if self.error is None:
            return ""
        return str(self.error.get("message", self.error))


class Transport(Protocol):
    """Sends JSON-RPC calls to one node."""

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The ``result`` of one call; :class:`RpcError` for an error answer."""
        ...

    def batch(self, calls: Sequence[Call]) -> list[RpcReply]:
        """One reply per call, in order."""
        ...

    def close(self) -> None: ...


def call_all(
    transport: Transport, calls: Sequence[Call], *, what: str, hint: str | None = None, none_ok: bool = True
) -> list[Any]:
    """The results of ``calls`` in order (batched by the transport); an error answer, or with
    ``none_ok=False`` a ``null`` result, raises :class:`ChainError` saying what was being read."""
    out: list[Any] = []
    for (method, _), reply in zip(calls, transport.batch(calls), strict=True):
        if reply.error is not None or (reply.result is None and not none_ok):
            raise ChainError(f"{what}: {method} failed: {reply.message or 'no result'}", hint=hint)
        out.append(reply.result)
    return out


def unreachable(url: str, reason: str) -> ChainError:
    """The one message for a node that does not answer, with a hint for local nodes."""
    host = urlsplit(url).hostname or ""
    if host in _LOOPBACK:
        hint = "start it with `pkr-pilot node` (or use --network local for a throw-away node)"
    else:
        hint = "check the URL, your network access and that the node is running"
    return ChainError(f"cannot reach the node at {url} ({reason})", hint=hint)


class HttpTransport:
    """JSON-RPC over one keep-alive ``requests`` session; batches as JSON arrays.

    ``max_batch`` is where batches start; a refused batch halves it (down to 1, sent as single
    requests). ``trust_env=False`` ignores proxy settings from the environment (our own anvil).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        max_batch: int = 500,
        trust_env: bool = True,
    ) -> None:
        import requests

        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.url = url
        self.timeout = timeout
        self.max_batch = max_batch
        self._session = requests.Session()
        self._session.trust_env = trust_env
        self._session.headers.update({"Content-Type": "application/json", **(headers or {})})
        self._next_id = 1

    def call(self, method: str, params: Sequence[Any] = (), *, timeout: float | None = None) -> Any:
        reply = self._single(method, params, timeout)
        if reply.error is not None:
            raise RpcError(self.url, method, reply.error)
        return reply.result

    def batch(self, calls: Sequence[Call]) -> list[RpcReply]:
        out: list[RpcReply] = []
        start = 0
        while start < len(calls):
            size = self.max_batch
            chunk = calls[start : start + size]
            replies = self._post_batch(chunk) if len(chunk) > 1 else [self._single(*chunk[0], None)]
            if replies is None:  # refused: smaller batches from now on
                self.max_batch = max(1, size // 2)
                continue
            out.extend(replies)
            start += len(chunk)
        return out

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ internals
    def _ids(self, count: int) -> int:
        first = self._next_id
        self._next_id += count
        return first

    def _post(self, body: bytes, what: str, timeout: float | None, *, batch: bool = False) -> Any:
        """POST ``body``; the parsed answer, or None for HTTP 413 (too large) and, for a batch,
        any other refusal that is not JSON (a proxy that passes single requests only)."""
        import requests

        try:
            response = self._session.post(self.url, data=body, timeout=timeout or self.timeout)
        except requests.Timeout:
            raise unreachable(self.url, f"no answer to {what} within {timeout or self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise unreachable(self.url, _reason(exc)) from None
        if response.status_code == 413:
            return None
        try:
            return response.json()
        except ValueError:
            if batch:
                return None
            raise ChainError(
                f"{self.url} did not answer {what} like an Ethereum JSON-RPC node "
                f"(HTTP {response.status_code}, not JSON)",
                hint="check the URL (and any proxy or API key in front of the node)",
            ) from None

    def _single(self, method: str, params: Sequence[Any], timeout: float | None) -> RpcReply:
        request = {"jsonrpc": "2.0", "id": self._ids(1), "method": method, "params": list(params)}
        answer = self._post(json.dumps(request, separators=(",", ":")).encode(), method, timeout)
        if answer is None:
            raise ChainError(
                f"the node at {self.url} refused {method} as too large (HTTP 413)",
                hint="raise the node's request size limit (anvil: --no-request-size-limit)",
            )
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise ChainError(f"{self.url} did not answer {method} like an Ethereum JSON-RPC node: {answer!r:.160}")
        return _reply(answer)

    def _post_batch(self, calls: Sequence[Call]) -> list[RpcReply] | None:
        """Replies in order, or None when the node refused the batch as a whole."""
        first = self._ids(len(calls))
        body = json.dumps(
            [
                {"jsonrpc": "2.0", "id": first + n, "method": method, "params": list(params)}
                for n, (method, params) in enumerate(calls)
            ],
            separators=(",", ":"),
        ).encode()
        answer = self._post(body, f"a batch of {len(calls)} calls", None, batch=True)
        if not isinstance(answer, list):  # too large, or one error for the whole batch
            return None
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        missing = {"code": -32603, "message": "no answer in the batch"}
        return [_reply(by_id.get(first + n, {"error": missing})) for n in range(len(calls))]


class ProviderTransport:
    """The same interface over a web3 provider, one request at a time (memory chain, websockets).

    Batches go through web3's request manager, so the provider's own middleware (the memory
    chain's conversions) applies, and answers are turned back into JSON-RPC form; :meth:`call`
    returns the provider's raw answer.
    """

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3

    @property
    def where(self) -> str:
        return str(getattr(self._w3.provider, "endpoint_uri", None) or type(self._w3.provider).__name__)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        from web3.exceptions import Web3Exception

        try:
            answer = self._w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        except (OSError, TimeoutError) as exc:
            raise unreachable(self.where, _reason(exc)) from None
        except (Web3Exception, ValueError) as exc:
            raise ChainError(f"{self.where} did not answer {method} like an Ethereum JSON-RPC node: {_reason(exc)}") from None
        if not isinstance(answer, Mapping):
            raise ChainError(f"{self.where} did not answer {method} like an Ethereum JSON-RPC node: {answer!r:.160}")
        reply = _reply(answer)
        if reply.error is not None:
            raise RpcError(self.where, method, reply.error)
        return reply.result

    def batch(self, calls: Sequence[Call]) -> list[RpcReply]:
        from web3.exceptions import TransactionNotFound

        replies: list[RpcReply] = []
        for method, params in calls:
            try:
                if method == "eth_getLogs":
                    # Through web3's filter formatters: the memory chain takes a topic given as a list
                    # of alternatives (``[[t1, t2], payer]``) only after them.
                    result = self._w3.eth.get_logs(params[0])
                else:
                    result = self._w3.manager.request_blocking(method, list(params))  # type: ignore[arg-type]
            except TransactionNotFound:
                replies.append(RpcReply(result=None))
            except Exception as exc:  # the providers raise their own types for an error answer
                replies.append(RpcReply(error=_error_object(exc)))
            else:
                replies.append(RpcReply(result=_plain_json(result)))
        return replies

    def close(self) -> None:
        return None


def transport_for(w3: Web3, *, max_batch: int = 500) -> Transport:
    """A batching :class:`HttpTransport` for an HTTP provider (its URL, headers and timeout),
    else a :class:`ProviderTransport`."""
    from web3 import HTTPProvider

    provider = w3.provider
    if isinstance(provider, HTTPProvider) and provider.endpoint_uri:
        kwargs = provider.get_request_kwargs()
        timeout = kwargs.get("timeout", 60.0)
        headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
        headers.pop("Content-Type", None)
        return HttpTransport(
            str(provider.endpoint_uri),
            timeout=float(timeout) if isinstance(timeout, int | float) else 60.0,
            headers=headers,
            max_batch=max_batch,
        )
    return ProviderTransport(w3)


# --------------------------------------------------------------------------- internals


def _reply(item: Mapping[str, Any]) -> RpcReply:
    error = item.get("error")
    if error is not None:
        return RpcReply(error=error if isinstance(error, Mapping) else {"code": -32603, "message": str(error)})
    return RpcReply(result=item.get("result"))


def _reason(exc: BaseException) -> str:
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno.group(1).strip()
    if "timed out" in text.lower() or isinstance(exc, TimeoutError):
        return "timed out"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def _error_object(exc: BaseException) -> dict[str, Any]:
    """A JSON-RPC error object for an exception a provider raised (revert data kept)."""
    data = _revert_data_in_chain(exc)
    if data is not None:
        return {"code": -32000, "message": "execution reverted", "data": "0x" + data.hex()}
    return {"code": -32000, "message": str(exc) or type(exc).__name__}


def _revert_data_in_chain(exc: BaseException) -> bytes | None:
    """Revert bytes from an exception or its causes; py-evm renders them as ``b'...'`` text."""
    import ast

    from .decode import revert_data_from_exception

    found: bytes | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        data = revert_data_from_exception(current)
        if data:
            return data
        found = data if found is None else found
        text = str(current.args[0]) if current.args else ""
        text = text.removeprefix("execution reverted: ")
        if text.startswith(("b'", 'b"')) and text.endswith(text[1]):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = None
            if isinstance(value, bytes):
                return value
        current = current.__cause__ or current.__context__
    return found


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _plain_json(value: Any) -> Any:
    """eth-tester answers with Python objects (snake_case keys, bytes, ints): make them JSON-RPC-like."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, Mapping):
        return {_camel(str(k)): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    return value

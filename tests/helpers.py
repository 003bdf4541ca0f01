"""The small layer the contract tests speak: actors, prepared calls, reverts, events, EIP-712.

::

    token = stack.token                                   # a ContractClient
    token.as_(alice).transfer(bob, 500).send()            # Receipt (status 1 or an exception)
    expect_revert(token.as_(alice).transfer(bob, 500), "FrozenAccount", account=alice)
    receipt.expect_event("Frozen", account=alice, ref=REF)

* :class:`Actor` is a named dev key. Actors may be passed wherever an address is expected,
  in call arguments and in expected error or event arguments.
* ``client.as_(actor).<function>(*args)`` returns a :class:`PreparedCall` (nothing is sent).
  Overloaded functions are reached by signature:
  ``client.as_(bob).fn("permit(address,address,uint256,uint256,bytes)")(...)``.
* :meth:`PreparedCall.send` signs locally, sends, and waits. A revert is *mined* (explicit gas,
  no estimation) and then decoded by replaying the same call at the block it was mined in, so
  the decoded error is exactly what that transaction saw (same timestamp, same state).
* :func:`expect_revert` checks the custom error's exact name and every argument through
  :class:`~pkr_pilot.errors.ContractRevert` (``.name`` / ``.args_by_name``).
* :func:`permit_signature`, :func:`authorization_signature` and :func:`cancel_signature` sign
  EIP-2612 / EIP-3009 messages with eth-account's ``sign_typed_data``, as a wallet would.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from pkr_pilot.contracts import AUTHORIZATION_FIELDS, PERMIT_TYPES, DecodedEvent, decode_log
from pkr_pilot.decode import ErrorDecoder, revert_data_from_exception
from pkr_pilot.errors import ContractRevert, TransactionFailed

if TYPE_CHECKING:
    from web3 import Web3

    from pkr_pilot.accounts import Signer

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
MAX_UINT256 = 2**256 - 1
#: Gas for every test transaction: no estimation, so a reverting call is mined with status 0.
TEST_GAS = 3_000_000
#: Fee caps for test transactions (dev accounts hold 10,000 ETH; the base fee is far below).
MAX_FEE = 50 * 10**9
PRIORITY_FEE = 10**9


def revert_data(exc: BaseException) -> bytes | None:
    """Revert bytes of a failed call on either backend.

    anvil's answer carries them in the exception's data; web3's eth-tester provider re-raises
    with the bytes rendered into a string, keeping the original (bytes) exception as context.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = revert_data_from_exception(current)
        if found is not None:
            return found
        found = _bytes_repr_in_message(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _bytes_repr_in_message(exc: BaseException) -> bytes | None:
    """py-evm reports a custom error as ``str(bytes)``: ``execution reverted: b'\\xe4P...'``."""
    import ast

    if type(exc).__name__ != "TransactionFailed" or not exc.args or not isinstance(exc.args[0], str):
        return None
    text = exc.args[0].removeprefix("execution reverted: ")
    if not (text.startswith(("b'", 'b"')) and text.endswith(text[1])):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def ref(label: str) -> bytes:
    """A ``bytes32`` reference derived from a readable label (a bank transfer id, a case number)."""
    return bytes(keccak(text=label))


# --------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class Actor:
    """A named account and its signer (dev keys only; the signer never shows its key)."""

    name: str
    account: Signer = field(repr=False)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def __str__(self) -> str:
        return f"{self.name}({self.address})"


def addr(value: Any) -> str:
    """Checksummed address of an Actor, a client or an address string."""
    if isinstance(value, Actor):
        return value.address
    if isinstance(value, ContractClient):
        return value.address
    return str(to_checksum_address(value))


def _plain(value: Any) -> Any:
    """Actors and clients become addresses (also inside lists and tuples)."""
    if isinstance(value, Actor | ContractClient):
        return addr(value)
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _normal(value: Any) -> Any:
    """Comparable form of an expected or actual value: checksummed addresses, bytes, ints."""
    value = _plain(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return str(to_checksum_address(value))
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(_normal(v) for v in value)
    return value


# --------------------------------------------------------------------------- ABI helpers


def _canonical_type(param: Mapping[str, Any]) -> str:
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){typ[5:]}"
    return typ


@dataclass(frozen=True)
class AbiFunction:
    name: str
    signature: str
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    outputs: tuple[Mapping[str, Any], ...]
    selector: bytes

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> AbiFunction:
        ins = tuple(_canonical_type(i) for i in item.get("inputs", []))
        outs = tuple(_canonical_type(o) for o in item.get("outputs", []))
        sig = f"{item['name']}({','.join(ins)})"
        return cls(str(item["name"]), sig, ins, outs, tuple(item.get("outputs", [])), bytes(keccak(text=sig))[:4])

    def encode(self, args: Sequence[Any]) -> bytes:
        if len(args) != len(self.input_types):
            raise TypeError(f"{self.signature} takes {len(self.input_types)} arguments, got {len(args)}")
        return self.selector + abi_encode(list(self.input_types), [_plain(a) for a in args])

    def decode_output(self, raw: bytes) -> Any:
        if not self.output_types:
            return None
        values = abi_decode(list(self.output_types), raw)
        values = tuple(_normal(v) if t == "address" else v for t, v in zip(self.output_types, values, strict=True))
        return values[0] if len(values) == 1 else values


# --------------------------------------------------------------------------- receipts


@dataclass(frozen=True)
class Receipt:
    """A successful transaction: its receipt and the decoded events of the clients involved."""

    raw: Mapping[str, Any]
    events: tuple[DecodedEvent, ...]

    @property
    def gas_used(self) -> int:
        return int(self.raw["gasUsed"])

    @property
    def block_number(self) -> int:
        return int(self.raw["blockNumber"])

    def named(self, name: str) -> list[dict[str, Any]]:
        """Arguments of every event called ``name``, in log order."""
        return [dict(e.args) for e in self.events if e.name == name]

    def expect_event(self, name: str, /, **args: Any) -> dict[str, Any]:
        """Exactly one ``name`` event whose arguments are exactly ``args``; returns them."""
        found = self.named(name)
        want = {k: _normal(v) for k, v in args.items()}
        matches = [e for e in found if {k: _normal(v) for k, v in e.items()} == want]
        if len(matches) != 1:
            raise AssertionError(
                f"expected exactly one {name}({_render_args(want)}) event; the transaction emitted: "
                f"{[f'{e.name}({_render_args(e.args)})' for e in self.events]}"
            )
        return matches[0]

    def expect_no_event(self, name: str) -> None:
        found = self.named(name)
        if found:
            raise AssertionError(f"expected no {name} event, got {found}")

    def event_names(self) -> list[str]:
        return [e.name for e in self.events]


def _render_args(args: Mapping[str, Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, bytes):
            return "0x" + v.hex()
        return str(v)

    return ", ".join(f"{k}={one(v)}" for k, v in args.items())


# --------------------------------------------------------------------------- transport


class Transactor:
    """Signs and sends test transactions on an explicit ``Web3`` and decodes their failures.

    Nonces come from the node (``pending``) for every send, so snapshots, reverts and other
    senders never leave a stale cache behind.
    """

    def __init__(self, w3: Web3, decoder: ErrorDecoder) -> None:
        self.w3 = w3
        self.decoder = decoder
        self.chain_id = int(w3.eth.chain_id)
        #: address (lower-case) -> event ABI items by topic, merged over every client at that address.
        self._events: dict[str, dict[bytes, Mapping[str, Any]]] = {}

    def add_events(self, address: str, events: Mapping[bytes, Mapping[str, Any]]) -> None:
        """Know the events of a contract at ``address`` (several ABIs at one address merge)."""
        known = self._events.setdefault(address.lower(), {})
        for topic, item in events.items():
            known.setdefault(topic, item)

    def decode_events(self, receipt: Mapping[str, Any]) -> tuple[DecodedEvent, ...]:
        """Every log of a known contract with a known event, in log order (one entry per log)."""
        out: list[DecodedEvent] = []
        for log in receipt.get("logs", []):
            if not log["topics"]:
                continue
            item = self._events.get(str(log["address"]).lower(), {}).get(bytes(log["topics"][0]))
            if item is not None:
                out.append(decode_log(item, log))
        return tuple(out)

    def send(self, sender: Actor, to: str | None, data: bytes, *, value: int = 0, gas: int = TEST_GAS,
             action: str | None = None) -> Receipt:
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": int(self.w3.eth.get_transaction_count(sender.address, "pending")),  # type: ignore[arg-type]
            "gas": gas,
            "maxFeePerGas": MAX_FEE,
            "maxPriorityFeePerGas": PRIORITY_FEE,
            "value": value,
            "data": data,
        }
        if to is not None:
            tx["to"] = to
        signed = sender.account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self._receipt(tx_hash)
        if int(receipt["status"]) != 1:
            raise self._failure(sender, to, data, value, gas, receipt, action)
        return Receipt(receipt, self.decode_events(receipt))

    def _receipt(self, tx_hash: bytes, timeout: float = 30.0) -> Mapping[str, Any]:
        """The receipt, polled briefly (anvil mines an automined transaction asynchronously)."""
        from web3.exceptions import TransactionNotFound

        deadline = time.monotonic() + timeout
        delay = 0.0005
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.02)

    def call(self, sender: Actor | str | None, to: str, data: bytes, *, block: int | str = "latest",
             action: str | None = None) -> bytes:
        params: dict[str, Any] = {"to": to, "data": data}
        if sender is not None:
            params["from"] = addr(sender)
        try:
            return bytes(self.w3.eth.call(params, block))  # type: ignore[arg-type]
        except Exception as exc:
            data_ = revert_data(exc)
            if data_ is None:
                raise
            raise self.decoder.decode(data_, action=action) from None

    def _failure(self, sender: Actor, to: str | None, data: bytes, value: int, gas: int,
                 receipt: Mapping[str, Any], action: str | None) -> ContractRevert:
        """Replay the call at the block the failed transaction was mined in to get its error."""
        if to is None:
            return TransactionFailed("DeploymentFailed", {"tx": receipt["transactionHash"].hex()}, action=action)
        params = {"from": sender.address, "to": to, "data": data, "value": value, "gas": gas}
        try:
            self.w3.eth.call(params, int(receipt["blockNumber"]))  # type: ignore[arg-type]
        except Exception as exc:
            raw = revert_data(exc)
            if raw is None:
                raise
            return self.decoder.decode(raw, action=action, failed_tx=True)
        if int(receipt["gasUsed"]) >= gas:
            return TransactionFailed("OutOfGas", {"gas": gas}, action=action)
        return TransactionFailed("ReplayDidNotRevert", {}, action=action)


# --------------------------------------------------------------------------- contracts


@dataclass(frozen=True)
class PreparedCall:
    """One contract call from one actor, not yet sent."""

    transactor: Transactor
    sender: Actor
    target: str
    function: AbiFunction
    args: tuple[Any, ...]
    contract: str
    value: int = 0

    @property
    def data(self) -> bytes:
        return self.function.encode(self.args)

    def describe(self) -> str:
        return f"{self.sender.name} -> {self.contract}.{self.function.name}({', '.join(map(_render_value, self.args))})"

    def send(self, *, gas: int = TEST_GAS) -> Receipt:
        """Sign, send, wait; raises the decoded :class:`ContractRevert` when the transaction reverts."""
        return self.transactor.send(self.sender, self.target, self.data, value=self.value, gas=gas,
                                    action=self.describe())

    def call(self, *, block: int | str = "latest") -> Any:
        """``eth_call`` from the sender; the decoded return value, or the decoded revert raised."""
        raw = self.transactor.call(self.sender, self.target, self.data, block=block, action=self.describe())
        return self.function.decode_output(raw)


def _render_value(v: Any) -> str:
    if isinstance(v, Actor):
        return v.name
    if isinstance(v, bytes):
        return "0x" + v.hex()[:8] + "…" if len(v) > 4 else "0x" + v.hex()
    return str(v)


class _Bound:
    def __init__(self, client: ContractClient, sender: Actor) -> None:
        self._client = client
        self._sender = sender

    def fn(self, name_or_signature: str) -> Callable[..., PreparedCall]:
        function = self._client.function(name_or_signature)

        def prepare(*args: Any, value: int = 0) -> PreparedCall:
            return PreparedCall(self._client.transactor, self._sender, self._client.address, function,
                                tuple(args), self._client.name, value)

        return prepare

    def __getattr__(self, name: str) -> Callable[..., PreparedCall]:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.fn(name)


class ContractClient:
    """A deployed contract as the tests see it: calls as any actor, views, raw encoding."""

    def __init__(self, transactor: Transactor, name: str, address: str, abi: Sequence[Mapping[str, Any]]) -> None:
        self.transactor = transactor
        self.name = name
        self.address = str(to_checksum_address(address))
        self.abi = list(abi)
        self._by_name: dict[str, list[AbiFunction]] = {}
        self._by_sig: dict[str, AbiFunction] = {}
        self._events: dict[bytes, Mapping[str, Any]] = {}
        for item in self.abi:
            if item.get("type") == "function":
                f = AbiFunction.of(item)
                self._by_name.setdefault(f.name, []).append(f)
                self._by_sig[f.signature] = f
            elif item.get("type") == "event" and not item.get("anonymous"):
                types = ",".join(_canonical_type(i) for i in item.get("inputs", []))
                self._events[bytes(keccak(text=f"{item['name']}({types})"))] = item
        transactor.add_events(self.address, self._events)

    def __repr__(self) -> str:
        return f"ContractClient({self.name} at {self.address})"

    def function(self, name_or_signature: str) -> AbiFunction:
        if "(" in name_or_signature:
            return self._by_sig[name_or_signature]
        found = self._by_name.get(name_or_signature)
        if not found:
            raise AttributeError(f"{self.name} has no function {name_or_signature!r}")
        if len(found) > 1:
            raise AttributeError(
                f"{self.name}.{name_or_signature} is overloaded; use .fn() with one of "
                f"{[f.signature for f in found]}"
            )
        return found[0]

    def as_(self, actor: Actor) -> _Bound:
        return _Bound(self, actor)

    def view(self, name_or_signature: str, *args: Any, block: int | str = "latest") -> Any:
        function = self.function(name_or_signature)
        raw = self.transactor.call(None, self.address, function.encode(args), block=block,
                                   action=f"{self.name}.{function.name}")
        return function.decode_output(raw)

    def encode(self, name_or_signature: str, *args: Any) -> bytes:
        return self.function(name_or_signature).encode(args)

    def decode_receipt(self, receipt: Mapping[str, Any]) -> list[DecodedEvent]:
        out: list[DecodedEvent] = []
        for log in receipt.get("logs", []):
            if str(log["address"]).lower() != self.address.lower() or not log["topics"]:
                continue
            item = self._events.get(bytes(log["topics"][0]))
            if item is not None:
                out.append(decode_log(item, log))
        return out


# --------------------------------------------------------------------------- reverts


def expect_revert(
    action: PreparedCall | Callable[[], Any], error: str, /, *, mined: bool = False, **args: Any
) -> ContractRevert:
    """Require that ``action`` reverts with exactly the custom error ``error`` and arguments ``args``.

    ``args`` must name *every* argument of the error with its exact value (Actors count as their
    address). A :class:`PreparedCall` is simulated by default with ``eth_call`` against the
    *pending* block (what the next transaction sees, including a timestamp set with
    ``set_next_timestamp``; nothing is mined). With ``mined=True`` it is sent as a real
    transaction instead, which must be mined with status 0; its error is decoded by replaying it at
    its own block. A plain callable is just called. Returns the :class:`ContractRevert`.
    """
    try:
        if isinstance(action, PreparedCall):
            if mined:
                action.send()
            else:
                action.call(block="pending")
        else:
            action()
    except ContractRevert as exc:
        got = {k: _normal(v) for k, v in exc.args_by_name.items() if k != "tx"}
        want = {k: _normal(v) for k, v in args.items()}
        if exc.name != error or got != want:
            raise AssertionError(
                f"expected revert {error}({_render_args(want)}), got {exc.name}({_render_args(got)})"
            ) from exc
        if mined and not isinstance(exc, TransactionFailed):
            raise AssertionError(f"expected a mined transaction with status 0, got {exc!r}") from exc
        return exc
    what = action.describe() if isinstance(action, PreparedCall) else getattr(action, "__name__", "action")
    raise AssertionError(f"expected revert {error}, but {what} succeeded")


def role(name: str) -> bytes:
    """The bytes32 id of a role (DEFAULT_ADMIN_ROLE is zero)."""
    return bytes(32) if name == "DEFAULT_ADMIN_ROLE" else bytes(keccak(text=name))


# --------------------------------------------------------------------------- EIP-712


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain (name, version, chain id, verifying contract)."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes

    @property
    def packed(self) -> bytes:
        """``r ‖ s ‖ v`` (65 bytes), the ``bytes signature`` form."""
        return self.r + self.s + bytes([self.v])


_PERMIT_TYPES = PERMIT_TYPES
_AUTH_FIELDS = AUTHORIZATION_FIELDS
_CANCEL_TYPES = {
    "CancelAuthorization": [
        {"name": "authorizer", "type": "address"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


def _sign(signer: Actor, domain: Domain, types: Mapping[str, Any], message: Mapping[str, Any]) -> Signature:
    signed = signer.account.sign_typed_data(
        domain_data=domain.as_dict(), message_types=dict(types), message_data=dict(message)
    )
    return Signature(int(signed.v), int(signed.r).to_bytes(32, "big"), int(signed.s).to_bytes(32, "big"))


def permit_signature(owner: Actor, domain: Domain, spender: Any, value: int, nonce: int, deadline: int) -> Signature:
    return _sign(owner, domain, _PERMIT_TYPES, {
        "owner": owner.address, "spender": addr(spender), "value": value, "nonce": nonce, "deadline": deadline,
    })


def authorization_signature(
    signer: Actor, domain: Domain, *, to: Any, value: int, valid_after: int, valid_before: int, nonce: bytes,
    receive: bool = False,
) -> Signature:
    primary = "ReceiveWithAuthorization" if receive else "TransferWithAuthorization"
    return _sign(signer, domain, {primary: _AUTH_FIELDS}, {
        "from": signer.address, "to": addr(to), "value": value, "validAfter": valid_after,
        "validBefore": valid_before, "nonce": nonce,
    })


def cancel_signature(signer: Actor, domain: Domain, nonce: bytes) -> Signature:
    return _sign(signer, domain, _CANCEL_TYPES, {"authorizer": signer.address, "nonce": nonce})


def random_nonce() -> bytes:
    return os.urandom(32)


def stop_process(proc: Any, *, interrupt: bool = False, timeout: float = 10) -> None:
    """Stop a child process the tests started: SIGINT (``interrupt``) or SIGTERM, then SIGKILL."""
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    if interrupt:
        proc.send_signal(signal.SIGINT)
    else:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

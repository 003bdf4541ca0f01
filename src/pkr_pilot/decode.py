"""Turn raw revert data into typed errors that keep the error's name and arguments.

web3.py hands custom errors back as raw bytes; :class:`ErrorDecoder` knows every
error in the ABIs it was given (plus ``Error(string)`` and ``Panic(uint256)``)
and builds a :class:`~pkr_pilot.errors.ContractRevert` whose text reads like
``FrozenAccount(account=0xAbC…)``. The error keeps its typed arguments; the decoder
hands it the :class:`~pkr_pilot.human.Units` that render them for a person (role names
from the ABIs' ``*_ROLE`` constants; the token's decimals and symbol once
:meth:`ErrorDecoder.use_token` says where to read them).

>>> abi = [{"type": "error", "name": "FrozenAccount",
...         "inputs": [{"name": "account", "type": "address"}]}]
>>> d = ErrorDecoder([abi])
>>> data = bytes.fromhex(d.selector_of("FrozenAccount")[2:]) + bytes(12) + bytes.fromhex("11" * 20)
>>> str(d.decode(data))
'reverted: FrozenAccount(account=0x1111111111111111111111111111111111111111)'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ContractRevert, TransactionFailed
from .human import Units, role_names_from_abis

__all__ = ["ErrorDecoder", "revert_data_from_exception"]

_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")

PANIC_CODES: Mapping[int, str] = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "bad storage byte array encoding",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to a zero-initialised internal function",
}


@dataclass(frozen=True)
class _ErrorSpec:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]


class ErrorDecoder:
    """Decode revert data against the custom errors of a set of ABIs."""

    def __init__(self, abis: Iterable[Sequence[Mapping[str, Any]]]) -> None:
        from eth_utils.crypto import keccak

        abis = [list(abi) for abi in abis]
        self._by_selector: dict[bytes, _ErrorSpec] = {}
        self._roles = role_names_from_abis(abis)
        self._token: Callable[[], tuple[int, str]] | None = None
        self._units: Units | None = None
        self._resolving = False
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = tuple(_canonical_type(i) for i in item.get("inputs", []))
                names = tuple(
                    i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))
                )
                signature = f"{item['name']}({','.join(types)})"
                self._by_selector[keccak(text=signature)[:4]] = _ErrorSpec(
                    item["name"], types, names
                )

    def use_token(self, read: Callable[[], tuple[int, str]]) -> None:
        """Render amounts with the token's ``(decimals, symbol)``, read once through ``read``."""
        self._token = read
        self._units = None

    def units(self) -> Units:
        """The units errors are rendered in (base units until the token's decimals are known)."""
        if self._units is not None:
            return self._units
        if self._token is None or self._resolving:
            return Units(roles=self._roles)
        self._resolving = True  # reading decimals may itself revert and come back here
        try:
            decimals, symbol = self._token()
        except Exception:
            return Units(roles=self._roles)
        finally:
            self._resolving = False
        self._units = Units(decimals=decimals, symbol=symbol, roles=self._roles)
        return self._units

    def selector_of(self, name: str) -> str:
        """The 4-byte selector of a known error, as ``0x``-hex."""
        for selector, spec in self._by_selector.items():
            if spec.name == name:
                return "0x" + selector.hex()
        raise KeyError(name)

    def decode(
        self, data: bytes, *, action: str | None = None, failed_tx: bool = False
    ) -> ContractRevert:
        """Build the typed error for ``data`` (never raises for unknown data)."""
        from eth_abi.abi import decode as abi_decode
        from eth_utils.address import to_checksum_address

        kind = TransactionFailed if failed_tx else ContractRevert

        def cls(name: str, args: Mapping[str, Any], *, data: bytes, action: str | None) -> ContractRevert:
            return kind(name, args, data=data, action=action, units=self.units())

        selector, body = data[:4], data[4:]
        if not data:
            return cls("EmptyRevert", {}, data=data, action=action)
        if selector == _ERROR_STRING:
            (reason,) = abi_decode(["string"], body)
            return cls("Error", {"reason": reason}, data=data, action=action)
        if selector == _PANIC:
            (code,) = abi_decode(["uint256"], body)
            return cls(
                "Panic",
                {"code": hex(code), "meaning": PANIC_CODES.get(code, "unknown")},
                data=data,
                action=action,
            )
        spec = self._by_selector.get(bytes(selector))
        if spec is None:
            return cls("UnknownError", {"data": data}, data=data, action=action)
        values = abi_decode(list(spec.types), body)
        args: dict[str, Any] = {}
        for name, typ, value in zip(spec.names, spec.types, values, strict=True):
            args[name] = to_checksum_address(value) if typ == "address" else value
        return cls(spec.name, args, data=data, action=action)


def revert_data_from_exception(exc: BaseException) -> bytes | None:
    """Dig the raw revert bytes out of a web3 / eth-tester exception, if any.

    anvil's answer carries them in the exception's ``data``; web3's eth-tester
    provider (the in-process py-evm backend) re-raises with the bytes rendered
    into the message (``execution reverted: b'\\xe4P…'``) and keeps the original
    exception as its cause, so the whole cause chain is searched.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        candidates: list[Any] = [getattr(current, "data", None)]
        candidates.extend(getattr(current, "args", ()) or ())
        for value in candidates:
            found = _as_revert_bytes(value)
            if found is None and isinstance(value, str):
                found = _bytes_repr(value)
            if found is not None:
                return found
        current = current.__cause__ or current.__context__
    return None


def _bytes_repr(text: str) -> bytes | None:
    """``execution reverted: b'...'`` (py-evm's rendering of revert bytes) back to bytes."""
    import ast

    body = text.removeprefix("execution reverted: ")
    if not (len(body) >= 3 and body.startswith(("b'", 'b"')) and body.endswith(body[1])):
        return None
    try:
        value = ast.literal_eval(body)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def _as_revert_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    if isinstance(value, Mapping):
        for key in ("data", "result"):
            found = _as_revert_bytes(value.get(key))
            if found is not None:
                return found
    return None


def _canonical_type(param: Mapping[str, Any]) -> str:
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){typ[5:]}"
    return typ

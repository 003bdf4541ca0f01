"""The ABI layer: role ids, call encoding (:class:`Call`), canonical types and value normalisation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..human import plain

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


_ZERO32 = bytes(32)


def role_id(name: str) -> bytes:
    """The ``bytes32`` id of a role name (``DEFAULT_ADMIN_ROLE`` is zero, others ``keccak256(name)``)."""
    from eth_utils.crypto import keccak

    canonical = canonical_role(name)
    if canonical == "DEFAULT_ADMIN_ROLE":
        return _ZERO32
    return bytes(keccak(text=canonical))


def role_name(role: bytes, known: Iterable[str] = TOKEN_ROLES + DESK_ROLES + TIMELOCK_ROLES) -> str:
    """The name of a role id among ``known``, or its ``0x`` hex when unknown."""
    for name in known:
        if role_id(name) == role:
            return name
    return "0x" + role.hex()


def canonical_role(name: str) -> str:
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
        rendered = ", ".join(f"{k}={plain(v)}" for k, v in self.args.items())
        return f"{self.contract}.{self.function}({rendered})"


def _role_bytes(role: str | bytes) -> bytes:
    if isinstance(role, bytes):
        return role
    if role.startswith("0x") and len(role) == 66:
        return bytes.fromhex(role[2:])
    return role_id(role)


def selector(signature: str) -> bytes:
    """The 4-byte selector of a canonical function signature (``transfer(address,uint256)``)."""
    from eth_utils.abi import function_signature_to_4byte_selector

    return bytes(function_signature_to_4byte_selector(signature))


def event_topic(signature: str) -> bytes:
    """The first log topic of a canonical event signature (``PaymentReference(address,bytes32)``)."""
    from eth_utils.crypto import keccak

    return bytes(keccak(text=signature))


def static_words(*args: str | int | bytes) -> bytes:
    """``args`` as 32-byte ABI words, the fixed layout of ``address``, ``uint256`` and ``bytes32``
    arguments, without an encoder pass (the calls sent by the thousand; a log's address topic).

    A ``0x`` string is an address, an int a ``uint256``, bytes a ``bytes32``.

    >>> static_words("0x" + "11" * 20, 5).hex() == "00" * 12 + "11" * 20 + "00" * 31 + "05"
    True
    """
    out = bytearray()
    for arg in args:
        if isinstance(arg, str):
            raw = bytes.fromhex(arg[2:])
            if len(raw) != 20:
                raise ValueError(f"not an address: {arg}")
            out += bytes(12) + raw
        elif isinstance(arg, int):
            out += arg.to_bytes(32, "big")
        elif len(arg) == 32:
            out += arg
        else:
            raise ValueError(f"not a 32-byte value: 0x{bytes(arg).hex()}")
    return bytes(out)


def _event_topic(item: Mapping[str, Any]) -> bytes:
    from eth_utils.abi import event_abi_to_log_topic

    return bytes(event_abi_to_log_topic(item))  # type: ignore[arg-type]


def _canonical_type(param: Mapping[str, Any]) -> str:
    """The canonical ABI type of ``param`` (tuples written out: ``(address,uint256)[]``)."""
    from eth_utils.abi import collapse_if_tuple

    return str(collapse_if_tuple(param))  # type: ignore[arg-type]


def encode_call(item: Mapping[str, Any], args: Sequence[Any]) -> tuple[str, bytes]:
    """The canonical signature and the call data of function ``item`` with positional ``args``.

    ``0x`` hex strings are accepted for ``bytes``/``bytesN`` arguments.

    Raises:
        TypeError: the number of arguments is wrong.
        eth_abi.exceptions.EncodingError: a value does not fit its type.
    """
    from eth_abi.abi import encode

    types = [_canonical_type(i) for i in item.get("inputs", [])]
    if len(args) != len(types):
        raise TypeError(f"{item.get('name')} takes {len(types)} arguments, got {len(args)}")
    values = [
        bytes.fromhex(v[2:]) if isinstance(v, str) and t.startswith("bytes") and v.startswith("0x") else v
        for t, v in zip(types, args, strict=True)
    ]
    signature = f"{item['name']}({','.join(types)})"
    return signature, selector(signature) + encode(types, values)


def function_item(abi: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The ABI entry of function ``name`` (None when absent or overloaded)."""
    found = [item for item in abi if item.get("type") == "function" and item.get("name") == name]
    return found[0] if len(found) == 1 else None


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



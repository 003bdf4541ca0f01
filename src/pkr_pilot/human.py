"""The one renderer of what a person reads: amounts, times, durations, roles, percentages.

Everything else in the toolkit keeps typed values (integers of base units, unix seconds,
``bytes32`` role ids, decoded error arguments). This module turns them into text once, the
same way everywhere (errors, dry runs, confirmations, ``status``, reports); ``--json`` output
never comes through here and keeps the exact integers.

>>> u = Units(decimals=2, symbol="PKRP")
>>> u.amount(4000)
'40.00 PKRP'
>>> u.time(1796408713)
'2026-12-04 18:25:13 UTC (1796408713)'
>>> u.duration(90_000)
'1 d 1 h (90000 s)'
>>> u.role(bytes(32))
'DEFAULT_ADMIN_ROLE'
>>> percent(109_420, 100_000)
'109.42 %'
>>> u.error_text("ERC20InsufficientBalance", {"sender": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
...     "balance": 4000, "needed": 5000})
'ERC20InsufficientBalance(sender=0x70997970C51812dc3A010C7d01b50e0d17dc79C8, balance=40.00 PKRP, needed=50.00 PKRP)'

Which argument of which custom error is an amount, a time, a duration or a role is written
down once, in :data:`ERROR_ARGUMENT_KINDS`, keyed by the error's name and the parameter's name
as the contracts declare them; every other numeric argument is in :data:`PLAIN_ARGUMENTS`. A test
walks every error of the compiled build and fails when one of its numeric or ``bytes32``
parameters is in neither table, so a new error cannot silently render in paisa.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "ERROR_ARGUMENT_KINDS",
    "PLAIN_ARGUMENTS",
    "Kind",
    "Units",
    "duration",
    "jsonable",
    "percent",
    "role_names_from_abis",
    "timestamp",
]

Kind = Literal["amount", "time", "duration", "role"]

#: error name -> parameter name -> what the value is (as declared in the contracts' custom errors).
ERROR_ARGUMENT_KINDS: Mapping[str, Mapping[str, Kind]] = {
    # OpenZeppelin ERC-20 (IERC20Errors) and ERC-2612 / EIP-3009 deadlines
    "ERC20InsufficientBalance": {"balance": "amount", "needed": "amount"},
    "ERC20InsufficientAllowance": {"allowance": "amount", "needed": "amount"},
    "ERC2612ExpiredSignature": {"deadline": "time"},
    "AuthorizationNotYetValid": {"validAfter": "time"},
    "AuthorizationExpired": {"validBefore": "time"},
    # OpenZeppelin access control
    "AccessControlUnauthorizedAccount": {"neededRole": "role"},
    "AccessControlEnforcedDefaultAdminDelay": {"schedule": "time"},
    # OpenZeppelin TimelockController
    "TimelockInsufficientDelay": {"delay": "duration", "minDelay": "duration"},
    # PilotRupee
    "InsufficientAvailableBalance": {"available": "amount", "needed": "amount"},
    "ReservesExceeded": {"reserves": "amount", "newSupply": "amount"},
    "StaleAttestation": {"asOf": "time", "maxAge": "duration"},
    "SupplyCapExceeded": {"cap": "amount", "newSupply": "amount"},
    "MinterAllowanceExceeded": {"allowance": "amount", "needed": "amount"},
    "AmountTooLarge": {"amount": "amount", "max": "amount"},
    "TierBalanceLimitExceeded": {"limit": "amount", "attempted": "amount"},
    "TierDailyOutflowExceeded": {"limit": "amount", "attempted": "amount"},
    "UnfreezeExceedsFrozen": {"frozen": "amount", "requested": "amount"},
    "SeizeExceedsFrozen": {"seizable": "amount", "requested": "amount"},
    "AttestationInFuture": {"asOf": "time", "blockTime": "time"},
    "AttestationOutOfOrder": {"lastAsOf": "time", "asOf": "time"},
    # MintDesk
    "RequestExpired": {"expiresAt": "time"},
    "RequestNotExpired": {"expiresAt": "time"},
    "AboveDirectThreshold": {"amount": "amount", "threshold": "amount"},
    "DailyDirectLimitExceeded": {"usedToday": "amount", "amount": "amount", "limit": "amount"},
    "InsufficientDeskBalance": {"available": "amount", "needed": "amount"},
    "InvalidRequestTtl": {"requestTtl": "duration"},
}

#: error name -> numeric or bytes32 parameters that are shown as they are (ids, counts, hashes).
PLAIN_ARGUMENTS: Mapping[str, frozenset[str]] = {
    name: frozenset(params)
    for name, params in {
        "RefAlreadyUsed": ("ref",),
        "ReferenceAlreadyUsed": ("ref",),
        "RequestNotFound": ("id",),
        "WrongRequestKind": ("id", "kind"),
        "RequestNotPending": ("id", "status"),
        "RequestExpired": ("id",),
        "RequestNotExpired": ("id",),
        "MakerCannotApprove": ("id",),
        "AlreadyApproved": ("id",),
        "ApprovalsComplete": ("id", "approvals"),
        "NotEnoughApprovals": ("id", "approvals", "required"),
        "CancelNotAllowed": ("id",),
        "DailyDirectLimitExceeded": ("day",),
        "InvalidApprovalsRequired": ("approvalsRequired",),
        "NameTooLong": ("length",),
        "AuthorizationUsedOrCanceled": ("nonce",),
        "InvalidAccountNonce": ("currentNonce",),
        "ECDSAInvalidSignatureLength": ("length",),
        "ECDSAInvalidSignatureS": ("s",),
        "SafeCastOverflowedUintDowncast": ("bits", "value"),
        "SafeCastOverflowedIntDowncast": ("bits", "value"),
        "SafeCastOverflowedIntToUint": ("value",),
        "SafeCastOverflowedUintToInt": ("value",),
        "TimelockInvalidOperationLength": ("targets", "payloads", "values"),
        "TimelockUnexpectedOperationState": ("operationId", "expectedStates"),
        "TimelockUnexecutedPredecessor": ("predecessorId",),
        "UUPSUnsupportedProxiableUUID": ("slot",),
        "ERC1967NonPayable": (),
        "StringsInsufficientHexLength": ("value", "length"),
        "InsufficientBalance": ("balance", "needed"),
    }.items()
}

_ZERO32 = bytes(32)


def jsonable(value: Any) -> Any:
    """The ``--json`` side: exact values (ints stay ints, bytes become ``0x`` hex, tuples lists)."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def json_default(value: Any) -> Any:
    """``json.dumps(default=…)`` for records and journals: bytes (and ``HexBytes``-like values) as
    ``0x`` hex, mappings as dicts; anything else is refused with :class:`TypeError`."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "hex") and callable(value.hex):
        text = str(value.hex())
        return text if text.startswith("0x") else "0x" + text
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def plain(value: Any) -> str:
    """A value as it is (an event's or error's argument): bytes as ``0x`` hex, the rest as ``str``."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


def iso(seconds: int) -> str:
    """ISO-8601 UTC as files carry it (CSV, JSON): ``2026-12-04T18:25:13Z``.

    >>> iso(1796408713)
    '2026-12-04T18:25:13Z'
    """
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def timestamp(seconds: int, *, with_unix: bool = True) -> str:
    """``2026-12-04 18:25:13 UTC (1796408713)``; ``never`` for 0."""
    if seconds == 0:
        return "never (0)" if with_unix else "never"
    try:
        text = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(seconds)
    return f"{text} ({seconds})" if with_unix else text


def duration(seconds: int, *, with_seconds: bool = True) -> str:
    """``1 d 1 h (90000 s)``, ``2 h 5 min (7500 s)``, ``45 s``."""
    if seconds < 60:
        return f"{seconds} s"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    text = " ".join(parts) or f"{seconds} s"
    return f"{text} ({seconds} s)" if with_seconds else text


def percent(numerator: int, denominator: int, *, places: int = 2) -> str:
    """``numerator / denominator`` as ``109.42 %`` (exact decimal arithmetic); ``n/a`` for 0."""
    if denominator == 0:
        return "n/a"
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal(1).scaleb(-places))
    return f"{value:,} %"


def role_names_from_abis(abis: Iterable[Sequence[Mapping[str, Any]]]) -> dict[bytes, str]:
    """Role id -> name for every ``*_ROLE`` constant the ABIs expose (``DEFAULT_ADMIN_ROLE`` is zero)."""
    from eth_utils.crypto import keccak

    out: dict[bytes, str] = {_ZERO32: "DEFAULT_ADMIN_ROLE"}
    for abi in abis:
        for item in abi:
            name = str(item.get("name", ""))
            if item.get("type") == "function" and name.endswith("_ROLE") and not item.get("inputs"):
                out[_ZERO32 if name == "DEFAULT_ADMIN_ROLE" else bytes(keccak(text=name))] = name
    return out


@dataclass(frozen=True)
class Units:
    """How to show a token's values: its decimals and symbol, and the role names it knows.

    ``decimals=None`` (the token is not known) shows amounts as ``4,000 base units``.
    """

    decimals: int | None = None
    symbol: str = ""
    roles: Mapping[bytes, str] = field(default_factory=lambda: {_ZERO32: "DEFAULT_ADMIN_ROLE"})

    def amount(self, units: int) -> str:
        from .amounts import format_amount

        if self.decimals is None:
            return f"{units:,} base units"
        text = format_amount(units, decimals=self.decimals)
        return f"{text} {self.symbol}" if self.symbol else text

    def time(self, seconds: int) -> str:
        return timestamp(seconds)

    def duration(self, seconds: int) -> str:
        return duration(seconds)

    def role(self, role: bytes) -> str:
        return self.roles.get(bytes(role), "0x" + bytes(role).hex())

    def value(self, kind: Kind | None, value: Any) -> str:
        """One value of ``kind`` (``None``: shown as it is, bytes as ``0x`` hex)."""
        if isinstance(value, bool):
            return str(value).lower()
        if kind == "amount" and isinstance(value, int):
            return self.amount(value)
        if kind == "time" and isinstance(value, int):
            return self.time(value)
        if kind == "duration" and isinstance(value, int):
            return self.duration(value)
        if kind == "role" and isinstance(value, bytes | bytearray):
            return self.role(bytes(value))
        if isinstance(value, bytes | bytearray):
            return "0x" + bytes(value).hex()
        return str(value)

    def error_text(self, name: str, args: Mapping[str, Any]) -> str:
        """``Name(arg=value, …)`` with each argument in its unit."""
        kinds = ERROR_ARGUMENT_KINDS.get(name, {})
        shown = ", ".join(f"{k}={self.value(kinds.get(k), v)}" for k, v in args.items())
        return f"{name}({shown})"

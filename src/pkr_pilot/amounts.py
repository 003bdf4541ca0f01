"""Exact money and address parsing for operators' input.

Amounts are typed by people (``1,250.50``) and become integers of base units
(paisa for 2 decimals). Nothing here ever touches a float.

>>> parse_amount("1,250.50", decimals=2)
125050
>>> format_amount(125050, decimals=2)
'1,250.50'
>>> parse_amount("0.001", decimals=2)
Traceback (most recent call last):
...
pkr_pilot.errors.UserInputError: amount '0.001' has more than 2 decimal places (the token has 2 decimals)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .errors import UserInputError

__all__ = ["UNLIMITED", "TierLimits", "format_amount", "parse_address", "parse_amount", "parse_ref", "to_decimal"]

_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$", re.ASCII)
_PLAIN = re.compile(r"^[0-9]+(\.[0-9]+)?$", re.ASCII)
_UINT256_MAX = 2**256 - 1

#: The contracts' "no limit" value for tier limits (``type(uint128).max``).
UNLIMITED = 2**128 - 1


@dataclass(frozen=True)
class TierLimits:
    """Limits of one wallet tier, base units (``UNLIMITED`` means no limit): read from the token,
    or configured (``[[tiers]]`` of the deploy config)."""

    tier: int
    max_balance: int
    max_daily_outflow: int


def parse_amount(text: str, *, decimals: int, allow_zero: bool = False) -> int:
    """``text`` in token units (``1,250.50`` or ``1250.5``) to base units.

    Only ASCII digits, one ``.`` and ``,`` thousands separators in the right places are
    accepted (``1,25.0``, ``1_000``, Arabic-Indic and full-width digits are refused
    with a message naming the problem). Refuses negatives, exponents, more decimal places
    than the token has, and zero unless ``allow_zero``.
    """
    raw = text.strip()
    if raw.startswith("-"):
        raise UserInputError(f"amount {text!r} is negative")
    if raw.startswith("+"):
        raw = raw[1:]
    foreign = next((c for c in raw if not c.isascii()), None)
    if foreign is not None:
        import unicodedata

        raise UserInputError(
            f"amount {text!r} contains {foreign!r} ({unicodedata.name(foreign, f'U+{ord(foreign):04X}')})",
            hint="type amounts with the ASCII digits 0-9, e.g. 1,250.50",
        )
    if "_" in raw:
        raise UserInputError(
            f"amount {text!r} uses '_' as a separator", hint="group thousands with commas (1,000) or not at all (1000)"
        )
    cleaned = raw
    if "," in cleaned:
        if not _GROUPED.match(cleaned):
            raise UserInputError(
                f"amount {text!r} has misplaced thousands separators",
                hint="write 1,250.50 or 1250.50",
            )
        cleaned = cleaned.replace(",", "")
    if not _PLAIN.match(cleaned):
        raise UserInputError(f"amount {text!r} is not a number", hint="write e.g. 1250.50")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees digits
        raise UserInputError(f"amount {text!r} is not a number") from None
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise UserInputError(
            f"amount {text!r} has more than {decimals} decimal places "
            f"(the token has {decimals} decimals)"
        )
    units = int(scaled)
    if units == 0 and not allow_zero:
        raise UserInputError(f"amount {text!r} is zero", hint="give an amount above zero")
    if units > _UINT256_MAX:
        raise UserInputError(f"amount {text!r} is too large")
    return units


def to_decimal(units: int, *, decimals: int) -> Decimal:
    """Base units to an exact :class:`~decimal.Decimal` in token units."""
    return Decimal(units).scaleb(-decimals)


def format_amount(units: int, *, decimals: int, grouping: bool = True) -> str:
    """Base units to a human string with exactly ``decimals`` places."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    whole_text = f"{whole:,}" if grouping else str(whole)
    if decimals == 0:
        return f"{sign}{whole_text}"
    return f"{sign}{whole_text}.{frac:0{decimals}d}"


def parse_address(text: str, *, what: str = "address") -> str:
    """A checksummed address; a mixed-case input must already carry a valid checksum."""
    from eth_utils.address import is_checksum_address, to_checksum_address

    raw = text.strip()
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", raw):
        raise UserInputError(
            f"{what} {text!r} is not an Ethereum address", hint="expected 0x followed by 40 hex digits"
        )
    digits = raw[2:]
    mixed_case = digits != digits.lower() and digits != digits.upper()
    if mixed_case and not is_checksum_address(raw):
        raise UserInputError(
            f"{what} {text!r} has a bad checksum",
            hint="copy the address again, or type it all in lower case",
        )
    return str(to_checksum_address(raw))


def parse_ref(text: str | None) -> bytes:
    """An operation reference as ``bytes32``.

    ``0x`` + 64 hex digits is taken as is; any other text (a bank transfer id,
    a case number) of at most 32 UTF-8 bytes is right-padded with zeros. The
    empty reference is refused: every privileged change must be traceable.
    Control characters (a newline, a tab, NUL) are refused, and ``0x`` followed
    by hex digits must be exactly 64 of them.

    >>> parse_ref("0x" + "ab" * 31 + "c")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pkr_pilot.errors.UserInputError: reference '0xabab...abc' has 63 hex digits, an odd number (a hex reference is 0x + exactly 64 hex digits)
    """
    import unicodedata

    if text is None or not text.strip():
        raise UserInputError("a reference is required", hint="pass --ref with the bank transfer id, case number or report hash")
    raw = text.strip()
    control = next((c for c in raw if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if control is not None:
        raise UserInputError(
            f"reference {text!r} contains the control character U+{ord(control):04X}",
            hint="a reference is one line of printable text",
        )
    if raw[:2] in ("0x", "0X"):
        digits = raw[2:]
        is_hex = bool(digits) and all(c in "0123456789abcdefABCDEF" for c in digits)
        if is_hex and len(digits) != 64:
            parity = ", an odd number" if len(digits) % 2 else ""
            raise UserInputError(
                f"reference {text!r} has {len(digits)} hex digits{parity} (a hex reference is 0x + exactly 64 hex digits)"
            )
        if len(digits) == 64:
            if not is_hex:
                bad = next(c for c in digits if c not in "0123456789abcdefABCDEF")
                raise UserInputError(
                    f"reference {text!r} is not valid hex: {bad!r} at position {digits.index(bad) + 3}",
                    hint="a hex reference is 0x + 64 hex digits 0-9 a-f",
                )
            return bytes.fromhex(digits)
    encoded = raw.encode()
    if len(encoded) > 32:
        raise UserInputError(
            f"reference {text!r} is {len(encoded)} bytes long, longer than 32 bytes",
            hint="shorten it, or pass its keccak hash as 0x + 64 hex digits",
        )
    return encoded.ljust(32, b"\0")

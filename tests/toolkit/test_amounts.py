from __future__ import annotations

from decimal import Decimal

import pytest

from pkr_pilot.amounts import format_amount, parse_address, parse_amount, parse_ref, to_decimal
from pkr_pilot.errors import UserInputError

CHECKSUMMED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.mark.parametrize(
    ("text", "units"),
    [("1,250.50", 125050), ("1250.5", 125050), ("1_000", 100000), ("0.01", 1), ("7", 700), ("1,000,000", 100000000)],
)
def test_parse_amount_accepts_human_forms_exactly(text: str, units: int) -> None:
    assert parse_amount(text, decimals=2) == units


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.001", "more than 2 decimal places"),
        ("-5", "negative"),
        ("abc", "not a number"),
        ("1e3", "not a number"),
        ("1,25.0", "misplaced thousands separators"),
        ("0", "zero"),
        ("NaN", "not a number"),
        ("", "not a number"),
    ],
)
def test_parse_amount_refuses_bad_input(text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        parse_amount(text, decimals=2)


def test_parse_amount_allows_zero_when_asked() -> None:
    assert parse_amount("0.00", decimals=2, allow_zero=True) == 0


def test_format_and_decimal_round_trip() -> None:
    assert format_amount(125050, decimals=2) == "1,250.50"
    assert format_amount(5, decimals=0) == "5"
    assert to_decimal(125050, decimals=2) == Decimal("1250.50")
    assert parse_amount(format_amount(98765432101, decimals=2), decimals=2) == 98765432101


def test_parse_address_checksums_lowercase_and_refuses_bad_checksum() -> None:
    assert parse_address(CHECKSUMMED.lower()) == CHECKSUMMED
    assert parse_address(CHECKSUMMED) == CHECKSUMMED
    bad = CHECKSUMMED[:-1] + CHECKSUMMED[-1].swapcase() if CHECKSUMMED[-1].isalpha() else CHECKSUMMED.replace("f39F", "F39f")
    with pytest.raises(UserInputError, match="bad checksum"):
        parse_address(bad)
    with pytest.raises(UserInputError, match="not an Ethereum address"):
        parse_address("0x1234")


def test_parse_ref_pads_text_and_takes_hex() -> None:
    assert parse_ref("BANK-TX-1") == b"BANK-TX-1".ljust(32, b"\0")
    assert parse_ref("0x" + "ab" * 32) == bytes.fromhex("ab" * 32)
    with pytest.raises(UserInputError, match="required"):
        parse_ref("  ")
    with pytest.raises(UserInputError, match="longer than 32 bytes"):
        parse_ref("x" * 33)

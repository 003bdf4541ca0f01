from __future__ import annotations

from decimal import Decimal

import pytest

from pkr_pilot.amounts import format_amount, parse_address, parse_amount, parse_ref, to_decimal
from pkr_pilot.errors import UserInputError

CHECKSUMMED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.mark.parametrize(
    ("text", "units"),
    [("1,250.50", 125050), ("1250.5", 125050), ("0.01", 1), ("7", 700), ("1,000,000", 100000000)],
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
        ("1_0_0_0", "uses '_' as a separator"),
        ("\u0661\u0660\u0660", "ARABIC-INDIC DIGIT ONE"),
        ("\uff11\uff10\uff10", "FULLWIDTH DIGIT ONE"),
        ("1\u00a0000", "NO-BREAK SPACE"),
        ("1.000,50", "misplaced thousands separators"),
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0x" + "a" * 63, "has 63 hex digits, an odd number"),
        ("0x" + "a" * 62, "has 62 hex digits [(]a hex reference is 0x [+] exactly 64"),
        ("0x" + "a" * 66, "has 66 hex digits"),
        ("0x" + "a" * 63 + "g", "not valid hex: 'g' at position 66"),
        ("BANK\nTX-1", "control character U[+]000A"),
        ("CASE\t17", "control character U[+]0009"),
        ("REF\x00", "control character U[+]0000"),
        ("REF\u200b", "control character U[+]200B"),
        ("x" * 33, "is 33 bytes long, longer than 32 bytes"),
    ],
)
def test_each_malformed_ref_gets_its_own_message(text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        parse_ref(text)


def test_a_short_0x_word_that_is_not_hex_is_text() -> None:
    assert parse_ref("0xFOO-17") == b"0xFOO-17".ljust(32, b"\0")

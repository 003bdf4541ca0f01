"""The one fee rule and the one nonce book every sender uses."""

from __future__ import annotations

import pytest

from pkr_pilot.errors import ChainError
from pkr_pilot.sending import DEFAULT_PRIORITY_FEE, NonceBook, fee_fields


def test_the_fee_rule_leaves_room_for_the_base_fee_to_double() -> None:
    assert fee_fields(10**9) == {"maxFeePerGas": 2 * 10**9 + DEFAULT_PRIORITY_FEE, "maxPriorityFeePerGas": DEFAULT_PRIORITY_FEE}
    assert fee_fields(100, tip=7) == {"maxFeePerGas": 207, "maxPriorityFeePerGas": 7}


def test_the_caps_hold_the_tip_and_the_maximum() -> None:
    assert fee_fields(100, tip=50, tip_cap=3) == {"maxFeePerGas": 203, "maxPriorityFeePerGas": 3}
    assert fee_fields(100, tip=50, max_fee_cap=120) == {"maxFeePerGas": 120, "maxPriorityFeePerGas": 50}
    assert fee_fields(100, tip=50, max_fee_cap=100) == {"maxFeePerGas": 100, "maxPriorityFeePerGas": 50}
    with pytest.raises(ChainError, match="below the current base fee") as info:
        fee_fields(100, max_fee_cap=99)
    assert "max_fee_gwei" in str(info.value.hint)


def test_a_chain_without_base_fee_gets_a_capped_gas_price() -> None:
    assert fee_fields(None, gas_price=30) == {"gasPrice": 30}
    assert fee_fields(None, gas_price=30, max_fee_cap=20) == {"gasPrice": 20}


def test_the_nonce_book_asks_once_counts_then_asks_again_after_forget() -> None:
    pending = {"0xA": 5, "0xB": 0}
    asked: list[str] = []

    def read(address: str) -> int:
        asked.append(address)
        return pending[address]

    book = NonceBook(read)
    assert [book.take("0xA"), book.take("0xA"), book.take("0xA", 3), book.take("0xA")] == [5, 6, 7, 10]
    assert asked == ["0xA"]
    pending["0xA"] = 8  # 8 and 9 were refused: the node's count is lower than ours
    book.forget("0xA")
    assert book.peek("0xA") == 8 and asked == ["0xA", "0xA"]
    book.load([("0xB", 4)])
    assert book.take("0xB") == 4 and "0xB" not in asked

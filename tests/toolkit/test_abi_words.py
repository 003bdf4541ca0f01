"""The one hand encoder of static call words (disburse, the simulator and evidence share it) agrees with eth-abi."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from hypothesis import given
from hypothesis import strategies as st

from pkr_pilot.contracts import event_topic, selector, static_words


def test_selector_and_topic_are_the_known_ones() -> None:
    assert selector("transfer(address,uint256)").hex() == "a9059cbb"
    assert event_topic("Transfer(address,address,uint256)").hex().startswith("ddf252ad")


@given(st.binary(min_size=20, max_size=20), st.integers(0, 2**256 - 1), st.binary(min_size=32, max_size=32))
def test_static_words_are_the_abi_encoding(address: bytes, amount: int, ref: bytes) -> None:
    as_hex = "0x" + address.hex()
    assert static_words(as_hex, amount, ref) == encode(["address", "uint256", "bytes32"], [as_hex, amount, ref])


@pytest.mark.parametrize("bad", ["0x1234", b"\x01" * 31, 2**256])
def test_a_value_that_is_not_one_word_is_refused(bad: object) -> None:
    with pytest.raises((ValueError, OverflowError)):
        static_words(bad)  # type: ignore[arg-type]

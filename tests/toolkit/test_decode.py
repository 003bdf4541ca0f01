"""pkr_pilot.decode: every kind of revert data becomes a typed, readable ContractRevert."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from pkr_pilot.decode import ErrorDecoder, revert_data_from_exception
from pkr_pilot.errors import ContractRevert, TransactionFailed

ABI = [
    {"type": "error", "name": "FrozenAccount", "inputs": [{"name": "account", "type": "address"}]},
    {
        "type": "error",
        "name": "InsufficientAvailableBalance",
        "inputs": [
            {"name": "account", "type": "address"},
            {"name": "available", "type": "uint256"},
            {"name": "needed", "type": "uint256"},
        ],
    },
    {
        "type": "error",
        "name": "Batch",
        "inputs": [
            {"name": "", "type": "tuple", "components": [{"name": "a", "type": "uint8"}, {"name": "b", "type": "bytes32"}]},
            {"name": "ids", "type": "uint256[]"},
        ],
    },
    {"type": "function", "name": "ignored", "inputs": []},
]
ALICE = "0x" + "ab" * 20


def selector(signature: str) -> bytes:
    return bytes(keccak(text=signature))[:4]


@pytest.fixture
def decoder() -> ErrorDecoder:
    return ErrorDecoder([ABI])


def test_custom_error_keeps_name_and_checksummed_arguments(decoder: ErrorDecoder) -> None:
    data = selector("InsufficientAvailableBalance(address,uint256,uint256)") + encode(
        ["address", "uint256", "uint256"], [ALICE, 70, 71]
    )
    err = decoder.decode(data, action="transfer")
    assert isinstance(err, ContractRevert) and not isinstance(err, TransactionFailed)
    assert err.name == "InsufficientAvailableBalance"
    assert err.args_by_name == {"account": to_checksum_address(ALICE), "available": 70, "needed": 71}
    assert str(err) == (
        f"transfer reverted: InsufficientAvailableBalance(account={to_checksum_address(ALICE)}, "
        "available=70 base units, needed=71 base units)"
    )
    assert err.signature_text == f"InsufficientAvailableBalance(account={to_checksum_address(ALICE)}, available=70, needed=71)"
    assert err.to_json() == {"name": "InsufficientAvailableBalance",
                             "args": {"account": to_checksum_address(ALICE), "available": 70, "needed": 71}}
    assert err.data == data


def test_amounts_render_in_the_tokens_units_once_the_decoder_knows_the_token(decoder: ErrorDecoder) -> None:
    reads: list[int] = []

    def token() -> tuple[int, str]:
        reads.append(1)
        return 2, "PKRP"

    decoder.use_token(token)
    data = selector("InsufficientAvailableBalance(address,uint256,uint256)") + encode(
        ["address", "uint256", "uint256"], [ALICE, 4000, 500000]
    )
    first, second = decoder.decode(data, action="transfer"), decoder.decode(data)
    assert "available=40.00 PKRP, needed=5,000.00 PKRP)" in str(first)
    assert first.args_by_name["available"] == 4000 and "available=4000," in first.signature_text
    assert str(second).startswith("reverted: InsufficientAvailableBalance(") and len(reads) == 1


def test_a_token_read_that_fails_falls_back_to_base_units(decoder: ErrorDecoder) -> None:
    def broken() -> tuple[int, str]:
        raise ConnectionError("node went away")

    decoder.use_token(broken)
    data = selector("InsufficientAvailableBalance(address,uint256,uint256)") + encode(
        ["address", "uint256", "uint256"], [ALICE, 4000, 5000]
    )
    assert "available=4,000 base units" in str(decoder.decode(data))


def test_tuple_and_array_arguments_use_canonical_types_and_positional_names(decoder: ErrorDecoder) -> None:
    data = selector("Batch((uint8,bytes32),uint256[])") + encode(["(uint8,bytes32)", "uint256[]"], [(7, b"\x01" * 32), [1, 2]])
    err = decoder.decode(data)
    assert err.name == "Batch"
    assert err.args_by_name == {"arg0": (7, b"\x01" * 32), "ids": (1, 2)}


def test_error_string_and_panic_and_empty_and_unknown(decoder: ErrorDecoder) -> None:
    reason = decoder.decode(bytes.fromhex("08c379a0") + encode(["string"], ["nope"]))
    assert (reason.name, reason.args_by_name) == ("Error", {"reason": "nope"})
    panic = decoder.decode(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert panic.args_by_name == {"code": "0x11", "meaning": "arithmetic overflow or underflow"}
    odd = decoder.decode(bytes.fromhex("4e487b71") + encode(["uint256"], [0x99]))
    assert odd.args_by_name["meaning"] == "unknown"
    assert decoder.decode(b"").name == "EmptyRevert"
    unknown = decoder.decode(b"\xde\xad\xbe\xef")
    assert unknown.name == "UnknownError" and unknown.args_by_name == {"data": b"\xde\xad\xbe\xef"}


def test_failed_transaction_flavour_and_selector_lookup(decoder: ErrorDecoder) -> None:
    data = selector("FrozenAccount(address)") + encode(["address"], [ALICE])
    assert isinstance(decoder.decode(data, failed_tx=True), TransactionFailed)
    assert decoder.selector_of("FrozenAccount") == "0x" + selector("FrozenAccount(address)").hex()
    with pytest.raises(KeyError):
        decoder.selector_of("NoSuchError")


class _WithData(Exception):
    def __init__(self, data: object) -> None:
        super().__init__("execution reverted")
        self.data = data


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_WithData(b"\x01\x02"), b"\x01\x02"),
        (_WithData("0x0102"), b"\x01\x02"),
        (_WithData({"data": "0x0102"}), b"\x01\x02"),
        (_WithData({"result": "0xabcd"}), b"\xab\xcd"),
        (ValueError("no data here"), None),
        (ValueError("0xzz"), None),
        (ValueError({"message": "x", "data": "0x99"}), b"\x99"),
    ],
)
def test_revert_data_is_found_where_web3_and_nodes_put_it(exc: BaseException, expected: bytes | None) -> None:
    assert revert_data_from_exception(exc) == expected

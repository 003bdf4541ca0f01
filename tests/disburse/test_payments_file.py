"""The payments CSV is validated whole: every bad row is reported with its line number."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkr_pilot.disburse import PaymentFileError, read_payments

GOOD = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
BAD_CHECKSUM = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"


def _file(tmp_path: Path, text: str, name: str = "pay.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_gives_exact_base_units_and_line_numbers(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f'address,amount,ref\n{GOOD},"1,250.50",SAL-001\n\n{OTHER.lower()},0.01,SAL-002\n',
    )

    payments = read_payments(path, decimals=2)

    assert [(r.line, r.address, r.amount, r.ref) for r in payments.rows] == [
        (2, GOOD, 125_050, "SAL-001"),
        (4, OTHER, 1, "SAL-002"),  # lower case accepted, checksummed on output; blank line skipped
    ]
    assert payments.total == 125_051
    assert len(payments.sha256) == 64


def test_columns_may_come_in_any_order_and_case(tmp_path: Path) -> None:
    path = _file(tmp_path, f"Ref, AMOUNT ,Address\nR1,5,{GOOD}\n")

    (row,) = read_payments(path, decimals=2).rows

    assert (row.address, row.amount, row.ref) == (GOOD, 500, "R1")


def test_every_bad_row_is_reported_with_its_line_number(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "\n".join(
            [
                "address,amount,ref",
                f"{GOOD},10,OK-1",  # 2 fine
                f"{BAD_CHECKSUM},10,R2",  # 3 checksum
                "0x1234,10,R3",  # 4 not an address
                f"{GOOD},10.001,R4",  # 5 too many decimals
                f"{GOOD},-5,R5",  # 6 negative
                f"{GOOD},0,R6",  # 7 zero
                f"{GOOD},ten,R7",  # 8 not a number
                f"{GOOD},,R8",  # 9 missing amount
                f"{GOOD},10,OK-1",  # 10 duplicate ref
                f"{GOOD},10",  # 11 too few fields
                f"0x{'00' * 20},10,R11",  # 12 zero address
                f"{GOOD},10,{'x' * 33}",  # 13 ref longer than 32 bytes
                f"{OTHER},1.5,OK-2",  # 14 fine
            ]
        )
        + "\n",
    )

    with pytest.raises(PaymentFileError) as caught:
        read_payments(path, decimals=2)

    problems = caught.value.problems
    lines = [int(p.split(":")[0].removeprefix("line ")) for p in problems]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    text = "\n".join(problems)
    assert "bad checksum" in text
    assert "is not an Ethereum address" in text
    assert "more than 2 decimal places" in text
    assert "is negative" in text and "is zero" in text and "is not a number" in text
    assert "line 9: missing amount" in text
    assert "line 10: ref 'OK-1' is already used on line 2" in text
    assert "line 11: expected 3 fields, found 2" in text
    assert "line 12: address is the zero address" in text
    assert "longer than 32 bytes" in text
    assert "11 bad row(s), nothing sent" in str(caught.value)


def test_header_must_name_address_and_amount_and_nothing_unknown(tmp_path: Path) -> None:
    path = _file(tmp_path, f"address,memo\n{GOOD},R1\n")

    with pytest.raises(PaymentFileError, match=r"line 1: the header must name .*missing column\(s\) amount.*unknown column\(s\) memo"):
        read_payments(path, decimals=2)


def test_without_a_ref_column_each_row_gets_a_ref_derived_from_the_file_and_its_line(tmp_path: Path) -> None:
    from pkr_pilot.disburse import derive_ref

    path = _file(tmp_path, f"amount,address\n1,{GOOD}\n\n1,{GOOD}\n")
    first = read_payments(path, decimals=2)
    again = read_payments(path, decimals=2)
    _file(tmp_path, f"amount,address\n1,{GOOD}\n\n1.5,{GOOD}\n")
    edited = read_payments(path, decimals=2)

    assert [row.ref32 for row in first.rows] == [derive_ref(first.sha256, 2), derive_ref(first.sha256, 4)]
    assert [row.ref32 for row in again.rows] == [row.ref32 for row in first.rows]
    assert first.rows[0].ref32 != first.rows[1].ref32
    assert first.rows[0].ref == "0x" + first.rows[0].ref32.hex()
    assert not {row.ref32 for row in edited.rows} & {row.ref32 for row in first.rows}


def test_a_ref_written_as_text_and_as_its_hex_is_the_same_ref(tmp_path: Path) -> None:
    hex_ref = "0x" + b"R1".ljust(32, b"\0").hex()
    path = _file(tmp_path, f"address,amount,ref\n{GOOD},1,R1\n{OTHER},1,{hex_ref}\n")

    with pytest.raises(PaymentFileError, match=r"line 3: ref .* is already used on line 2"):
        read_payments(path, decimals=2)


def test_empty_file_and_header_only_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PaymentFileError, match="line 1: the file is empty"):
        read_payments(_file(tmp_path, "\n\n", "empty.csv"), decimals=2)
    with pytest.raises(PaymentFileError, match="line 1: no payment rows"):
        read_payments(_file(tmp_path, "address,amount,ref\n", "header.csv"), decimals=2)


def test_token_decimals_decide_the_precision(tmp_path: Path) -> None:
    path = _file(tmp_path, f"address,amount,ref\n{GOOD},1.5,R1\n")

    assert read_payments(path, decimals=1).rows[0].amount == 15
    with pytest.raises(PaymentFileError, match="more than 0 decimal places"):
        read_payments(path, decimals=0)


def test_the_file_hash_changes_with_any_byte(tmp_path: Path) -> None:
    a = read_payments(_file(tmp_path, f"address,amount,ref\n{GOOD},1,R1\n", "a.csv"), decimals=2)
    b = read_payments(_file(tmp_path, f"address,amount,ref\n{GOOD},1,R1 \n", "b.csv"), decimals=2)

    assert [r.ref for r in a.rows] == [r.ref for r in b.rows] == ["R1"]  # cells are trimmed
    assert a.sha256 != b.sha256


def test_transfer_call_data_matches_the_abi_encoder() -> None:
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    from pkr_pilot.disburse import transfer_data

    normal = keccak(text="transferWithReference(address,uint256,bytes32)")[:4]
    strict = keccak(text="transferWithUniqueReference(address,uint256,bytes32)")[:4]
    for to, amount in ((GOOD, 1), (OTHER, 2**96 - 1), (GOOD, 125_050)):
        ref = keccak(text=f"{to}{amount}")
        args = encode(["address", "uint256", "bytes32"], [to, amount, ref])
        assert transfer_data(to, amount, ref) == normal + args
        assert transfer_data(to, amount, ref, strict=True) == strict + args

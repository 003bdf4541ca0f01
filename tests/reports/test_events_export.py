"""Event export: every book event with block times and refs, CSV and JSON, pagination, strict reading."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from _book import BANK_REF, CASE_REF
from web3 import HTTPProvider, Web3

from pkr_pilot.contracts import Token
from pkr_pilot.errors import UserInputError
from pkr_pilot.reports.events import (
    CSV_COLUMNS,
    EVENTS_SCHEMA,
    EVENTS_SCHEMA_VERSION,
    BlockTimes,
    EventRow,
    export_events,
    read_events,
    render_ref,
    write_events,
)

BOOK_EVENTS = {"Minted", "Burned", "Frozen", "AmountFrozen", "AmountUnfrozen", "Seized", "ReservesAttested",
               "Paused", "Unpaused", "MinterConfigured", "RoleGranted"}


def test_export_holds_every_book_event_with_block_time_tx_and_ref(book: Token) -> None:
    export = export_events(book)
    names = {r.event for r in export.rows}
    assert BOOK_EVENTS <= names
    assert "Transfer" not in names and "Approval" not in names
    assert export.to_block == book.w3.eth.block_number
    for row in export.rows:
        block = book.w3.eth.get_block(row.block_number)
        assert row.block_timestamp == block["timestamp"]
        receipt = book.w3.eth.get_transaction_receipt(row.tx_hash)  # type: ignore[arg-type]
        assert receipt["blockNumber"] == row.block_number
        assert any(int(log["logIndex"]) == row.log_index for log in receipt["logs"])
    minted = [r for r in export.rows if r.event == "Minted" and r.ref == BANK_REF]
    assert len(minted) == 1 and minted[0].ref_text == "BANK-TX-0042" and minted[0].args["amount"] == 500_000
    seized = export.of("Seized")
    assert [r.ref_text for r in seized] == ["COURT-CASE-7", "COURT-CASE-8"]
    attested = export.of("ReservesAttested")[-1]
    assert attested.ref_text == "0x" + "ab" * 32  # not printable: hex


def test_transfers_are_exported_only_on_request(book: Token) -> None:
    plain = export_events(book)
    full = export_events(book, include_transfers=True)
    transfers = full.of("Transfer")
    assert transfers and not plain.of("Transfer")
    assert [r for r in full.rows if r.event not in ("Transfer", "Approval")] == list(plain.rows)


@pytest.mark.parametrize("page", [1, 2, 7])
def test_small_pages_give_the_same_rows_as_one_big_range(book: Token, page: int) -> None:
    whole = export_events(book, include_transfers=True, page=10**9)
    paged = export_events(book, include_transfers=True, page=page)
    assert paged.rows == whole.rows
    assert len(whole.rows) > 20


class _RangeLimit:
    """A node that refuses eth_getLogs over more than ``limit`` blocks, as public RPC endpoints do."""

    def __init__(self, limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
        from pkr_pilot.transport import HttpTransport, RpcError

        self.limit = limit
        self.refused = 0
        original = HttpTransport.call

        def call(transport: HttpTransport, method: str, params: Any = (), **kw: Any) -> Any:
            if method == "eth_getLogs":
                span = _int(params[0]["toBlock"]) - _int(params[0]["fromBlock"])
                if span >= self.limit:
                    self.refused += 1
                    raise RpcError(transport.url, method, {"code": -32005, "message": f"query exceeds max block range {limit}"})
            return original(transport, method, params, **kw)

        monkeypatch.setattr(HttpTransport, "call", call)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def test_a_node_refusing_large_ranges_gets_smaller_pages_and_the_same_rows(
    book: Token, stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = export_events(book, include_transfers=True).rows
    node = _RangeLimit(5, monkeypatch)
    limited = Token(Web3(HTTPProvider(stack.chain.url)), book.address, book.abi, from_block=book.from_block)
    rows = export_events(limited, include_transfers=True, page=1_000).rows
    assert node.refused > 0
    assert rows == whole


def test_block_times_are_fetched_in_batches_and_cached(book: Token) -> None:
    times = BlockTimes(book.w3, batch_size=3)
    head = book.w3.eth.block_number
    got = times.fetch(range(head + 1))
    assert got == {n: book.w3.eth.get_block(n)["timestamp"] for n in range(head + 1)}
    assert times[head] == got[head]


def test_csv_and_json_exports_are_schema_versioned_and_read_back_identically(book: Token, tmp_path: Path) -> None:
    export = export_events(book, include_transfers=True)
    write_events(export, tmp_path / "e.csv", "csv")
    write_events(export, tmp_path / "e.json", "json", exported_at="2030-01-01T00:00:00Z")

    text = (tmp_path / "e.csv").read_text()
    first, *rest = text.splitlines()
    assert first.startswith(f"#{EVENTS_SCHEMA}/v{EVENTS_SCHEMA_VERSION} ")
    assert json.loads(first.split(" ", 1)[1])["token"] == book.address
    table = list(csv.DictReader(rest))
    assert tuple(table[0]) == CSV_COLUMNS and len(table) == len(export.rows)
    minted = next(r for r in table if r["ref_text"] == "BANK-TX-0042")
    assert json.loads(minted["args"])["amount"] == "500000"  # exact integers as strings

    body = json.loads((tmp_path / "e.json").read_text())
    assert body["schema"] == EVENTS_SCHEMA and body["version"] == EVENTS_SCHEMA_VERSION
    assert body["count"] == len(body["rows"]) == len(export.rows)
    assert body["exported_at"] == "2030-01-01T00:00:00Z"

    assert read_events(tmp_path / "e.csv", book.abi) == export
    assert read_events(tmp_path / "e.json", book.abi) == export
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "e.json"]  # no temp files left


def test_the_csv_export_of_a_chain_is_byte_for_byte_stable(book: Token, tmp_path: Path) -> None:
    export = export_events(book, include_transfers=True)
    write_events(export, tmp_path / "a.csv", "csv")
    write_events(export_events(book, include_transfers=True), tmp_path / "b.csv", "csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_export_refuses_a_range_beyond_the_head(book: Token) -> None:
    head = book.w3.eth.block_number
    with pytest.raises(UserInputError, match="beyond the chain head"):
        export_events(book, to_block=head + 1)
    with pytest.raises(UserInputError, match="is after"):
        export_events(book, from_block=head, to_block=head - 1)


def test_reading_refuses_files_that_are_not_exports_or_are_newer(book: Token, tmp_path: Path) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(UserInputError, match="is not a pkr-pilot events export"):
        read_events(bad, book.abi)
    export = export_events(book)
    write_events(export, tmp_path / "e.json", "json")
    body = json.loads((tmp_path / "e.json").read_text())
    body["version"] = EVENTS_SCHEMA_VERSION + 1
    (tmp_path / "e.json").write_text(json.dumps(body))
    with pytest.raises(UserInputError, match="upgrade pkr-pilot"):
        read_events(tmp_path / "e.json", book.abi)


def test_a_ref_column_that_disagrees_with_the_arguments_is_refused_with_its_line(book: Token, tmp_path: Path) -> None:
    export = export_events(book)
    path = tmp_path / "e.csv"
    write_events(export, path, "csv")
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if ",BANK-TX-0042," in line)
    lines[index] = lines[index].replace(",BANK-TX-0042,", ",BANK-TX-9999,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserInputError, match=rf"e\.csv:{index + 1}: the ref_text column"):
        read_events(path, book.abi)


def test_refs_render_as_text_when_printable_else_hex() -> None:
    assert render_ref(CASE_REF) == "COURT-CASE-7"
    assert render_ref(bytes(32)) == "0x" + "00" * 32
    assert render_ref(b"\x01abc".ljust(32, b"\0")).startswith("0x01616263")
    assert render_ref(b"0xabc".ljust(32, b"\0")).startswith("0x3078")  # text that looks like hex
    row = EventRow(1, 0, "0x" + "11" * 32, 0, "Frozen", {"account": "0x" + "22" * 20, "ref": CASE_REF})
    assert row.ref == CASE_REF and row.ref_text == "COURT-CASE-7"


def _json_export(book: Token, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "e.json"
    write_events(export_events(book), path, "json")
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: b["rows"][0].update(event="Minted2"), r"row 1: unknown event 'Minted2'"),
        (lambda b: b["rows"][0]["args"].update(extra="1"), r"row 1: \w+ arguments .* do not match the ABI"),
        (lambda b: b["rows"][0].update(tx_hash="0x12"), r"row 1: tx_hash '0x12' is not"),
        (lambda b: b["rows"][0].update(block_number=-3), r"row 1: block_number -3 is not"),
        (lambda b: b.update(to_block=0), r"lies outside the declared range"),
        (lambda b: b["rows"].reverse(), r"not in chain order"),
        (lambda b: b.pop("token"), r"\(metadata\): missing or bad field"),
        (lambda b: b.update(rows="none"), r"'rows' is missing or not a list"),
    ],
)
def test_a_malformed_json_export_is_refused_with_where(book: Token, tmp_path: Path, edit: Any, message: str) -> None:
    path, body = _json_export(book, tmp_path)
    edit(body)
    path.write_text(json.dumps(body))
    with pytest.raises(UserInputError, match=message):
        read_events(path, book.abi)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("amount", "-5", "argument amount='-5' is not a valid uint256"),
        ("amount", 5, "argument amount=5 is not a valid uint256"),
        ("to", "0xabc", "to '0xabc' is not a checksummed address"),
        ("ref", "0x1234", "argument ref='0x1234' is not a valid bytes32"),
        ("ref", "zz", "argument ref='zz' is not a valid bytes32"),
    ],
)
def test_an_argument_of_the_wrong_type_is_refused(book: Token, tmp_path: Path, name: str, value: Any, message: str) -> None:
    path, body = _json_export(book, tmp_path)
    row = next(r for r in body["rows"] if r["event"] == "Minted")
    row["args"][name] = value
    path.write_text(json.dumps(body))
    with pytest.raises(UserInputError, match=re.escape(message)):
        read_events(path, book.abi)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda lines: [lines[0], "a,b,c", *lines[2:]], r":2: unexpected header"),
        (lambda lines: [*lines[:2], lines[2] + ",extra", *lines[3:]], r":3: expected 9 columns, found 10"),
        (lambda lines: ["#pkr-pilot.events/vX {}", *lines[1:]], r":1: unreadable schema version"),
        (lambda lines: ["#pkr-pilot.events/v1 {not json", *lines[1:]], r":1: the metadata is not valid JSON"),
    ],
)
def test_a_malformed_csv_export_is_refused_with_its_line(book: Token, tmp_path: Path, edit: Any, message: str) -> None:
    path = tmp_path / "e.csv"
    write_events(export_events(book), path, "csv")
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(UserInputError, match=message):
        read_events(path, book.abi)


def test_an_unknown_format_is_refused(book: Token, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="unknown format 'xml'"):
        write_events(export_events(book), tmp_path / "e.xml", "xml")
    with pytest.raises(UserInputError, match="does not exist"):
        read_events(tmp_path / "missing.csv", book.abi)

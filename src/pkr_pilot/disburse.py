"""Disbursements: pay every row of a CSV file (address, amount, ref) from one payer, resumably.

::

    from pkr_pilot.disburse import read_payments, run_disbursement

    payments = read_payments(Path("salaries.csv"), decimals=stack.token.decimals())  # all rows checked
    result = run_disbursement(w3, stack, signer, payments, folder=deployments / "disbursements",
                              policy=TxPolicy.from_network(network), confirm=ask)
    result.counts()   # {"paid": 1998, "failed": 2, ...}; result.failures() name the rows

The file is validated whole before anything is sent (every bad row reported with its line
number); the payer's available balance must cover what is left to pay; rows whose transfer
would revert (a frozen recipient) are reported and not sent; the rest go through the bulk
engine (:mod:`pkr_pilot.bulk`), one transfer per transaction or, with ``multicall``, many
transfers per ``multicall`` transaction.

Why nobody is paid twice or zero times
--------------------------------------
Every row is bound to exactly one signed transaction (alone, or with other rows in one
multicall transaction). Before the node sees it, the journal
``deployments/<network>/disbursements/<sha256 of the file>.jsonl`` records its nonce, hash,
raw signed bytes and rows, and fsyncs. An account's nonce admits exactly one transaction, so
for each journaled transaction the chain settles the question for good:

* a receipt with status 1: its rows are paid (the receipt's ``Transfer`` logs from the payer to
  each row's address and amount are checked);
* a receipt with status 0: nothing moved; its rows are unpaid;
* no receipt, and the payer's mined nonce count is above its nonce: that nonce was used by
  another transaction (a gap filler, another operator), so this one can never be mined: unpaid;
* no receipt, and the nonce still free: it may be in a pool or may never have reached one. The
  same raw bytes are broadcast again (identical hash: it cannot pay twice) and waited for; one
  that stays unmined leaves its rows *pending*, and they are not planned again until it settles.

Receipts and used nonces count once the network's ``confirmations`` bury them; anything younger
leaves the transaction open (waited for, never replanned).

A re-run (after a crash, a kill, a node restart, or fixing a failed row's cause) settles the
journaled transactions first, then plans fresh transactions only for unpaid rows. Killed at any
instant, the journal holds every transaction the node may have seen. A second process on the
same file is refused (a lock), and a row whose ref was already paid by another disbursement
journal of this network (an edited copy of the file) is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .amounts import format_amount, parse_address, parse_amount, parse_ref
from .bulk import BulkSender, ItemStatus, SignedTx, TxOutcome, TxRequest
from .errors import DeploymentError, ReconcileError, UserInputError
from .journal import Journal

if TYPE_CHECKING:
    from web3 import Web3

    from .contracts import Stack
    from .tx import TxPolicy, TxSigner

__all__ = [
    "JOURNAL_SCHEMA",
    "JOURNAL_SCHEMA_VERSION",
    "KILL_ENV",
    "DisbursementJournal",
    "DisbursementResult",
    "Payment",
    "PaymentFile",
    "PaymentFileError",
    "RowOutcome",
    "read_payments",
    "run_disbursement",
    "transfer_data",
]

JOURNAL_SCHEMA = "pkr-pilot.disbursement"
JOURNAL_SCHEMA_VERSION = 1
#: Test seam: ``signed:K`` / ``sent:K`` / ``confirmed:K`` SIGKILLs this process once K rows
#: have been journaled as signed / accepted by the node / confirmed (at a batch boundary).
KILL_ENV = "PKR_PILOT_DISBURSE_KILL"
_COLUMNS = ("address", "amount", "ref")
_TRANSFER_TOPIC = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
_ZERO = "0x" + "00" * 20
_TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")


# =========================================================================== the file


@dataclass(frozen=True)
class Payment:
    """One validated row: ``line`` is its line number in the file (the header is line 1)."""

    line: int
    address: str
    amount: int
    ref: str


@dataclass(frozen=True)
class PaymentFile:
    """A validated payments file and the SHA-256 of its bytes (the disbursement's identity)."""

    path: Path
    sha256: str
    decimals: int
    rows: tuple[Payment, ...]

    @property
    def total(self) -> int:
        return sum(row.amount for row in self.rows)


class PaymentFileError(UserInputError):
    """The payments file has bad rows; ``problems`` lists every one as ``line N: what``."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(
            f"{path.name}: {len(self.problems)} bad row(s), nothing sent: {self.problems[0]}{more}",
            hint="fix every listed row, then run again",
        )


def read_payments(path: Path, *, decimals: int) -> PaymentFile:
    """Read and validate the whole file: header ``address,amount,ref`` (any order), one payment a row.

    Refused (each with its line number, all reported at once): a missing or unknown column, a
    row with too many or too few fields, an empty field, an address that is not one or whose
    mixed-case checksum is wrong, the zero address, an amount that is not a positive number
    with at most ``decimals`` decimals, a ref longer than 32 bytes, a ref used twice.
    Blank lines are skipped.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PaymentFileError(path, ["the file is not UTF-8 text"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[Payment] = []
    seen_refs: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in cells], line
                missing = [c for c in _COLUMNS if c not in header]
                unknown = [c for c in header if c not in _COLUMNS]
                repeated = [c for c, n in Counter(header).items() if n > 1]
                if missing or unknown or repeated:
                    what = "; ".join(
                        part
                        for part in (
                            f"missing column(s) {', '.join(missing)}" if missing else "",
                            f"unknown column(s) {', '.join(unknown)}" if unknown else "",
                            f"repeated column(s) {', '.join(repeated)}" if repeated else "",
                        )
                        if part
                    )
                    raise PaymentFileError(
                        path, [f"line {line}: the header must name the columns address, amount, ref ({what})"]
                    )
                continue
            payment = _row(cells, header, line, decimals, problems)
            if payment is None:
                continue
            first = seen_refs.setdefault(payment.ref, line)
            if first != line:
                problems.append(f"line {line}: ref {payment.ref!r} is already used on line {first}")
                continue
            rows.append(payment)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if header is None:
        raise PaymentFileError(path, ["line 1: the file is empty (expected the header address,amount,ref)"])
    if not rows and not problems:
        problems.append(f"line {header_line}: no payment rows after the header")
    if problems:
        raise PaymentFileError(path, problems)
    return PaymentFile(path, hashlib.sha256(data).hexdigest(), decimals, tuple(rows))


def _row(cells: Sequence[str], header: Sequence[str], line: int, decimals: int, problems: list[str]) -> Payment | None:
    if len(cells) != len(header):
        problems.append(f"line {line}: expected {len(header)} fields, found {len(cells)}")
        return None
    values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    bad = False
    for name in _COLUMNS:
        if not values[name]:
            problems.append(f"line {line}: missing {name}")
            bad = True
    if bad:
        return None
    address = amount = None
    try:
        address = parse_address(values["address"])
        if address == _ZERO:
            problems.append(f"line {line}: address is the zero address")
            address = None
    except UserInputError as exc:
        problems.append(f"line {line}: {exc.message}")
    try:
        amount = parse_amount(values["amount"], decimals=decimals)
    except UserInputError as exc:
        problems.append(f"line {line}: {exc.message}")
    try:
        parse_ref(values["ref"])
    except UserInputError as exc:
        problems.append(f"line {line}: {exc.message}")
        return None
    if address is None or amount is None:
        return None
    return Payment(line, address, amount, values["ref"])


# =========================================================================== the journal


class DisbursementJournal(Journal):
    """One disbursement's :class:`pkr_pilot.journal.Journal` (versioned lines, fsync, lock, torn tail reported).

    Lines (``{"schema": "pkr-pilot.disbursement", "v": 1, "event": ...}``):

    ``started``    payer, token, chain id, file name and hash, mode, rows, total, start block
    ``signed``     before the node sees it: hash, nonce, raw bytes, the refs it pays (none: a gap filler)
    ``sent``       the node accepted these hashes
    ``settled``    hash, status (``paid``, ``failed``: status 0, ``void``: its nonce went to
                   another transaction), block, decoded error
    ``finished``   counts of this run
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, schema=JOURNAL_SCHEMA, version=JOURNAL_SCHEMA_VERSION, what="disbursement journal")

    @classmethod
    def for_file(cls, folder: Path, sha256: str) -> DisbursementJournal:
        return cls(folder / f"{sha256}.jsonl")

    def append(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Write ``entries`` as lines with one ``fsync``."""
        self.write(entries)

    def _busy(self) -> DeploymentError:
        return DeploymentError(
            f"another process is running this disbursement ({self.path.name})",
            hint="wait for it to finish, then run again to check the outcome",
        )


@dataclass(frozen=True)
class _Journaled:
    tx_hash: str
    nonce: int
    raw: bytes
    refs: tuple[str, ...]


@dataclass
class _State:
    started: dict[str, Any] | None = None
    txs: dict[str, _Journaled] = field(default_factory=dict)
    settled: dict[str, dict[str, Any]] = field(default_factory=dict)


def _replay(lines: Sequence[Mapping[str, Any]]) -> _State:
    state = _State()
    for line in lines:
        event = line.get("event")
        if event == "started" and state.started is None:
            state.started = dict(line)
        elif event == "signed":
            tx = _Journaled(str(line["hash"]), int(line["nonce"]), bytes.fromhex(str(line["raw"])[2:]), tuple(line.get("refs", ())))
            state.txs[tx.tx_hash] = tx
        elif event == "settled":
            state.settled[str(line["hash"])] = dict(line)
    return state


# =========================================================================== the run


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one row, in this run or an earlier one."""

    line: int
    ref: str
    address: str
    amount: int
    #: paid | already_paid | failed | skipped | rejected | not_sent | pending | planned (dry run)
    status: str
    tx_hash: str | None = None
    block: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "ref": self.ref, "address": self.address, "amount": str(self.amount), "status": self.status}
        for key in ("tx_hash", "block", "error"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


_PAID = ("paid", "already_paid")


@dataclass(frozen=True)
class DisbursementResult:
    """Every row's outcome plus what this run did."""

    file: str
    sha256: str
    journal: str
    payer: str
    token: str
    mode: str
    decimals: int
    rows: tuple[RowOutcome, ...]
    dry_run: bool = False
    #: Seconds from the first send to the last receipt (0 when nothing was sent).
    send_seconds: float = 0.0
    transactions: int = 0
    resent: int = 0

    def counts(self) -> dict[str, int]:
        return dict(Counter(row.status for row in self.rows))

    @property
    def complete(self) -> bool:
        """Every row paid (in this run or before)."""
        return all(row.status in _PAID for row in self.rows)

    def failures(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.status not in (*_PAID, "planned")]

    @property
    def paid_now(self) -> int:
        return sum(1 for row in self.rows if row.status == "paid")

    @property
    def rows_per_second(self) -> float:
        return self.paid_now / self.send_seconds if self.send_seconds > 0 else 0.0

    def total(self, *statuses: str) -> int:
        return sum(row.amount for row in self.rows if not statuses or row.status in statuses)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "journal": self.journal,
            "payer": self.payer,
            "token": self.token,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "counts": self.counts(),
            "rows": len(self.rows),
            "total": format_amount(self.total(), decimals=self.decimals, grouping=False),
            "paid_total": format_amount(self.total(*_PAID), decimals=self.decimals, grouping=False),
            "transactions": self.transactions,
            "resent": self.resent,
            "send_seconds": round(self.send_seconds, 4),
            "rows_per_second": round(self.rows_per_second, 2),
            "failures": [row.to_json() for row in self.failures()],
        }


@dataclass(frozen=True)
class Plan:
    """What a run is about to do (shown before confirming)."""

    payer: str
    token: str
    mode: str
    rows: int
    to_pay: int
    amount: int
    already_paid: int
    skipped: int
    decimals: int

    def text(self) -> str:
        amount = format_amount(self.amount, decimals=self.decimals)
        done = f", {self.already_paid} already paid" if self.already_paid else ""
        skip = f", {self.skipped} would revert and are left out" if self.skipped else ""
        return f"pay {self.to_pay} of {self.rows} rows ({amount}) from {self.payer} as {self.mode}{done}{skip}"


def run_disbursement(
    w3: Web3,
    stack: Stack,
    signer: TxSigner,
    payments: PaymentFile,
    *,
    folder: Path,
    policy: TxPolicy,
    multicall: bool = False,
    multicall_gas: int | None = None,
    dry_run: bool = False,
    confirm: Callable[[Plan], bool] | None = None,
    progress: Callable[[str], None] | None = None,
    batch_size: int = 250,
    window: int = 500,
    stall_hook: Callable[[], None] | None = None,
    kill_at: str | None = None,
) -> DisbursementResult:
    """Pay ``payments`` from ``signer`` through the bulk engine (see the module docstring).

    ``folder`` holds the journals (``deployments/<network>/disbursements``). ``confirm`` is
    asked with the :class:`Plan` before anything is sent (None: go ahead). ``multicall_gas``
    caps each multicall transaction (default: the engine's). ``stall_hook`` is the bulk
    engine's (on a dev chain: mine a block when nothing was mined for a while). ``kill_at`` is the
    test seam (default ``$PKR_PILOT_DISBURSE_KILL``).

    Raises:
        PaymentFileError: rows whose ref another disbursement of this network already paid.
        UserInputError: the payer's available balance does not cover what is left to pay, or
            the journal belongs to another payer, token or chain.
        DeploymentError: the journal is damaged or another process runs this disbursement.
    """
    say = progress or (lambda _message: None)
    token = stack.token
    payer = signer.address
    mode = "multicall" if multicall else "bulk"
    journal = DisbursementJournal.for_file(folder, payments.sha256)
    chain_id = int(w3.eth.chain_id)
    seam = _KillSeam.parse(os.environ.get(KILL_ENV) if kill_at is None else kill_at)
    with journal.locked(wait=False):
        state = _replay(journal.lines())
        _check_owner(state, payer, token.address, chain_id, journal)
        engine = BulkSender(
            w3, signer, decoder=stack.decoder, policy=policy, batch_size=batch_size, window=window, stall_hook=stall_hook
        )
        try:
            by_ref = {row.ref: row for row in payments.rows}
            outcome: dict[str, RowOutcome] = {}
            resent = 0
            refused: dict[str, str] = {}

            # 1. Settle what the journal knows, from the chain.
            if state.txs:
                say(f"checking {len(state.txs)} journaled transaction(s) against the chain")
                facts = _facts(engine, payer, state.txs)
                open_txs = [state.txs[h] for h, f in facts.items() if f.status == "open"]
                if open_txs and not dry_run:
                    say(f"broadcasting {len(open_txs)} journaled transaction(s) again (same bytes, same nonces)")
                    observer = _JournalObserver(journal, [], seam, say, track=False)
                    again, _fillers = engine.resend([_as_signed(t) for t in open_txs], observer=observer)
                    resent = len(open_txs)
                    facts = _facts(engine, payer, state.txs)
                    refused = {
                        o.tx.tx_hash: o.message or "refused"
                        for o in again
                        if o.status is ItemStatus.REJECTED and facts[o.tx.tx_hash].status == "open"
                    }
                    if refused:
                        # The node refuses them now, their nonces are still free: use those nonces
                        # up, so the old transactions can never be mined, and pay the rows anew.
                        say(f"{len(refused)} journaled transaction(s) refused by the node: voiding their nonces")
                        engine.fill_nonces(sorted(state.txs[h].nonce for h in refused), observer=observer)
                        facts = _facts(engine, payer, state.txs)
                _journal_settlements(journal, state, facts)
                for tx_hash, fact in facts.items():
                    tx = state.txs[tx_hash]
                    if fact.status == "paid":
                        _check_evidence(fact, tx, by_ref, payer, token.address)
                    for ref in tx.refs:
                        row = by_ref.get(ref)
                        if row is None:
                            continue
                        if fact.status == "paid":
                            outcome[ref] = _row_outcome(row, "already_paid", tx_hash, fact.block)
                        elif fact.status == "open" and outcome.get(ref, None) is None:
                            why = refused.get(tx_hash, "journaled transaction not mined yet") if state.txs else ""
                            outcome[ref] = _row_outcome(row, "pending", tx_hash, None, why)
            pending = [ref for ref, o in outcome.items() if o.status == "pending"]
            todo = [row for row in payments.rows if row.ref not in outcome]

            # 2. Check what is left: refs paid elsewhere, balance, rows that would revert.
            _refuse_refs_paid_elsewhere(folder, journal, todo, payments.path)
            skipped: dict[str, str] = {}
            if todo and not pending:
                available = token.available_balance_of(payer)
                needed = sum(row.amount for row in todo)
                if available < needed:
                    raise UserInputError(
                        f"{payer} can pay {format_amount(available, decimals=payments.decimals)} but "
                        f"{len(todo)} unpaid rows need {format_amount(needed, decimals=payments.decimals)}",
                        hint="fund the payer (or release its frozen amount), then run again",
                    )
                skipped = _preflight(engine, token, todo)
            plan = Plan(
                payer, token.address, mode, len(payments.rows), len(todo) - len(skipped),
                sum(r.amount for r in todo if r.ref not in skipped),
                sum(1 for o in outcome.values() if o.status == "already_paid"), len(skipped), payments.decimals,
            )
            for row in todo:
                if row.ref in skipped:
                    outcome[row.ref] = _row_outcome(row, "skipped", None, None, skipped[row.ref])
            sendable = [row for row in todo if row.ref not in skipped]
            if pending:
                say(f"{len(pending)} row(s) wait on journaled transactions that are not mined yet: nothing new is sent")
                for row in sendable:
                    outcome[row.ref] = _row_outcome(row, "not_sent", None, None, "waiting for pending transactions")
                sendable = []
            if dry_run:
                for row in sendable:
                    outcome[row.ref] = _row_outcome(row, "planned", None, None)
                return _result(payments, journal, payer, token.address, mode, outcome, dry_run=True, resent=resent)
            if sendable and confirm is not None and not confirm(plan):
                raise UserInputError("disbursement not confirmed: nothing sent")

            # 3. Pay the rest through the bulk engine.
            send_seconds = 0.0
            transactions = 0
            if sendable:
                journal.append(
                    [
                        {
                            "event": "started" if state.started is None else "resumed",
                            "payer": payer,
                            "token": token.address,
                            "chain_id": chain_id,
                            "file": payments.path.name,
                            "file_sha256": payments.sha256,
                            "mode": mode,
                            "rows": len(payments.rows),
                            "to_pay": len(sendable),
                            "total": str(payments.total),
                            "start_block": int(w3.eth.block_number),
                        }
                    ]
                )
                refs = [row.ref for row in sendable]
                observer = _JournalObserver(journal, refs, seam, say, track=True, total=len(sendable))
                say(f"paying {len(sendable)} row(s) as {mode}")
                started = time.perf_counter()
                if multicall:
                    calls = [transfer_data(row.address, row.amount) for row in sendable]
                    result = engine.multicall(token.address, calls, gas_limit=multicall_gas, observer=observer)
                else:
                    requests = [TxRequest(token.address, transfer_data(row.address, row.amount)) for row in sendable]
                    result = engine.send(requests, observer=observer)
                send_seconds = time.perf_counter() - started
                transactions = len(result.transactions)
                for item in result.items:
                    row = sendable[item.index]
                    status = _ROW_STATUS[item.status]
                    error = item.error.signature_text if item.error is not None else item.message
                    outcome[row.ref] = _row_outcome(row, status, item.tx_hash, item.block, None if status == "paid" else error)
                final = _result(payments, journal, payer, token.address, mode, outcome, send_seconds=send_seconds, transactions=transactions, resent=resent)
                journal.append([{"event": "finished", "counts": final.counts(), "send_seconds": round(send_seconds, 4)}])
                return final
            return _result(payments, journal, payer, token.address, mode, outcome, resent=resent)
        finally:
            engine.close()


_ROW_STATUS = {
    ItemStatus.MINED: "paid",
    ItemStatus.REVERTED: "failed",
    ItemStatus.SKIPPED: "skipped",
    ItemStatus.REJECTED: "rejected",
    ItemStatus.NOT_SENT: "not_sent",
    ItemStatus.PENDING: "pending",
}


def _row_outcome(row: Payment, status: str, tx_hash: str | None, block: int | None, error: str | None = None) -> RowOutcome:
    return RowOutcome(row.line, row.ref, row.address, row.amount, status, tx_hash, block, error)


def _result(
    payments: PaymentFile,
    journal: DisbursementJournal,
    payer: str,
    token: str,
    mode: str,
    outcome: Mapping[str, RowOutcome],
    *,
    dry_run: bool = False,
    send_seconds: float = 0.0,
    transactions: int = 0,
    resent: int = 0,
) -> DisbursementResult:
    rows = tuple(outcome[row.ref] for row in payments.rows)
    return DisbursementResult(
        str(payments.path), payments.sha256, str(journal.path), payer, token, mode, payments.decimals, rows,
        dry_run=dry_run, send_seconds=send_seconds, transactions=transactions, resent=resent,
    )


def _check_owner(state: _State, payer: str, token: str, chain_id: int, journal: DisbursementJournal) -> None:
    started = state.started
    if started is None:
        return
    for key, value in (("payer", payer), ("token", token), ("chain_id", chain_id)):
        if started.get(key) != value:
            raise UserInputError(
                f"this file's disbursement journal ({journal.path.name}) was started with {key} "
                f"{started.get(key)}, not {value}",
                hint="run it again with the same --network and --account; a new disbursement needs a new file",
            )


# --------------------------------------------------------------------------- chain facts


@dataclass(frozen=True)
class _Fact:
    #: paid | failed | void | open
    status: str
    block: int | None = None
    logs: tuple[Mapping[str, Any], ...] = ()


def _facts(engine: BulkSender, payer: str, txs: Mapping[str, _Journaled]) -> dict[str, _Fact]:
    """What the chain says about each journaled transaction (batched receipts).

    Only what is buried under the network's confirmations counts: a receipt in a younger
    block, or a nonce used only by a younger block, leaves the transaction ``open``.
    """
    confirmations = max(1, engine.policy.confirmations)
    hashes = list(txs)
    calls: list[tuple[str, Sequence[Any]]] = [("eth_getTransactionReceipt", [h]) for h in hashes]
    calls.append(("eth_blockNumber", []))
    replies = engine.transport.batch(calls)
    head_reply = replies[-1]
    if head_reply.error is not None or head_reply.result is None:
        raise ReconcileError(f"cannot read the block number: {head_reply.message}")
    settled_block = int(head_reply.result, 16) - confirmations + 1
    (count_reply,) = engine.transport.batch([("eth_getTransactionCount", [payer, hex(max(0, settled_block))])])
    if count_reply.error is not None or count_reply.result is None:
        raise ReconcileError(f"cannot read the nonce of {payer}: {count_reply.message}")
    mined = int(count_reply.result, 16)
    out: dict[str, _Fact] = {}
    for tx_hash, reply in zip(hashes, replies, strict=False):
        if reply.error is not None:
            raise ReconcileError(f"cannot read the receipt of {tx_hash}: {reply.message}")
        receipt = reply.result
        if receipt and receipt.get("blockNumber") is not None and int(receipt["blockNumber"], 16) <= settled_block:
            ok = int(receipt.get("status", "0x1"), 16) == 1
            out[tx_hash] = _Fact("paid" if ok else "failed", int(receipt["blockNumber"], 16), tuple(receipt.get("logs", ())))
        elif not receipt and mined > txs[tx_hash].nonce:
            out[tx_hash] = _Fact("void")
        else:
            out[tx_hash] = _Fact("open")
    return out


def _journal_settlements(journal: DisbursementJournal, state: _State, facts: Mapping[str, _Fact]) -> None:
    fresh = [
        {"event": "settled", "hash": h, "status": f.status, "block": f.block, "checked": "chain"}
        for h, f in facts.items()
        if f.status != "open" and state.settled.get(h, {}).get("status") != f.status
    ]
    journal.append(fresh)


def _check_evidence(fact: _Fact, tx: _Journaled, by_ref: Mapping[str, Payment], payer: str, token: str) -> None:
    """A paid transaction must carry one Transfer(payer -> address, amount) log per row it pays."""
    found: Counter[tuple[str, int]] = Counter()
    for log in fact.logs:
        topics = [bytes.fromhex(str(t)[2:]) for t in log.get("topics", [])]
        if str(log.get("address", "")).lower() != token.lower() or len(topics) != 3 or topics[0] != _TRANSFER_TOPIC:
            continue
        if topics[1][12:] != bytes.fromhex(payer[2:]):
            continue
        to = "0x" + topics[2][12:].hex()
        found[(to.lower(), int(str(log.get("data", "0x0")), 16))] += 1
    wanted = Counter((by_ref[ref].address.lower(), by_ref[ref].amount) for ref in tx.refs if ref in by_ref)
    if wanted - found:
        missing = next(iter(wanted - found))
        raise ReconcileError(
            f"transaction {tx.tx_hash} is mined but has no Transfer of {missing[1]} to {missing[0]} from {payer}",
            hint="the journal does not match the chain; stop and investigate before paying anything",
        )


def _as_signed(tx: _Journaled) -> SignedTx:
    """A journaled transaction as the engine knows it (fields decoded from its raw bytes)."""
    from eth_account.typed_transactions.typed_transaction import TypedTransaction
    from eth_utils.address import to_checksum_address
    from hexbytes import HexBytes

    fields: dict[str, Any] = {"nonce": tx.nonce}
    if tx.raw[:1] == b"\x02":
        decoded = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        to = decoded.get("to")
        fields.update(
            {
                "to": str(to_checksum_address(to)) if to else None,
                "data": bytes(decoded.get("data", b"")),
                "value": int(decoded.get("value", 0)),
                "gas": int(decoded.get("gas", 0)),
                "maxFeePerGas": int(decoded.get("maxFeePerGas", 0)),
                "maxPriorityFeePerGas": int(decoded.get("maxPriorityFeePerGas", 0)),
            }
        )
    return SignedTx(tx.nonce, tx.tx_hash, tx.raw, fields, tuple(range(len(tx.refs))))


def _refuse_refs_paid_elsewhere(folder: Path, journal: DisbursementJournal, todo: Sequence[Payment], path: Path) -> None:
    """Refuse rows whose ref another disbursement journal of this network records as paid."""
    if not todo or not folder.is_dir():
        return
    wanted = {row.ref: row for row in todo}
    problems: list[str] = []
    for other in sorted(folder.glob("*.jsonl")):
        if other == journal.path:
            continue
        state = _replay(DisbursementJournal(other).lines())
        paid = {h for h, line in state.settled.items() if line.get("status") == "paid"}
        for tx_hash in paid:
            for ref in state.txs[tx_hash].refs if tx_hash in state.txs else ():
                row = wanted.get(ref)
                if row is not None:
                    problems.append(f"line {row.line}: ref {ref!r} was already paid by disbursement {other.stem[:12]}… (tx {tx_hash})")
    if problems:
        raise PaymentFileError(path, sorted(problems, key=lambda p: int(p.split(":")[0].split()[1])))


def transfer_data(to: str, amount: int) -> bytes:
    """Call data of ERC-20 ``transfer(address,uint256)`` (the ABI's fixed layout, no encoder pass).

    >>> transfer_data("0x" + "11" * 20, 5).hex()[:8]
    'a9059cbb'
    """
    return _TRANSFER_SELECTOR + bytes(12) + bytes.fromhex(to[2:]) + amount.to_bytes(32, "big")


def _preflight(engine: BulkSender, token: Any, rows: Sequence[Payment]) -> dict[str, str]:
    """Rows whose transfer would revert now (batched ``eth_call`` from the payer): ref -> error."""
    calls: list[tuple[str, Sequence[Any]]] = [
        ("eth_call", [{"from": engine.address, "to": token.address, "data": "0x" + transfer_data(row.address, row.amount).hex()}, "latest"])
        for row in rows
    ]
    out: dict[str, str] = {}
    for row, reply in zip(rows, engine.transport.batch(calls), strict=True):
        if reply.error is not None:
            out[row.ref] = engine.decode_reply(reply).signature_text
    return out


# --------------------------------------------------------------------------- journal observer


class _KillSeam:
    """``signed:K`` / ``sent:K`` / ``confirmed:K``: SIGKILL this process at that point (tests)."""

    def __init__(self, stage: str, count: int) -> None:
        self.stage = stage
        self.count = count
        self.seen = 0

    @classmethod
    def parse(cls, text: str | None) -> _KillSeam | None:
        if not text:
            return None
        stage, _, count = text.partition(":")
        if stage not in ("signed", "sent", "confirmed") or not count.isdigit():
            raise UserInputError(f"{KILL_ENV}={text!r}: expected signed:K, sent:K or confirmed:K")
        return cls(stage, int(count))

    def reached(self, stage: str, rows: int) -> None:
        if stage != self.stage:
            return
        self.seen += rows
        if self.seen >= self.count:
            os.kill(os.getpid(), signal.SIGKILL)


class _JournalObserver:
    """Writes the engine's events to the journal (write-ahead for ``signed``) and reports progress."""

    def __init__(
        self,
        journal: DisbursementJournal,
        refs: Sequence[str],
        seam: _KillSeam | None,
        say: Callable[[str], None],
        *,
        track: bool,
        total: int = 0,
    ) -> None:
        self.journal = journal
        self.refs = refs
        self.seam = seam
        self.say = say
        self.track = track
        self.total = total
        self.sent_rows = 0
        self.settled_rows = 0

    def _refs(self, tx: SignedTx) -> list[str]:
        return [self.refs[i] for i in tx.items] if self.track else []

    def signed(self, txs: Sequence[SignedTx]) -> None:
        entries: list[dict[str, Any]] = []
        for tx in txs:
            if not self.track and not tx.is_filler:
                continue  # a resent transaction: already journaled
            entry: dict[str, Any] = {"event": "signed", "hash": tx.tx_hash, "nonce": tx.nonce, "raw": "0x" + tx.raw.hex(), "refs": self._refs(tx)}
            if tx.is_filler:
                entry["filler"] = True
            entries.append(entry)
        self.journal.append(entries)
        if self.seam is not None:
            self.seam.reached("signed", sum(len(tx.items) for tx in txs if self.track))

    def sent(self, txs: Sequence[SignedTx]) -> None:
        self.journal.append([{"event": "sent", "hashes": [tx.tx_hash for tx in txs]}])
        rows = sum(len(tx.items) for tx in txs)
        self.sent_rows += rows
        if self.track:
            self.say(f"sent {self.sent_rows}/{self.total} rows")
        if self.seam is not None and self.track:
            self.seam.reached("sent", rows)

    def settled(self, outcomes: Sequence[TxOutcome]) -> None:
        entries = []
        for o in outcomes:
            status = {ItemStatus.MINED: "paid", ItemStatus.REVERTED: "failed", ItemStatus.REJECTED: "rejected"}.get(o.status)
            if status is None:
                continue
            entry: dict[str, Any] = {"event": "settled", "hash": o.tx.tx_hash, "status": status, "block": o.block, "checked": "receipt"}
            if o.error is not None:
                entry["error"] = o.error.signature_text
            elif o.message:
                entry["error"] = o.message
            entries.append(entry)
        self.journal.append(entries)
        rows = sum(len(o.tx.items) for o in outcomes)
        self.settled_rows += rows
        if self.track:
            self.say(f"settled {self.settled_rows}/{self.total} rows")
        if self.seam is not None and self.track:
            self.seam.reached("confirmed", rows)

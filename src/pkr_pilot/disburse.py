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
engine (:mod:`pkr_pilot.bulk`), one payment per transaction or, with ``multicall``, many
payments per ``multicall`` transaction.

Why nobody is paid twice or zero times
--------------------------------------
Every row carries a ``bytes32`` ref on chain: the file's ``ref`` cell, or (no ``ref`` column) one
derived from the file's SHA-256 and the row's line (:func:`derive_ref`). It is paid with the token's
``transferWithReference(to, value, ref)`` (``--strict-refs``: ``transferWithUniqueReference``, which
the chain itself refuses to run twice for one payer and ref), alone or packed into ``multicall``
transactions, and each payment emits ``Transfer`` then ``PaymentReference(payer, ref)``.

"Is this row paid?" is answered only by the chain: a ``PaymentReference(payer, ref)`` log, found by
``eth_getLogs`` with the ref in its topics (:mod:`pkr_pilot.evidence`), whose ``Transfer`` right
before it carries the row's address and amount (another address or amount is an error naming the row),
in a block buried under the network's confirmations. In strict mode ``referenceUsed(payer, ref)`` is
read too. The search starts at the run's start block (journaled), or at the token's deployment block
when the journal is gone. A missing receipt, a used nonce or a journal line is never evidence.

The journal ``deployments/<network>/disbursements/<sha256 of the file>.jsonl`` (a
:class:`pkr_pilot.journal.Journal`) is write-ahead intent and a cache: before the node sees a
transaction it records its nonce, hash, raw signed bytes and row refs. On a re-run, a journaled
transaction of a row the chain does not show paid is settled from the chain:

* mined with status 0, or its nonce used by another journaled transaction that is mined (a gap
  filler): it paid nothing, the row is paid anew;
* not mined and its nonce still free: the same raw bytes are broadcast again (same hash: it cannot
  pay twice); refused, its nonce is used up by a zero-value filler first;
* mined in a block younger than the confirmations: *pending*, waited for;
* no receipt and no event while its nonce is used (a node that lost its last blocks, an RPC
  behind a load balancer, a pruned index), or status 1 without the event: *undecided*. The run stops
  (nothing new is sent), lists those rows and how to settle them: wait and run again, look the hash
  up on another node, or record a decision with ``--settle-paid REF`` / ``--settle-void REF``
  (journaled). An undecided row is never paid again by itself.

Losing the journal, cutting it short or restoring an old copy therefore never repays a row whose
payment the chain shows. A second process on the same file is refused (the journal's lock), and a
row whose ref another disbursement journal of this network records as paid is refused.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import hashlib
import io
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .amounts import format_amount, parse_address, parse_amount, parse_ref
from .bulk import BulkSender, TxOutcome, TxRequest
from .contracts import selector, static_words
from .errors import ChainError, JournalError, ReconcileError, SentNotConfirmed, UserInputError
from .evidence import find_payments
from .journal import Journal
from .progress import Progress
from .sending import SignedTx, TxStatus, quantity
from .transport import call_all

if TYPE_CHECKING:
    from web3 import Web3

    from .contracts import Stack
    from .tx import TxPolicy, TxSigner

__all__ = [
    "JOURNAL_SCHEMA",
    "JOURNAL_SCHEMA_VERSION",
    "DisbursementJournal",
    "DisbursementResult",
    "Payment",
    "PaymentFile",
    "PaymentFileError",
    "RowOutcome",
    "RowStatus",
    "read_payments",
    "run_disbursement",
    "transfer_data",
]

JOURNAL_SCHEMA = "pkr-pilot.disbursement"
JOURNAL_SCHEMA_VERSION = 2
_COLUMNS = ("address", "amount", "ref")
_ZERO = "0x" + "00" * 20
_RUN_AGAIN = "check the node, then run again"


_TRANSFER_WITH_REFERENCE = selector("transferWithReference(address,uint256,bytes32)")
_TRANSFER_WITH_UNIQUE_REFERENCE = selector("transferWithUniqueReference(address,uint256,bytes32)")
_REFERENCE_USED = selector("referenceUsed(address,bytes32)")


# =========================================================================== the file


@dataclass(frozen=True)
class Payment:
    """One validated row: ``line`` is its line number in the file (the header is line 1).

    ``ref`` is the row's reference as people read it (the file's ``ref`` cell, or the derived ref in
    hex); ``ref32`` is what goes on chain (see :func:`derive_ref`).
    """

    line: int
    address: str
    amount: int
    ref: str
    ref32: bytes = bytes(32)

    @property
    def key(self) -> str:
        """The on-chain ref in hex: how the journal names the row."""
        return "0x" + self.ref32.hex()


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


def derive_ref(sha256: str, line: int) -> bytes:
    """The on-chain ref of a row in a file without a ``ref`` column.

    ``keccak256("pkr-pilot.disburse.ref.v1" || sha256(file bytes) || uint32(line))``: the same file
    gives every row the same ref on every run (so a re-run finds its payments on chain), and two
    files never share one. Editing the file makes a new disbursement with new refs: give a ``ref``
    column to keep refs stable across edits.

    >>> derive_ref("00" * 32, 2).hex()[:8]
    'db4c1240'
    """
    from eth_utils.crypto import keccak

    return bytes(keccak(b"pkr-pilot.disburse.ref.v1" + bytes.fromhex(sha256) + line.to_bytes(4, "big")))


def read_payments(path: Path, *, decimals: int) -> PaymentFile:
    """Read and validate the whole file: header ``address,amount[,ref]`` (any order), one payment a row.

    Each row's on-chain ref (``bytes32``) is its ``ref`` cell (text of at most 32 bytes, zero-padded,
    or ``0x`` + 64 hex digits), or, without a ``ref`` column, derived from the file's SHA-256 and the
    row's line number (:func:`derive_ref`).

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
    seen_refs: dict[bytes, int] = {}
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in cells], line
                missing = [c for c in _COLUMNS if c not in header and c != "ref"]
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
                        path, [f"line {line}: the header must name the columns address, amount and optionally ref ({what})"]
                    )
                continue
            payment = _row(cells, header, line, decimals, problems, sha256)
            if payment is None:
                continue
            first = seen_refs.setdefault(payment.ref32, line)
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
    return PaymentFile(path, sha256, decimals, tuple(rows))


def _row(
    cells: Sequence[str], header: Sequence[str], line: int, decimals: int, problems: list[str], sha256: str
) -> Payment | None:
    if len(cells) != len(header):
        problems.append(f"line {line}: expected {len(header)} fields, found {len(cells)}")
        return None
    values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    bad = False
    for name in header:
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
    if "ref" in values:
        try:
            ref32 = parse_ref(values["ref"])
        except UserInputError as exc:
            problems.append(f"line {line}: {exc.message}")
            return None
        ref = values["ref"]
    else:
        ref32 = derive_ref(sha256, line)
        ref = "0x" + ref32.hex()
    if address is None or amount is None:
        return None
    return Payment(line, address, amount, ref, ref32)


# =========================================================================== the journal


class DisbursementJournal(Journal):
    """One disbursement's :class:`pkr_pilot.journal.Journal` (versioned lines, fsync, lock, torn tail reported).

    Lines (``{"schema": "pkr-pilot.disbursement", "v": 1, "event": ...}``):

    ``started``    payer, token, chain id, file name and hash, mode, rows, total, start block
    ``resumed``    the same, for a later run that sends
    ``signed``     before the node sees it: hash, nonce, raw bytes, the on-chain refs (hex) it pays
                   (none: a gap filler)
    ``sent``       the node accepted these hashes
    ``settled``    hash, status (``paid``, ``failed``: status 0, ``void``: its nonce went to
                   another known transaction), block, decoded error: a record, never evidence
    ``decided``    the operator's decision (``paid`` / ``void``) for undecided rows (their refs)
    ``finished``   counts of this run

    Version 2 (refs on chain); a version-1 journal (plain transfers) is read but its transactions carry
    no refs the chain could show.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, schema=JOURNAL_SCHEMA, version=JOURNAL_SCHEMA_VERSION, what="disbursement journal")

    @classmethod
    def for_file(cls, folder: Path, sha256: str) -> DisbursementJournal:
        return cls(folder / f"{sha256}.jsonl")

    def append(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Write ``entries`` as lines with one ``fsync``."""
        self.write(entries)

    def _busy(self) -> JournalError:
        return JournalError(
            f"another process is running this disbursement ({self.path.name})",
            hint="wait for it to finish, then run again to check the outcome",
        )


@dataclass(frozen=True)
class _Journaled:
    tx_hash: str
    nonce: int
    raw: bytes
    #: The on-chain refs (hex) of the rows it pays; none: a gap filler.
    refs: tuple[str, ...]


@dataclass
class _State:
    started: dict[str, Any] | None = None
    #: The earliest block any run of this file started at (evidence is searched from there).
    start_block: int | None = None
    txs: dict[str, _Journaled] = field(default_factory=dict)
    settled: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ref -> the operator's decision for an undecided row (``paid`` / ``void``) and its transaction.
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _replay(lines: Sequence[Mapping[str, Any]]) -> _State:
    state = _State()
    for line in lines:
        event = line.get("event")
        if event in ("started", "resumed"):
            if event == "started" and state.started is None:
                state.started = dict(line)
            block = line.get("start_block")
            if isinstance(block, int) and (state.start_block is None or block < state.start_block):
                state.start_block = block
        elif event == "signed":
            tx = _Journaled(str(line["hash"]), int(line["nonce"]), bytes.fromhex(str(line["raw"])[2:]), tuple(line.get("refs", ())))
            state.txs[tx.tx_hash] = tx
        elif event == "settled":
            state.settled[str(line["hash"])] = dict(line)
        elif event == "decided":
            for ref in line.get("refs", ()):
                state.decisions[str(ref)] = dict(line)
    return state


# =========================================================================== the run


class RowStatus(enum.StrEnum):
    """What became of a row (its ``--json`` and summary word)."""

    #: Paid by this run.
    PAID = "paid"
    #: Paid before: the chain shows its ref (this run sent nothing for it).
    ALREADY_PAID = "already_paid"
    #: Undecided until the operator settled it as paid (``--settle-paid``).
    SETTLED_PAID = "settled_paid"
    #: Mined and reverted (the error says why).
    FAILED = "failed"
    #: Would revert now (preflight), so not sent.
    SKIPPED = "skipped"
    #: Refused by the node.
    REJECTED = "rejected"
    #: Held back: the run stopped first (an earlier row is pending or undecided).
    NOT_SENT = "not_sent"
    #: Sent, not yet mined or not yet confirmed.
    PENDING = "pending"
    #: The chain cannot yet say whether it was paid: nothing is sent for it until it can, or the
    #: operator decides.
    UNDECIDED = "undecided"
    #: A dry run's row that would be paid.
    PLANNED = "planned"

    @classmethod
    def paid(cls) -> tuple[RowStatus, ...]:
        """The statuses of a row that is paid (by this run, before, or by the operator's decision)."""
        return (cls.PAID, cls.ALREADY_PAID, cls.SETTLED_PAID)


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one row, in this run or an earlier one."""

    line: int
    ref: str
    address: str
    amount: int
    status: RowStatus
    tx_hash: str | None = None
    block: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "ref": self.ref, "address": self.address, "amount": str(self.amount), "status": self.status.value}
        for key in ("tx_hash", "block", "error"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


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
        return dict(Counter(row.status.value for row in self.rows))

    @property
    def complete(self) -> bool:
        """Every row paid (in this run or before)."""
        return all(row.status in RowStatus.paid() for row in self.rows)

    def failures(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.status not in (*RowStatus.paid(), RowStatus.PLANNED)]

    @property
    def paid_now(self) -> int:
        return sum(1 for row in self.rows if row.status is RowStatus.PAID)

    @property
    def rows_per_second(self) -> float:
        return self.paid_now / self.send_seconds if self.send_seconds > 0 else 0.0

    def total(self, *statuses: RowStatus) -> int:
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
            "paid_total": format_amount(self.total(*RowStatus.paid()), decimals=self.decimals, grouping=False),
            "transactions": self.transactions,
            "resent": self.resent,
            "send_seconds": round(self.send_seconds, 4),
            "rows_per_second": round(self.rows_per_second, 2),
            "failures": [row.to_json() for row in self.failures()],
        }


@dataclass(frozen=True)
class DisbursementPlan:
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
    strict_refs: bool = False,
    settle_void: Sequence[str] = (),
    settle_paid: Sequence[str] = (),
    dry_run: bool = False,
    confirm: Callable[[DisbursementPlan], bool] | None = None,
    progress: Callable[[str], None] | None = None,
    counter: Callable[[Progress], None] | None = None,
    batch_size: int = 250,
    window: int = 500,
    stall_hook: Callable[[], None] | None = None,
) -> DisbursementResult:
    """Pay ``payments`` from ``signer`` through the bulk engine (see the module docstring).

    ``folder`` holds the journals (``deployments/<network>/disbursements``). ``confirm`` is
    asked with the :class:`DisbursementPlan` before anything is sent (None: go ahead). ``multicall_gas``
    caps each multicall transaction (default: the engine's). ``strict_refs`` pays with
    ``transferWithUniqueReference`` (the chain refuses a second payment of a ref). ``settle_void`` /
    ``settle_paid`` are the operator's decisions for undecided rows (their refs as in the file).
    ``stall_hook`` is the bulk engine's (on a dev chain: mine a block when nothing was mined for a
    while). ``progress`` hears what each phase is about to do, ``counter`` how far the long ones
    are (:class:`~pkr_pilot.progress.Progress` of the phases ``evidence`` in blocks searched,
    ``send`` in rows sent and ``confirm`` in rows settled).

    Raises:
        PaymentFileError: rows whose ref another disbursement of this network already paid.
        UserInputError: the payer's available balance does not cover what is left to pay, the
            journal belongs to another payer, token or chain, or a decision names a row that is not
            undecided.
        ReconcileError: a ref paid on chain to another address or with another amount than its row.
        JournalError: the journal is damaged or another process runs this disbursement.
    """
    say = progress or (lambda _message: None)
    count = counter or (lambda _event: None)
    token = stack.token
    payer = signer.address
    mode = ("multicall" if multicall else "bulk") + (" strict" if strict_refs else "")
    if not token.has_function("transferWithReference"):
        raise UserInputError(
            f"the token at {token.address} has no transferWithReference: payments could not carry their refs",
            hint="upgrade the token (pkr-pilot deploy --upgrade) before disbursing",
        )
    journal = DisbursementJournal.for_file(folder, payments.sha256)
    chain_id = int(w3.eth.chain_id)
    with journal.locked(wait=False):
        lines = journal.lines()
        if any(line.get("v") == 1 and line.get("event") == "signed" for line in lines):
            raise JournalError(
                f"{journal.path} was written by an older pkr-pilot that paid without refs on chain: "
                "the chain cannot show which of its rows were paid",
                hint="finish this file with the pkr-pilot version that started it, or reconcile it by hand",
            )
        state = _replay(lines)
        _check_owner(state, payer, token.address, chain_id, journal)
        engine = BulkSender(
            w3, signer, decoder=stack.decoder, policy=policy, batch_size=batch_size, window=window, stall_hook=stall_hook
        )
        try:
            by_key = {row.key: row for row in payments.rows}
            resent = 0

            # 1. What the chain says: payments found by ref, then the journaled transactions of the rest.
            view = _ChainView.read(engine, token.address, payer)
            start_block = state.start_block if state.start_block is not None else token.from_block
            say(f"looking for this file's {len(payments.rows)} refs on chain from block {start_block}")
            found = _evidence(engine, token.address, payer, payments.rows, start_block, view, strict_refs, count)
            outcome: dict[str, RowOutcome] = {}
            for key, proof in found.items():
                row = by_key[key]
                if proof.settled:
                    outcome[key] = _row_outcome(row, RowStatus.ALREADY_PAID, proof.tx_hash, proof.block, proof.note)
                else:
                    outcome[key] = _row_outcome(row, RowStatus.PENDING, proof.tx_hash, proof.block, "paid in a block younger than the network's confirmations")
            open_txs = _open_transactions(state, outcome)
            if open_txs:
                facts = _facts(engine, payer, open_txs, state.txs, view)
                unmined = [open_txs[h] for h, f in facts.items() if f.status == "unmined"]
                if unmined and not dry_run:
                    say(f"broadcasting {len(unmined)} journaled transaction(s) again (same bytes, same nonces)")
                    observer = _JournalObserver(journal, [], count, track=False)
                    with observer.interruptible([t.tx_hash for t in unmined]):
                        again, _fillers = engine.resend([_as_signed(t, engine.address) for t in unmined], observer=observer)
                    resent = len(unmined)
                    refused = [o.tx.tx_hash for o in again if o.status is TxStatus.REJECTED]
                    if refused:
                        # Refused now, their nonces still free: use those nonces up with known fillers,
                        # so the old transactions can never be mined; their rows are then unpaid for sure.
                        say(f"{len(refused)} journaled transaction(s) refused by the node: voiding their nonces")
                        engine.fill_nonces(sorted(open_txs[h].nonce for h in refused), observer=observer)
                    state = _replay(journal.lines())
                    view = _ChainView.read(engine, token.address, payer)
                    found = _evidence(engine, token.address, payer, payments.rows, start_block, view, strict_refs, count)
                    for key, proof in found.items():
                        if proof.settled:
                            outcome[key] = _row_outcome(by_key[key], RowStatus.ALREADY_PAID, proof.tx_hash, proof.block, proof.note)
                    open_txs = _open_transactions(state, outcome)
                    facts = _facts(engine, payer, open_txs, state.txs, view)
                _journal_settlements(journal, state, facts)
                for tx_hash, fact in facts.items():
                    for key in open_txs[tx_hash].refs:
                        journaled = by_key.get(key)
                        if journaled is None or key in outcome:
                            continue
                        if fact.status in ("unmined", "young"):
                            outcome[key] = _row_outcome(journaled, RowStatus.PENDING, tx_hash, None, fact.why)
                        elif fact.status == "undecided":
                            outcome[key] = _row_outcome(journaled, RowStatus.UNDECIDED, tx_hash, None, fact.why)
                        # failed / void: nothing was paid by it; the row is paid anew below.

            # 2. The operator's decisions for undecided rows (recorded before they take effect).
            _apply_decisions(journal, state, by_key, outcome, settle_void, settle_paid, payments.path)
            waiting = [o for o in outcome.values() if o.status in (RowStatus.PENDING, RowStatus.UNDECIDED)]
            todo = [row for row in payments.rows if row.key not in outcome]

            # 3. Check what is left: refs paid elsewhere, balance, rows that would revert.
            _refuse_refs_paid_elsewhere(folder, journal, todo, payments.path)
            skipped: dict[str, str] = {}
            if todo and not waiting:
                available = token.available_balance_of(payer)
                needed = sum(row.amount for row in todo)
                if available < needed:
                    raise UserInputError(
                        f"{payer} can pay {format_amount(available, decimals=payments.decimals)} but "
                        f"{len(todo)} unpaid rows need {format_amount(needed, decimals=payments.decimals)}",
                        hint="fund the payer (or release its frozen amount), then run again",
                    )
                skipped = _preflight(engine, token, todo, strict_refs)
            plan = DisbursementPlan(
                payer, token.address, mode, len(payments.rows), len(todo) - len(skipped),
                sum(r.amount for r in todo if r.key not in skipped),
                sum(1 for o in outcome.values() if o.status in RowStatus.paid()), len(skipped), payments.decimals,
            )
            for row in todo:
                if row.key in skipped:
                    outcome[row.key] = _row_outcome(row, RowStatus.SKIPPED, None, None, skipped[row.key])
            sendable = [row for row in todo if row.key not in skipped]
            if waiting:
                undecided = sum(1 for o in waiting if o.status is RowStatus.UNDECIDED)
                say(f"{len(waiting)} row(s) wait on transactions the chain has not settled"
                    + (f" ({undecided} undecided: see the list)" if undecided else "") + ": nothing new is sent")
                for row in sendable:
                    outcome[row.key] = _row_outcome(row, RowStatus.NOT_SENT, None, None, "waiting for the rows listed as pending or undecided")
                sendable = []
            if dry_run:
                for row in sendable:
                    outcome[row.key] = _row_outcome(row, RowStatus.PLANNED, None, None)
                return _result(payments, journal, payer, token.address, mode, outcome, dry_run=True, resent=resent)
            if sendable and confirm is not None and not confirm(plan):
                raise UserInputError("disbursement not confirmed: nothing sent")

            # 4. Pay the rest through the bulk engine, each row with its ref.
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
                            "start_block": min(view.head, start_block) if state.started is not None else view.head,
                        }
                    ]
                )
                keys = [row.key for row in sendable]
                observer = _JournalObserver(journal, keys, count, track=True, total=len(sendable))
                say(f"paying {len(sendable)} row(s) as {mode}")
                started = time.perf_counter()
                calls = [transfer_data(row.address, row.amount, row.ref32, strict=strict_refs) for row in sendable]
                with observer.interruptible():
                    if multicall:
                        result = engine.multicall(token.address, calls, gas_limit=multicall_gas, observer=observer)
                    else:
                        result = engine.send([TxRequest(token.address, data) for data in calls], observer=observer)
                send_seconds = time.perf_counter() - started
                transactions = len(result.transactions)
                for item in result.items:
                    row = sendable[item.index]
                    status = _ROW_STATUS[item.status]
                    error = item.error.signature_text if item.error is not None else item.message
                    outcome[row.key] = _row_outcome(row, status, item.tx_hash, item.block, None if status is RowStatus.PAID else error)
                final = _result(payments, journal, payer, token.address, mode, outcome, send_seconds=send_seconds, transactions=transactions, resent=resent)
                journal.append([{"event": "finished", "counts": final.counts(), "send_seconds": round(send_seconds, 4)}])
                return final
            return _result(payments, journal, payer, token.address, mode, outcome, resent=resent)
        finally:
            engine.close()


_ROW_STATUS = {
    TxStatus.MINED: RowStatus.PAID,
    TxStatus.REVERTED: RowStatus.FAILED,
    TxStatus.SKIPPED: RowStatus.SKIPPED,
    TxStatus.REJECTED: RowStatus.REJECTED,
    TxStatus.NOT_SENT: RowStatus.NOT_SENT,
    TxStatus.PENDING: RowStatus.PENDING,
}


def _row_outcome(row: Payment, status: RowStatus, tx_hash: str | None, block: int | None, error: str | None = None) -> RowOutcome:
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
    rows = tuple(outcome[row.key] for row in payments.rows)
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


# --------------------------------------------------------------------------- chain evidence


@dataclass(frozen=True)
class _ChainView:
    """One look at the chain: the head, the deepest block the confirmations bury, the payer's nonces."""

    head: int
    settled_block: int
    #: Transactions of the payer mined up to the settled block / up to the head.
    settled_nonce: int
    latest_nonce: int

    @classmethod
    def read(cls, engine: BulkSender, token: str, payer: str) -> _ChainView:
        (head,) = map(quantity, call_all(engine.transport, [("eth_blockNumber", [])], what="reading the block number",
                                         hint=_RUN_AGAIN, none_ok=False))
        settled = max(0, head - max(1, engine.policy.confirmations) + 1)
        calls = [("eth_getTransactionCount", [payer, hex(settled)]), ("eth_getTransactionCount", [payer, hex(head)])]
        settled_nonce, latest_nonce = map(
            quantity, call_all(engine.transport, calls, what=f"reading the nonce of {payer}", hint=_RUN_AGAIN, none_ok=False)
        )
        return cls(head, settled, settled_nonce, latest_nonce)


@dataclass(frozen=True)
class _Proof:
    tx_hash: str | None
    block: int | None
    settled: bool
    note: str | None = None


def _evidence(
    engine: BulkSender,
    token: str,
    payer: str,
    rows: Sequence[Payment],
    start_block: int,
    view: _ChainView,
    strict: bool,
    count: Callable[[Progress], None],
) -> dict[str, _Proof]:
    """Rows paid on chain (by their ref), checked against the row; keyed by the row's key.

    A ``PaymentReference(payer, ref)`` with the ``Transfer`` before it proves the row paid when its
    block is buried under the confirmations. Strict-mode refs are also read from ``referenceUsed``
    (contract state, which survives a node that lost the blocks of its last transactions).

    Raises:
        ReconcileError: a ref paid to another address, or another amount, than its row says.
    """
    by_ref = {row.ref32: row for row in rows}
    blocks = view.head - start_block + 1
    found = find_payments(engine.transport, token, payer, list(by_ref), from_block=start_block, to_block=view.head,
                          scanned=lambda done: count(Progress(done, blocks, "evidence")))
    if blocks > 0:
        count(Progress(blocks, blocks, "evidence"))
    out: dict[str, _Proof] = {}
    for ref, paid in found.items():
        row = by_ref[ref]
        first = paid[0]
        if first.to.lower() != row.address.lower() or first.value != row.amount:
            raise ReconcileError(
                f"line {row.line} (ref {row.ref}): the chain shows this ref paid {first.value} base units to "
                f"{first.to} in {first.tx_hash}, but the row says {row.amount} to {row.address}",
                hint="the file does not match what was paid with its refs; stop and investigate before paying anything",
            )
        note = f"paid {len(paid)} times on chain" if len(paid) > 1 else None
        out[row.key] = _Proof(first.tx_hash, first.block, first.block <= view.settled_block, note)
    if strict:
        missing = [row for row in rows if row.key not in out]
        for row, used in zip(missing, _references_used(engine, token, payer, missing, view.settled_block), strict=True):
            if used:
                out[row.key] = _Proof(None, None, True, "referenceUsed(payer, ref) is true on chain (its block is not served)")
    return out


def _references_used(engine: BulkSender, token: str, payer: str, rows: Sequence[Payment], block: int) -> list[bool]:
    calls: list[tuple[str, Sequence[Any]]] = [
        ("eth_call", [{"to": token, "data": "0x" + (_REFERENCE_USED + static_words(payer, row.ref32)).hex()}, hex(block)])
        for row in rows
    ]
    results = call_all(engine.transport, calls, what="reading referenceUsed", hint=_RUN_AGAIN, none_ok=False)
    return [quantity(result) != 0 for result in results]


def _open_transactions(state: _State, outcome: Mapping[str, RowOutcome]) -> dict[str, _Journaled]:
    """Journaled transactions with rows the chain does not show paid yet."""
    return {h: tx for h, tx in state.txs.items() if tx.refs and any(ref not in outcome for ref in tx.refs)}


@dataclass(frozen=True)
class _Fact:
    #: failed (mined, status 0) | void (its nonce went to another known transaction) | unmined (nonce
    #: still free) | young (not buried yet) | undecided (no receipt, no evidence, nonce used)
    status: str
    block: int | None = None
    why: str | None = None


def _facts(
    engine: BulkSender, payer: str, txs: Mapping[str, _Journaled], every: Mapping[str, _Journaled], view: _ChainView
) -> dict[str, _Fact]:
    """What the chain says about journaled transactions whose rows show no payment event.

    A receipt with status 1 and no event for its rows, or no receipt while the nonce was used by a
    transaction we cannot see, settles nothing: those rows are *undecided* and never paid again
    without the operator's decision. ``every`` (all journaled transactions) finds the known
    transaction that used a nonce (a gap filler, a fee replacement).
    """
    by_nonce: dict[int, list[str]] = {}
    for h, tx in every.items():
        by_nonce.setdefault(tx.nonce, []).append(h)
    wanted = sorted({h for tx in txs.values() for h in by_nonce[tx.nonce]})
    replies = engine.transport.batch([("eth_getTransactionReceipt", [h]) for h in wanted])
    receipts: dict[str, Mapping[str, Any] | None] = {}
    for tx_hash, reply in zip(wanted, replies, strict=True):
        if reply.error is not None:
            raise ChainError(f"cannot read the receipt of {tx_hash}: {reply.message}", hint="check the node, then run again")
        receipt = reply.result
        receipts[tx_hash] = receipt if receipt and receipt.get("blockNumber") is not None else None
    out: dict[str, _Fact] = {}
    for tx_hash, tx in txs.items():
        receipt = receipts.get(tx_hash)
        settle = (
            f"wait for the confirmations and run again; look {tx_hash} up on another node; or decide with "
            "--settle-paid REF (it was paid) or --settle-void REF (it was not: pay it again)"
        )
        if receipt is not None:
            block = int(receipt["blockNumber"], 16)
            if block > view.settled_block:
                out[tx_hash] = _Fact("young", block, f"{tx_hash} mined in block {block}, not yet buried under the confirmations")
            elif int(receipt.get("status", "0x1"), 16) == 0:
                out[tx_hash] = _Fact("failed", block)
            else:
                out[tx_hash] = _Fact("undecided", block, f"{tx_hash} is mined with status 1 but the node shows no PaymentReference for this row: {settle}")
            continue
        if view.latest_nonce <= tx.nonce:
            out[tx_hash] = _Fact("unmined", None, f"{tx_hash} (nonce {tx.nonce}) is not mined yet")
            continue
        used_by = [h for h in by_nonce[tx.nonce] if h != tx_hash and receipts.get(h) is not None]
        if used_by and all(int(receipts[h]["blockNumber"], 16) <= view.settled_block for h in used_by):  # type: ignore[index]
            out[tx_hash] = _Fact("void", None, f"nonce {tx.nonce} was used by {used_by[0]}")
        elif view.settled_nonce <= tx.nonce:
            out[tx_hash] = _Fact("young", None, f"nonce {tx.nonce} was used in a block not yet buried under the confirmations")
        else:
            out[tx_hash] = _Fact(
                "undecided", None,
                f"{tx_hash} (nonce {tx.nonce}) has no receipt and no PaymentReference event, and its nonce is used: {settle}",
            )
    return out


def _journal_settlements(journal: DisbursementJournal, state: _State, facts: Mapping[str, _Fact]) -> None:
    """Record what the chain settled (``failed`` / ``void``): a cache for people, never read as evidence."""
    fresh = [
        {"event": "settled", "hash": h, "status": f.status, "block": f.block, "checked": "chain"}
        for h, f in facts.items()
        if f.status in ("failed", "void") and state.settled.get(h, {}).get("status") != f.status
    ]
    journal.append(fresh)


def _apply_decisions(
    journal: DisbursementJournal,
    state: _State,
    by_key: Mapping[str, Payment],
    outcome: dict[str, RowOutcome],
    settle_void: Sequence[str],
    settle_paid: Sequence[str],
    path: Path,
) -> None:
    """Record the operator's decisions for undecided rows, then apply every recorded one.

    A decision names rows by their ref as written in the file. It applies only while the row is
    undecided: evidence found later on chain wins over it.
    """
    by_ref = {row.ref: row for row in by_key.values()}
    fresh: list[dict[str, Any]] = []
    problems: list[str] = []
    for decision, refs in (("void", settle_void), ("paid", settle_paid)):
        keys: list[str] = []
        for ref in refs:
            row = by_ref.get(ref) or by_key.get(ref)
            current = None if row is None else outcome.get(row.key)
            if row is None:
                problems.append(f"--settle-{decision} {ref}: no row of the file has this ref")
            elif current is None or current.status is not RowStatus.UNDECIDED:
                problems.append(f"--settle-{decision} {ref}: line {row.line} is not undecided "
                                f"({current.status if current else 'unpaid, nothing to decide'})")
            else:
                keys.append(row.key)
        if keys:
            fresh.append({"event": "decided", "decision": decision, "refs": keys, "by": "operator"})
    if problems:
        raise PaymentFileError(path, problems)
    journal.append(fresh)
    for line in fresh:
        for key in line["refs"]:
            state.decisions[key] = line
    for key, line in state.decisions.items():
        current = outcome.get(key)
        if current is None or current.status is not RowStatus.UNDECIDED:
            continue
        if line.get("decision") == "paid":
            outcome[key] = replace(current, status=RowStatus.SETTLED_PAID, error=f"settled as paid by the operator at {line.get('time', 'now')}")
        else:
            del outcome[key]  # void: nothing was paid; the row is paid anew


def _as_signed(tx: _Journaled, sender: str) -> SignedTx:
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
    return SignedTx(sender, tx.nonce, tx.tx_hash, tx.raw, fields, tuple(range(len(tx.refs))))


def _refuse_refs_paid_elsewhere(folder: Path, journal: DisbursementJournal, todo: Sequence[Payment], path: Path) -> None:
    """Refuse rows whose ref another disbursement journal of this network records as paid.

    Conservative only (it refuses to pay, it never counts a row as paid): a journal is no evidence.
    """
    if not todo or not folder.is_dir():
        return
    wanted = {row.key: row for row in todo}
    problems: list[str] = []
    for other in sorted(folder.glob("*.jsonl")):
        if other == journal.path:
            continue
        state = _replay(DisbursementJournal(other).lines())
        paid = {h for h, line in state.settled.items() if line.get("status") == "paid"}
        for tx_hash in paid:
            for key in state.txs[tx_hash].refs if tx_hash in state.txs else ():
                row = wanted.get(key)
                if row is not None:
                    problems.append(f"line {row.line}: ref {row.ref!r} was already paid by disbursement {other.stem[:12]}… (tx {tx_hash})")
    if problems:
        raise PaymentFileError(path, sorted(problems, key=lambda p: int(p.split(":")[0].split()[1])))


def transfer_data(to: str, amount: int, ref: bytes, *, strict: bool = False) -> bytes:
    """Call data of ``transferWithReference(address,uint256,bytes32)`` (``strict``: the unique twin).

    The ABI's fixed layout (:func:`~pkr_pilot.contracts.static_words`), no encoder pass.

    >>> transfer_data("0x" + "11" * 20, 5, bytes(32)).hex()[:8] == _TRANSFER_WITH_REFERENCE.hex()
    True
    """
    function = _TRANSFER_WITH_UNIQUE_REFERENCE if strict else _TRANSFER_WITH_REFERENCE
    return function + static_words(to, amount, ref)


def _preflight(engine: BulkSender, token: Any, rows: Sequence[Payment], strict: bool) -> dict[str, str]:
    """Rows whose payment would revert now (batched ``eth_call`` from the payer): key -> error."""
    calls: list[tuple[str, Sequence[Any]]] = [
        ("eth_call", [{"from": engine.address, "to": token.address, "data": "0x" + transfer_data(row.address, row.amount, row.ref32, strict=strict).hex()}, "latest"])
        for row in rows
    ]
    out: dict[str, str] = {}
    for row, reply in zip(rows, engine.transport.batch(calls), strict=True):
        if reply.error is not None:
            out[row.key] = engine.decode_reply(reply).signature_text
    return out


# --------------------------------------------------------------------------- journal observer


class _JournalObserver:
    """Writes the engine's events to the journal (write-ahead for ``signed``) and counts rows sent and settled."""

    def __init__(
        self,
        journal: DisbursementJournal,
        refs: Sequence[str],
        count: Callable[[Progress], None],
        *,
        track: bool,
        total: int = 0,
    ) -> None:
        self.journal = journal
        self.refs = refs
        self.count = count
        self.track = track
        self.total = total
        self.sent_rows = 0
        self.settled_rows = 0
        #: Signed (the node may have them) and not yet settled: what an interrupt leaves live.
        self.live: list[str] = []
        self.done: set[str] = set()

    @contextlib.contextmanager
    def interruptible(self, live: Sequence[str] = ()) -> Iterator[None]:
        """Ctrl-C / SIGTERM while sending: the transactions the node may hold are reported as live."""
        try:
            yield
        except KeyboardInterrupt:
            pending = [h for h in [*live, *self.live] if h not in self.done]
            if pending:
                raise SentNotConfirmed(list(dict.fromkeys(pending))) from None
            raise

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
        self.live.extend(tx.tx_hash for tx in txs)

    def sent(self, txs: Sequence[SignedTx]) -> None:
        self.journal.append([{"event": "sent", "hashes": [tx.tx_hash for tx in txs]}])
        rows = sum(len(tx.items) for tx in txs)
        self.sent_rows += rows
        if self.track:
            self.count(Progress(self.sent_rows, self.total, "send"))

    def settled(self, outcomes: Sequence[TxOutcome]) -> None:
        entries = []
        self.done.update(o.tx.tx_hash for o in outcomes)
        for o in outcomes:
            status = {TxStatus.MINED: "paid", TxStatus.REVERTED: "failed", TxStatus.REJECTED: "rejected"}.get(o.status)
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
            self.count(Progress(self.settled_rows, self.total, "confirm"))

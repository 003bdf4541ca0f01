"""Reconcile the token's books: the chain's state against its own events, or against an export.

::

    report = reconcile(stack.token)                                    # the chain against itself
    report = reconcile(stack.token, events=read_events(path, abi))     # against an exported file
    print(report.text()); report.raise_for_mismatch()                  # ReconcileError if not ok

Checks (each a :class:`ReconcileCheck` with expected, actual and ok; amounts in base units):

``supply_matches_mints_and_burns``  ``totalSupply`` == opening supply + Σ ``Minted`` - Σ ``Burned``
                                     (a seizure only moves money: neutral).
``supply_within_reserves``          ``totalSupply`` <= the amount of the last ``ReservesAttested``.
``reserves_match_last_attestation`` ``reserves()`` on chain is what the last ``ReservesAttested`` said.
``frozen_accounts_match_events``    the accounts ``isFrozen`` on chain are exactly those the
                                     ``Frozen``/``Unfrozen`` events leave frozen.
``frozen_amounts_match_events``     ``frozenBalanceOf`` of every account is what ``AmountFrozen``,
                                     ``AmountUnfrozen`` and seizures (which release the frozen part
                                     first) leave; each event's ``totalFrozen`` (``Seized`` included)
                                     agrees with the replay.
``frozen_balances_match_seizures``  a fully frozen account's balance is its balance when it was
                                     frozen minus what was seized from it since (needs the node's
                                     state at the freeze block; reported as skipped when pruned).
``holder_balances_sum_to_supply``   Σ ``balanceOf`` over every address seen in ``Transfer`` events
                                     == ``totalSupply``.
``holder_balances_match_transfers`` each holder's ``balanceOf`` == the sum of its ``Transfer``s.
``export_matches_chain``            (with an events file) every row of the file is the chain's event
                                     at that position, and no event of the range is missing.

The chain is read at one block: the head when reconciling the chain against itself, the export's
``to_block`` when reconciling a file. A file that does not start at the token's deployment block is
reconciled from the chain's state just before its first block (opening supply and freeze state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..amounts import format_amount
from ..contracts import DEFAULT_LOG_PAGE
from ..errors import ChainError, ReconcileError, UserInputError
from ..human import plain
from .events import BlockTimes, EventRow, EventSource, stream_events

if TYPE_CHECKING:
    from web3 import Web3

    from ..contracts import Token

__all__ = [
    "CHECKS",
    "RECONCILE_SCHEMA",
    "RECONCILE_SCHEMA_VERSION",
    "Books",
    "ReconcileCheck",
    "ReconcileReport",
    "books_for",
    "reconcile",
]

RECONCILE_SCHEMA = "pkr-pilot.reconcile"
RECONCILE_SCHEMA_VERSION = 1

#: Every check, in the order they are reported.
CHECKS: tuple[str, ...] = (
    "supply_matches_mints_and_burns",
    "supply_within_reserves",
    "reserves_match_last_attestation",
    "frozen_accounts_match_events",
    "frozen_amounts_match_events",
    "frozen_balances_match_seizures",
    "holder_balances_sum_to_supply",
    "holder_balances_match_transfers",
    "export_matches_chain",
)
#: How many mismatching items a check lists in its details.
MAX_DETAILS = 10


@dataclass(frozen=True)
class ReconcileCheck:
    """One reconciliation check. ``expected``/``actual`` are exact (base units for amounts)."""

    name: str
    description: str
    expected: str
    actual: str
    ok: bool
    #: ``amount`` (base units), ``count`` or ``text``: how to render expected and actual.
    kind: str = "amount"
    #: The first mismatching items, one line each.
    details: tuple[str, ...] = ()
    #: True when the check could not run (for example, a pruned node); a skipped check is ok.
    skipped: bool = False
    #: How actual must relate to expected: ``==``, or ``<=`` (actual at most expected).
    relation: str = "=="

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "ok": self.ok,
            "skipped": self.skipped,
            "kind": self.kind,
            "relation": self.relation,
            "expected": self.expected,
            "actual": self.actual,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class ReconcileReport:
    """The outcome of :func:`reconcile`: every check, and what was reconciled against what."""

    chain_id: int
    token: str
    symbol: str
    decimals: int
    block: int
    #: ``chain`` (events read from the node) or the events file's path.
    source: str
    checks: tuple[ReconcileCheck, ...]
    #: Events taken into account, by name.
    event_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self) -> list[ReconcileCheck]:
        return [c for c in self.checks if not c.ok]

    def check(self, name: str) -> ReconcileCheck:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": RECONCILE_SCHEMA,
            "version": RECONCILE_SCHEMA_VERSION,
            "ok": self.ok,
            "chain_id": self.chain_id,
            "token": self.token,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "block": self.block,
            "source": self.source,
            "failed": [c.name for c in self.failed()],
            "event_counts": dict(self.event_counts),
            "checks": [c.to_json() for c in self.checks],
        }

    def render(self, value: str, kind: str) -> str:
        if kind == "amount" and value.lstrip("-").isdigit():
            return f"{format_amount(int(value), decimals=self.decimals)} {self.symbol}"
        return value

    def text(self) -> str:
        """A table people read: one line per check, then the details of the failed ones."""
        lines = [
            f"reconcile {self.symbol} {self.token} (chain {self.chain_id}) at block {self.block} "
            f"against {self.source}"
        ]
        width = max(len(c.name) for c in self.checks)
        for c in self.checks:
            mark = "skip" if c.skipped else ("ok" if c.ok else "FAIL")
            lines.append(
                f"  {mark:<4} {c.name:<{width}}  expected {'<= ' if c.relation == '<=' else ''}"
                f"{self.render(c.expected, c.kind)}; "
                f"actual {self.render(c.actual, c.kind)}"
            )
            lines.extend(f"         {d}" for d in c.details)
        failed = self.failed()
        lines.append("books balance" if not failed else f"{len(failed)} check(s) failed")
        return "\n".join(lines)

    def raise_for_mismatch(self) -> None:
        """Raise :class:`~pkr_pilot.errors.ReconcileError` naming the failed checks, if any."""
        failed = self.failed()
        if not failed:
            return
        first = failed[0]
        more = f" (+{len(failed) - 1} more: {', '.join(c.name for c in failed[1:])})" if len(failed) > 1 else ""
        bound = "at most " if first.relation == "<=" else ""
        raise ReconcileError(
            f"{first.name} failed: expected {bound}{self.render(first.expected, first.kind)}, "
            f"actual {self.render(first.actual, first.kind)}{more}",
            hint="the first mismatching items are listed in the report",
        )


# --------------------------------------------------------------------------- entry point


class Books:
    """What reconciling needs from a run of events, gathered one row at a time (:meth:`add`).

    Memory grows with the accounts involved (holders, frozen accounts), never with the number of
    events: a million transfers between 100,000 wallets keep 100,000 running balances.
    """

    def __init__(self, reader: _Reader, opening_block: int | None) -> None:
        self.reader = reader
        self.opening_block = opening_block
        self.minted = 0
        self.burned = 0
        self.seized = 0
        self.last_attestation: EventRow | None = None
        self.counts: dict[str, int] = {}
        #: Transfer replay: address -> balance change.
        self.replay: dict[str, int] = {}
        self.full: dict[str, bool] = {}
        self.amount: dict[str, int] = {}
        self.frozen_at: dict[str, int] = {}
        self.seized_since: dict[str, int] = {}
        self.inconsistent: list[str] = []

    def add(self, r: EventRow) -> None:
        name = r.event
        self.counts[name] = self.counts.get(name, 0) + 1
        args = r.args
        if name == "Transfer":
            value = int(args["value"])
            src, dst = str(args["from"]), str(args["to"])
            if src != _ZERO:
                self.replay[src] = self.replay.get(src, 0) - value
            if dst != _ZERO:
                self.replay[dst] = self.replay.get(dst, 0) + value
        elif name == "Minted":
            self.minted += int(args["amount"])
        elif name == "Burned":
            self.burned += int(args["amount"])
        elif name == "ReservesAttested":
            self.last_attestation = r
        elif name in ("Frozen", "Unfrozen", "AmountFrozen", "AmountUnfrozen"):
            account = str(args["account"])
            self._opening(account)
            if name == "Frozen":
                self.full[account] = True
                self.frozen_at[account] = r.block_number
                self.seized_since[account] = 0
            elif name == "Unfrozen":
                self.full[account] = False
                self.frozen_at.pop(account, None)
            elif name == "AmountFrozen":
                self.amount[account] += int(args["amount"])
                self._note_total(r, account)
            else:
                self.amount[account] -= int(args["amount"])
                self._note_total(r, account)
        elif name == "Seized":
            account = str(args["from"])
            self._opening(account)
            value = int(args["amount"])
            self.seized += value
            self.amount[account] -= min(value, max(self.amount[account], 0))
            if "totalFrozen" in args:  # Seized says the frozen amount left since issue 11
                self._note_total(r, account)
            # The balance read at the freeze block already reflects that block's seizures.
            if account in self.frozen_at and r.block_number > self.frozen_at[account]:
                self.seized_since[account] = self.seized_since.get(account, 0) + value

    def _opening(self, account: str) -> None:
        if account in self.full:
            return
        if self.opening_block is None:
            self.full[account], self.amount[account] = False, 0
        else:
            self.full[account] = self.reader.is_frozen(account, block=self.opening_block)
            self.amount[account] = self.reader.frozen_balance_of(account, block=self.opening_block)

    def _note_total(self, row: EventRow, account: str) -> None:
        if len(self.inconsistent) < 1_000:
            _note_total(self.inconsistent, row, account, self.amount[account])


_ZERO = "0x" + "00" * 20


def reconcile(
    token: Token,
    *,
    events: EventSource | None = None,
    source: str | None = None,
    block: int | None = None,
    page: int = DEFAULT_LOG_PAGE,
    chain_events: EventSource | None = None,
    books: Books | None = None,
) -> ReconcileReport:
    """Run every check (see the module docstring) and return the report; never raises on a mismatch.

    ``events``: an export to reconcile (:func:`~pkr_pilot.reports.events.read_events`, or streamed
    with :func:`~pkr_pilot.reports.events.open_events`); the chain is then read at its ``to_block``.
    Without it, the events come from the chain and ``block`` (default: the head) is where everything
    is read. ``source`` names the file in the report. ``chain_events``: the token's events from its
    deployment block that this process has just read from the chain, used instead of reading them
    again; its ``to_block`` is where the chain is read. ``books``: those events already gathered
    (:func:`books_for`, fed while they were written elsewhere), so nothing is read twice.

    Every source is consumed as a stream (constant memory in the number of events).
    """
    w3 = token.w3
    chain_id = int(w3.eth.chain_id)
    head = int(w3.eth.block_number)
    times = BlockTimes(w3)
    chain_book: EventSource | None = None
    if events is not None:
        if events.chain_id != chain_id:
            raise UserInputError(
                f"the events file is from chain {events.chain_id}, the node is chain {chain_id}",
                hint="pass the --network the file was exported from",
            )
        if events.token != token.address:
            raise UserInputError(
                f"the events file is for token {events.token}, this deployment's token is {token.address}",
                hint="pass the --network the file was exported from",
            )
        if events.to_block > head:
            raise UserInputError(f"the events file ends at block {events.to_block}, beyond the chain head {head}")
        at = events.to_block
        book: EventSource = events
        chain_book = stream_events(
            token, from_block=events.from_block, to_block=at, include_transfers=events.include_transfers,
            page=page, block_times=times,
        )
    elif chain_events is not None:
        if chain_events.token != token.address or chain_events.from_block > token.from_block:
            raise UserInputError("chain_events must be this token's export from its deployment block")
        at = chain_events.to_block
        book = chain_events
    else:
        at = head if block is None else block
        if at > head:
            raise UserInputError(f"block {at} is beyond the chain head {head}")
        book = stream_events(token, to_block=at, page=page, block_times=times)

    if books is None:
        books = books_for(token, book)
        for row in book:
            books.add(row)
    reader = books.reader
    if not (book.include_transfers and book.from_block <= token.from_block and book.to_block == at):
        # The book does not hold every Transfer since deployment: replay them from the chain.
        books.replay.clear()
        books.counts["Transfer"] = 0
        for e in token.events(("Transfer",), to_block=at, page=page):
            books.add(EventRow(e.block_number, 0, e.tx_hash, e.log_index, e.name, dict(e.args)))

    checks: list[ReconcileCheck] = []
    supply = reader.total_supply()
    checks.append(_supply_check(reader, books, supply))
    checks.extend(_reserve_checks(reader, books.last_attestation, supply))
    checks.extend(_freeze_checks(reader, books))
    checks.extend(_holder_checks(reader, books.replay, supply))
    if chain_book is not None:
        checks.append(_export_check(book, chain_book))

    counts = {k: v for k, v in books.counts.items() if k != "Approval"}
    counts["Transfer"] = books.counts.get("Transfer", 0)
    return ReconcileReport(
        chain_id=chain_id,
        token=token.address,
        symbol=token.symbol,
        decimals=token.decimals,
        block=at,
        source=source or ("events file" if events is not None else "chain"),
        checks=tuple(checks),
        event_counts=dict(sorted(counts.items())),
    )


def books_for(token: Token, book: EventSource) -> Books:
    """Empty :class:`Books` for reconciling ``book`` (fed with :meth:`Books.add`, then passed to
    :func:`reconcile` with the same ``chain_events``)."""
    opening_block = book.from_block - 1 if book.from_block > token.from_block else None
    return Books(_Reader(token, book.to_block), opening_block)


# --------------------------------------------------------------------------- checks


def _supply_check(reader: _Reader, books: Books, supply: int) -> ReconcileCheck:
    opening_block = books.opening_block
    opening = reader.total_supply(block=opening_block) if opening_block is not None else 0
    minted, burned = books.minted, books.burned
    expected = opening + minted - burned
    details = (
        ()
        if expected == supply
        else (
            f"opening {opening} + minted {minted} - burned {burned} = {expected}; totalSupply {supply}; "
            f"difference {supply - expected}",
        )
    )
    return ReconcileCheck(
        "supply_matches_mints_and_burns",
        "total supply equals minted minus burned",
        str(expected),
        str(supply),
        expected == supply,
        details=details,
    )


def _reserve_checks(reader: _Reader, last: EventRow | None, supply: int) -> list[ReconcileCheck]:
    onchain = reader.reserves()
    if last is None:
        attested = onchain[0]
        within = ReconcileCheck(
            "supply_within_reserves",
            "supply does not exceed the last attested reserves",
            str(attested),
            str(supply),
            supply <= attested,
            details=() if supply <= attested else ("no ReservesAttested event in the range",),
            relation="<=",
        )
        match = ReconcileCheck(
            "reserves_match_last_attestation",
            "reserves() equals the last ReservesAttested event",
            "no attestation in the range",
            f"reserves() = {onchain[0]}",
            True,
            kind="text",
            skipped=True,
        )
        return [within, match]
    amount = int(last.args["amount"])
    as_of = int(last.args["asOf"])
    report_hash = bytes(last.args["reportHash"])
    within = ReconcileCheck(
        "supply_within_reserves",
        "supply does not exceed the last attested reserves",
        str(amount),
        str(supply),
        supply <= amount,
        details=()
        if supply <= amount
        else (f"supply exceeds the attestation of block {last.block_number} by {supply - amount}",),
        relation="<=",
    )
    same = (amount, as_of, report_hash) == onchain[:3]
    details: tuple[str, ...] = ()
    if not same:
        details = (
            f"last ReservesAttested (block {last.block_number}): amount {amount}, asOf {as_of}, "
            f"reportHash 0x{report_hash.hex()}",
            f"reserves() at block {reader.block}: amount {onchain[0]}, asOf {onchain[1]}, reportHash 0x{onchain[2].hex()}",
        )
    match = ReconcileCheck(
        "reserves_match_last_attestation",
        "reserves() equals the last ReservesAttested event",
        str(amount),
        str(onchain[0]),
        same,
        details=details,
    )
    return [within, match]


def _freeze_checks(reader: _Reader, books: Books) -> list[ReconcileCheck]:
    accounts = sorted(books.full)
    on_full = reader.many("isFrozen", accounts)
    on_amount = reader.many("frozenBalanceOf", accounts)

    expected_full = [a for a in accounts if books.full[a]]
    actual_full = [a for a in accounts if on_full[a]]
    full_diff = [
        f"{a}: events say {'frozen' if books.full[a] else 'not frozen'}, isFrozen is {bool(on_full[a])}"
        for a in accounts
        if books.full[a] != bool(on_full[a])
    ]
    checks = [
        ReconcileCheck(
            "frozen_accounts_match_events",
            "accounts frozen on chain are those the Frozen/Unfrozen events leave frozen",
            str(len(expected_full)),
            str(len(actual_full)),
            not full_diff,
            kind="count",
            details=tuple(full_diff[:MAX_DETAILS]),
        )
    ]

    amount_diff = [
        f"{a}: events leave {books.amount[a]} frozen, frozenBalanceOf is {on_amount[a]}"
        for a in accounts
        if books.amount[a] != on_amount[a]
    ]
    problems = books.inconsistent + amount_diff
    checks.append(
        ReconcileCheck(
            "frozen_amounts_match_events",
            "frozen amounts on chain are what the partial-freeze events and seizures leave",
            str(sum(books.amount[a] for a in accounts)),
            str(sum(int(on_amount[a]) for a in accounts)),
            not problems,
            details=tuple(problems[:MAX_DETAILS]),
        )
    )
    checks.append(_frozen_balance_check(reader, expected_full, books.frozen_at, books.seized_since))
    return checks


def _note_total(out: list[str], row: EventRow, account: str, replayed: int) -> None:
    stated = int(row.args["totalFrozen"])
    if stated != replayed:
        out.append(
            f"{row.event} of {account} in block {row.block_number} (log {row.log_index}) says totalFrozen "
            f"{stated}, the events before it give {replayed}"
        )


def _frozen_balance_check(
    reader: _Reader, frozen: Sequence[str], frozen_at: Mapping[str, int], seized_since: Mapping[str, int]
) -> ReconcileCheck:
    # Accounts frozen before the range (opening state) have no freeze block in the range: not checked.
    tracked = [a for a in frozen if a in frozen_at]
    now = reader.many("balanceOf", tracked)
    expected_total = 0
    diffs: list[str] = []
    try:
        for a in tracked:
            then = reader.balance_of(a, block=frozen_at[a])
            expected = then - seized_since.get(a, 0)
            expected_total += expected
            if expected != now[a]:
                diffs.append(
                    f"{a}: {then} when frozen (block {frozen_at[a]}) - {seized_since.get(a, 0)} seized = "
                    f"{expected}, balanceOf is {now[a]}"
                )
    except ChainError as exc:
        return ReconcileCheck(
            "frozen_balances_match_seizures",
            "fully frozen balances changed only by seizures",
            "historical state",
            f"unavailable ({exc.message})",
            True,
            kind="text",
            skipped=True,
        )
    return ReconcileCheck(
        "frozen_balances_match_seizures",
        "fully frozen balances changed only by seizures",
        str(expected_total),
        str(sum(now.values())),
        not diffs,
        details=tuple(diffs[:MAX_DETAILS]),
    )


def _holder_checks(reader: _Reader, replay: Mapping[str, int], supply: int) -> list[ReconcileCheck]:
    holders = sorted(replay)
    balances = reader.many("balanceOf", holders)
    total = sum(int(b) for b in balances.values())
    sum_check = ReconcileCheck(
        "holder_balances_sum_to_supply",
        f"the balances of the {len(holders)} addresses seen in Transfer events add up to the supply",
        str(supply),
        str(total),
        total == supply,
        details=() if total == supply else (f"difference {total - supply}",),
    )
    diffs = [f"{h}: transfers give {replay[h]}, balanceOf is {balances[h]}" for h in holders if replay[h] != balances[h]]
    replay_check = ReconcileCheck(
        "holder_balances_match_transfers",
        "every holder's balance equals the sum of its transfers",
        str(len(holders)),
        str(len(holders) - len(diffs)),
        not diffs,
        kind="count",
        details=tuple(diffs[:MAX_DETAILS]),
    )
    return [sum_check, replay_check]


def _export_check(book: EventSource, chain: EventSource) -> ReconcileCheck:
    """Walk the file's rows and the chain's side by side (both in chain order): constant memory."""
    diffs: list[str] = []
    count = ours_total = theirs_total = 0

    def differ(kind: str, row: EventRow, before: EventRow | None = None) -> None:
        """Count a difference; describe it while there is room (``before``: the file's row it changes)."""
        nonlocal count
        if len(diffs) <= MAX_DETAILS:
            detail = f": {_row_changes(before, row)}" if before is not None else f" ({_args_text(row.args)})"
            diffs.append(f"{kind}: {row.event} at {_where(row)}{detail}")
        count += 1

    ours_iter, theirs_iter = iter(book), iter(chain)
    a, b = next(ours_iter, None), next(theirs_iter, None)
    while a is not None or b is not None:
        if b is not None and (a is None or b.key() < a.key()):
            differ("missing from the file", b)
            theirs_total += 1
            b = next(theirs_iter, None)
        elif a is not None and (b is None or a.key() < b.key()):
            differ("not on chain", a)
            ours_total += 1
            a = next(ours_iter, None)
        else:
            assert a is not None and b is not None
            if a != b:
                differ("changed", b, a)
            ours_total += 1
            theirs_total += 1
            a, b = next(ours_iter, None), next(theirs_iter, None)
    shown = tuple(diffs[:MAX_DETAILS])
    return ReconcileCheck(
        "export_matches_chain",
        "every row of the events file is the chain's event at that position",
        f"{theirs_total} events on chain",
        f"{ours_total} rows in file",
        not count,
        kind="text",
        details=shown + ((f"... {count - MAX_DETAILS} more",) if count > MAX_DETAILS else ()),
    )


def _where(row: EventRow) -> str:
    return f"block {row.block_number} log {row.log_index}"


def _row_changes(ours: EventRow, chain: EventRow) -> str:
    parts: list[str] = []
    for name in ("event", "tx_hash", "block_timestamp"):
        if getattr(ours, name) != getattr(chain, name):
            parts.append(f"{name} {getattr(chain, name)} -> {getattr(ours, name)}")
    for name in sorted(set(ours.args) | set(chain.args)):
        if ours.args.get(name) != chain.args.get(name):
            parts.append(f"{name} {plain(chain.args.get(name))} -> {plain(ours.args.get(name))}")
    return "; ".join(parts) or "differs"


def _args_text(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={plain(v)}" for k, v in args.items())


# --------------------------------------------------------------------------- chain reads


class _Reader:
    """Token views at one block; per-account views for many accounts in JSON-RPC batches."""

    def __init__(self, token: Token, block: int, *, batch_size: int = 200) -> None:
        self.token = token
        self.block = block
        self.batch_size = batch_size
        self._batching = True

    def total_supply(self, *, block: int | None = None) -> int:
        return self.token.total_supply(block=self.block if block is None else block)

    def reserves(self) -> tuple[int, int, bytes, int]:
        r = self.token.reserves(block=self.block)
        return (r.amount, r.as_of, r.report_hash, r.attested_at)

    def is_frozen(self, account: str, *, block: int) -> bool:
        return self.token.is_frozen(account, block=block)

    def frozen_balance_of(self, account: str, *, block: int) -> int:
        return self.token.frozen_balance_of(account, block=block)

    def balance_of(self, account: str, *, block: int) -> int:
        return self.token.balance_of(account, block=block)

    def many(self, function: str, accounts: Sequence[str]) -> dict[str, int]:
        """``function(account)`` (a one-word uint or bool view) for every account, at ``self.block``."""
        out: dict[str, int] = {}
        for start in range(0, len(accounts), self.batch_size):
            chunk = accounts[start : start + self.batch_size]
            out.update(self._chunk(function, chunk))
        return out

    def _chunk(self, function: str, accounts: Sequence[str]) -> dict[str, int]:
        if self._batching and accounts:
            try:
                return self._batch(function, accounts)
            except NotImplementedError:
                self._batching = False
        return {a: int(self.token.view(function, a, block=self.block)) for a in accounts}

    def _batch(self, function: str, accounts: Sequence[str]) -> dict[str, int]:
        w3: Web3 = self.token.w3
        requests = [
            ("eth_call", [{"to": self.token.address, "data": "0x" + self.token.build(function, a).data.hex()}, hex(self.block)])
            for a in accounts
        ]
        try:
            responses = w3.provider.make_batch_request(requests)  # type: ignore[attr-defined, arg-type]
        except NotImplementedError:
            raise
        except OSError as exc:
            raise ChainError(f"reading {function} of {len(accounts)} accounts failed: {exc}") from None
        if not isinstance(responses, list) or len(responses) != len(accounts):
            raise ChainError(f"the node refused a batch of {function} calls: {_error_of(responses)}")
        out: dict[str, int] = {}
        for account, response in zip(accounts, responses, strict=True):
            result = response.get("result")
            if not isinstance(result, str) or len(result) < 3:
                raise ChainError(f"{function}({account}) at block {self.block} failed: {_error_of(response)}")
            out[account] = int(result, 16)
        return out


def _error_of(response: Any) -> str:
    if isinstance(response, Mapping):
        error = response.get("error")
        if isinstance(error, Mapping):
            return str(error.get("message", error))
        return str(error)
    return "unexpected response"

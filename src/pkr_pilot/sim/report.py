"""The report folder of a run: summary.json, events.csv, participants.csv, reconcile.json, charts, index.html.

Every figure is read back from the chain (events, views) rather than from the simulator's model, and
the model is then compared with the chain (``model_matches_chain``). Everything except the
``wall_clock`` section of ``summary.json`` is a function of the scenario, the seed and the starting
state, so two runs can be compared file by file.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_write_text
from ..amounts import format_amount
from ..human import iso, percent
from ..reports.charts import (
    balance_distribution_chart,
    frozen_chart,
    save_png,
    supply_reserves_chart,
    transactions_per_day_chart,
)
from ..reports.events import EventRow, stream_events, write_events_csv
from ..reports.html import Chart, Section, render_page
from ..reports.reconcile import Books, ReconcileReport, books_for, reconcile
from ..transport import call_all, transport_for
from .sending import Calldata

if TYPE_CHECKING:
    from ..transport import Transport
    from .runner import RunOutcome
    from .scenario import Scenario

__all__ = ["SUMMARY_SCHEMA", "SUMMARY_SCHEMA_VERSION", "ReportFiles", "write_report", "write_summary_and_index"]

SUMMARY_SCHEMA = "pkr-pilot.sim-summary"
SUMMARY_SCHEMA_VERSION = 1

CHARTS: tuple[tuple[str, str, str], ...] = (
    ("supply_reserves.png", "Supply against attested reserves",
     "Total supply after every mint and burn, the reserves of the latest attestation and the collateral ratio "
     "(reserves / supply, right axis), by simulated day; vertical lines mark pauses, freezes, seizures and "
     "attestations; the grey band is the setup before day 0."),
    ("balance_distribution.png", "Balance distribution",
     "Final balances of merchants' and citizens' wallets."),
    ("frozen.png", "Frozen amounts over time",
     "Partially frozen amounts and the balances of fully frozen wallets, by simulated day, with the freezes and "
     "seizures marked."),
    ("transactions_per_day.png", "Transactions per simulated day",
     "Every transaction of the run; the setup (gas funding, deployment, onboarding) is the grey bar, apart from "
     "the scenario's days."),
)


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    summary: Path
    events: Path
    index: Path
    charts: tuple[Path, ...]


def write_report(
    outcome: RunOutcome,
    scenario: Scenario,
    *,
    seed: int,
    out_dir: Path,
    network: str,
    chain_id: int,
    wall_clock: Mapping[str, Any],
    state_in_sha256: str | None = None,
) -> tuple[dict[str, Any], ReconcileReport, ReportFiles]:
    """Read the run back from the chain and write the report's data files and charts.

    Returns the summary (its ``wall_clock`` section as given), the reconcile report and the file paths;
    :func:`write_summary_and_index` writes ``summary.json`` and ``index.html`` afterwards.
    """
    token = outcome.stack.token
    w3 = token.w3
    out_dir.mkdir(parents=True, exist_ok=True)
    last = outcome.last_block
    # One streamed pass over the run's events: events.csv, the reconcile books and the daily series
    # are built row by row, so memory does not grow with the number of events.
    stream = stream_events(token, to_block=last, include_transfers=True)
    books = books_for(token, stream)
    series = RunSeries(outcome.start_time, books)

    def observe(row: EventRow) -> None:
        books.add(row)
        series.add(row)

    write_events_csv(stream, out_dir / "events.csv", observe=observe)
    series.close()
    report = reconcile(token, chain_events=stream, books=books)
    atomic_write_text(out_dir / "reconcile.json", json.dumps(report.to_json(), indent=2) + "\n")

    people = outcome.participants.everyone()
    addresses = [p.address for p in people]
    transport = transport_for(w3)
    try:
        balances = _views(transport, token, "balanceOf", addresses, last)
        frozen_amounts = _views(transport, token, "frozenBalanceOf", addresses, last)
        fully = _views(transport, token, "isFrozen", addresses, last)
        txs = _transaction_counts(transport, outcome.first_block, last)
    finally:
        transport.close()
    _write_participants(out_dir / "participants.csv", people, balances, frozen_amounts, fully, scenario.decimals)

    drift = _model_drift(outcome, balances, frozen_amounts, token.total_supply(block=last))
    summary = _summary(outcome, scenario, seed, books, report, balances, frozen_amounts, fully, drift, txs,
                       network=network, chain_id=chain_id, state_in_sha256=state_in_sha256)
    charts = _charts(outcome, scenario, series, balances, txs, out_dir, token.symbol)
    summary["files"] = {
        "events": "events.csv",
        "participants": "participants.csv",
        "reconcile": "reconcile.json",
        "journal": "operations.jsonl",
        "deployment": "deployment/",
        "charts": [c.name for c in charts],
        "index": "index.html",
    }
    summary["wall_clock"] = dict(wall_clock)
    files = ReportFiles(out_dir, out_dir / "summary.json", out_dir / "events.csv", out_dir / "index.html",
                        tuple(charts))
    return summary, report, files


def write_summary_and_index(files: ReportFiles, summary: Mapping[str, Any], report: ReconcileReport) -> None:
    """Write ``summary.json`` and ``index.html`` (last, once the wall clock is known)."""
    atomic_write_text(files.summary, json.dumps(summary, indent=2) + "\n")
    atomic_write_text(files.index, _page(summary, report))


# --------------------------------------------------------------------------- summary


def _summary(
    outcome: RunOutcome, scenario: Scenario, seed: int, books: Books, report: ReconcileReport,
    balances: Mapping[str, int], frozen_amounts: Mapping[str, int], fully: Mapping[str, int],
    drift: Sequence[str], txs: Sequence[tuple[int, int, int]], *, network: str, chain_id: int,
    state_in_sha256: str | None,
) -> dict[str, Any]:
    token = outcome.stack.token
    decimals = scenario.decimals
    last = outcome.last_block
    supply = token.total_supply(block=last)
    reserves = token.reserves(block=last)
    minted = books.minted
    burned = books.burned
    seized = books.seized
    frozen_accounts = [a for a, f in fully.items() if f]
    partial = {a: v for a, v in frozen_amounts.items() if v}
    expected_total = sum(outcome.expected.values())
    people = outcome.participants
    tiers: dict[str, int] = {}
    for citizen in people.citizens:
        tiers[str(citizen.tier)] = tiers.get(str(citizen.tier), 0) + 1

    def money(units: int) -> str:
        return f"{format_amount(units, decimals=decimals)} {token.symbol}"

    return {
        "schema": SUMMARY_SCHEMA,
        "version": SUMMARY_SCHEMA_VERSION,
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "sha256": scenario.sha256,
            "seed": seed,
            "steps": scenario.steps,
            "step_seconds": scenario.step_seconds,
            "start_time": iso(outcome.start_time),
        },
        "chain": {
            "network": network,
            "chain_id": chain_id,
            "controlled": outcome.controlled,
            "block_gas_limit": outcome.block_gas_limit,
            "state_in_sha256": state_in_sha256,
            "token": token.address,
            "first_block": outcome.first_block,
            "last_block": last,
            "blocks": last - outcome.first_block + 1,
            "transactions": sum(c for _, _, c in txs),
            "end_time": iso(int(token.w3.eth.get_block(last)["timestamp"])),
        },
        "participants": {
            "central_bank": people.central_bank.address,
            "court": people.court.address,
            "banks": [b.address for b in people.banks],
            "merchants": len(people.merchants),
            "citizens": len(people.citizens),
            "wallets": len(people.everyone()),
            "citizens_by_tier": dict(sorted(tiers.items())),
        },
        "figures": {
            "symbol": token.symbol,
            "decimals": decimals,
            "final_supply": str(supply),
            "attested_reserves": str(reserves.amount),
            "collateralisation_percent": _percent(reserves.amount, supply),
            "minted": str(minted),
            "burned": str(burned),
            "attestations": books.counts.get("ReservesAttested", 0),
            "seizures": {"count": books.counts.get("Seized", 0), "amount": str(seized)},
            "frozen": {
                "fully_frozen_accounts": len(frozen_accounts),
                "balance_in_frozen_accounts": str(sum(balances[a] for a in frozen_accounts)),
                "partially_frozen_accounts": len(partial),
                "partially_frozen_total": str(sum(partial.values())),
            },
            "transactions_by_kind": dict(sorted(outcome.counts.items())),
            "failures": {
                "expected_total": expected_total,
                "expected": dict(sorted(outcome.expected.items())),
                "unexpected_total": len(outcome.unexpected),
                "unexpected": [f.to_json() for f in outcome.unexpected[:100]],
            },
            "skipped": dict(sorted(outcome.skipped.items())),
            "model_matches_chain": not drift,
            "model_drift": list(drift[:20]),
            "display": {
                "final_supply": money(supply),
                "attested_reserves": money(reserves.amount),
                "minted": money(minted),
                "burned": money(burned),
                "seized": money(seized),
            },
        },
        "reconcile": {
            "ok": report.ok,
            "block": report.block,
            "failed": [c.name for c in report.failed()],
            "checks": {c.name: c.ok for c in report.checks},
        },
    }


def _model_drift(outcome: RunOutcome, balances: Mapping[str, int], frozen: Mapping[str, int], supply: int) -> list[str]:
    ledger = outcome.ledger
    out: list[str] = []
    if ledger.supply != supply:
        out.append(f"supply: model {ledger.supply}, chain {supply}")
    for address, balance in balances.items():
        if ledger.balance.get(address, 0) != balance:
            out.append(f"{address} balance: model {ledger.balance.get(address, 0)}, chain {balance}")
        if ledger.frozen.get(address, 0) != frozen[address]:
            out.append(f"{address} frozen: model {ledger.frozen.get(address, 0)}, chain {frozen[address]}")
    return out


def _percent(numerator: int, denominator: int) -> str | None:
    if denominator == 0:
        return None
    return str((Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01")))


# --------------------------------------------------------------------------- chain reads


def _views(transport: Transport, token: Any, function: str, accounts: Sequence[str], block: int) -> dict[str, int]:
    encode = Calldata(token)
    calls = [
        ("eth_call", [{"to": token.address, "data": "0x" + encode.view(function, a).hex()}, hex(block)])
        for a in accounts
    ]
    results = call_all(transport, calls, what=f"reading {function} of the participants")
    return {a: int(r, 16) for a, r in zip(accounts, results, strict=True)}


def _transaction_counts(transport: Transport, first: int, last: int) -> list[tuple[int, int, int]]:
    """(block, timestamp, transactions) of every block of the run."""
    blocks = list(range(first, last + 1))
    results = call_all(transport, [("eth_getBlockByNumber", [hex(b), False]) for b in blocks],
                       what="counting transactions per block")
    return [(b, int(r["timestamp"], 16), len(r["transactions"])) for b, r in zip(blocks, results, strict=True)]


# --------------------------------------------------------------------------- files


def _write_participants(
    path: Path, people: Sequence[Any], balances: Mapping[str, int], frozen: Mapping[str, int],
    fully: Mapping[str, int], decimals: int,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("label", "kind", "tier", "bank", "address", "balance", "frozen_amount", "fully_frozen", "balance_units"))
    for p in people:
        writer.writerow((p.label, p.kind, p.tier, "" if p.bank < 0 else f"bank-{p.bank}", p.address,
                         balances[p.address], frozen[p.address], bool(fully[p.address]),
                         format_amount(balances[p.address], decimals=decimals, grouping=False)))
    atomic_write_text(path, buffer.getvalue())


def _charts(
    outcome: RunOutcome, scenario: Scenario, series: RunSeries, balances: Mapping[str, int],
    txs: Sequence[tuple[int, int, int]], out_dir: Path, symbol: str,
) -> list[Path]:
    start = outcome.start_time
    supply, reserves, partial, full = series.supply, series.reserves, series.partial, series.full
    markers = series.markers
    per_day: dict[int, int] = {}
    for _, timestamp, count in txs:
        day = math.floor(_day(timestamp, start))
        per_day[day] = per_day.get(day, 0) + count
    holders = [balances[p.address] for p in outcome.participants.holders()]
    d = scenario.decimals
    images = {
        "supply_reserves.png": supply_reserves_chart(supply, reserves, decimals=d, symbol=symbol,
                                                     title="Supply against attested reserves", markers=markers),
        "balance_distribution.png": balance_distribution_chart(holders, decimals=d, symbol=symbol,
                                                               title="Balance distribution (merchants and citizens)"),
        "frozen.png": frozen_chart(partial, full, decimals=d, symbol=symbol, title="Frozen amounts over time",
                                   markers=[m for m in markers if m[1] in ("freeze", "seizure")]),
        "transactions_per_day.png": transactions_per_day_chart(sorted(per_day.items()),
                                                               title="Transactions per simulated day"),
    }
    paths = []
    for name, _, _ in CHARTS:
        save_png(images[name], out_dir / name)
        paths.append(out_dir / name)
    return paths


#: Events drawn as vertical markers, and their kind.
_MARKERS = {
    "Paused": "pause",
    "Unpaused": "unpause",
    "Frozen": "freeze",
    "AmountFrozen": "freeze",
    "Seized": "seizure",
    "ReservesAttested": "attestation",
}
#: Simulated seconds per chart point: a 30-day run has at most 720 points per series.
_BUCKET = 3_600


def _day(timestamp: int, start: int) -> float:
    """Simulated days since the scenario's start (display only; negative during the setup)."""
    return (timestamp - start) / 86_400


class RunSeries:
    """Supply, attested reserves, partially frozen total and fully frozen wallets' balances as
    (simulated day, value) steps, one point per simulated hour in which a value changed, and the
    events drawn as markers; fed row by row after the reconcile
    :class:`~pkr_pilot.reports.reconcile.Books` have taken the same row.

    It reads the books' running figures, so an hour costs one sum over the frozen accounts,
    whatever the number of events or blocks.
    """

    def __init__(self, start: int, books: Books) -> None:
        self.start = start
        self.books = books
        self.supply: list[tuple[float, int]] = []
        self.reserves: list[tuple[float, int]] = []
        self.partial: list[tuple[float, int]] = []
        self.full: list[tuple[float, int]] = []
        self.markers: list[tuple[float, str]] = []
        self._bucket: int | None = None
        self._last = 0.0

    def add(self, row: EventRow) -> None:
        bucket = row.block_timestamp // _BUCKET
        if self._bucket is not None and bucket != self._bucket:
            self._point()
        if self._bucket is None:
            first = _day(row.block_timestamp, self.start)
            for series in (self.supply, self.reserves, self.partial, self.full):
                series.append((first, 0))
        self._bucket = bucket
        self._last = _day(row.block_timestamp, self.start)
        kind = _MARKERS.get(row.event)
        if kind is not None:
            self.markers.append((self._last, kind))

    def close(self) -> None:
        if self._bucket is not None:
            self._point()
            for series in (self.supply, self.reserves, self.partial, self.full):
                if series[-1][0] < self._last:
                    series.append((self._last, series[-1][1]))
            self._bucket = None

    def _point(self) -> None:
        books = self.books
        last = books.last_attestation
        frozen_wallets = [a for a, frozen in books.full.items() if frozen]
        for series, value in (
            (self.supply, books.minted - books.burned),
            (self.reserves, int(last.args["amount"]) if last is not None else 0),
            (self.partial, sum(books.amount.values())),
            (self.full, sum(books.replay.get(a, 0) for a in frozen_wallets)),
        ):
            if series[-1][1] != value:
                series.append((self._last, value))


def _page(summary: Mapping[str, Any], report: ReconcileReport) -> str:
    f = summary["figures"]
    sc = summary["scenario"]
    ch = summary["chain"]
    d = f["display"]
    fails = f["failures"]
    unexpected = fails["unexpected_total"]
    ok = report.ok and unexpected == 0 and f["model_matches_chain"]
    verdict = (
        "Books reconcile; every failure was planned by the scenario."
        if ok
        else f"Attention: {unexpected} unexpected failure(s); reconcile {'ok' if report.ok else 'FAILED: ' + ', '.join(c.name for c in report.failed())}"
    )
    decimals = f["decimals"]
    symbol = f["symbol"]

    def money(units: str) -> str:
        return f"{format_amount(int(units), decimals=decimals)} {symbol}"

    wall = summary["wall_clock"]
    figures = [
        ("Final supply", d["final_supply"]),
        ("Attested reserves", d["attested_reserves"]),
        ("Collateralisation", percent(int(f["attested_reserves"]), int(f["final_supply"]))),
        ("Minted / burned", f"{d['minted']} / {d['burned']}"),
        ("Seizures", f"{f['seizures']['count']} ({d['seized']})"),
        ("Fully frozen wallets", str(f["frozen"]["fully_frozen_accounts"])),
        ("Partially frozen", money(f["frozen"]["partially_frozen_total"])),
        ("Reserve attestations", str(f["attestations"])),
        ("Transactions / blocks", f"{ch['transactions']:,} / {ch['blocks']:,}"),
        ("Expected failures", str(fails["expected_total"])),
        ("Unexpected failures", str(unexpected)),
        ("Wall time", f"{wall.get('wall_seconds', 0):.1f} s"),
    ]
    charts = [Chart(name, title, caption) for name, title, caption in CHARTS]
    sections = [
        Section("Transactions by kind", ("kind", "count"),
                [(k, f"{v:,}") for k, v in f["transactions_by_kind"].items()]),
        Section("Expected failures", ("kind:error", "count"), [(k, str(v)) for k, v in fails["expected"].items()],
                note="Attempts the scenario makes on purpose; each reverted with exactly this error."),
        Section("Unexpected failures", ("step", "kind", "error", "transaction"),
                [(str(u["step"]), u["kind"], u["error"], u["tx_hash"] or "") for u in fails["unexpected"]]),
        Section("Reconciliation", ("check", "result", "expected", "actual"),
                [(c.name, "skipped" if c.skipped else ("ok" if c.ok else "FAIL"),
                  ("<= " if c.relation == "<=" else "") + report.render(c.expected, c.kind),
                  report.render(c.actual, c.kind)) for c in report.checks]),
        Section("Planned but skipped", ("reason", "count"), [(k, str(v)) for k, v in f["skipped"].items()],
                note="Payments the model could not fund, or actions with nothing to act on."),
    ]
    subtitle = (
        f"{sc['description']} Seed {sc['seed']}, {sc['steps']} steps of {sc['step_seconds']} s from {sc['start_time']}; "
        f"{summary['participants']['wallets']} wallets; token {ch['token']} on {ch['network']} (chain {ch['chain_id']})."
    ).strip()
    return render_page(
        title=f"Pilot scenario: {sc['name']}",
        subtitle=subtitle,
        verdict=verdict,
        ok=ok,
        figures=figures,
        charts=charts,
        sections=sections,
        links={
            "key figures (JSON)": "summary.json",
            "every token event (CSV)": "events.csv",
            "wallets and final balances (CSV)": "participants.csv",
            "reconciliation (JSON)": "reconcile.json",
            "operations journal (JSON lines)": "operations.jsonl",
        },
    )



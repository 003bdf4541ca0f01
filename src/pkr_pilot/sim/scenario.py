"""Scenario files: a TOML description of a pilot run, parsed and validated into a frozen :class:`Scenario`.

A scenario declares who takes part, what they do per step and for how long. Money is written in token
units as strings (``"1,250.50"``), parsed exactly with the token's decimals; rates are expected events
per step (``2.5`` = two, and a third one half of the time). Every field, its meaning and its default::

    schema = 1                          # scenario file format version (this parser reads 1)
    name = "small"                      # report folder reports/<name>-<seed>/ by default
    description = "..."                 # shown in the report
    seed = 7                            # default seed (--seed overrides); the run is a function of it
    steps = 24                          # length of the run
    step_seconds = 3600                 # simulated time per step; must divide a day (86,400)
    start_time = "2030-01-01T00:00:00Z" # simulated clock of step 0 on a node whose time we control

    [token]
    decimals = 2                        # 2 = paisa
    supply_cap = "10,000,000,000.00"
    max_attestation_age_hours = 48      # mints need an attestation younger than this
    limits = false                      # enforce the tier limits below on chain

    [participants]                      # a central bank (admin, attestor, compliance) is always there
    banks = 2                           # licensed banks: minters with an allowance each
    bank_allowance = "100,000,000.00"   # re-configured by the central bank when a bank runs low
    merchants = 5
    citizens = 20
    gas_eth = "1"                       # ETH each participant gets for gas from the funding account
    gas_funding = "transfer"            # "transfer": one payment per participant from the funding
                                        # account (refused up front when it cannot pay them all);
                                        # "set_balance": a dev chain sets the balances directly
                                        # (anvil_setBalance / hardhat_setBalance; no transactions)

    [[participants.tiers]]              # citizens' wallet tiers; one table per tier
    tier = 1                            # 1..255
    share = 60                          # weight: share of citizens put in this tier
    max_balance = "200,000.00"          # limits (used when [token] limits = true; "unlimited" allowed)
    max_daily_outflow = "25,000.00"

    [opening]                           # before step 0: banks load their customers' wallets
    citizen_deposit = ["1,000.00", "25,000.00"]   # uniform range per citizen
    merchant_deposit = ["0.00", "5,000.00"]
    reserve_buffer = "1,000,000.00"     # reserves held beyond the deposits (bank capital)

    [flows]                             # rates per step
    attestation_every = 6               # steps between scheduled reserve attestations (more on demand)
    deposits = 1.0                      # citizens deposit cash; their bank mints to their wallet
    deposit_amount = ["500.00", "10,000.00"]
    p2p = 5.0                           # citizen to citizen
    p2p_amount = ["10.00", "2,000.00"]
    merchant_payments = 3.0             # citizen to merchant
    payment_amount = ["50.00", "5,000.00"]
    redemptions = 0.5                   # a holder sends to its bank, the bank burns it
    redemption_amount = ["500.00", "20,000.00"]

    [compliance]
    suspicious_freezes = 0.2            # partial freezes per step on suspicious activity
    suspicious_percent = [20, 60]       # share of the available balance frozen
    release_after = 4                   # steps until a partial freeze is released (0: never)
    court_order_step = 8                # full freeze of one wallet (none if absent)
    seize_after = 3                     # steps from the freeze to the seizure
    seize_percent = 100                 # share of the frozen wallet's balance seized to the court
    frozen_attempts = 2                 # payments the frozen wallet tries (expected to fail)
    pause_step = 14                     # pause drill (none if absent)
    pause_steps = 2                     # steps the token stays paused
    paused_attempts = 3                 # payments tried while paused (expected to fail)
    limit_attempts = 0                  # payments above a tier's daily limit (needs limits = true)

Unknown keys are refused with their table's name, so a typo cannot silently change a run.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..amounts import UNLIMITED, parse_amount
from ..errors import UserInputError

__all__ = [
    "GAS_FUNDING",
    "SCENARIO_SCHEMA_VERSION",
    "UNLIMITED",
    "AmountRange",
    "Compliance",
    "Flows",
    "Opening",
    "ParticipantsSpec",
    "Scenario",
    "TierSpec",
    "load_scenario",
    "parse_scenario",
]

SCENARIO_SCHEMA_VERSION = 1
#: How participants get their gas: payments from the funding account, or set directly on a dev chain.
GAS_FUNDING: tuple[str, ...] = ("transfer", "set_balance")
_DAY = 86_400


@dataclass(frozen=True)
class AmountRange:
    """An inclusive range of base units; draws are uniform integers."""

    low: int
    high: int

    def draw(self, rng: Any) -> int:
        return int(rng.randint(self.low, self.high))


@dataclass(frozen=True)
class TierSpec:
    tier: int
    share: int
    max_balance: int = UNLIMITED
    max_daily_outflow: int = UNLIMITED


@dataclass(frozen=True)
class ParticipantsSpec:
    """The scenario's ``[participants]`` table: how many of each kind, their allowances and gas."""

    banks: int
    bank_allowance: int
    merchants: int
    citizens: int
    gas_wei: int
    tiers: tuple[TierSpec, ...]
    #: ``transfer`` (payments from the funding account) or ``set_balance`` (dev chains only).
    gas_funding: str = "transfer"


@dataclass(frozen=True)
class Opening:
    citizen_deposit: AmountRange
    merchant_deposit: AmountRange
    reserve_buffer: int


@dataclass(frozen=True)
class Flows:
    attestation_every: int
    deposits: float
    deposit_amount: AmountRange
    p2p: float
    p2p_amount: AmountRange
    merchant_payments: float
    payment_amount: AmountRange
    redemptions: float
    redemption_amount: AmountRange


@dataclass(frozen=True)
class Compliance:
    suspicious_freezes: float
    suspicious_percent: tuple[int, int]
    release_after: int
    court_order_step: int | None
    seize_after: int
    seize_percent: int
    frozen_attempts: int
    pause_step: int | None
    pause_steps: int
    paused_attempts: int
    limit_attempts: int


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Amounts are base units of a token with ``decimals``."""

    name: str
    description: str
    seed: int
    steps: int
    step_seconds: int
    start_time: int
    decimals: int
    supply_cap: int
    max_attestation_age: int
    limits: bool
    participants: ParticipantsSpec
    opening: Opening
    flows: Flows
    compliance: Compliance
    #: Where it was read from, and the sha256 of the file's bytes.
    source: str = "<dict>"
    sha256: str = ""

    @property
    def wallets(self) -> int:
        """Participants holding tokens: central bank, court, banks, merchants and citizens."""
        p = self.participants
        return 2 + p.banks + p.merchants + p.citizens


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"scenario file {path} does not exist") from None
    except OSError as exc:
        raise UserInputError(f"scenario file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: not valid TOML ({exc})") from None
    return parse_scenario(data, source=str(path), sha256=hashlib.sha256(raw).hexdigest())


def parse_scenario(data: Mapping[str, Any], *, source: str = "<dict>", sha256: str = "") -> Scenario:
    """Validate the TOML tables of a scenario (see the module docstring)."""
    p = _Parser(source)
    p.known(data, {"schema", "name", "description", "seed", "steps", "step_seconds", "start_time",
                   "token", "participants", "opening", "flows", "compliance"}, "the top level")
    version = data.get("schema", SCENARIO_SCHEMA_VERSION)
    if not isinstance(version, int) or not 1 <= version <= SCENARIO_SCHEMA_VERSION:
        raise p.error("schema", f"{version!r} is not a scenario schema this pkr-pilot reads (1)")
    name = p.text(data, "name", required=True)
    if not name.replace("-", "").replace("_", "").isalnum():
        raise p.error("name", f"{name!r} may hold letters, digits, '-' and '_' only (it names a folder)")
    steps = p.integer(data, "steps", 1, 100_000, required=True)
    step_seconds = p.integer(data, "step_seconds", 60, _DAY, default=3_600)
    if _DAY % step_seconds:
        raise p.error("step_seconds", f"{step_seconds} does not divide a day (86,400 s)")
    start_time = p.timestamp(data, "start_time", default="2030-01-01T00:00:00Z")
    if start_time % step_seconds:
        raise p.error("start_time", "must fall on a step boundary (a multiple of step_seconds since 1970)")

    token = p.table(data, "token")
    p.known(token, {"decimals", "supply_cap", "max_attestation_age_hours", "limits"}, "[token]")
    decimals = p.integer(token, "decimals", 0, 18, default=2, where="token")
    amount = _Amounts(p, decimals)
    supply_cap = amount.one(token, "supply_cap", "token", default="10,000,000,000")
    max_age = p.integer(token, "max_attestation_age_hours", 1, 24 * 365, default=48, where="token") * 3_600
    limits = p.boolean(token, "limits", default=False, where="token")

    part = p.table(data, "participants")
    p.known(part, {"banks", "bank_allowance", "merchants", "citizens", "gas_eth", "gas_funding", "tiers"},
            "[participants]")
    tiers = tuple(_tier(p, amount, row, n) for n, row in enumerate(p.rows(part, "tiers", "participants"), 1))
    if not tiers:
        tiers = (TierSpec(1, 1),)
    if len({t.tier for t in tiers}) != len(tiers):
        raise p.error("participants.tiers", "a tier is listed twice")
    participants = ParticipantsSpec(
        banks=p.integer(part, "banks", 1, 50, required=True, where="participants"),
        bank_allowance=amount.one(part, "bank_allowance", "participants", default="100,000,000"),
        merchants=p.integer(part, "merchants", 1, 100_000, required=True, where="participants"),
        citizens=p.integer(part, "citizens", 2, 1_000_000, required=True, where="participants"),
        gas_wei=_eth(p, part.get("gas_eth", "1")),
        tiers=tiers,
        gas_funding=p.choice(part, "gas_funding", GAS_FUNDING, default="transfer", where="participants"),
    )

    op = p.table(data, "opening")
    p.known(op, {"citizen_deposit", "merchant_deposit", "reserve_buffer"}, "[opening]")
    opening = Opening(
        citizen_deposit=amount.range(op, "citizen_deposit", "opening", default=("1,000", "25,000")),
        merchant_deposit=amount.range(op, "merchant_deposit", "opening", default=("0", "5,000")),
        reserve_buffer=amount.one(op, "reserve_buffer", "opening", default="1,000,000"),
    )

    fl = p.table(data, "flows")
    p.known(fl, {"attestation_every", "deposits", "deposit_amount", "p2p", "p2p_amount", "merchant_payments",
                 "payment_amount", "redemptions", "redemption_amount"}, "[flows]")
    flows = Flows(
        attestation_every=p.integer(fl, "attestation_every", 1, 10_000, default=6, where="flows"),
        deposits=p.rate(fl, "deposits", 1.0, "flows"),
        deposit_amount=amount.range(fl, "deposit_amount", "flows", default=("500", "10,000")),
        p2p=p.rate(fl, "p2p", 5.0, "flows"),
        p2p_amount=amount.range(fl, "p2p_amount", "flows", default=("10", "2,000")),
        merchant_payments=p.rate(fl, "merchant_payments", 3.0, "flows"),
        payment_amount=amount.range(fl, "payment_amount", "flows", default=("50", "5,000")),
        redemptions=p.rate(fl, "redemptions", 0.5, "flows"),
        redemption_amount=amount.range(fl, "redemption_amount", "flows", default=("500", "20,000")),
    )
    if flows.attestation_every * step_seconds >= max_age:
        raise p.error(
            "flows.attestation_every",
            f"{flows.attestation_every} steps of {step_seconds} s is not shorter than the maximum attestation "
            f"age ({max_age // 3600} h): mints would fail as stale",
        )

    co = p.table(data, "compliance")
    p.known(co, {"suspicious_freezes", "suspicious_percent", "release_after", "court_order_step", "seize_after",
                 "seize_percent", "frozen_attempts", "pause_step", "pause_steps", "paused_attempts",
                 "limit_attempts"}, "[compliance]")
    low, high = p.pair(co, "suspicious_percent", (20, 60), 1, 100, "compliance")
    compliance = Compliance(
        suspicious_freezes=p.rate(co, "suspicious_freezes", 0.2, "compliance"),
        suspicious_percent=(low, high),
        release_after=p.integer(co, "release_after", 0, 100_000, default=4, where="compliance"),
        court_order_step=p.optional_step(co, "court_order_step", steps),
        seize_after=p.integer(co, "seize_after", 1, 100_000, default=3, where="compliance"),
        seize_percent=p.integer(co, "seize_percent", 1, 100, default=100, where="compliance"),
        frozen_attempts=p.integer(co, "frozen_attempts", 0, 1_000, default=2, where="compliance"),
        pause_step=p.optional_step(co, "pause_step", steps),
        pause_steps=p.integer(co, "pause_steps", 1, 100_000, default=1, where="compliance"),
        paused_attempts=p.integer(co, "paused_attempts", 0, 1_000, default=3, where="compliance"),
        limit_attempts=p.integer(co, "limit_attempts", 0, 1_000, default=0, where="compliance"),
    )
    if compliance.limit_attempts and not limits:
        raise p.error("compliance.limit_attempts", "needs [token] limits = true")
    if compliance.court_order_step is not None and compliance.court_order_step + compliance.seize_after >= steps:
        raise p.error("compliance.seize_after", "the seizure would fall after the last step")
    if compliance.pause_step is not None and compliance.pause_step + compliance.pause_steps >= steps:
        raise p.error("compliance.pause_steps", "the token would still be paused after the last step")

    return Scenario(
        name=name,
        description=p.text(data, "description", default=""),
        seed=p.integer(data, "seed", 0, 2**63 - 1, default=0),
        steps=steps,
        step_seconds=step_seconds,
        start_time=start_time,
        decimals=decimals,
        supply_cap=supply_cap,
        max_attestation_age=max_age,
        limits=limits,
        participants=participants,
        opening=opening,
        flows=flows,
        compliance=compliance,
        source=source,
        sha256=sha256,
    )


# --------------------------------------------------------------------------- parsing helpers


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, message: str) -> UserInputError:
        return UserInputError(f"{self.source}: {key}: {message}")

    def known(self, table: Mapping[str, Any], keys: set[str], where: str) -> None:
        unknown = sorted(set(table) - keys)
        if unknown:
            raise UserInputError(
                f"{self.source}: unknown key(s) {', '.join(unknown)} in {where}",
                hint=f"known: {', '.join(sorted(keys))}",
            )

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return value

    def rows(self, data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
            raise self.error(f"{where}.{key}", "must be an array of tables ([[...]])")
        return list(value)

    def text(self, data: Mapping[str, Any], key: str, *, required: bool = False, default: str = "") -> str:
        if key not in data:
            if required:
                raise self.error(key, "is required")
            return default
        value = data[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(key, "must be a non-empty string")
        return value.strip()

    def integer(
        self, data: Mapping[str, Any], key: str, low: int, high: int, *, required: bool = False,
        default: int = 0, where: str = "",
    ) -> int:
        name = f"{where}.{key}" if where else key
        if key not in data:
            if required:
                raise self.error(name, "is required")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(name, f"{value!r} must be an integer in {low}..{high}")
        return value

    def choice(self, data: Mapping[str, Any], key: str, choices: tuple[str, ...], *, default: str, where: str) -> str:
        value = data.get(key, default)
        if value not in choices:
            raise self.error(f"{where}.{key}", f"{value!r} must be one of {', '.join(map(repr, choices))}")
        return str(value)

    def boolean(self, data: Mapping[str, Any], key: str, *, default: bool, where: str) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"{where}.{key}", "must be true or false")
        return value

    def rate(self, data: Mapping[str, Any], key: str, default: float, where: str) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100_000:
            raise self.error(f"{where}.{key}", f"{value!r} must be a number of events per step in 0..100000")
        return float(value)

    def pair(
        self, data: Mapping[str, Any], key: str, default: tuple[int, int], low: int, high: int, where: str
    ) -> tuple[int, int]:
        value = data.get(key, list(default))
        if (
            not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value)
            or value[0] > value[1]
        ):
            raise self.error(f"{where}.{key}", f"must be [low, high] with {low} <= low <= high <= {high}")
        return int(value[0]), int(value[1])

    def optional_step(self, data: Mapping[str, Any], key: str, steps: int) -> int | None:
        if key not in data:
            return None
        return self.integer(data, key, 0, steps - 1, where="compliance")

    def timestamp(self, data: Mapping[str, Any], key: str, *, default: str) -> int:
        value = data.get(key, default)
        if isinstance(value, _dt.datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.error(key, f"{value!r} is not an ISO 8601 time") from None
        else:
            raise self.error(key, "must be an ISO 8601 time with a zone (2030-01-01T00:00:00Z)")
        if moment.tzinfo is None:
            raise self.error(key, "needs a time zone (end it with Z for UTC)")
        return int(moment.timestamp())


class _Amounts:
    def __init__(self, parser: _Parser, decimals: int) -> None:
        self.p = parser
        self.decimals = decimals

    def parse(self, value: Any, name: str, *, unlimited: bool = False, allow_zero: bool = False) -> int:
        if unlimited and value == "unlimited":
            return UNLIMITED
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.p.error(name, f"{value!r} must be an amount in token units as a string (\"1,250.50\")")
        try:
            return parse_amount(value, decimals=self.decimals, allow_zero=allow_zero)
        except UserInputError as exc:
            raise self.p.error(name, exc.message) from None

    def one(self, data: Mapping[str, Any], key: str, where: str, *, default: str) -> int:
        return self.parse(data.get(key, default), f"{where}.{key}", allow_zero=key == "reserve_buffer")

    def range(self, data: Mapping[str, Any], key: str, where: str, *, default: tuple[str, str]) -> AmountRange:
        name = f"{where}.{key}"
        value = data.get(key, list(default))
        if not isinstance(value, list) or len(value) != 2:
            raise self.p.error(name, "must be [low, high] amounts")
        zero_ok = where == "opening"
        low = self.parse(value[0], name, allow_zero=zero_ok)
        high = self.parse(value[1], name, allow_zero=zero_ok)
        if low > high:
            raise self.p.error(name, "low is above high")
        return AmountRange(low, high)


def _tier(p: _Parser, amount: _Amounts, row: Mapping[str, Any], n: int) -> TierSpec:
    where = f"participants.tiers[{n}]"
    p.known(row, {"tier", "share", "max_balance", "max_daily_outflow"}, f"[[{where}]]")
    return TierSpec(
        tier=p.integer(row, "tier", 1, 255, required=True, where=where),
        share=p.integer(row, "share", 1, 1_000_000, default=1, where=where),
        max_balance=amount.parse(row.get("max_balance", "unlimited"), f"{where}.max_balance", unlimited=True),
        max_daily_outflow=amount.parse(
            row.get("max_daily_outflow", "unlimited"), f"{where}.max_daily_outflow", unlimited=True
        ),
    )


def _eth(p: _Parser, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise p.error("participants.gas_eth", "must be an amount of ETH as a string (\"0.5\")")
    try:
        return parse_amount(value, decimals=18)
    except UserInputError as exc:
        raise p.error("participants.gas_eth", exc.message) from None

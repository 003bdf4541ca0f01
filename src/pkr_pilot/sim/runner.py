"""Run a scenario on a chain: set up the pilot, play its steps, and collect what happened.

::

    setup   fund every participant with gas (one block) → deploy the stack (central bank = admin,
            attestor and compliance; banks = minters) → attest opening reserves → KYC tiers →
            each bank mints its customers' opening deposits to itself and pays them out (one block)
    step s  the clock moves to start_time + s·step_seconds, then
            A  operator actions, each through pkr_pilot.ops (simulate → send → wait → journal):
               unpause / releases of partial freezes / court-order freeze or seizure / partial
               freezes on suspicious activity / pause drill / reserve attestation (scheduled, or on
               demand before mints would exceed it) / allowance top-ups
            B  one block (more only when its gas is full), pre-signed and sent in JSON-RPC batches:
               the banks' burns of what was redeemed to them in the step before, the banks' deposit
               mints, and the step's payments (person to person, merchant payments, redemptions to
               banks, and the attempts that must fail)
    end     the last step's redemption burns (one block)

The banks' routine calls go like the payments, not one operation (and one block) each, and in the
payments' block: a node's cost per block grows with its state (anvil 1.7 rebuilds its whole state
trie for every block: 145 ms for an empty block at 100,000 funded accounts against 1 ms on a fresh
chain), so at national scale the number of blocks, not of transactions, decided a step's time.

Nothing in a step's block depends on the order the node puts it in: payments are planned on the
balances before the step (what a deposit brings is spendable from the next step, and counts against
its wallet's balance cap at once), and a bank burns what it held before the step. So a transaction
that fails, fails for its own reason, whatever else the block holds.

Everything random comes from one ``random.Random(seed)``, drawn in a fixed order, and on a node whose
clock and mining the runner controls (anvil) every block gets a planned timestamp and the same
transactions: the same seed gives the same chain, the same events and the same figures. Outcomes are
checked against the model (:mod:`.model`): a revert the scenario planned (a payment by a frozen
wallet, a payment while paused) is an *expected* failure when its decoded error is the planned one;
anything else is an *unexpected* failure.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils.crypto import keccak

from ..amounts import format_amount, parse_ref
from ..errors import ChainError, ContractRevert, UserInputError
from ..progress import Progress
from ..sending import NonceBook, SignedTx, TxStatus, fee_fields
from ..transport import call_all
from .model import Ledger, StepBudget
from .participants import Participant, Participants, make_participants, sign_as
from .sending import BlockSender, Calldata, Mined

if TYPE_CHECKING:
    from ..bulk import BulkSender
    from ..chain import Chain
    from ..config import Project
    from ..contracts import Stack
    from ..ops import OperationResult, Operator
    from ..tx import TxSigner
    from .scenario import Scenario

__all__ = ["Failure", "Progress", "RunOutcome", "Runner"]

_DAY = 86_400
JOURNAL_FILE = "operations.jsonl"
#: Folder of the per-operation journal segments while a run is going.
_SEGMENTS = ".journal"
#: Gas limit of every plain payment (a transfer with tier limits on uses about 75,000).
TRANSFER_GAS = 120_000
#: Gas limit of a bank's deposit mint or redemption burn (about 52,000 to 70,000 used): explicit, so
#: one that reverts is mined and its error decoded like a payment's.
BANK_CALL_GAS = 200_000
#: Gas of one KYC call (setTier or setExempt) inside a multicall, with room to spare.
_KYC_GAS = 60_000
#: Smallest payment planned, in whole token units (smaller draws are skipped).
_MIN_UNITS = 1


@dataclass(frozen=True)
class Failure:
    """A transaction or operation that did not do what the scenario planned."""

    #: The step it happened in; -1 for the setup before step 0.
    step: int
    kind: str
    error: str
    tx_hash: str | None = None
    expected: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "kind": self.kind, "error": self.error, "tx_hash": self.tx_hash,
                "expected": self.expected}


@dataclass
class RunOutcome:
    """What the run did (the report is built from this and from the chain)."""

    stack: Stack
    participants: Participants
    ledger: Ledger
    first_block: int
    last_block: int
    start_time: int
    counts: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: list[Failure] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    attestations: int = 0
    controlled: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    #: The chain's block gas limit (how many transactions a block of the run could take).
    block_gas_limit: int = 0


@dataclass
class _Planned:
    kind: str
    src: Participant
    dst: str
    amount: int
    #: The custom error this payment must fail with (None: it must succeed).
    expect: str | None = None
    #: Redemption number (burned by the bank in the next step's block).
    redemption: int | None = None


@dataclass(frozen=True)
class _BankCall:
    """A bank's routine token call (a deposit mint, a redemption burn), sent with the payments."""

    kind: str
    bank: Participant
    data: bytes
    #: The model's side of it, once it is mined and succeeded.
    done: Callable[[], None]


class Runner:
    """Plays ``scenario`` on ``chain`` (see the module docstring). Use :meth:`run` once."""

    def __init__(
        self,
        chain: Chain,
        project: Project,
        scenario: Scenario,
        *,
        seed: int,
        out_dir: Path,
        funder: TxSigner,
        compiled: Any = None,
        progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        event_cache: Path | None = None,
    ) -> None:
        """``event_cache``: a folder for the operators' event cache (see :meth:`_deploy`)."""
        self.chain = chain
        self.w3 = chain.w3
        self.project = project
        self.scenario = scenario
        self.seed = seed
        self.out_dir = out_dir
        self.funder = funder
        self.compiled = compiled
        self.progress = progress or (lambda _p: None)
        self.clock = clock
        self.event_cache = event_cache
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not cryptography
        self.people = make_participants(scenario, seed, self.rng)
        self.unit = 10**scenario.decimals
        self.counts: Counter[str] = Counter()
        self.expected: Counter[str] = Counter()
        self.unexpected: list[Failure] = []
        self.skipped: Counter[str] = Counter()
        self.nonces = NonceBook(self._pending_nonce)
        self.step = -1
        self.attestations = 0
        self.releases: dict[int, list[tuple[str, int, str]]] = {}
        self.court_target: Participant | None = None
        self.suspicious = 0
        self.redemptions = 0
        self.deposits = 0
        self.topups = 0
        self.timings: dict[str, float] = {}
        self._frozen_attempts_due = 0
        self._paused_attempts_due = 0
        #: Redemption burns the banks make in the next step's block (held while the token is paused).
        self._burns_due: list[_BankCall] = []
        self.operations = 0

    # ================================================================== the run
    def run(self) -> RunOutcome:
        from ..transport import transport_for

        started = self.clock()
        self.controlled = self._take_control()
        self.transport = transport_for(self.w3)
        self.block_gas_limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        try:
            self.start_time = self._start_time()
            self.first_block = int(self.w3.eth.block_number) + 1
            self._set_time(self.start_time - 3_600)
            self.progress(Progress(0, self.scenario.steps, "setup", "funding participants"))
            self._fund_gas()
            self.progress(Progress(0, self.scenario.steps, "setup", "deploying the stack"))
            self._deploy()
            self.progress(Progress(0, self.scenario.steps, "setup", "onboarding"))
            self._onboard()
            self.timings["setup_seconds"] = self.clock() - started
            steps_started = self.clock()
            self.progress(Progress(0, self.scenario.steps, "step"))  # the steps' rate starts now
            for step in range(self.scenario.steps):
                self.step = step
                self._play_step(step)
                self.progress(Progress(step + 1, self.scenario.steps, "step"))
            self._last_burns()
            self.timings["steps_seconds"] = self.clock() - steps_started
        finally:
            # Keep the journal of whatever happened, and give the node its own clock back.
            self.finish_journal()
            self.transport.close()
            if self.controlled:
                with contextlib.suppress(ChainError):
                    self.chain.rpc("anvil_removeBlockTimestampInterval")
        return RunOutcome(
            stack=self.stack,
            participants=self.people,
            ledger=self.ledger,
            first_block=self.first_block,
            last_block=int(self.w3.eth.block_number),
            start_time=self.start_time,
            counts=self.counts,
            expected=self.expected,
            unexpected=self.unexpected,
            skipped=self.skipped,
            attestations=self.attestations,
            controlled=self.controlled,
            timings=self.timings,
            block_gas_limit=self.block_gas_limit,
        )

    # ================================================================== clock and mining
    def _take_control(self) -> bool:
        """Blocks one second apart from planned timestamps, where the node lets us (anvil)."""
        if self.chain.kind == "memory":
            raise UserInputError(
                "the simulator needs a JSON-RPC node (anvil or any network), not the in-process chain",
                hint="use --network local (a throw-away anvil), localhost or a URL",
            )
        if not self.chain.is_dev:
            return False
        try:
            # A node that mines on an interval (or only when asked) keeps its own rhythm: we would
            # otherwise leave it in automine mode after the first batch.
            if self.chain.rpc("anvil_getAutomine") is not True:
                return False
            self.chain.rpc("anvil_setBlockTimestampInterval", 1)
        except ChainError:
            return False
        return True

    def _start_time(self) -> int:
        """The scenario's start, or (on a chain already past it) the next midnight with an hour to spare."""
        latest = self.chain.latest_timestamp()
        start = self.scenario.start_time
        if self.controlled and start - 3_600 <= latest:
            start = (latest // _DAY + 1) * _DAY
            if start - 3_600 <= latest:
                start += _DAY
        if not self.controlled:
            start = latest
        return start

    def _set_time(self, timestamp: int) -> None:
        if self.controlled and timestamp > self.chain.latest_timestamp():
            self.chain.set_next_timestamp(timestamp)

    # ================================================================== setup
    def _fund_gas(self) -> None:
        """Give every participant ``gas_eth``: payments from the funding account, or set on a dev chain."""
        people = self.people.everyone()
        fees = self._fees()
        gas = self._gas_needs(fees["maxFeePerGas"])
        if self.scenario.participants.gas_funding == "set_balance":
            self._set_balances(people, gas)
            self._load_nonces()
            return
        nonce = self.nonces.take(self.funder.address, len(people))
        wei = self.scenario.participants.gas_wei
        check_funding(
            len(people), wei, fees["maxFeePerGas"] * 21_000,
            int(self.w3.eth.get_balance(self.funder.address)),  # type: ignore[arg-type]
            funder=self.funder.address, is_dev=self.chain.is_dev, extra_wei=sum(gas) - len(people) * wei,
        )
        txs = [
            {"to": person.address, "value": wei, "gas": 21_000, "nonce": nonce + n,
             "chainId": self.chain.chain_id, "type": 2, **fees}
            for n, (person, wei) in enumerate(zip(people, gas, strict=True))
        ]
        signed = _sign_all(self.funder, txs)
        for person, mined in zip(people, self._sender().send(signed), strict=True):
            if mined.status is not TxStatus.MINED:
                raise ChainError(f"funding {person.label} {person.address} with gas failed: {mined.status} {mined.error}")
        self.counts["gas_funding"] += len(signed)
        self.nonces.forget(self.funder.address)
        self._load_nonces()

    def _gas_needs(self, max_fee: int) -> list[int]:
        """Wei for each of :meth:`Participants.everyone`: ``gas_eth``, and for the operators whose
        onboarding work grows with the number of wallets, its gas at the maximum fee on top (the
        central bank's KYC calls, each bank's opening payouts to its customers)."""
        p = self.people
        wei = self.scenario.participants.gas_wei
        customers = [0] * len(p.banks)
        for person in (*p.merchants, *p.citizens):
            customers[person.bank] += 1
        central = wei + (len(p.citizens) + len(p.merchants)) * _KYC_GAS * max_fee
        banks = [wei + n * TRANSFER_GAS * max_fee for n in customers]
        return [central, wei, *banks, *([wei] * (len(p.merchants) + len(p.citizens)))]

    def _set_balances(self, people: Sequence[Participant], gas: Sequence[int]) -> None:
        """``anvil_setBalance`` (or ``hardhat_setBalance``) each participant to its balance + its ``gas``."""
        if not self.chain.is_dev:
            raise UserInputError(
                f"gas_funding = \"set_balance\" needs a local dev chain; chain {self.chain.chain_id} is not one",
                hint='use gas_funding = "transfer" and a --funder that can pay every participant',
            )
        addresses = [p.address for p in people]
        balances = call_all(self.transport, [("eth_getBalance", [a, "latest"]) for a in addresses],
                            what="reading participants' balances")
        calls = [(a, hex(int(b, 16) + wei)) for a, b, wei in zip(addresses, balances, gas, strict=True)]
        for method in ("anvil_setBalance", "hardhat_setBalance"):
            replies = self.transport.batch([(method, [a, value]) for a, value in calls[:1]])
            if replies[0].error is None:
                call_all(self.transport, [(method, [a, value]) for a, value in calls[1:]],
                         what=f"setting participants' gas balances ({method})")
                return
        raise UserInputError(
            f"this dev chain supports neither anvil_setBalance nor hardhat_setBalance: {replies[0].message}",
            hint='use gas_funding = "transfer"',
        )

    def _deploy(self) -> None:
        from ..amounts import TierLimits
        from ..compile import compile_project
        from ..contracts import EventCache, Stack
        from ..deploy import RecordStore, deploy_stack
        from ..deploy.config import DeployConfig, MinterConfig, TokenConfig
        from ..ops import OperationsJournal
        from ..tx import TxPolicy

        s = self.scenario
        people = self.people
        folder = self.out_dir / "deployment"
        if folder.exists():
            shutil.rmtree(folder)  # the records of an earlier run of this report folder
        (self.out_dir / JOURNAL_FILE).unlink(missing_ok=True)
        segments = self.out_dir / _SEGMENTS
        if segments.exists():
            shutil.rmtree(segments)
        # The court and the banks are exempted by the deployment; merchants (thousands at national
        # scale, one deploy step each) by the KYC multicall of onboarding (see _kyc).
        exempt = (people.court, *people.banks) if s.limits else ()
        config = DeployConfig(
            token=TokenConfig(decimals=s.decimals),
            admin="deployer",
            admin_delay=0,
            roles={
                role: ("deployer",)
                for role in ("minter_admin", "pauser", "unpauser", "freezer", "seizer", "attestor", "rescuer",
                             "upgrader", "kyc")
            },
            minters=tuple(MinterConfig(b.address, s.participants.bank_allowance) for b in people.banks),
            supply_cap=s.supply_cap,
            max_attestation_age=s.max_attestation_age,
            attestation=None,
            limits_enabled=s.limits,
            tiers=tuple(TierLimits(t.tier, t.max_balance, t.max_daily_outflow) for t in s.participants.tiers),
            exempt=tuple(p.address for p in exempt),
            ref=b"SIM-DEPLOY".ljust(32, b"\0"),
            source=f"scenario {s.name}",
        )
        compiled = self.compiled if self.compiled is not None else compile_project(self.project)
        self.policy = TxPolicy(timeout=120.0, poll_interval=0.01)
        deploy_stack(
            self.chain, people.central_bank.signer, self.project, config,
            compiled=compiled, deployments_dir=folder, policy=self.policy,
        )
        records = {r.name: r for r in RecordStore(folder, self.chain.network.deployments_name).records()}
        # The operators answer "was this already done?" from the chain by ref, like the ops CLI, and
        # like it through an event cache: without one, each operation scanned the whole history
        # (a million logs by mid-run at national scale, for one lookup).
        cache = EventCache(self.event_cache) if self.event_cache is not None else None
        self.stack = Stack.from_deployment(self.w3, records, cache=cache)
        self.token = self.stack.token
        self._calldata = Calldata(self.token)
        self.journal = OperationsJournal(segments / "setup.jsonl")
        self.counts["deploy_transactions"] = self._pending_nonce(people.central_bank.address)
        self.central_bank = self._operator(people.central_bank)
        self.bank_ops = [self._operator(b) for b in people.banks]
        self.ledger = Ledger(
            tier_limits={t.tier: (t.max_balance, t.max_daily_outflow) for t in s.participants.tiers},
            limits=s.limits,
            exempt={p.address for p in (*exempt, *(people.merchants if s.limits else ()))},
            allowance={b.address: s.participants.bank_allowance for b in people.banks},
            reserves_held=s.opening.reserve_buffer,
        )

    def _onboard(self) -> None:

        people = self.people
        ledger = self.ledger
        s = self.scenario
        caps = {t.tier: t.max_balance for t in s.participants.tiers}
        opening: list[tuple[Participant, int]] = []
        for person in people.merchants:
            opening.append((person, s.opening.merchant_deposit.draw(self.rng)))
        for person in people.citizens:
            amount = s.opening.citizen_deposit.draw(self.rng)
            opening.append((person, min(amount, caps[person.tier]) if s.limits else amount))
        total = sum(a for _, a in opening)
        ledger.reserves_held += total
        self._attest("RES-OPENING")

        self._kyc()

        per_bank = [0] * len(people.banks)
        for person, amount in opening:
            per_bank[person.bank] += amount
        for bank, amount in zip(people.banks, per_bank, strict=True):
            if amount:
                self._mint(bank, bank.address, amount, f"ONBOARD-B{bank.index:02d}", "onboarding_mint")
        planned = [
            _Planned("opening_payout", people.banks[person.bank], person.address, amount)
            for person, amount in opening
            if amount > 0
        ]
        self._send_block([], planned)

    def _kyc(self) -> None:
        """Put every citizen in its wallet tier and exempt merchants from the limits: the KYC role's
        ``setTier``/``setExempt`` calls, packed by the bulk engine into a few ``multicall`` transactions
        that are sent like the payments (as many to a block as its gas takes).
        """
        from ..bulk import DEFAULT_MULTICALL_GAS, BulkSender

        citizens = self.people.citizens
        merchants = self.people.merchants if self.scenario.limits else ()
        calls = [
            self.token.set_tier(c.address, c.tier, f"KYC-C{c.index:06d}".encode().ljust(32, b"\0")).data
            for c in citizens
        ] + [
            self.token.set_exempt(m.address, True, f"KYC-M{m.index:06d}".encode().ljust(32, b"\0")).data
            for m in merchants
        ]
        engine = BulkSender(self.w3, self.people.central_bank.signer, decoder=self.stack.decoder,
                            policy=self.policy, batch_size=1, window=1)
        try:
            # Two to a block at least (half of the block's usable gas each, at most the engine's 15M).
            limit = min(DEFAULT_MULTICALL_GAS, self.block_gas_limit * 9 // 20)
            outcomes, transactions = self._multicall_in_blocks(engine, calls, limit)
        finally:
            engine.close()
        for person, (status, text, tx_hash) in zip((*citizens, *merchants), outcomes, strict=True):
            kind = "kyc_tier" if person.kind == "citizen" else "kyc_exempt"
            if status is TxStatus.MINED:
                if kind == "kyc_tier":
                    self.ledger.tier[person.address] = person.tier
                self.counts[kind] += 1
            else:
                self.unexpected.append(Failure(self.step, kind, text, tx_hash))
        self.counts["kyc_multicall_transactions"] += transactions

    def _multicall_in_blocks(
        self, engine: BulkSender, calls: Sequence[bytes], gas_limit: int
    ) -> tuple[list[tuple[TxStatus, str, str | None]], int]:
        """The central bank's ``calls`` packed by the bulk engine (measured, reverting calls left out),
        pre-signed and mined like the payments: (status, description, transaction) per call, and the
        number of transactions."""
        from ..bulk import encode_multicall

        packs, skipped, gas_of = engine.pack_multicall(self.token.address, calls, gas_limit=gas_limit)
        bank = self.people.central_bank
        self.nonces.forget(bank.address)  # it also sends through ops: ask the node
        first = self.nonces.take(bank.address, len(packs))
        fees = self._fees()
        items: list[tuple[Participant, dict[str, Any]]] = [
            (bank, {"to": self.token.address, "value": 0, "gas": gas, "nonce": first + k, "chainId": self.chain.chain_id,
                    "type": 2, "data": encode_multicall([calls[i] for i in pack]), **fees})
            for k, (pack, gas) in enumerate(zip(packs, gas_of, strict=True))
        ]
        mined = self._sender().send(self._sign(items))
        outcomes: list[tuple[TxStatus, str, str | None]] = [(TxStatus.SKIPPED, "", None)] * len(calls)
        for index, error in skipped.items():
            outcomes[index] = (TxStatus.SKIPPED, f"skipped: {error.signature_text}", None)
        for pack, m in zip(packs, mined, strict=True):
            text = m.status.value if m.error is None else f"{m.status.value}: {m.error}"
            for index in pack:
                outcomes[index] = (m.status, text, m.tx_hash)
        if any(m.status is not TxStatus.MINED for m in mined):
            self.nonces.forget(bank.address)
        return outcomes, len(packs)

    # ================================================================== one step
    def _play_step(self, step: int) -> None:
        s = self.scenario
        c = s.compliance
        self._set_time(self.start_time + step * s.step_seconds)

        # ---- A: operator actions -------------------------------------------------------
        if c.pause_step is not None and step == c.pause_step + c.pause_steps:
            self._unpause()
        for account, amount, ref in self.releases.pop(step, []):
            self._release(account, amount, ref)
        if c.court_order_step is not None and step == c.court_order_step:
            self._court_freeze()
        if c.court_order_step is not None and step == c.court_order_step + c.seize_after:
            self._court_seize()
        for _ in range(self._count(c.suspicious_freezes)):
            self._suspicious_freeze(step)
        if c.pause_step is not None and step == c.pause_step:
            self._pause()
        mints, incoming = self._deposits(step)

        # ---- B: one block: last step's burns, deposit mints, payments ---------------------
        planned = self._plan_payments(step, incoming)
        burns: list[_BankCall] = []
        if not self.ledger.paused:  # a paused token burns nothing: the banks burn after the unpause
            burns, self._burns_due = self._burns_due, []
        redeemed = self._send_block([*burns, *mints], planned)
        self._burns_due += [self._burn(self.people.banks[p.src.bank], p.amount, f"RED-{p.redemption:06d}")
                            for p in planned if p.redemption is not None and p.redemption in redeemed]

    def _last_burns(self) -> None:
        """After the last step: the banks burn what was redeemed in it (in one block)."""
        if self.ledger.paused:
            self.skipped["redemption_burn_while_paused"] += len(self._burns_due)
            return
        burns, self._burns_due = self._burns_due, []
        self._send_block(burns, [])

    def _burn(self, bank: Participant, amount: int, ref: str) -> _BankCall:
        def done() -> None:
            self.ledger.burn(bank.address, amount)
            self.ledger.reserves_held -= amount

        return _BankCall("redemption_burn", bank, self.token.burn(amount, parse_ref(ref)).data, done)

    def _count(self, rate: float) -> int:
        whole = int(rate)
        return whole + (1 if self.rng.random() < rate - whole else 0)

    # ---------------------------------------------------------------- compliance
    def _court_freeze(self) -> None:
        from .. import ops

        candidates = [p for p in self.people.citizens if p.address not in self.ledger.full]
        if not candidates:
            return
        target = max(candidates, key=lambda p: (self.ledger.available(p.address), -p.index))
        if self._op("freeze", ops.freeze, self.central_bank, target.address, ref="COURT-0001") is not None:
            self.ledger.full.add(target.address)
            self.court_target = target
            self._frozen_attempts_due = self.scenario.compliance.frozen_attempts

    def _court_seize(self) -> None:
        from .. import ops

        target = self.court_target
        if target is None:
            return
        amount = self.ledger.balance.get(target.address, 0) * self.scenario.compliance.seize_percent // 100
        if amount <= 0:
            self.skipped["seizure_nothing_to_seize"] += 1
            return
        court = self.people.court.address
        if self._op("seizure", ops.seize, self.central_bank, target.address, court, amount, ref="COURT-0001") is not None:
            self.ledger.seize(target.address, court, amount)

    def _suspicious_freeze(self, step: int) -> None:
        from .. import ops

        holders = self.people.holders()
        person = holders[self.rng.randrange(len(holders))]
        low, high = self.scenario.compliance.suspicious_percent
        percent = self.rng.randint(low, high)
        amount = self.ledger.available(person.address) * percent // 100
        if amount <= 0:
            self.skipped["suspicious_freeze_empty_wallet"] += 1
            return
        self.suspicious += 1
        ref = f"SUS-{self.suspicious:05d}"
        if self._op("partial_freeze", ops.freeze_amount, self.central_bank, person.address, amount, ref=ref) is None:
            return
        self.ledger.freeze_amount(person.address, amount)
        after = self.scenario.compliance.release_after
        if after:
            self.releases.setdefault(step + after, []).append((person.address, amount, ref))

    def _release(self, account: str, amount: int, ref: str) -> None:
        from .. import ops

        amount = min(amount, self.ledger.frozen.get(account, 0))  # a seizure may have taken some
        if amount <= 0:
            return
        if self._op("partial_release", ops.unfreeze_amount, self.central_bank, account, amount, ref=ref) is not None:
            self.ledger.unfreeze_amount(account, amount)

    def _pause(self) -> None:
        from .. import ops

        if self._op("pause", ops.pause, self.central_bank, ref=f"DRILL-PAUSE-S{self.step:05d}") is not None:
            self.ledger.paused = True
            self._paused_attempts_due = self.scenario.compliance.paused_attempts
            # A bank tries to mint during the drill: ops refuses it at simulation (nothing is sent).
            citizen = self.people.citizens[0]
            self._mint(self.people.banks[citizen.bank], citizen.address, self.unit, "DRILL-MINT-PAUSED",
                       "deposit_mint", expect="EnforcedPause")

    def _unpause(self) -> None:
        from .. import ops

        if self._op("unpause", ops.unpause, self.central_bank, ref=f"DRILL-UNPAUSE-S{self.step:05d}") is not None:
            self.ledger.paused = False

    # ---------------------------------------------------------------- money in
    def _deposits(self, step: int) -> tuple[list[_BankCall], dict[str, int]]:
        """The step's deposit mints (sent with its payments) and what they bring to each wallet;
        the attestation and allowance top-ups they need are made first, through ops."""
        s = self.scenario
        wanted = [
            (self.people.citizens[self.rng.randrange(len(self.people.citizens))], s.flows.deposit_amount.draw(self.rng))
            for _ in range(self._count(s.flows.deposits))
        ]
        if self.ledger.paused:
            self.skipped["deposit_while_paused"] += len(wanted)
            return [], {}
        deposits: list[tuple[Participant, int]] = []
        incoming: dict[str, int] = {}
        for citizen, amount in wanted:
            if citizen.address in self.ledger.full:
                self.skipped["deposit_frozen_wallet"] += 1
                continue
            cap = self.ledger.max_balance(citizen.address)
            if cap is not None:
                room = cap - self.ledger.balance.get(citizen.address, 0) - incoming.get(citizen.address, 0)
                amount = min(amount, room)
            if amount < _MIN_UNITS * self.unit:
                self.skipped["deposit_over_tier_limit"] += 1
                continue
            incoming[citizen.address] = incoming.get(citizen.address, 0) + amount
            deposits.append((citizen, amount))
        pending = sum(a for _, a in deposits)
        scheduled = step % s.flows.attestation_every == 0
        if scheduled or self.ledger.supply + pending > self.ledger.attested:
            self.ledger.reserves_held += pending
            self._attest(f"RES-S{step:05d}" if scheduled else f"RES-S{step:05d}-DEMAND")
            self.ledger.reserves_held -= pending
        mints: list[_BankCall] = []
        drawn: Counter[str] = Counter()  # what this step's mints will draw from each bank's allowance
        for citizen, amount in deposits:
            bank = self.people.banks[citizen.bank]
            self.deposits += 1
            drawn[bank.address] += amount
            self._top_up(bank, drawn[bank.address])
            data = self.token.mint(citizen.address, amount, parse_ref(f"DEP-{self.deposits:06d}")).data
            mints.append(_BankCall("deposit_mint", bank, data, self._minted(citizen.address, amount, bank.address)))
        return mints, incoming

    def _minted(self, to: str, amount: int, bank: str) -> Callable[[], None]:
        def done() -> None:
            self.ledger.mint(to, amount, bank)
            self.ledger.reserves_held += amount

        return done

    def _attest(self, report: str) -> None:
        from .. import ops

        amount = self.ledger.reserves_held
        as_of = self.chain.latest_timestamp()
        if self._op("attestation", ops.attest_reserves, self.central_bank, amount, as_of=as_of, report=report) is not None:
            self.ledger.attested = amount
            self.attestations += 1

    def _mint(self, bank: Participant, to: str, amount: int, ref: str, kind: str, *, expect: str | None = None) -> bool:
        """One mint through pkr_pilot.ops (the opening mints, the pause drill's refused one)."""
        from .. import ops

        if expect is None:
            self._top_up(bank, amount)
        result = self._op(kind, ops.mint, self.bank_ops[bank.index], to, amount, ref=ref, expect=expect)
        if result is None or expect is not None:
            return False
        self.ledger.mint(to, amount, bank.address)
        return True

    def _top_up(self, bank: Participant, needed: int) -> None:
        """Raise ``bank``'s minting allowance (through ops) when it is below ``needed``."""
        from .. import ops

        if self.ledger.allowance.get(bank.address, 0) >= needed:
            return
        self.topups += 1
        allowance = max(self.scenario.participants.bank_allowance, needed)
        if self._op("allowance_topup", ops.configure_minter, self.central_bank, bank.address, allowance,
                    ref=f"ALLOW-B{bank.index:02d}-{self.topups:04d}") is not None:
            self.ledger.allowance[bank.address] = allowance

    def _account_bank_call(self, call: _BankCall, m: Mined) -> None:
        """Count a bank's call that succeeded (and apply it to the model); record how another failed."""
        if m.status is TxStatus.MINED:
            self.counts[call.kind] += 1
            call.done()
            return
        if m.status in (TxStatus.REJECTED, TxStatus.DROPPED):
            self.nonces.forget(call.bank.address)
            reason = m.error or str(m.status)
        else:
            reason = self._replayed_error(call.bank.address, call.data, m.block, BANK_CALL_GAS)
        self.unexpected.append(Failure(self.step, call.kind, reason, m.tx_hash))

    # ---------------------------------------------------------------- payments
    def _plan_payments(self, step: int, incoming: dict[str, int] | None = None) -> list[_Planned]:
        """The step's payments, planned on the balances before the step; ``incoming`` (the deposits
        minted in the same block) counts against the receivers' balance caps."""
        s = self.scenario
        people = self.people
        ledger = self.ledger
        if self.controlled:
            day = (self.start_time + step * s.step_seconds) // _DAY
        else:  # the node's own clock: a step that straddles midnight may see a limit reset early
            day = self.chain.latest_timestamp() // _DAY
        budget = StepBudget(ledger, day, incoming=dict(incoming or {}))
        planned: list[_Planned] = []
        citizens, merchants = people.citizens, people.merchants
        minimum = _MIN_UNITS * self.unit

        def pick(group: Sequence[Participant]) -> Participant:
            return group[self.rng.randrange(len(group))]

        def add(kind: str, src: Participant, dst: str, wanted: int, **extra: Any) -> None:
            if ledger.paused:
                self.skipped[f"{kind}_while_paused"] += 1
                return
            amount = budget.fit(src.address, dst, wanted)
            if amount < minimum:
                self.skipped[f"{kind}_no_funds"] += 1
                return
            budget.take(src.address, dst, amount)
            planned.append(_Planned(kind, src, dst, amount, **extra))

        for _ in range(self._count(s.flows.p2p)):
            src, dst, wanted = pick(citizens), pick(citizens), s.flows.p2p_amount.draw(self.rng)
            add("p2p", src, dst.address, wanted)
        for _ in range(self._count(s.flows.merchant_payments)):
            src, dst, wanted = pick(citizens), pick(merchants), s.flows.payment_amount.draw(self.rng)
            add("merchant_payment", src, dst.address, wanted)
        for _ in range(self._count(s.flows.redemptions)):
            holder = pick(merchants) if self.rng.random() < 0.7 else pick(citizens)
            wanted = s.flows.redemption_amount.draw(self.rng)
            self.redemptions += 1
            add("redemption", holder, people.banks[holder.bank].address, wanted, redemption=self.redemptions)

        # Attempts that must fail, each with the error the token must give.
        target = self.court_target
        due = self._frozen_attempts_due
        if target is not None and due and not ledger.paused:
            for n in range(due):
                other = pick(citizens)
                if n % 2 == 0:  # the frozen wallet tries to pay
                    planned.append(_Planned("frozen_attempt", target, other.address, self.unit, "FrozenAccount"))
                elif other.address != target.address and budget.spendable(other.address) >= self.unit:
                    planned.append(_Planned("frozen_attempt", other, target.address, self.unit, "FrozenAccount"))
                else:
                    self.skipped["frozen_attempt_no_payer"] += 1
            self._frozen_attempts_due = 0
        due = self._paused_attempts_due
        if due and ledger.paused:
            able = [c for c in citizens if ledger.available(c.address) >= self.unit]
            for _ in range(due):
                if not able:
                    self.skipped["paused_attempt_no_funds"] += 1
                    continue
                src, dst = pick(able), pick(merchants)
                planned.append(_Planned("paused_attempt", src, dst.address, self.unit, "EnforcedPause"))
            self._paused_attempts_due = 0
        if s.compliance.limit_attempts and step == s.steps // 2 and not ledger.paused:
            self._limit_attempts(planned, budget, day)
        return planned

    def _limit_attempts(self, planned: list[_Planned], budget: StepBudget, day: int) -> None:
        """Payments above a wallet's whole remaining daily outflow: they fail in any order in the block.

        The amount is one unit more than the room left before this step, and the wallet keeps enough
        available balance for it after its other planned payments, so the token's first failing check
        is the daily limit whichever way the block is ordered.
        """
        made = 0
        wanted = self.scenario.compliance.limit_attempts
        for citizen in self.people.citizens:
            if made >= wanted:
                break
            room = self.ledger.outflow_room(citizen.address, day)
            if room is None:
                continue
            left = self.ledger.available(citizen.address) - budget.spent.get(citizen.address, 0)
            if left >= room + 1:
                dst = self.people.merchants[made % len(self.people.merchants)].address
                planned.append(_Planned("limit_attempt", citizen, dst, room + 1, "TierDailyOutflowExceeded"))
                made += 1
        if made < wanted:
            self.skipped["limit_attempt_no_candidate"] += wanted - made

    def _send_block(self, calls: Sequence[_BankCall], planned: Sequence[_Planned]) -> set[int]:
        """Sign, send and account for the banks' ``calls`` and the ``planned`` payments, in one block
        while its gas lasts on a controlled node; the redemptions that succeeded."""
        if not calls and not planned:
            return set()
        fees = self._fees()
        banks = {c.bank.address: None for c in calls} | {p.src.address: None for p in planned if p.src.kind == "bank"}
        for address in banks:
            self.nonces.forget(address)  # banks also send through ops: ask the node
        chain_id = self.chain.chain_id

        def tx(person: Participant, gas: int, data: bytes) -> tuple[Participant, dict[str, Any]]:
            return person, {"to": self.token.address, "value": 0, "gas": gas, "nonce": self.nonces.take(person.address),
                            "chainId": chain_id, "type": 2, "data": data, **fees}

        items = [tx(c.bank, BANK_CALL_GAS, c.data) for c in calls]
        items += [tx(p.src, TRANSFER_GAS, self._calldata.transfer(p.dst, p.amount)) for p in planned]
        mined = self._sender().send(self._sign(items))
        for call, m in zip(calls, mined[: len(calls)], strict=True):
            self._account_bank_call(call, m)
        paid = mined[len(calls) :]
        from ..reports.events import BlockTimes

        times = BlockTimes(self.w3).fetch(m.block for m in paid if m.block is not None)
        redeemed: set[int] = set()
        for p, m in zip(planned, paid, strict=True):
            if self._account_payment(p, m, times) and p.redemption is not None:
                redeemed.add(p.redemption)
        return redeemed

    def _account_payment(self, p: _Planned, m: Mined, times: dict[int, int]) -> bool:
        """Apply a mined payment to the model, or record how it failed; whether it went through."""
        if m.status is TxStatus.MINED:
            if p.expect is not None:
                self.unexpected.append(Failure(self.step, p.kind, "succeeded", m.tx_hash, p.expect))
            assert m.block is not None
            self.ledger.transfer(p.src.address, p.dst, p.amount, timestamp=times[m.block])
            self.counts[p.kind] += 1
            return True
        if m.status in (TxStatus.REJECTED, TxStatus.DROPPED):
            # The nonce was not used: later transactions of this sender must not assume it was.
            self.nonces.forget(p.src.address)
            self.unexpected.append(Failure(self.step, p.kind, m.error or m.status, m.tx_hash, p.expect))
            return False
        reason = self._revert_reason(p, m)
        if p.expect is not None and reason == p.expect:
            self.expected[f"{p.kind}:{reason}"] += 1
        else:
            self.unexpected.append(Failure(self.step, p.kind, reason, m.tx_hash, p.expect))
        return False

    def _revert_reason(self, p: _Planned, m: Mined) -> str:
        """The custom error of a reverted payment, replayed against the state of its block."""
        return self._replayed_error(p.src.address, self._calldata.transfer(p.dst, p.amount), m.block, TRANSFER_GAS)

    def _replayed_error(self, sender: str, data: bytes, block: int | None, gas: int) -> str:
        """The custom error of a reverted call to the token, replayed against the state of its block."""
        from ..decode import revert_data_from_exception

        try:
            self.w3.eth.call({"from": sender, "to": self.token.address, "data": "0x" + data.hex(),  # type: ignore[typeddict-item]
                              "gas": gas}, block)
        except Exception as exc:  # web3 raises several types for a revert; decode what it carries
            raw = revert_data_from_exception(exc)
            if raw is None:
                return f"reverted ({exc})"
            return self.stack.decoder.decode(raw).name
        return "reverted (succeeds when replayed)"

    # ================================================================== helpers
    def _operator(self, person: Participant) -> Operator:
        from ..ops import Operator
        from ..tx import Sender

        sender = Sender(self.w3, person.signer, decoder=self.stack.decoder, policy=self.policy,
                        chain_id=self.chain.chain_id)
        return Operator(self.stack, sender, self.journal, network=self.chain.network.deployments_name)

    def _op(self, kind: str, action: Callable[..., OperationResult], *args: Any, expect: str | None = None,
            **kwargs: Any) -> OperationResult | None:
        """Run one operator action through pkr_pilot.ops; count it, or record how it failed."""
        from ..ops import OperationsJournal, RunOptions

        # One journal segment per operation (joined by finish_journal): OperationsJournal.state() reads its whole
        # file, so a single journal would make a long run quadratic. Refs are unique within a run.
        operator = args[0]
        self.operations += 1
        operator.journal = OperationsJournal(self.out_dir / _SEGMENTS / f"{self.operations:07d}.jsonl")
        try:
            result = action(*args, options=RunOptions(yes=True), **kwargs)
        except ContractRevert as exc:
            if expect is not None and exc.name == expect:
                self.expected[f"{kind}:{exc.name}"] += 1
            else:
                self.unexpected.append(Failure(self.step, kind, exc.signature_text, None, expect))
            return None
        if expect is not None:
            self.unexpected.append(Failure(self.step, kind, "succeeded", result.tx_hash, expect))
            return None
        if not result.sent:
            self.unexpected.append(Failure(self.step, kind, f"not sent: {result.status} ({result.note})", result.tx_hash))
            return None
        self.counts[kind] += 1
        return result

    def _sign(self, items: Sequence[tuple[Participant, dict[str, Any]]]) -> list[SignedTx]:
        """Participants' transactions signed (keys derived on the fly), ready for :meth:`_sender`."""
        raws = sign_as(items, chain_id=self.chain.chain_id)
        return [SignedTx(person.address, int(tx["nonce"]), "0x" + keccak(raw).hex(), raw, tx)
                for (person, tx), raw in zip(items, raws, strict=True)]

    def _sender(self) -> BlockSender:
        """Sends signed transactions as many to a block as the block's gas takes, by their gas limits
        (a pilot network with larger blocks mines a step's payments in fewer of them)."""
        return BlockSender(self.chain, self.transport, controlled=self.controlled,
                           block_gas_limit=self.block_gas_limit)

    def _fees(self) -> dict[str, int]:
        return fee_fields(int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0)))

    def _load_nonces(self) -> None:
        people = self.people.everyone()
        counts = call_all(self.transport, [("eth_getTransactionCount", [p.address, "pending"]) for p in people],
                          what="reading participants' nonces")
        self.nonces.load((person.address, int(count, 16)) for person, count in zip(people, counts, strict=True))

    def finish_journal(self) -> Path:
        """Join the run's journal segments, in order, into ``operations.jsonl`` (atomically)."""
        from .._files import atomic_write_bytes

        folder = self.out_dir / _SEGMENTS
        parts = sorted(folder.glob("*.jsonl")) if folder.exists() else []
        atomic_write_bytes(self.out_dir / JOURNAL_FILE, b"".join(p.read_bytes() for p in parts))
        if folder.exists():
            shutil.rmtree(folder)
        return self.out_dir / JOURNAL_FILE

    def _pending_nonce(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(address, "pending"))  # type: ignore[arg-type]


def check_funding(
    participants: int, gas_wei: int, fee_wei: int, balance: int, *, funder: str, is_dev: bool, extra_wei: int = 0,
) -> None:
    """Refuse, before anything is sent, a gas funding the funding account cannot pay.

    Each of ``participants`` payments costs ``gas_wei`` plus at most ``fee_wei`` (21,000 gas at the
    maximum fee); ``extra_wei`` is what the operators get on top (their onboarding gas). The error
    gives the arithmetic and what to change.
    """
    need = participants * (gas_wei + fee_wei) + extra_wei
    if balance >= need:
        return
    fit = max((balance - extra_wei) // participants - fee_wei, 0) if participants else 0

    def eth(wei: int) -> str:
        return f"{format_amount(wei, decimals=18).rstrip('0').rstrip('.')} ETH"

    hints = [f"lower [participants] gas_eth to at most {eth(fit)}" if fit else "fewer participants",
             f"send {eth(need - balance)} more to {funder}"]
    if is_dev:
        hints.append('on this dev chain, set [participants] gas_funding = "set_balance" (no funding transactions)')
    operators = f" + {eth(extra_wei)} for the operators' onboarding gas" if extra_wei else ""
    raise UserInputError(
        f"the funding account {funder} cannot pay every participant's gas: {participants:,} participants x "
        f"({eth(gas_wei)} gas_eth + {eth(fee_wei)} fee){operators} = {eth(need)}, but it holds {eth(balance)} "
        f"({eth(need - balance)} short); nothing was sent",
        hint="; or ".join(hints),
    )


def _sign_all(signer: TxSigner, txs: Sequence[dict[str, Any]]) -> list[SignedTx]:
    """Sign ``txs`` of one signer, through its fast path when it has one (see :mod:`pkr_pilot._eip1559`)."""
    fast = getattr(signer, "sign_transactions", None)
    if not callable(fast):
        return [_signed(signer, tx) for tx in txs]
    raws = [bytes(raw) for raw in fast(txs)]
    return [SignedTx(signer.address, int(tx["nonce"]), "0x" + keccak(raw).hex(), raw, tx)
            for tx, raw in zip(txs, raws, strict=True)]


def _signed(signer: TxSigner, tx: dict[str, Any]) -> SignedTx:
    result = signer.sign_transaction(tx)
    return SignedTx(
        sender=signer.address, nonce=int(tx["nonce"]), raw=bytes(result.raw_transaction),
        tx_hash="0x" + bytes(result.hash).hex(), fields=tx,
    )

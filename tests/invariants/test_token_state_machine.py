"""Stateful property test: random operation sequences against the deployed token and a Python model.

Hypothesis drives mint, burn, transfer, transferFrom, approve, permit, freeze, partial freeze and
release, unfreeze, seize, pause, unpause, reserve attestation, minter configuration and time
against the token on a chain snapshot and against :class:`model.TokenModel`. After every step:

* chain and model agree on every balance, frozen amount, freeze flag, allowance, permit nonce,
  minter allowance, minter flag, total supply, pause flag and reserve attestation, and on whether
  the step reverted and with which custom error and arguments;
* the sum of all balances equals the total supply;
* no frozen amount left an account except by seize (a balance never drops below what was locked
  before the step: the whole balance of a fully frozen account, else min(frozen amount, balance));
* after a mint, total supply does not exceed the reserves attested at the time of the mint;
* minter allowances rise only through the minter admin (``configureMinter``).

Profiles: the default (``make test``) runs at least 100 sequences of 30 steps; ``deep``
(``make fuzz``: ``--hypothesis-profile=deep``) at least 1,000 of 50. Each sequence starts from a
snapshot of the deployed stack and is reverted afterwards. Throughput is printed in the summary.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from driver import ChainState, FastChain, StateReader
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from model import MAX_UINT256, Expected, Reserves, TokenModel

from _stack import HOLDERS, PilotStack
from helpers import Domain, permit_signature, ref
from pkr_pilot.errors import ContractRevert

# Who plays which part (names of tests/_stack.py actors).
ACCOUNTS = ("alice", "bob", "carol", "dave", "spender", "minter", "burner", "stranger", "attestor")
OWNERS = ("alice", "bob", "carol", "dave", "spender")
SPENDERS = ("spender", "carol", "stranger")
MINTERS = ("minter", "stranger", "dave", "attestor")  # the attestor can never become a minter
BURNERS = ("burner", "minter", "stranger", "alice")
#: Weighted choices (repetition = weight): mostly the configured minter and real burners.
MINTER_PICKS = ("minter", "minter", "minter", "minter", "stranger", "dave", "attestor")
BURNER_PICKS = ("burner", "burner", "minter", "minter", "stranger", "alice")
#: Tokens given to the non-holder accounts before the sequences start (from the funded holders).
EXTRA_FUNDING = {"burner": 500_000, "minter": 300_000, "stranger": 200_000}
SENDERS = tuple(dict.fromkeys(("minter_admin", "freezer", "seizer", "pauser", "unpauser", "attestor", *ACCOUNTS)))

AMOUNT_KINDS = (
    "available", "available+1", "balance", "balance+1", "frozen", "frozen+1", "allowance", "allowance+1",
    "minter", "minter+1", "room", "room+1",
)
amounts = st.one_of(st.integers(0, 3_000), st.integers(0, 10**8), st.sampled_from(AMOUNT_KINDS))
accounts = st.sampled_from(ACCOUNTS)


def biased(kinds: tuple[str, ...]) -> st.SearchStrategy[int | str]:
    """Mostly the edge amounts named by ``kinds``, sometimes any amount."""
    return st.one_of(st.sampled_from(kinds), st.sampled_from(kinds), amounts)

MIN_EXAMPLES, MIN_STEPS = 100, 30


class Stats:
    """Totals across examples, printed by tests/invariants/conftest.py."""

    examples = 0
    steps = 0
    reverted = 0
    seconds = 0.0
    profile = ""
    backend = ""

    @classmethod
    def as_dict(cls) -> dict[str, object]:
        return {k: getattr(cls, k) for k in ("examples", "steps", "reverted", "seconds", "profile", "backend")}


class TokenMachine(RuleBasedStateMachine):
    stack: PilotStack
    domain: Domain
    fast: FastChain
    reader: StateReader
    base_nonces: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        s = self.stack
        self.a = s.actors
        self.token = s.token.address
        self.snapshot = self.fast.take_snapshot()
        self.fast.nonces = dict(self.base_nonces)
        self.fast.refresh_time()
        self.state = self.reader.read(self.fast)
        self.model = model_from(self.state, self.a)
        self.previous = self.state
        self.last_kind = "start"
        Stats.examples += 1

    def teardown(self) -> None:
        self.fast.revert_to(self.snapshot)

    # ------------------------------------------------------------------ plumbing
    def addr(self, name: str) -> str:
        return self.a[name].address

    def amount(self, kind: int | str, who: str | None = None, spender: str | None = None,
               minter: str | None = None) -> int:
        if isinstance(kind, int):
            return kind
        m = self.model
        base, _, plus = kind.partition("+")
        value = {
            "available": m.available_of(who) if who else 0,
            "balance": m.balance_of(who) if who else 0,
            "frozen": m.frozen_of(who) if who else 0,
            "allowance": min(m.allowance(who, spender), 10**12) if who and spender else 0,
            "minter": m.minter_allowance(minter) if minter else 0,
            "room": max(m.reserves.amount - m.total_supply, 0),
        }[base]
        return value + (1 if plus else 0)

    def next_block_time(self) -> int:
        """The next block's timestamp, known exactly (see FastChain)."""
        return self.fast.next_block_time()

    def act(self, kind: str, sender: str, function: str, args: tuple[Any, ...],
            expected: Expected | None) -> None:
        """Run ``function(args)`` from ``sender``; chain and model must agree on the outcome.

        When the model predicts success the transaction is mined (a revert is then decoded at its
        block). When it predicts a revert the call is simulated against the pending block: the
        chain must refuse it with the same error and nothing is mined.
        """
        data = self.stack.token.encode(function, *args)
        Stats.steps += 1
        if expected is None:
            outcome = self.fast.send(self.a[sender], self.token, data)
            self.last_kind = kind
            assert outcome.ok, f"{function}{args} reverted on chain with {outcome.error}, the model expected success"
            return
        Stats.reverted += 1
        self.last_kind = f"{kind} (reverted)"
        error = self.fast.simulate(self.a[sender], self.token, data)
        assert error is not None, f"{function}{args} would succeed on chain, the model expected {expected}"
        assert_same_error(error, expected)

    # ------------------------------------------------------------------ rules: ERC-20
    @rule(sender=accounts, to=accounts, amount=amounts)
    def transfer(self, sender: str, to: str, amount: int | str) -> None:
        value = self.amount(amount, who=sender)
        expected = self.model.transfer(self.addr(sender), self.addr(to), value, now=0)
        self.act("transfer", sender, "transfer", (self.addr(to), value), expected)

    @rule(spender=st.sampled_from(SPENDERS), owner=st.sampled_from(OWNERS), to=accounts,
          amount=biased(("allowance", "allowance+1", "available")))
    def transfer_from(self, spender: str, owner: str, to: str, amount: int | str) -> None:
        value = self.amount(amount, who=owner, spender=self.addr(spender))
        expected = self.model.transfer_from(self.addr(spender), self.addr(owner), self.addr(to), value, now=0)
        self.act("transferFrom", spender, "transferFrom", (self.addr(owner), self.addr(to), value), expected)

    @rule(owner=st.sampled_from(OWNERS), spender=st.sampled_from(SPENDERS),
          value=st.one_of(st.integers(0, 10**6), st.just(MAX_UINT256)))
    def approve(self, owner: str, spender: str, value: int) -> None:
        expected = self.model.approve(self.addr(owner), self.addr(spender), value)
        self.act("approve", owner, "approve", (self.addr(spender), value), expected)

    @rule(owner=st.sampled_from(OWNERS), spender=st.sampled_from(SPENDERS),
          value=st.one_of(st.integers(0, 10**6), st.just(MAX_UINT256)), expired=st.booleans(),
          submitter=accounts)
    def permit(self, owner: str, spender: str, value: int, expired: bool, submitter: str) -> None:
        now = self.next_block_time()
        deadline = now - 1 if expired else now + 600
        nonce = self.model.nonce_of(self.addr(owner))
        sig = permit_signature(self.a[owner], self.domain, self.a[spender], value, nonce, deadline)
        expected = self.model.permit(self.addr(owner), self.addr(spender), value, deadline, now)
        args = (self.addr(owner), self.addr(spender), value, deadline, sig.v, sig.r, sig.s)
        self.act("permit", submitter, "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", args, expected)

    # ------------------------------------------------------------------ rules: supply
    @rule(minter=st.sampled_from(MINTER_PICKS), to=accounts,
          amount=st.one_of(st.integers(0, 10**6), biased(("minter", "minter+1", "room", "room+1"))))
    def mint(self, minter: str, to: str, amount: int | str) -> None:
        value = self.amount(amount, who=to, minter=self.addr(minter))
        now = self.next_block_time()
        expected = self.model.mint(self.addr(minter), self.addr(to), value, now)
        self.act("mint", minter, "mint", (self.addr(to), value, ref("fuzz-mint")), expected)

    @rule(burner=st.sampled_from(BURNER_PICKS), amount=st.one_of(st.integers(0, 3_000), biased(("available", "available+1"))))
    def burn(self, burner: str, amount: int | str) -> None:
        value = self.amount(amount, who=burner)
        expected = self.model.burn(self.addr(burner), value, now=0)
        self.act("burn", burner, "burn", (value, ref("fuzz-burn")), expected)

    @rule(minter=st.sampled_from(MINTER_PICKS),
          allowance=st.sampled_from((0, 1, 10**6, 10**9, 10**12, 10**12, 2**128 - 1, 2**128, "remove")))
    def configure_or_remove_minter(self, minter: str, allowance: int | str) -> None:
        if allowance == "remove":
            expected = self.model.remove_minter(self.addr(minter))
            self.act("removeMinter", "minter_admin", "removeMinter", (self.addr(minter), ref("rm")), expected)
            return
        assert isinstance(allowance, int)
        expected = self.model.configure_minter(self.addr(minter), allowance)
        self.act("configureMinter", "minter_admin", "configureMinter", (self.addr(minter), allowance, ref("m")), expected)

    @rule(amount=st.one_of(st.sampled_from(("supply-1", "supply", "supply+big")), st.integers(0, 10**12)),
          back=st.sampled_from((0, 1, 600, 86_400, 10**6, -1)))
    def attest(self, amount: int | str, back: int) -> None:
        m = self.model
        value = {"supply-1": max(m.total_supply - 1, 0), "supply": m.total_supply,
                 "supply+big": m.total_supply + 10**10}.get(amount, amount) if isinstance(amount, str) else amount
        now = self.next_block_time()
        as_of = now + 1 if back < 0 else now - 1 - back  # -1: one second in the future
        expected = m.attest(value, as_of, now)
        self.act("attestReserves", "attestor", "attestReserves", (value, as_of, ref("report")), expected)

    @rule(step=st.sampled_from(("second", "hour", "day", "to-expiry", "past-expiry", "month")))
    def advance_time(self, step: str) -> None:
        latest = self.fast.latest_ts
        expiry = self.model.reserves.as_of + self.model.reserves.max_age
        seconds = {
            "second": 1, "hour": 3_600, "day": 86_400, "month": 31 * 86_400,
            "to-expiry": expiry - latest - 1,  # the next block is the last fresh second
            "past-expiry": expiry - latest,  # the next block is the first stale second
        }[step]
        if seconds >= 1:
            self.fast.increase_time(seconds)
        self.last_kind = "advance time"
        Stats.steps += 1

    # ------------------------------------------------------------------ rules: compliance
    @rule(account=accounts)
    def freeze(self, account: str) -> None:
        self.act("freeze", "freezer", "freeze", (self.addr(account), ref("f")), self.model.freeze(self.addr(account)))

    @rule(data=st.data())
    def unfreeze(self, data: st.DataObject) -> None:
        frozen = [n for n in ACCOUNTS if self.model.is_frozen(self.addr(n))]
        account = data.draw(st.sampled_from(frozen) if frozen and data.draw(st.integers(0, 3)) else accounts)
        self.act("unfreeze", "freezer", "unfreeze", (self.addr(account), ref("u")), self.model.unfreeze(self.addr(account)))

    @rule(account=accounts, amount=amounts)
    def freeze_amount(self, account: str, amount: int | str) -> None:
        value = self.amount(amount, who=account)
        expected = self.model.freeze_amount(self.addr(account), value)
        self.act("freezeAmount", "freezer", "freezeAmount", (self.addr(account), value, ref("fa")), expected)

    @rule(account=accounts, amount=st.one_of(st.integers(0, 3_000), biased(("frozen", "frozen+1"))))
    def unfreeze_amount(self, account: str, amount: int | str) -> None:
        value = self.amount(amount, who=account)
        expected = self.model.unfreeze_amount(self.addr(account), value)
        self.act("unfreezeAmount", "freezer", "unfreezeAmount", (self.addr(account), value, ref("ua")), expected)

    @rule(source=accounts, to=accounts,
          amount=st.one_of(st.integers(0, 3_000), st.sampled_from(("locked", "locked", "locked+1"))))
    def seize(self, source: str, to: str, amount: int | str) -> None:
        if amount in ("locked", "locked+1"):
            value = self.model.locked_of(self.addr(source)) + (1 if amount == "locked+1" else 0)
        else:
            value = self.amount(amount, who=source)
        expected = self.model.seize(self.addr(source), self.addr(to), value)
        self.act("seize", "seizer", "seize", (self.addr(source), self.addr(to), value, ref("court")), expected)

    @rule(pause=st.booleans())
    def pause_or_unpause(self, pause: bool) -> None:
        if pause:
            self.act("pause", "pauser", "pause", (), self.model.pause())
        else:
            self.act("unpause", "unpauser", "unpause", (), self.model.unpause())

    # ------------------------------------------------------------------ the checks
    @invariant()
    def chain_agrees_with_model_and_invariants_hold(self) -> None:
        before, kind = self.previous, self.last_kind
        now = self.reader.read(self.fast)
        self.previous = now
        compare(now, self.model, self.a)
        # Sum of balances equals total supply (every account that can hold tokens is tracked).
        assert sum(now.balances.values()) == now.total_supply
        # No frozen amount leaves an account except by seize.
        if kind != "seize":
            for who, balance in now.balances.items():
                locked = before.balances[who] if before.frozen_flags[who] else min(before.frozen_amounts[who], before.balances[who])
                assert balance >= locked, f"{kind}: {who} fell to {balance} below its locked {locked}"
        # Supply never exceeds the reserves attested at the time of a mint.
        if kind == "mint":
            assert now.total_supply <= now.reserves_amount
            assert now.total_supply <= now.supply_cap
        # Minter allowances only rise through the minter admin.
        if kind != "configureMinter":
            for minter, allowance in now.minter_allowances.items():
                assert allowance <= before.minter_allowances[minter], f"{kind} raised {minter}'s minter allowance"


def model_from(state: ChainState, a: Any) -> TokenModel:
    """The model of the snapshot the sequence starts from (read from the chain once)."""
    return TokenModel(
        supply_cap=state.supply_cap,
        reserves=Reserves(state.reserves_amount, state.reserves_as_of, state.max_age),
        paused=state.paused,
        total_supply=state.total_supply,
        balances=dict(state.balances),
        frozen_amounts=dict(state.frozen_amounts),
        frozen_flags={w for w, f in state.frozen_flags.items() if f},
        allowances=dict(state.allowances),
        nonces=dict(state.nonces),
        minters={m: state.minter_allowances[m] for m, on in state.is_minter.items() if on},
        burners={a.burner.address},
        attestors={a.attestor.address},
    )


def compare(chain: ChainState, model: TokenModel, a: Any) -> None:
    problems: list[str] = []

    def same(what: str, got: Any, want: Any) -> None:
        if got != want:
            problems.append(f"{what}: chain {got} != model {want}")

    same("totalSupply", chain.total_supply, model.total_supply)
    same("paused", chain.paused, model.paused)
    same("reserves", (chain.reserves_amount, chain.reserves_as_of), (model.reserves.amount, model.reserves.as_of))
    for who in chain.balances:
        same(f"balanceOf({who})", chain.balances[who], model.balance_of(who))
        same(f"frozenBalanceOf({who})", chain.frozen_amounts[who], model.frozen_of(who))
        same(f"isFrozen({who})", chain.frozen_flags[who], model.is_frozen(who))
        same(f"nonces({who})", chain.nonces[who], model.nonce_of(who))
    for (owner, spender), value in chain.allowances.items():
        same(f"allowance({owner},{spender})", value, model.allowance(owner, spender))
    for minter in chain.minter_allowances:
        same(f"minterAllowance({minter})", chain.minter_allowances[minter], model.minter_allowance(minter))
        same(f"isMinter({minter})", chain.is_minter[minter], minter in model.minters)
    assert not problems, "chain and model disagree:\n  " + "\n  ".join(problems)


def assert_same_error(got: ContractRevert | None, want: Expected) -> None:
    assert got is not None
    args = tuple(got.args_by_name.values())
    assert (got.name, args) == (want.name, want.args), f"chain reverted with {got.name}{args}, model expected {want}"


def machine_settings() -> settings:
    """100 sequences of 30 steps under hypothesis' default profile; a chosen profile's own values
    (``deep``: 1,000 x 50) otherwise, never below those minimums."""
    current = settings.default
    if settings.get_current_profile_name() == "default":
        examples, steps = MIN_EXAMPLES, MIN_STEPS
    else:
        examples = max(MIN_EXAMPLES, current.max_examples)
        steps = max(MIN_STEPS, current.stateful_step_count)
    return settings(
        current,
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        print_blob=True,
    )


def test_token_matches_its_model_under_random_operation_sequences(deployed_stack: PilotStack,
                                                                  request: pytest.FixtureRequest) -> None:
    stack = deployed_stack
    fast = FastChain(stack.chain, stack.transactor.decoder)
    names = [stack.actors[n] for n in SENDERS]
    reader = StateReader(
        stack.token.address,
        [stack.actors[n].address for n in ACCOUNTS],
        [stack.actors[n].address for n in OWNERS],
        [stack.actors[n].address for n in SPENDERS],
        [stack.actors[n].address for n in MINTERS],
    )
    assert set(HOLDERS) <= set(ACCOUNTS), "every funded holder must be tracked for the supply invariant"

    class Machine(TokenMachine):
        pass

    chosen = machine_settings()
    Stats.profile = settings.get_current_profile_name()
    Stats.backend = stack.backend
    before, start = Stats.as_dict(), time.perf_counter()
    with stack.snapshot(), fast.session():
        # Base state of every sequence: the deployed stack plus tokens for the burners and minter.
        for i, (name, amount) in enumerate(EXTRA_FUNDING.items()):
            stack.token.as_(stack.actors[OWNERS[i]]).transfer(stack.actors[name], amount).send()
        Machine.stack, Machine.fast, Machine.reader, Machine.domain = stack, fast, reader, stack.domain()
        Machine.base_nonces = fast.load_nonces(names)
        # _min_steps: every sequence runs the full step count (hypothesis would otherwise try some
        # shorter ones); a failure still shrinks each step to its simplest form.
        run_state_machine_as_test(Machine, settings=chosen, _min_steps=chosen.stateful_step_count - 1)
    Stats.seconds += time.perf_counter() - start
    # The summary line is printed by the process that reports (under xdist: not this worker).
    this_run = {k: v - before[k] if isinstance(v, (int, float)) else v for k, v in Stats.as_dict().items()}
    request.node.user_properties.append(("stateful_stats", this_run))
    assert this_run["examples"] >= chosen.max_examples


def test_fast_bytes_array_decoder_matches_eth_abi() -> None:
    from driver import decode_bytes_array
    from eth_abi.abi import encode

    items = [b"", b"\x01", bytes(range(64)), b"x" * 33]
    assert decode_bytes_array(encode(["bytes[]"], [items])) == items
    assert decode_bytes_array(encode(["bytes[]"], [[]])) == []

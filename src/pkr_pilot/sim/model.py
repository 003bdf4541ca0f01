"""The simulator's own book of the token, used to plan transactions that should succeed.

The runner applies every mined outcome to this model, so it stays equal to the chain; planning only
reads it. Transfers of one step are planned against the balances at the *start* of the step (money
received in the same step is not spent again in it) and recipients' limits against every inflow
planned for them, so the transfers of a step succeed in any order the node puts them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Ledger", "StepBudget"]

_DAY = 86_400


@dataclass
class Ledger:
    """Balances, freezes, pause, supply and reserves as the chain should have them."""

    balance: dict[str, int] = field(default_factory=dict)
    frozen: dict[str, int] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)
    tier: dict[str, int] = field(default_factory=dict)
    exempt: set[str] = field(default_factory=set)
    #: tier -> (max balance, max daily outflow); only enforced when ``limits``.
    tier_limits: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    limits: bool = False
    paused: bool = False
    supply: int = 0
    attested: int = 0
    #: Fiat in the reserve account (bank capital + deposits - redemptions paid).
    reserves_held: int = 0
    minted: int = 0
    burned: int = 0
    seized: int = 0
    seizures: int = 0
    #: account -> (day, outflow that day), as the token counts it.
    outflow: dict[str, tuple[int, int]] = field(default_factory=dict)
    allowance: dict[str, int] = field(default_factory=dict)

    # -- reads --------------------------------------------------------------------------------
    def available(self, account: str) -> int:
        if account in self.full:
            return 0
        return max(self.balance.get(account, 0) - self.frozen.get(account, 0), 0)

    def limited(self, account: str) -> bool:
        return self.limits and account not in self.exempt

    def max_balance(self, account: str) -> int | None:
        if not self.limited(account):
            return None
        return self.tier_limits.get(self.tier.get(account, 0), (0, 0))[0]

    def outflow_room(self, account: str, day: int) -> int | None:
        """How much more ``account`` may send on ``day`` (None: no limit applies)."""
        if not self.limited(account):
            return None
        limit = self.tier_limits.get(self.tier.get(account, 0), (0, 0))[1]
        used_day, used = self.outflow.get(account, (day, 0))
        return max(limit - (used if used_day == day else 0), 0)

    # -- effects (called with what the chain did) ---------------------------------------------
    def mint(self, to: str, amount: int, minter: str) -> None:
        self.balance[to] = self.balance.get(to, 0) + amount
        self.supply += amount
        self.minted += amount
        self.allowance[minter] = self.allowance.get(minter, 0) - amount

    def burn(self, holder: str, amount: int) -> None:
        self.balance[holder] -= amount
        self.supply -= amount
        self.burned += amount

    def transfer(self, src: str, dst: str, amount: int, *, timestamp: int) -> None:
        self.balance[src] -= amount
        self.balance[dst] = self.balance.get(dst, 0) + amount
        if self.limited(src):
            day = timestamp // _DAY
            used_day, used = self.outflow.get(src, (day, 0))
            self.outflow[src] = (day, (used if used_day == day else 0) + amount)

    def seize(self, src: str, dst: str, amount: int) -> None:
        released = min(amount, self.frozen.get(src, 0))
        self.frozen[src] = self.frozen.get(src, 0) - released
        self.balance[src] -= amount
        self.balance[dst] = self.balance.get(dst, 0) + amount
        self.seized += amount
        self.seizures += 1

    def freeze_amount(self, account: str, amount: int) -> None:
        self.frozen[account] = self.frozen.get(account, 0) + amount

    def unfreeze_amount(self, account: str, amount: int) -> None:
        self.frozen[account] -= amount


@dataclass
class StepBudget:
    """What each account may still send, and has coming in, within the step being planned."""

    ledger: Ledger
    day: int
    spent: dict[str, int] = field(default_factory=dict)
    incoming: dict[str, int] = field(default_factory=dict)

    def spendable(self, account: str) -> int:
        room = self.ledger.available(account) - self.spent.get(account, 0)
        limit = self.ledger.outflow_room(account, self.day)
        if limit is not None:
            room = min(room, limit - self.spent.get(account, 0))
        return max(room, 0)

    def receivable(self, account: str) -> int | None:
        """How much more ``account`` may receive this step (None: no limit)."""
        if account in self.ledger.full:
            return 0
        cap = self.ledger.max_balance(account)
        if cap is None:
            return None
        return max(cap - self.ledger.balance.get(account, 0) - self.incoming.get(account, 0), 0)

    def fit(self, src: str, dst: str, wanted: int) -> int:
        """The largest amount up to ``wanted`` that ``src`` can surely send to ``dst`` (0: none)."""
        if src == dst:
            return 0
        amount = min(wanted, self.spendable(src))
        room = self.receivable(dst)
        if room is not None:
            amount = min(amount, room)
        return max(amount, 0)

    def take(self, src: str, dst: str, amount: int) -> None:
        self.spent[src] = self.spent.get(src, 0) + amount
        self.incoming[dst] = self.incoming.get(dst, 0) + amount

"""A plain-Python reference model of the PilotRupee token (no chain, no web3).

The stateful property test drives the deployed contract and this model with the same
random operations and, after every step, requires that both agree on every balance,
frozen amount, freeze flag, allowance, permit nonce, minter allowance, total supply,
pause flag and reserve attestation, and that both agree on *whether* an operation
reverted and with *which* custom error and arguments.

Each operation either applies its effect and returns ``None`` or returns the expected
revert as an :class:`Expected` and leaves the model untouched (a revert changes
nothing). The order of the checks follows the specification in
``contracts/interfaces/IPilotRupee.sol`` (and the contract's single ``_update``
choke point): where several rules are broken at once, the first check decides the
error, exactly as on chain.

Out of scope here (covered by tests/contracts/): tier limits and allowlist mode (off),
EIP-3009 (its transfer path is the same ``_update``), rescue, upgrades and roles other
than the fixed operators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ZERO = "0x0000000000000000000000000000000000000000"
MAX_UINT256 = 2**256 - 1
MAX_UINT128 = 2**128 - 1
MAX_UINT96 = 2**96 - 1


@dataclass(frozen=True)
class Expected:
    """The revert the model predicts: the custom error's name and its arguments in order."""

    name: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}{self.args}"


@dataclass
class Reserves:
    amount: int = 0
    as_of: int = 0
    max_age: int = 86_400


@dataclass
class TokenModel:
    """The token's observable state and its rules, in base units."""

    supply_cap: int = 0
    reserves: Reserves = field(default_factory=Reserves)
    paused: bool = False
    total_supply: int = 0
    balances: dict[str, int] = field(default_factory=dict)
    frozen_amounts: dict[str, int] = field(default_factory=dict)
    frozen_flags: set[str] = field(default_factory=set)
    allowances: dict[tuple[str, str], int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    #: minter -> remaining allowance; presence means "configured".
    minters: dict[str, int] = field(default_factory=dict)
    burners: set[str] = field(default_factory=set)
    attestors: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ views
    def balance_of(self, account: str) -> int:
        return self.balances.get(account, 0)

    def frozen_of(self, account: str) -> int:
        return self.frozen_amounts.get(account, 0)

    def is_frozen(self, account: str) -> bool:
        return account in self.frozen_flags

    def available_of(self, account: str) -> int:
        if self.is_frozen(account):
            return 0
        return max(self.balance_of(account) - self.frozen_of(account), 0)

    def locked_of(self, account: str) -> int:
        """What only a seizure may take: all of a fully frozen balance, else the frozen part."""
        if self.is_frozen(account):
            return self.balance_of(account)
        return min(self.frozen_of(account), self.balance_of(account))

    def allowance(self, owner: str, spender: str) -> int:
        return self.allowances.get((owner, spender), 0)

    def minter_allowance(self, minter: str) -> int:
        return self.minters.get(minter, 0)

    def nonce_of(self, owner: str) -> int:
        return self.nonces.get(owner, 0)

    # ---------------------------------------------------------- the choke point
    def _check_update(self, frm: str, to: str, value: int, now: int) -> Expected | None:
        """The checks of ``_update`` in the contract's order; no effect."""
        if self.paused:
            return Expected("EnforcedPause")
        if frm == ZERO:
            new_supply = self.total_supply + value
            if new_supply > self.supply_cap:
                return Expected("SupplyCapExceeded", (self.supply_cap, new_supply))
            r = self.reserves
            if now > r.as_of + r.max_age:
                return Expected("StaleAttestation", (r.as_of, r.max_age))
            if new_supply > r.amount:
                return Expected("ReservesExceeded", (r.amount, new_supply))
        else:
            if self.is_frozen(frm):
                return Expected("FrozenAccount", (frm,))
            balance = self.balance_of(frm)
            available = self.available_of(frm)
            if value > available:
                if value > balance:
                    return Expected("ERC20InsufficientBalance", (frm, balance, value))
                return Expected("InsufficientAvailableBalance", (frm, available, value))
        if to != ZERO and self.is_frozen(to):
            return Expected("FrozenAccount", (to,))
        return None

    def _apply_update(self, frm: str, to: str, value: int) -> None:
        if frm == ZERO:
            self.total_supply += value
        else:
            self.balances[frm] = self.balance_of(frm) - value
        if to == ZERO:
            self.total_supply -= value
        else:
            self.balances[to] = self.balance_of(to) + value

    def _update(self, frm: str, to: str, value: int, now: int) -> Expected | None:
        err = self._check_update(frm, to, value, now)
        if err is None:
            self._apply_update(frm, to, value)
        return err

    # -------------------------------------------------------------- ERC-20
    def transfer(self, sender: str, to: str, value: int, now: int) -> Expected | None:
        if to == ZERO:
            return Expected("ERC20InvalidReceiver", (ZERO,))
        return self._update(sender, to, value, now)

    def transfer_from(self, spender: str, frm: str, to: str, value: int, now: int) -> Expected | None:
        if frm == ZERO:
            return Expected("ERC20InvalidSender", (ZERO,))
        if to == ZERO:
            return Expected("ERC20InvalidReceiver", (ZERO,))
        if self.is_frozen(spender):
            return Expected("FrozenAccount", (spender,))
        current = self.allowance(frm, spender)
        if current != MAX_UINT256 and current < value:
            return Expected("ERC20InsufficientAllowance", (spender, current, value))
        err = self._check_update(frm, to, value, now)
        if err is not None:
            return err
        if current != MAX_UINT256:
            self.allowances[(frm, spender)] = current - value
        self._apply_update(frm, to, value)
        return None

    def approve(self, owner: str, spender: str, value: int) -> Expected | None:
        if spender == ZERO:
            return Expected("ERC20InvalidSpender", (ZERO,))
        self.allowances[(owner, spender)] = value
        return None

    def permit(self, owner: str, spender: str, value: int, deadline: int, now: int) -> Expected | None:
        """A permit correctly signed by ``owner`` over its current nonce."""
        if now > deadline:
            return Expected("ERC2612ExpiredSignature", (deadline,))
        if spender == ZERO:
            return Expected("ERC20InvalidSpender", (ZERO,))
        self.nonces[owner] = self.nonce_of(owner) + 1
        self.allowances[(owner, spender)] = value
        return None

    # --------------------------------------------------------- mint and burn
    def mint(self, minter: str, to: str, amount: int, now: int) -> Expected | None:
        if minter not in self.minters:
            return Expected("NotMinter", (minter,))
        remaining = self.minters[minter]
        if amount > remaining:
            return Expected("MinterAllowanceExceeded", (minter, remaining, amount))
        if self.is_frozen(minter):
            return Expected("FrozenAccount", (minter,))
        if to == ZERO:
            return Expected("ERC20InvalidReceiver", (ZERO,))
        err = self._update(ZERO, to, amount, now)
        if err is None:
            self.minters[minter] = remaining - amount
        return err

    def burn(self, burner: str, amount: int, now: int) -> Expected | None:
        if burner not in self.minters and burner not in self.burners:
            return Expected("NotBurner", (burner,))
        return self._update(burner, ZERO, amount, now)

    def configure_minter(self, minter: str, allowance: int) -> Expected | None:
        if minter == ZERO:
            return Expected("ZeroAddress")
        if minter in self.attestors:
            return Expected("MinterAttestorConflict", (minter,))
        if allowance > MAX_UINT128:
            return Expected("AmountTooLarge", (allowance, MAX_UINT128))
        self.minters[minter] = allowance
        return None

    def remove_minter(self, minter: str) -> Expected | None:
        if minter not in self.minters:
            return Expected("NotMinter", (minter,))
        del self.minters[minter]
        return None

    def attest(self, amount: int, as_of: int, now: int) -> Expected | None:
        if amount > MAX_UINT128:
            return Expected("AmountTooLarge", (amount, MAX_UINT128))
        if as_of > now:
            return Expected("AttestationInFuture", (as_of, now))
        if as_of < self.reserves.as_of:
            return Expected("AttestationOutOfOrder", (self.reserves.as_of, as_of))
        self.reserves.amount = amount
        self.reserves.as_of = as_of
        return None

    # ------------------------------------------------------ freeze and seize
    def freeze(self, account: str) -> Expected | None:
        if account == ZERO:
            return Expected("ZeroAddress")
        if self.is_frozen(account):
            return Expected("AccountAlreadyFrozen", (account,))
        self.frozen_flags.add(account)
        return None

    def unfreeze(self, account: str) -> Expected | None:
        if not self.is_frozen(account):
            return Expected("AccountNotFrozen", (account,))
        self.frozen_flags.discard(account)
        return None

    def freeze_amount(self, account: str, amount: int) -> Expected | None:
        if account == ZERO:
            return Expected("ZeroAddress")
        total = self.frozen_of(account) + amount
        if total > MAX_UINT96:
            return Expected("AmountTooLarge", (total, MAX_UINT96))
        self.frozen_amounts[account] = total
        return None

    def unfreeze_amount(self, account: str, amount: int) -> Expected | None:
        frozen = self.frozen_of(account)
        if amount > frozen:
            return Expected("UnfreezeExceedsFrozen", (account, frozen, amount))
        self.frozen_amounts[account] = frozen - amount
        return None

    def seize(self, frm: str, to: str, amount: int) -> Expected | None:
        if frm == ZERO:
            return Expected("ERC20InvalidSender", (ZERO,))
        if to == ZERO:
            return Expected("ERC20InvalidReceiver", (ZERO,))
        if frm == to:
            return Expected("SelfSeizure", (frm,))
        if amount == 0:
            return Expected("ZeroAmount")
        seizable = self.locked_of(frm)
        if amount > seizable:
            return Expected("SeizeExceedsFrozen", (frm, seizable, amount))
        if self.is_frozen(to):
            return Expected("FrozenAccount", (to,))
        frozen = self.frozen_of(frm)
        self.frozen_amounts[frm] = frozen - min(amount, frozen)
        self.balances[frm] = self.balance_of(frm) - amount
        self.balances[to] = self.balance_of(to) + amount
        return None

    # ------------------------------------------------------------- pause
    def pause(self) -> Expected | None:
        if self.paused:
            return Expected("EnforcedPause")
        self.paused = True
        return None

    def unpause(self) -> Expected | None:
        if not self.paused:
            return Expected("ExpectedPause")
        self.paused = False
        return None

"""The people of a scenario and their keys, derived from the seed in memory.

Each participant's private key is ``keccak256("pkr-pilot/sim/v1" | seed | role | index)`` (re-hashed
in the vanishing case it is not a valid secp256k1 key), so a seed always gives the same wallets and
nothing needs to be stored. The keys live inside :class:`~pkr_pilot.accounts.Signer` objects, which
never show, pickle or write them; reports carry addresses only.

These are throw-away keys for test chains, derivable by anyone who knows the seed: never send them
anything of value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..accounts import Signer
    from .scenario import Scenario

__all__ = ["Participant", "Participants", "derive_signer", "make_participants"]

_DOMAIN = b"pkr-pilot/sim/v1"
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Participant:
    """A wallet in the scenario. ``kind`` is central_bank, court, bank, merchant or citizen."""

    kind: str
    index: int
    signer: Signer = field(repr=False, compare=False)
    #: Citizens' wallet tier (0 for everyone else).
    tier: int = 0
    #: Index of the bank that serves this participant (-1 for the central bank and the court).
    bank: int = -1

    @property
    def address(self) -> str:
        return self.signer.address

    @property
    def label(self) -> str:
        return self.kind if self.kind in ("central_bank", "court") else f"{self.kind}-{self.index}"


@dataclass(frozen=True)
class Participants:
    central_bank: Participant
    court: Participant
    banks: tuple[Participant, ...]
    merchants: tuple[Participant, ...]
    citizens: tuple[Participant, ...]

    def everyone(self) -> tuple[Participant, ...]:
        return (self.central_bank, self.court, *self.banks, *self.merchants, *self.citizens)

    def holders(self) -> tuple[Participant, ...]:
        """Merchants and citizens: the wallets whose balances the distribution chart shows."""
        return (*self.merchants, *self.citizens)



def derive_signer(seed: int, role: str, index: int) -> Signer:
    """The signer of ``role`` number ``index`` for ``seed`` (deterministic, in memory only)."""
    from eth_account import Account
    from eth_utils.crypto import keccak

    from ..accounts import Signer

    material = b"|".join((_DOMAIN, str(seed).encode(), role.encode(), str(index).encode()))
    key = keccak(material)
    while not 0 < int.from_bytes(key, "big") < _SECP256K1_N:
        key = keccak(key)
    return Signer(f"sim:{role}:{index}", Account.from_key(key))


def make_participants(scenario: Scenario, seed: int, rng: object) -> Participants:
    """Every participant of ``scenario``: keys from ``seed``, tiers and banks drawn from ``rng``.

    ``rng`` is the run's ``random.Random``; its draws here come first in a run, in a fixed order.
    """
    import random

    assert isinstance(rng, random.Random)
    p = scenario.participants
    banks = tuple(Participant("bank", i, derive_signer(seed, "bank", i), bank=i) for i in range(p.banks))
    merchants = tuple(
        Participant("merchant", i, derive_signer(seed, "merchant", i), bank=rng.randrange(p.banks))
        for i in range(p.merchants)
    )
    tiers = [t.tier for t in p.tiers]
    weights = [t.share for t in p.tiers]
    citizens = tuple(
        Participant(
            "citizen", i, derive_signer(seed, "citizen", i),
            tier=rng.choices(tiers, weights)[0], bank=rng.randrange(p.banks),
        )
        for i in range(p.citizens)
    )
    return Participants(
        central_bank=Participant("central_bank", 0, derive_signer(seed, "central_bank", 0)),
        court=Participant("court", 0, derive_signer(seed, "court", 0)),
        banks=banks,
        merchants=merchants,
        citizens=citizens,
    )

"""The people of a scenario and their keys, derived from the seed in memory.

Each participant's private key is ``keccak256("pkr-pilot/sim/v1" | seed | role | index)`` (re-hashed
in the vanishing case it is not a valid secp256k1 key), so a seed always gives the same wallets and
nothing needs to be stored. The keys live inside :class:`~pkr_pilot.accounts.Signer` objects, which
never show, pickle or write them; reports carry addresses only.

These are throw-away keys for test chains, derivable by anyone who knows the seed: never send them
anything of value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..accounts import Signer
    from .scenario import Scenario

__all__ = ["Participant", "Participants", "derive_address", "derive_signer", "make_participants", "sign_as"]

_DOMAIN = b"pkr-pilot/sim/v1"
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, slots=True)
class Participant:
    """A wallet in the scenario. ``kind`` is central_bank, court, bank, merchant or citizen.

    It holds its address, not its key: the key is derived from ``seed`` when something is signed
    (:func:`sign_as`, :attr:`signer`), so 100,000 participants take a few tens of MiB.
    """

    kind: str
    index: int
    address: str
    seed: int = 0
    #: Citizens' wallet tier (0 for everyone else).
    tier: int = 0
    #: Index of the bank that serves this participant (-1 for the central bank and the court).
    bank: int = -1

    @property
    def signer(self) -> Signer:
        """A :class:`~pkr_pilot.accounts.Signer` for this wallet (derived on each use)."""
        return derive_signer(self.seed, self.kind, self.index)

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


def _derive_key(seed: int, role: str, index: int) -> bytes:
    from eth_utils.crypto import keccak

    material = b"|".join((_DOMAIN, str(seed).encode(), role.encode(), str(index).encode()))
    key = keccak(material)
    while not 0 < int.from_bytes(key, "big") < _SECP256K1_N:
        key = keccak(key)
    return bytes(key)


def derive_signer(seed: int, role: str, index: int) -> Signer:
    """The signer of ``role`` number ``index`` for ``seed`` (deterministic, in memory only)."""
    from eth_account import Account

    from ..accounts import Signer

    return Signer(f"sim:{role}:{index}", Account.from_key(_derive_key(seed, role, index)))


def derive_address(seed: int, role: str, index: int) -> str:
    """The checksummed address of ``role`` number ``index`` (the key is derived and dropped).

    About 20 times cheaper than building the account: the public key comes from coincurve when it
    is installed (eth-keys otherwise), and nothing else is computed.
    """
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    key = _derive_key(seed, role, index)
    try:
        import coincurve
    except ImportError:  # pragma: no cover - coincurve is a dependency of the fast signing path
        from eth_keys.datatypes import PrivateKey

        public = PrivateKey(key).public_key.to_bytes()
    else:
        public = coincurve.PublicKey.from_secret(key).format(compressed=False)[1:]
    return str(to_checksum_address(keccak(public)[-20:]))


def sign_as(items: Sequence[tuple[Participant, Mapping[str, Any]]], *, chain_id: int) -> list[bytes]:
    """Raw signed bytes of each ``(participant, transaction)``, in order, keys derived on the fly.

    Plain EIP-1559 calls go through :func:`pkr_pilot._eip1559.sign_with_keys` (one eth-account
    cross-check per call); every transaction must name ``chain_id``, the chain being sent to.
    """
    from .._eip1559 import sign_with_keys

    for _, tx in items:
        if int(tx.get("chainId", -1)) != chain_id:
            raise ValueError(f"a participant's transaction must carry chainId {chain_id}")
    return sign_with_keys([(_derive_key(p.seed, p.kind, p.index), tx) for p, tx in items])


def make_participants(scenario: Scenario, seed: int, rng: object) -> Participants:
    """Every participant of ``scenario``: keys from ``seed``, tiers and banks drawn from ``rng``.

    ``rng`` is the run's ``random.Random``; its draws here come first in a run, in a fixed order.
    """
    import random

    assert isinstance(rng, random.Random)
    p = scenario.participants

    def person(kind: str, index: int, **extra: int) -> Participant:
        return Participant(kind, index, derive_address(seed, kind, index), seed, **extra)

    banks = tuple(person("bank", i, bank=i) for i in range(p.banks))
    merchants = tuple(person("merchant", i, bank=rng.randrange(p.banks)) for i in range(p.merchants))
    tiers = [t.tier for t in p.tiers]
    weights = [t.share for t in p.tiers]
    citizens = tuple(
        person("citizen", i, tier=rng.choices(tiers, weights)[0], bank=rng.randrange(p.banks))
        for i in range(p.citizens)
    )
    return Participants(
        central_bank=person("central_bank", 0),
        court=person("court", 0),
        banks=banks,
        merchants=merchants,
        citizens=citizens,
    )
